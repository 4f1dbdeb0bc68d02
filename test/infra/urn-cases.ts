/**
 * The stack runs whose URNs test/infra/urns.test.ts pins: the default dev stack, prod, and dev with every option,
 * so every component and every optional child is covered. They are the shared modes (a URN does not depend on
 * preview vs update), so pinning URNs costs no run of its own.
 */
import type { StackMode } from "../../harness/stack-modes";

export const URN_CASES: Record<string, StackMode> = {
  dev: "devUpdate",
  prod: "prodPreview",
  "dev-every-option": "everyOptionUpdate",
};
