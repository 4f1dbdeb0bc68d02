/** Rules over the program: what it registers must not depend on whether it runs as a preview or an update. */
import type { ProgramRule, StackResource, Violation } from "./model";

const key = (r: StackResource): string => `${r.type}::${r.name}`;

export const sameResourcesInPreviewAndUpdate: ProgramRule = {
  kind: "program",
  id: "same-resources-in-preview-and-update",
  description:
    "Preview and update register the same (type, name) set — nothing is created inside .apply(), so previews show everything.",
  severity: "high",
  category: "deploy",
  check(preview, update) {
    const inPreview = new Map(preview.map((r) => [key(r), r]));
    const inUpdate = new Map(update.map((r) => [key(r), r]));
    const out: Violation[] = [];
    for (const [k, r] of inUpdate) {
      if (!inPreview.has(k))
        out.push({ urn: r.urn, message: "registered in update but not in preview (created inside an apply?)." });
    }
    for (const [k, r] of inPreview) {
      if (!inUpdate.has(k)) out.push({ urn: r.urn, message: "registered in preview but not in update." });
    }
    return out;
  },
};

export const programRules = [sameResourcesInPreviewAndUpdate] as const;
