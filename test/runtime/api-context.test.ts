/**
 * The API's tracing preload (dist/app/tracing.js) registers the AsyncLocalStorage context manager, as
 * sdk-trace-node's NodeTracerProvider.register() did before SDK 3.x: the active context follows async work.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { DIST, REPO_ROOT, closedPort, ensureBundles } from "./helpers";

// Runs in a child preloaded with the API's tracing bundle; the global OTel API registry is shared across copies.
const CHILD = `
const api = require("@opentelemetry/api");
const tracer = api.trace.getTracer("context-test");
tracer.startActiveSpan("outer", async (span) => {
  await new Promise((resolve) => setTimeout(resolve, 5));
  await Promise.resolve();
  const active = api.trace.getActiveSpan();
  const wrapped = api.context.with(api.ROOT_CONTEXT, () => api.trace.getActiveSpan());
  console.log(JSON.stringify({
    recording: span.isRecording(),
    sameAfterAwait: active === span,
    insideRootWith: wrapped === undefined,
  }));
  span.end();
  process.exit(0);
});
`;

/** Runs {@link CHILD} preloaded with the built dist/app/tracing.js; returns what it printed. */
async function runPreloaded(env: NodeJS.ProcessEnv): Promise<Record<string, boolean>> {
  await ensureBundles();
  const child = spawnSync(process.execPath, ["--require", path.join(DIST, "app", "tracing.js"), "-e", CHILD], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    timeout: 30_000,
    env: { PATH: process.env.PATH, ...env },
  });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout.trim().split("\n").pop()!) as Record<string, boolean>;
}

describe("runtime: API tracing preload and the active context", function () {
  this.timeout(60_000);

  it("the active span survives awaits (AsyncLocalStorage context manager registered)", async () => {
    const result = await runPreloaded({
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await closedPort()}`,
      OTEL_LOG_LEVEL: "none",
    });
    assert.deepEqual(result, { recording: true, sameAfterAwait: true, insideRootWith: true });
  });

  it("OTEL_SDK_DISABLED=true registers nothing: no recording span, no context manager", async () => {
    const result = await runPreloaded({ OTEL_SDK_DISABLED: "true" });
    assert.equal(result.recording, false);
    assert.equal(result.sameAfterAwait, false);
  });
});
