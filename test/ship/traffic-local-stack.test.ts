// `npm run traffic` against the real local stack (local/stack.ts: the API process with tracing preloaded → fauxqs →
// the Lambda host → the OTLP receiver): every request accepted, and every sampled trace_id is a real, complete trace.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { startLocalStack, type LocalStack } from "../../local/stack";
import { runTraffic } from "../../scripts/traffic/run";
import { ensureBundles } from "../runtime/helpers";

const ROOT = path.resolve(__dirname, "../..");

describe("traffic generator against the local stack", function () {
  this.timeout(90_000);
  // dist/ is built once per test run, by whichever worker asks first; the local stack and npm start then run it.
  before(() => ensureBundles());
  let stack: LocalStack;

  before(async () => {
    stack = await startLocalStack({ build: "if-missing" });
  });
  after(async () => {
    await stack?.stop();
  });

  it("sustains the rate with every request accepted, and the sampled trace_ids are complete traces", async () => {
    const s = await runTraffic(
      { url: stack.apiUrl, rate: 25, durationMs: 2000, timeoutMs: 5000, maxInFlight: 64 },
      { traceSampleSize: 15 },
    );
    assert.equal(s.stoppedBy, "duration");
    assert.ok(s.sent >= 45 && s.sent <= 50, `sent ${s.sent}`);
    assert.equal(s.accepted, s.sent, JSON.stringify({ statuses: s.statuses, errors: s.errors }));
    assert.equal(s.rejected + s.failed + s.cancelled + s.skipped, 0);
    assert.ok(s.latencyMs && s.latencyMs.count === s.sent && s.latencyMs.p99 < 5000);
    assert.equal(s.traceIds.length, 15);

    const traces = await Promise.all(s.traceIds.map((id) => stack.traces.waitFor(id, 20_000)));
    for (const trace of traces) {
      const services = new Set(trace.spans.map((span) => span.serviceName));
      assert.deepEqual([...services].sort(), ["onboarding-api", "onboarding-lambda"], trace.traceId);
      assert.ok(trace.spans.some((span) => span.kind === "SERVER" && span.name === "POST /onboard"));
      assert.ok(trace.spans.some((span) => span.kind === "CONSUMER"));
    }
  });

  it("npm run traffic (the CLI) stops at --max-requests with everything accepted", async () => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        path.join(ROOT, "scripts/traffic.ts"),
        "--url",
        stack.apiUrl,
        "--rate",
        "20",
        "--max-requests",
        "10",
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    const [code] = (await once(child, "close")) as [number];
    assert.equal(code, 0, stdout);
    assert.match(stdout, /stopped {8}--max-requests reached/);
    assert.match(stdout, /sent {11}10\n {2}accepted \(2xx\) 10\n {2}rejected \(4xx\) 0\n {2}failed {9}0\n/);
  });
});
