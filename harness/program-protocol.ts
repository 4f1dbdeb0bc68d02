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
  /** Where the child writes its {@link ProgramResult}. */
  readonly out: string;
}

export interface ProgramResult {
  readonly location: ProgramLocation;
  readonly resources?: RecordedResource[];
  readonly outputs?: Record<string, unknown>;
  readonly error?: string;
}
