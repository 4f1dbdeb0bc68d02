/**
 * Runs the real stack program under the recording mocks the way `pulumi preview` / `pulumi up` would: in its own
 * Node process, in the working directory the language host would choose, loaded through the project's entry
 * (harness/language-host.ts), with a stack file's config plus a test Coralogix key as secret config.
 *
 *   const run = await runStackProgram({ preview: true });   // Pulumi.dev.yaml
 *   run.resources  // every registered resource: type, name, inputs, state, urn, parent, dependencies
 *   run.outputs    // the stack outputs, resolved (UNKNOWN_OUTPUT where not known in this mode)
 *   run.invokes    // every data-source token it invoked (getRegion, getServiceQuota, …)
 *   run.location   // pwd, entry and tsconfig the host would use
 *
 * Runs are deterministic, so identical requests share one child — within a process, and across the processes of one
 * test run through harness/run-cache.ts: the tests take theirs from the named modes of harness/stack-modes.ts, so that
 * as few distinct runs as possible are made.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { locateProgram, type ProgramLocation } from "./language-host";
import type { RecordedResource } from "./mocks";
import type { ProgramRequest, ProgramResult } from "./program-protocol";
import { sharedAcrossProcesses } from "./run-cache";

export const PROJECT_ROOT = path.resolve(__dirname, "..");
export const PROJECT = "traced-onboarding";

/** The fake Coralogix key every stack run uses; tests search all inputs for it. */
export const TEST_API_KEY = "cxtp_TEST_KEY_must_never_be_plaintext_0123456789";

/**
 * How long a test that runs the stack may take (mocha `this.timeout`): a child process loads the program and the
 * providers' SDKs, which takes seconds on a quiet machine and far longer on a loaded 2-core CI runner.
 */
export const STACK_RUN_TEST_TIMEOUT_MS = 240_000;

/** What {@link StackRun.outputs} holds for an export that is not known in this mode: Pulumi's unknown sentinel. */
export const UNKNOWN_OUTPUT = pulumi.runtime.unknownValue;

export interface StackRun {
  readonly resources: readonly RecordedResource[];
  readonly outputs: Readonly<Record<string, unknown>>;
  /** Every data-source token the program invoked, in call order (with repeats). */
  readonly invokes: readonly string[];
  readonly location: ProgramLocation;
}

export interface StackRunOptions {
  /** `pulumi preview` (true) or `pulumi up` (false). */
  readonly preview: boolean;
  /** Stack name; its config comes from `Pulumi.<stack>.yaml`. @default "dev" */
  readonly stack?: string;
  /** Extra or overriding config (keys without the project prefix or with their namespace). */
  readonly config?: Record<string, string>;
  /** In preview, leave every provider-computed output unknown, as the engine does on a new stack. @default false */
  readonly unknownComputedOutputs?: boolean;
  /** Service Quotas the mocked `getServiceQuota` answers with, e.g. `{ "lambda/L-B99A9384": 10 }`. @default mocks' */
  readonly serviceQuotas?: Record<string, number>;
  /** Project directory (holding Pulumi.yaml). @default this repository */
  readonly projectRoot?: string;
  /**
   * How the child compiles TypeScript: `tsx` (fast, no type check) or `host`, exactly as the Pulumi Node language
   * host does — its ts-node with the project's typescript and the tsconfig it picks, type-checking
   * (harness/host-typescript.js). @default "tsx"
   */
  readonly typescript?: "tsx" | "host";
  /** Kill the child after this long. @default 180 s */
  readonly timeoutMs?: number;
}

const namespaced = (key: string) => (key.includes(":") ? key : `${PROJECT}:${key}`);

/**
 * The `config:` of `Pulumi.<stack>.yaml` as `pulumi config` would pass it: namespaced keys, string values. Encrypted
 * (`secure:`) values cannot be read here and are left out; the test key stands in for the one secret.
 */
export function stackFileConfig(stack: string, projectRoot = PROJECT_ROOT): Record<string, string> {
  const file = path.join(projectRoot, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) return {};
  const doc = parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(doc?.config ?? {})) {
    if (typeof value === "object" && value !== null && "secure" in value) continue;
    config[namespaced(key)] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return config;
}

/** A stack run that failed, as `pulumi preview`/`up` would; `resources` holds what it registered before failing. */
export class StackRunError extends Error {
  constructor(
    message: string,
    readonly resources: readonly RecordedResource[],
  ) {
    super(message);
    this.name = "StackRunError";
  }
}

function runInChild(request: ProgramRequest, typescript: "tsx" | "host", timeoutMs: number): Promise<StackRun> {
  const requestFile = path.join(path.dirname(request.out), "request.json");
  fs.writeFileSync(requestFile, JSON.stringify(request));
  const location = locateProgram(request.projectRoot);
  const register = typescript === "host" ? path.join(__dirname, "host-typescript.js") : require.resolve("tsx/cjs");
  const env: NodeJS.ProcessEnv = { ...process.env, PULUMI_NODEJS_TSCONFIG_PATH: location.tsconfig ?? "tsconfig.json" };
  // Under `c8` (npm test) only update runs report coverage: V8 coverage about doubles a run's CPU time, and a
  // preview runs the same program code as its update. What only a preview child runs (an export left unknown) is
  // reported as not covered.
  if (request.preview) delete env.NODE_V8_COVERAGE;
  const child = spawn(
    process.execPath,
    ["--require", register, path.join(__dirname, "program-child.ts"), requestFile],
    {
      // The host is started in the program's pwd too; host-typescript.js looks for the tsconfig there.
      cwd: location.pwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let log = "";
  child.stdout.on("data", (d: Buffer) => (log += d.toString()));
  child.stderr.on("data", (d: Buffer) => (log += d.toString()));
  const mode = request.preview ? "preview" : "update";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const result = fs.existsSync(request.out)
        ? (JSON.parse(fs.readFileSync(request.out, "utf8")) as ProgramResult)
        : undefined;
      fs.rmSync(path.dirname(request.out), { recursive: true, force: true });
      if (code === 0 && result?.resources && result.outputs) {
        return resolve({
          resources: result.resources,
          outputs: result.outputs,
          invokes: result.invokes,
          location: result.location,
        });
      }
      const why = signal ? `killed after ${timeoutMs} ms` : `exit ${code}`;
      const message = `stack ${mode} of "${request.stack}" failed (${why}): ${result?.error ?? log.slice(-4000)}`;
      reject(new StackRunError(message, result?.resources ?? []));
    });
  });
}

const runs = new Map<string, Promise<StackRun>>();

/** Runs the stack program in a child process under mocks and returns everything it registered. */
export function runStackProgram(options: StackRunOptions): Promise<StackRun> {
  const projectRoot = options.projectRoot ?? PROJECT_ROOT;
  const stack = options.stack ?? "dev";
  const config = { ...stackFileConfig(stack, projectRoot), [namespaced("coralogixApiKey")]: TEST_API_KEY };
  for (const [key, value] of Object.entries(options.config ?? {})) config[namespaced(key)] = value;
  const request: Omit<ProgramRequest, "out"> = {
    projectRoot,
    preview: options.preview,
    stack,
    unknownComputedOutputs: options.unknownComputedOutputs ?? false,
    config,
    secretKeys: [namespaced("coralogixApiKey")],
    serviceQuotas: options.serviceQuotas ?? {},
  };
  const key = JSON.stringify([request, options.typescript]);
  let run = runs.get(key);
  if (!run) {
    const timeoutMs = options.timeoutMs ?? 180_000;
    run = sharedAcrossProcesses(
      key,
      () => {
        const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "stack-run-")), "result.json");
        return runInChild({ ...request, out }, options.typescript ?? "tsx", timeoutMs);
      },
      (error) => ({
        message: (error as Error).message,
        data: error instanceof StackRunError ? error.resources : undefined,
      }),
      ({ message, data }) => (data ? new StackRunError(message, data) : new Error(message)),
      // A waiting process may wait for the owner's whole run, itself queued behind others on a busy machine.
      timeoutMs * 2,
    );
    runs.set(key, run);
    run.catch(() => runs.delete(key));
  }
  return run;
}
