// The Quickstart's pasted `npm start` output must be what `npm start` prints: this runs local/main.ts (what the
// `start` script runs) on free ports, Ctrl-C's it the way a terminal does (SIGINT to the whole process group), and
// compares the README's sample with the real output line by line. Ids, times, pids and ports are normalised and
// runs of spaces collapsed; the README may leave lines out only where it says so with a line "…".
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import path from "node:path";
import { freePortEnv, waitFor } from "../local/helpers";
import { ensureBundles } from "../runtime/helpers";

const ROOT = path.resolve(__dirname, "../..");
const README = readFileSync(path.join(ROOT, "README.md"), "utf8");
const ELIDED = "…";
const READY = /Ctrl-C to stop$/;

/** The ```text block right after the `<!-- sample output -->` marker. */
export function readmeSample(readme: string): string[] {
  const m = /<!-- sample output -->\s*```text\n([\s\S]*?)\n```/.exec(readme);
  assert.ok(m, "README.md: no ```text block after <!-- sample output -->");
  return m[1].split("\n");
}

/** What varies from run to run becomes a placeholder; spacing (padded to port widths) collapses. */
export function normalise(line: string): string {
  return line
    .replace(/\x1b\[[0-9;]*m/g, "")
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>")
    .replace(/\b[0-9a-f]{32}\b/g, "<trace-id>")
    .replace(/\d+(\.\d+)?/g, "<n>")
    .replace(/\s+/g, " ")
    .trim();
}

/**
 * Every README line must be the next real line, except that a README line "…" lets any number of real lines pass
 * (tried at every place the next line could resume). Returns the problems (empty when the sample is true).
 */
export function compareSample(sample: readonly string[], actual: readonly string[]): string[] {
  const want = sample.map(normalise);
  const got = actual.map(normalise);
  let deepest = { at: -1, problem: "" };
  const fail = (w: number, problem: string) => {
    if (w > deepest.at) deepest = { at: w, problem };
    return false;
  };
  const matches = (w: number, g: number, skipping: boolean): boolean => {
    if (w === want.length) return true;
    if (want[w] === ELIDED) return matches(w + 1, g, true);
    const shown = `README sample line ${w + 1} (${JSON.stringify(sample[w])})`;
    if (!skipping) {
      if (got[g] === want[w]) return matches(w + 1, g + 1, false);
      const next = got.indexOf(want[w], g);
      return next === -1
        ? fail(w, `${shown} is never printed there`)
        : fail(
            w,
            `${shown} follows lines it does not show and no "…" marks the gap: ${JSON.stringify(actual.slice(g, next))}`,
          );
    }
    for (let j = got.indexOf(want[w], g); j !== -1; j = got.indexOf(want[w], j + 1)) {
      if (matches(w + 1, j + 1, false)) return true;
    }
    return fail(w, `${shown} is never printed after the "…"`);
  };
  return matches(0, 0, false) ? [] : [deepest.problem];
}

describe("README.md Quickstart sample output", function () {
  this.timeout(60_000);
  // dist/ is built once per test run, by whichever worker asks first; the local stack and npm start then run it.
  before(() => ensureBundles());

  it("compares line by line, with … for left-out lines", () => {
    assert.deepEqual(compareSample(["a 1", "…", "c 3"], ["a 7", "b", "c 12"]), []);
    assert.deepEqual(compareSample(["a", "…", "", "w"], ["a", "", "b", "", "w"]), [], "resumes at the right blank");
    assert.match(compareSample(["a", "c"], ["a", "b", "c"]).join(), /no "…" marks the gap: \["b"\]/);
    assert.match(compareSample(["a", "x"], ["a", "b"]).join(), /line 2 \("x"\) is never printed/);
    assert.equal(
      normalise("  pid 6108 (init 39 ms)   http://127.0.0.1:8000"),
      "pid <n> (init <n> ms) http://<n>.<n>:<n>",
    );
  });

  it("is what `npm start` prints, through a clean Ctrl-C (exit 0)", async () => {
    // The prompt and npm's banner ("> traced-onboarding@0.1.0 start") are not local/main.ts's output.
    const sample = readmeSample(README);
    while (sample.length > 0 && /^(\$ |> |$)/.test(sample[0])) sample.shift();
    const ctrlC = sample.indexOf("^C");
    assert.notEqual(ctrlC, -1, "the sample shows the Ctrl-C");
    assert.match(sample[ctrlC - 1] ?? "", READY, "the sample shows everything up to the waiting prompt");
    assert.equal(
      JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts.start,
      "node --import tsx local/main.ts",
      "this test runs local/main.ts the way the start script does",
    );

    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      ...(await freePortEnv()),
    };
    // Its own process group, so the SIGINT below reaches it and its children at once, as Ctrl-C in a terminal does.
    const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "local/main.ts")], {
      cwd: ROOT,
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = once(child, "exit");
    try {
      await waitFor(() => READY.test(stdout.trimEnd()) || child.exitCode !== null, 45_000, "the waiting prompt");
      const beforeCtrlC = stdout.trimEnd().split("\n");
      assert.deepEqual(compareSample(sample.slice(0, ctrlC), beforeCtrlC), [], stdout);

      process.kill(-child.pid!, "SIGINT");
      const timedOut = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 20_000));
      const outcome = await Promise.race([exited, timedOut]);
      assert.notEqual(outcome, "timeout", `npm start did not exit within 20 s of Ctrl-C:\n${stdout}`);
      // The newline printed first ends the terminal's own "^C" line.
      const afterCtrlC = stdout.trimEnd().split("\n").slice(beforeCtrlC.length).join("\n").trimStart().split("\n");
      // A clean stop prints exactly what the README shows (no "exited unexpectedly" warnings) and exits 0.
      assert.deepEqual(compareSample(sample.slice(ctrlC + 1), afterCtrlC), [], stdout);
      assert.equal(child.exitCode, 0, `exit code after Ctrl-C:\n${stdout}`);
    } finally {
      try {
        process.kill(-child.pid!, "SIGKILL"); // whatever of the group is still running
      } catch {
        /* the group is gone: everything exited */
      }
    }
  });
});
