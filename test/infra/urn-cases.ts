/**
 * The stack runs whose URNs test/infra/urns.test.ts pins: the default dev stack, prod, and dev with every option,
 * so every component and every optional child is covered.
 */
import type { StackRunOptions } from "../../harness/run-program";
import { PROD_OPERATOR_CONFIG } from "../../harness/stack-modes";

export const URN_CASES: Record<string, StackRunOptions> = {
  dev: { preview: false },
  prod: { preview: false, stack: "prod", config: { ...PROD_OPERATOR_CONFIG } },
  "dev-every-option": {
    preview: false,
    config: { domainName: "api.acme.io", hostedZoneId: "Z0123456789ABCDEFGHIJ", canary: "true", fargateSpot: "true" },
  },
};
