/**
 * The stack runs that the infra, policy and deploy tests (and `npm run check:policy`) share, one per mode.
 *
 * Each distinct set of options costs a child process that loads the program and the providers' SDKs, while
 * identical options share one run (runStackProgram memoizes them). So callers take their run from here by name and
 * check what they need on it, rather than building options of their own that differ in nothing they test.
 *
 *   const run = await stackRun("devUpdate");
 */
import { runStackProgram, type StackRun, type StackRunOptions } from "./run-program";

/** What the operator sets on the prod stack before its first `pulumi up` (see the comments in Pulumi.prod.yaml). */
export const PROD_OPERATOR_CONFIG = {
  domainName: "api.acme.io",
  hostedZoneId: "Z0123456789ABCDEFGHIJ",
  alarmEmail: "oncall@acme.io",
} as const;

/** Every option the dev stack can switch on: a domain in a hosted zone, the canary, Fargate Spot. */
export const EVERY_OPTION_CONFIG = {
  domainName: "api.acme.io",
  hostedZoneId: "Z0123456789ABCDEFGHIJ",
  canary: "true",
  fargateSpot: "true",
} as const;

/** Production with everything that asks AWS more: the canary and reserved concurrency (the Service Quotas invoke). */
export const PROD_RESERVED_CONFIG = {
  ...PROD_OPERATOR_CONFIG,
  canary: "true",
  lambdaReservedConcurrency: "50",
} as const;

export const STACK_MODES = {
  /**
   * Pulumi.dev.yaml as `pulumi preview` with every output known, compiled as the language host compiles it (its
   * ts-node, type-checking): the one run that proves the host can load the program, so it is also the preview the
   * other dev checks read.
   */
  devPreview: { preview: true, typescript: "host" },
  /** Pulumi.dev.yaml as `pulumi up`. */
  devUpdate: { preview: false },
  /** Pulumi.dev.yaml as the first `pulumi preview` of a new stack: every provider-computed output unknown. */
  devPreviewNew: { preview: true, unknownComputedOutputs: true },
  everyOptionUpdate: { preview: false, config: EVERY_OPTION_CONFIG },
  everyOptionPreviewNew: { preview: true, unknownComputedOutputs: true, config: EVERY_OPTION_CONFIG },
  /** Pulumi.prod.yaml with what its operator sets, as `pulumi preview`. */
  prodPreview: { preview: true, stack: "prod", config: PROD_OPERATOR_CONFIG },
  prodReservedUpdate: { preview: false, stack: "prod", config: PROD_RESERVED_CONFIG },
} as const satisfies Record<string, StackRunOptions>;

export type StackMode = keyof typeof STACK_MODES;

/** The run of one shared mode (started on first use, then shared by every caller in this process). */
export function stackRun(mode: StackMode): Promise<StackRun> {
  return runStackProgram(STACK_MODES[mode]);
}
