/** What harness/run-program.ts sends its child (harness/program-child.ts) and what the child writes back. */
import type { ProgramLocation } from "./language-host";
import type { RecordedResource } from "./mocks";

export interface ProgramRequest {
  readonly projectRoot: string;
  readonly preview: boolean;
  readonly stack: string;
  readonly unknownComputedOutputs: boolean;
  /** Stack config with namespaced keys, as `pulumi config` hands it to the program. */
  readonly config: Record<string, string>;
  readonly secretKeys: string[];
  /** Service Quotas values the mocked `getServiceQuota` answers with (`<service>/<quota code>` → value). */
  readonly serviceQuotas: Record<string, number>;
  /** Where the child writes its {@link ProgramResult}. */
  readonly out: string;
}

export interface ProgramResult {
  readonly location: ProgramLocation;
  /** What was registered — also when the program failed, to show what it got to. */
  readonly resources: RecordedResource[];
  /** Every data-source token the program invoked (see harness/mocks.ts `invokedTokens`). */
  readonly invokes: string[];
  readonly outputs?: Record<string, unknown>;
  readonly error?: string;
}
