/**
 * Child process of policy/stack-run.ts: `node --require tsx/cjs policy/stack-child.ts <preview|update> <entry> <out.json>`.
 *
 * Installs the shared recording mocks, sets `Pulumi.dev.yaml` config (plus a test Coralogix key as a secret), loads
 * the stack program, waits until it has registered everything, and writes the recorded resources as plain JSON
 * (secrets unwrapped, unknowns as Pulumi's sentinel).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { installMocks, recorded, setStackConfig } from "../test/infra/mocks";
import type { RecordedStackResource } from "./evaluate";
import { UNKNOWN } from "./rules/model";
import { PROJECT, ROOT, STACK, TEST_CORALOGIX_KEY, type ChildResult } from "./stack-run";

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Stack config as `pulumi config` would hand it to the program, from Pulumi.<stack>.yaml. */
function stackConfig(): { values: Record<string, string>; secrets: string[] } {
  const values: Record<string, string> = {};
  const file = path.join(ROOT, `Pulumi.${STACK}.yaml`);
  if (fs.existsSync(file)) {
    const doc = parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
    for (const [key, value] of Object.entries(doc?.config ?? {})) {
      if (typeof value === "object" && value !== null && "secure" in value) continue; // encrypted: not readable here
      values[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  values[`${PROJECT}:coralogixDomain`] ??= "us2";
  values[`${PROJECT}:coralogixApiKey`] = TEST_CORALOGIX_KEY;
  return { values, secrets: [`${PROJECT}:coralogixApiKey`] };
}

/** Recorded mock values → plain JSON: secrets unwrapped, unknowns as the wire sentinel, references as markers. */
function plain(value: unknown): unknown {
  if (pulumi.isUnknown(value)) return UNKNOWN;
  if (Array.isArray(value)) return value.map(plain);
  if (pulumi.Resource.isInstance(value)) return "<resource reference>";
  if (pulumi.asset.Asset.isInstance(value) || pulumi.asset.Archive.isInstance(value)) return "<asset>";
  if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>;
    if (record[SIG_KEY] === SECRET_SIG) return plain(record.value);
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/** Resolves once the program has stopped registering resources (RPC queue drained, count stable). */
async function settled(): Promise<void> {
  // `waitForRPCs` is exported at runtime but marked @internal in the typings.
  const settings = pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> };
  let last = -1;
  let stable = 0;
  while (stable < 5) {
    await settings.waitForRPCs?.();
    await new Promise((r) => setTimeout(r, 20));
    stable = recorded.length === last ? stable + 1 : 0;
    last = recorded.length;
  }
}

/** The program's exports, resolved (secrets unwrapped); an export not known in this mode (a preview) is UNKNOWN. */
async function stackOutputs(exported: unknown): Promise<Record<string, unknown>> {
  if (typeof exported !== "object" || exported === null) return {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(exported)) {
    if (key === "__esModule") continue;
    // `isKnown` and `promise()` are exported at runtime but marked @internal in the typings.
    const output = pulumi.output(value) as unknown as { isKnown: Promise<boolean>; promise(): Promise<unknown> };
    out[key] = (await output.isKnown) ? await output.promise() : UNKNOWN;
  }
  return out;
}

async function main(): Promise<void> {
  const [mode, entry, out] = process.argv.slice(2);
  if ((mode !== "preview" && mode !== "update") || !entry || !out) {
    throw new Error("usage: stack-child.ts <preview|update> <entry> <out.json>");
  }
  const errors: string[] = [];
  const onError = (e: unknown) => errors.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.on("unhandledRejection", onError);
  process.on("uncaughtException", onError);

  const write = (result: ChildResult) => fs.writeFileSync(out, JSON.stringify(result));
  let exported: unknown;
  let outputs: Record<string, unknown> = {};
  try {
    // A preview answers like the engine on a new stack: computed outputs (ARNs, URLs, ids) unknown, so an
    // `.apply()` on one never runs and a resource created inside it is missing, as in a real preview.
    installMocks({ preview: mode === "preview", unknownComputedOutputs: true, stack: STACK });
    const { values, secrets } = stackConfig();
    setStackConfig(values, secrets);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program must load after the mocks
    const program: unknown = require(entry);
    // Pulumi runs a program that exports a function by calling it (an async program awaits here).
    exported = typeof program === "function" ? await (program as () => unknown)() : program;
    await settled();
    outputs = await stackOutputs(exported);
  } catch (e) {
    onError(e);
  }
  if (errors.length > 0) {
    write({ mode, entry, error: errors.join("\n") });
    process.exit(1);
  }
  const resources: RecordedStackResource[] = recorded.map((r) => {
    const inputs = plain(r.inputs) as Record<string, unknown>;
    const state = plain(r.state) as Record<string, unknown>;
    return {
      type: r.type,
      name: r.name,
      urn: `urn:pulumi:${STACK}::${PROJECT}::${r.type}::${r.name}`,
      inputs,
      // The mock gives every resource the id `<name>-id`; stack rules match references against it.
      props: { ...inputs, ...state, id: `${r.name}-id` },
    };
  });
  // The stack resource itself, with the program's exports as its outputs — as a policy pack sees it.
  const stackName = `${PROJECT}-${STACK}`;
  resources.push({
    type: "pulumi:pulumi:Stack",
    name: stackName,
    urn: `urn:pulumi:${STACK}::${PROJECT}::pulumi:pulumi:Stack::${stackName}`,
    inputs: {},
    props: plain(outputs) as Record<string, unknown>,
  });
  write({ mode, entry, resources });
  process.exit(0);
}

void main();
