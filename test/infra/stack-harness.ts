/**
 * Runs the real stack program (infra/index.ts) under the recording mocks, the way `pulumi preview`/`pulumi up`
 * would with a given stack file. Used by the stack tests here and by the policy checks (test/policy/**):
 *
 *   const run = await runStackProgram({ preview: true });            // Pulumi.dev.yaml + a test key
 *   run.resources  // every registered resource: type, name, inputs, state, urn, parent, dependencies
 *   run.outputs    // apiUrl, queueUrl, dlqUrl, functionName, dashboardUrl, resolved (UNKNOWN_OUTPUT if unknown)
 *
 * `installMocks` is called here, before infra/ is loaded; the program module is re-evaluated on every run.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { installMocks, recorded, setStackConfig, settleAll, type RecordedResource } from "./mocks";

/** The fake Coralogix key every stack run uses; tests search all inputs for it. */
export const TEST_API_KEY = "cxtp_TEST_KEY_must_never_be_plaintext_0123456789";

const REPO = path.resolve(__dirname, "../..");

/** The `config:` of a stack file as `pulumi config` would pass it (keys with their namespace, string values). */
export function stackFileConfig(file = "Pulumi.dev.yaml"): Record<string, string> {
  const doc = parse(fs.readFileSync(path.join(REPO, file), "utf8")) as { config?: Record<string, unknown> };
  return Object.fromEntries(Object.entries(doc.config ?? {}).map(([k, v]) => [k, String(v)]));
}

export interface StackRun {
  readonly resources: readonly RecordedResource[];
  readonly outputs: Readonly<Record<string, unknown>>;
}

export interface StackRunOptions {
  /** `pulumi preview` (true) or `pulumi up` (false). */
  readonly preview: boolean;
  /** Stack file whose config is used. @default "Pulumi.dev.yaml" */
  readonly stackFile?: string;
  /** Extra or overriding config (keys without the project prefix or with their namespace). */
  readonly config?: Record<string, string>;
  /** Stack name. @default "dev" */
  readonly stack?: string;
  /** In preview, leave every provider-computed output unknown, as the engine does (see `installMocks`). @default false */
  readonly unknownComputedOutputs?: boolean;
}

/** What {@link StackRun.outputs} holds for an export that is not known in this mode. */
export const UNKNOWN_OUTPUT = "<unknown>";

/** Runs infra/index.ts under mocks and returns everything it registered. */
export async function runStackProgram(options: StackRunOptions): Promise<StackRun> {
  installMocks({
    preview: options.preview,
    stack: options.stack ?? "dev",
    unknownComputedOutputs: options.unknownComputedOutputs,
  });
  setStackConfig(
    {
      ...stackFileConfig(options.stackFile),
      coralogixApiKey: TEST_API_KEY,
      ...options.config,
    },
    ["coralogixApiKey"],
  );
  const entry = require.resolve(path.join(REPO, "infra/index.ts"));
  delete require.cache[entry];
  const program = require(entry) as Record<string, pulumi.Output<unknown>>;
  const outputs: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(program)) {
    if (pulumi.Output.isInstance(value)) {
      // `isKnown` and `promise()` exist at runtime but are @internal in the typings; an unknown never resolves.
      const output = value as unknown as { isKnown: Promise<boolean>; promise(): Promise<unknown> };
      outputs[name] = (await output.isKnown) ? await output.promise() : UNKNOWN_OUTPUT;
    }
  }
  await settleAll();
  return { resources: [...recorded], outputs };
}
