/**
 * Runs every rule over a recorded stack and renders the report. Used by the mocha stack test and by
 * `npm run check:policy`, so both print and judge the same thing.
 */
import { rules as allRules, type Props, type Rule, type StackResource, type Violation } from "./rules";

/** A recorded resource: what stack rules see (`props`, inputs + outputs) and what resource rules see (`inputs`). */
export interface RecordedStackResource extends StackResource {
  readonly inputs: Props;
}

export interface RuleResult {
  readonly rule: Rule;
  readonly status: "pass" | "fail";
  /** How many resources (or runs) the rule looked at. */
  readonly checked: number;
  readonly violations: readonly Violation[];
}

export interface Runs {
  readonly update: readonly RecordedStackResource[];
  /** The same program run as a preview; needed by program rules. */
  readonly preview: readonly RecordedStackResource[];
}

/** Applies one rule to the runs. Resource and stack rules judge the update run; program rules compare both. */
export function evaluateRule(rule: Rule, runs: Runs): RuleResult {
  let violations: Violation[] = [];
  let checked = 0;
  switch (rule.kind) {
    case "resource":
      for (const resource of runs.update) {
        if (!rule.types.includes(resource.type)) continue;
        checked++;
        for (const message of rule.check(resource.type, resource.inputs))
          violations.push({ urn: resource.urn, message });
      }
      break;
    case "stack":
      checked = runs.update.length;
      violations = rule.check(runs.update);
      break;
    case "program":
      checked = 2;
      violations = rule.check(runs.preview, runs.update);
      break;
  }
  return { rule, status: violations.length === 0 ? "pass" : "fail", checked, violations };
}

export function evaluate(runs: Runs, rules: readonly Rule[] = allRules): RuleResult[] {
  return rules.map((rule) => evaluateRule(rule, runs));
}

const refs = (rule: Rule): string => {
  const ids = [...(rule.checkov ?? []), ...(rule.fsbp ?? [])];
  return ids.length > 0 ? ` [${ids.join(", ")}]` : "";
};

/** The rules as a markdown table (policy/README.md embeds it; a test keeps both in step). */
export function rulesTable(rules: readonly Rule[] = allRules): string {
  const cell = (text: string) => text.replace(/[|*_]/g, (c) => `\\${c}`); // literal in markdown
  const rows = rules.map(
    (r) =>
      `| \`${r.id}\` | ${r.category} | ${r.severity} | ${cell(r.description)} | ${(r.checkov ?? []).join(", ") || "—"} | ${
        (r.fsbp ?? []).join(", ") || "—"
      } |`,
  );
  return [
    "| Rule | Category | Severity | What must hold | Checkov | AWS FSBP |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

/** Human-readable report: one line per rule, offenders indented under failing rules, then a summary line. */
export function formatReport(results: readonly RuleResult[], header?: string): string {
  const lines: string[] = [];
  if (header) lines.push(header, "");
  const width = Math.max(...results.map((r) => r.rule.id.length));
  for (const result of results) {
    const { rule } = result;
    const status = result.status === "pass" ? "PASS" : "FAIL";
    lines.push(
      `${status}  ${rule.id.padEnd(width)}  ${rule.severity.padEnd(8)} ${rule.category.padEnd(8)} ${rule.description}${refs(rule)}`,
    );
    if (result.status === "pass" && result.checked === 0) lines.push(`      (nothing of its types in this stack)`);
    for (const v of result.violations) lines.push(`      ${v.urn}`, `        ${v.message}`);
  }
  const failed = results.filter((r) => r.status === "fail");
  const count = failed.reduce((n, r) => n + r.violations.length, 0);
  lines.push(
    "",
    failed.length === 0
      ? `All ${results.length} rules pass.`
      : `${failed.length} of ${results.length} rules fail with ${count} violation(s): ${failed.map((r) => r.rule.id).join(", ")}.`,
  );
  return lines.join("\n");
}
