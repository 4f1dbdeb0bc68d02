/**
 * Keeps `npm run bench` working: runs the smoke mode (every section tiny) as a child process and checks that the
 * results have the expected shape and sane values. Not a performance gate — no threshold here is a target.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { BenchResults } from "../../bench/main";

const REPO_ROOT = path.resolve(__dirname, "..", "..");

describe("bench smoke mode", function () {
  this.timeout(180_000);
  let dir: string;
  let results: BenchResults;
  let stdout: string;

  before(function () {
    dir = mkdtempSync(path.join(tmpdir(), "bench-smoke-"));
    const out = path.join(dir, "results.json");
    const run = spawnSync(process.execPath, ["--require", "tsx/cjs", "bench/main.ts", "--smoke", "--out", out], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      timeout: 170_000,
      env: { ...process.env, BENCH_SMOKE: "1" },
    });
    stdout = run.stdout;
    assert.equal(
      run.status,
      0,
      `bench --smoke exited ${run.status}:\n${run.stdout.slice(-4000)}\n${run.stderr.slice(-4000)}`,
    );
    results = JSON.parse(readFileSync(out, "utf8")) as BenchResults;
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it("records the machine, mode and no section errors", () => {
    assert.equal(results.mode, "smoke");
    assert.ok(results.machine.cpuModel.length > 0);
    assert.ok(results.machine.cores >= 1);
    assert.match(results.machine.node, /^v\d+\./);
    assert.ok(!Number.isNaN(Date.parse(results.date)));
    assert.deepEqual(results.errors, {});
  });

  it("measures API throughput with tracing on and off, and the traced rounds really exported spans", () => {
    const api = results.sections.api;
    assert.ok(api, "api section missing");
    for (const backend of [api.stub, api.fauxqs]) {
      const s = backend.summary;
      assert.ok(s.rpsOn > 0 && s.rpsOff > 0, `${backend.backend}: req/s on ${s.rpsOn} off ${s.rpsOff}`);
      assert.ok(s.ratio > 0 && Number.isFinite(s.ratio));
      assert.ok(s.cpuUsPerRequestOn > 0 && s.cpuUsPerRequestOff > 0);
      assert.ok(s.spansReceived > 0, `${backend.backend}: no spans received from the traced API`);
      assert.ok(s.spanCompleteness > 0 && s.spanCompleteness <= 1);
      assert.equal(s.spansFromUntracedRounds, 0, `${backend.backend}: the OTEL_SDK_DISABLED API exported spans`);
      assert.ok(backend.rounds.some((r) => r.tracing) && backend.rounds.some((r) => !r.tracing));
    }
  });

  it("measures Lambda cold init and bundle size", () => {
    const cold = results.sections.cold;
    assert.ok(cold, "cold section missing");
    assert.ok(cold.bareNodeMs > 0 && cold.handlerNodeMs > 0);
    assert.ok(cold.bundleBytes > 0 && cold.bundleGzipBytes > 0 && cold.bundleGzipBytes < cold.bundleBytes);
    assert.ok(cold.secretFetches > 0, "the secret fetch was not served by the stub");
    assert.equal(cold.samples.handlerMs.length, cold.runs);
  });

  it("measures the Lambda exporter under collector faults and the exporters' cold init", () => {
    const faults = results.sections["exporter-faults"];
    assert.ok(faults, "exporter-faults section missing");
    assert.ok(faults.healthy.p99Ms > 0 && faults.blackhole.p99Ms > 0);
    assert.ok(faults.restart.emitted > 0 && faults.restart.delivered > 0);
    assert.equal(faults.cold.variants.length, 3);
    for (const v of faults.cold.variants) assert.ok(v.bundleBytes > 0 && v.firstExportMs > 0, v.exporter);
  });

  it("measures flush latency with every span received, and the handler with the receiver down", () => {
    const flush = results.sections.flush;
    assert.ok(flush, "flush section missing");
    assert.ok(flush.p50Ms > 0 && flush.p99Ms >= flush.p50Ms);
    assert.ok(flush.spansReceived > 0);
    assert.equal(flush.down.length, 4);
    for (const d of flush.down) assert.ok(d.durationsMs.every((x) => x > 0));
  });

  it("measures local pipeline completeness", () => {
    const pipeline = results.sections.pipeline;
    assert.ok(pipeline, "pipeline section missing");
    assert.ok(pipeline.sustained.accepted > 0);
    assert.ok(pipeline.sustained.spansReceived > 0);
    assert.ok(pipeline.sustained.spanRatio > 0 && pipeline.sustained.traceRatio > 0);
    assert.ok(pipeline.steps.length > 0);
  });

  it("prints the Markdown table", () => {
    assert.match(stdout, /\| metric +\| target +\| measured +\| stock anchor +\|/);
  });
});
