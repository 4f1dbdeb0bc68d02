/**
 * Runs the real stack program (Pulumi.yaml `main`, i.e. `infra/`) under the shared Pulumi mocks
 * (test/infra/mocks.ts) and returns every resource it registers.
 *
 * Each mode runs in its own Node process (policy/stack-child.ts): a Pulumi program registers its resources when its
 * module is first loaded, and a fresh process is the only clean way to load it twice — once as a preview, once as
 * an update — with a fresh Pulumi runtime each time.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RecordedStackResource, Runs } from "./evaluate";

export const ROOT = path.resolve(__dirname, "..");
export const STACK = "dev";
export const PROJECT = "traced-onboarding";

/**
 * The Coralogix key the stack is run with (set as secret config). Any occurrence outside the secret version is a
 * leak; `coralogix-key-only-in-secret-version` finds it.
 */
export const TEST_CORALOGIX_KEY = "cxtp_policy-check-key-7f3a9c2e5b1d4086";

/** What the child writes back. */
export interface ChildResult {
  readonly mode: "preview" | "update";
  readonly entry: string;
  readonly resources?: RecordedStackResource[];
  readonly error?: string;
}

/** The stack program's entry file: Pulumi.yaml `main` (default `infra/`) resolved like Node would. */
export function stackEntry(): string {
  let main = "infra/";
  const pulumiYaml = path.join(ROOT, "Pulumi.yaml");
  if (fs.existsSync(pulumiYaml)) {
    const m = /^main:\s*["']?([^"'\n#]+?)["']?\s*(#.*)?$/m.exec(fs.readFileSync(pulumiYaml, "utf8"));
    if (m?.[1]) main = m[1].trim();
  }
  const base = path.resolve(ROOT, main);
  const candidates = [base, `${base}.ts`, path.join(base, "index.ts")];
  const found = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
  if (!found) {
    throw new Error(
      `Stack program not found: Pulumi.yaml main "${main}" resolves to none of ${candidates
        .map((c) => path.relative(ROOT, c))
        .join(", ")}. The policy stack run needs the infra program (issue 4) in place.`,
    );
  }
  return found;
}

/** Runs a program (by default the stack program) once under mocks in a child process. */
export function runStackOnce(
  mode: "preview" | "update",
  { entry = stackEntry(), timeoutMs = 180_000 }: { entry?: string; timeoutMs?: number } = {},
): Promise<RecordedStackResource[]> {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "policy-stack-")), `${mode}.json`);
  const child = spawn(
    process.execPath,
    ["--require", require.resolve("tsx/cjs"), path.join(__dirname, "stack-child.ts"), mode, entry, out],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`stack ${mode} run timed out after ${timeoutMs} ms\n${output.slice(-4000)}`));
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      const result: ChildResult | undefined = fs.existsSync(out)
        ? (JSON.parse(fs.readFileSync(out, "utf8")) as ChildResult)
        : undefined;
      fs.rmSync(path.dirname(out), { recursive: true, force: true });
      if (result?.resources && code === 0) return resolve(result.resources);
      reject(
        new Error(
          `stack ${mode} run of ${path.relative(ROOT, entry)} failed (exit ${code}): ${result?.error ?? "no result written"}\n` +
            output.slice(-4000),
        ),
      );
    });
  });
}

/** Runs the program (by default the stack program) as a preview and as an update, in parallel. */
export async function runStack(entry?: string): Promise<Runs> {
  const [preview, update] = await Promise.all([runStackOnce("preview", { entry }), runStackOnce("update", { entry })]);
  return { preview, update };
}
