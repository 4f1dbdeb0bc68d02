/**
 * The child process of harness/run-program.ts: one stack run, as the Node language host would do it, in a fresh
 * process (a Pulumi program registers its resources when its module first loads, so each run needs its own).
 *
 *   node --require tsx/cjs harness/program-child.ts <request.json>
 *
 * Like `sdk/nodejs/cmd/run/run.js`, it changes to the program's pwd before loading the entry, so a path the program
 * resolves against the working directory breaks here exactly as it would under `pulumi up`. The result (every
 * registered resource, the exports, the location) is written as JSON to `request.out`.
 */
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { locateProgram } from "./language-host";
import {
  installMocks,
  invokedTokens,
  isKnown,
  mockServiceQuotas,
  promiseOf,
  recorded,
  setStackConfig,
  settleAll,
} from "./mocks";
import type { ProgramRequest, ProgramResult } from "./program-protocol";
import { toJson } from "./serialize";

/** The program's exports, resolved; one not known in this mode (a preview) is Pulumi's unknown sentinel. */
async function exportsOf(program: unknown): Promise<Record<string, unknown>> {
  if (typeof program !== "object" || program === null) return {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(program)) {
    if (key === "__esModule") continue;
    out[key] = (await isKnown(value)) ? await promiseOf(value) : pulumi.runtime.unknownValue;
  }
  return out;
}

async function main(): Promise<void> {
  const request = JSON.parse(fs.readFileSync(process.argv[2], "utf8")) as ProgramRequest;
  const errors: string[] = [];
  let failed: () => void = () => undefined;
  const failure = new Promise<void>((resolve) => (failed = resolve));
  const onError = (e: unknown) => {
    errors.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
    failed();
  };
  // An error thrown inside an apply reaches the engine as a failed registration; here it surfaces as a rejection.
  process.on("unhandledRejection", onError);
  process.on("uncaughtException", onError);

  const location = locateProgram(request.projectRoot);
  let outputs: Record<string, unknown> = {};
  try {
    process.chdir(location.pwd);
    installMocks({
      preview: request.preview,
      stack: request.stack,
      unknownComputedOutputs: request.unknownComputedOutputs,
    });
    setStackConfig(request.config, request.secretKeys);
    Object.assign(mockServiceQuotas, request.serviceQuotas);
    const program: unknown = require(location.entry); // after the mocks: the program registers as it loads
    // The host calls a program that exports a function (and awaits an async one).
    const exported = typeof program === "function" ? await (program as () => unknown)() : program;
    // `waitForRPCs` is exported at runtime but @internal in the typings. After a failed registration it never
    // resolves (outputs stay pending), so a failure ends the wait.
    const rpcs = (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    await Promise.race([rpcs, failure]);
    await settleAll();
    // A failed registration leaves outputs that never resolve: report the failure instead of waiting on them.
    if (errors.length === 0) outputs = await exportsOf(exported);
  } catch (e) {
    onError(e);
  }
  const resources = toJson(recorded) as ProgramResult["resources"];
  const invokes = [...invokedTokens];
  const result: ProgramResult = errors.length
    ? { location, resources, invokes, error: errors.join("\n") }
    : { location, resources, invokes, outputs: toJson(outputs) as ProgramResult["outputs"] };
  fs.writeFileSync(request.out, JSON.stringify(result));
  process.exit(errors.length ? 1 : 0);
}

void main();
