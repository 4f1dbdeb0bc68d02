/** `npm run bench` arguments: a usage text, unknown flags and sections refused, partial runs never overwrite results. */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import * as path from "node:path";
import { BenchUsageError, parseArgs, USAGE } from "../../bench/main";

const REPO_ROOT = path.resolve(__dirname, "..", "..");
const bench = (...args: string[]) =>
  spawnSync(process.execPath, ["--require", "tsx/cjs", "bench/main.ts", ...args], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    timeout: 30_000,
    env: { ...process.env, BENCH_SMOKE: "" },
  });

describe("bench arguments", function () {
  this.timeout(60_000);

  it("--help prints the usage and measures nothing", () => {
    const committed = statSync(path.join(REPO_ROOT, "bench/results.json")).mtimeMs;
    const run = bench("--help");
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), USAGE.trim());
    assert.match(
      run.stdout,
      /--only <a,b> +run only these sections: api, cold, store, flush, pipeline, exporter-faults, sidecar/,
    );
    assert.equal(statSync(path.join(REPO_ROOT, "bench/results.json")).mtimeMs, committed);
  });

  it("refuses unknown flags and sections with the usage (exit 2)", () => {
    // Every refusal is a BenchUsageError from parseArgs, which the CLI prints with the usage: one CLI run shows that.
    const run = bench("--fast");
    assert.equal(run.status, 2, `--fast: ${run.stdout}${run.stderr}`);
    assert.match(run.stderr, /unknown argument "--fast"/);
    assert.match(run.stderr, /usage: npm run bench/);
    for (const [args, message] of [
      [
        ["--only", "apii"],
        /unknown section\(s\) "apii" — sections: api, cold, store, flush, pipeline, exporter-faults, sidecar/,
      ],
      [["--fast"], /unknown argument "--fast"/],
      [["--only"], /--only needs a value/],
    ] as const) {
      assert.throws(
        () => parseArgs([...args]),
        (error: Error) => error instanceof BenchUsageError && message.test(error.message),
      );
    }
  });

  it("marks --only runs partial, so they write results.local.json and never the committed results", () => {
    assert.deepEqual(parseArgs([]), {
      mode: "full",
      only: ["api", "cold", "store", "flush", "pipeline", "exporter-faults", "sidecar"],
      md: true,
      partial: false,
    });
    assert.deepEqual(parseArgs(["--only=api,cold", "--no-md"]), {
      mode: "full",
      only: ["api", "cold"],
      md: false,
      partial: true,
    });
    assert.equal(parseArgs(["--smoke", "--out", "x.json"]).out, "x.json");
    assert.throws(() => parseArgs(["--only", ","]), /unknown section/);
  });
});
