/**
 * The circuit breaker in front of the exporter, driven by a scripted `send` and a fake clock: what is buffered,
 * what is dropped (counted, logged at a bounded rate), and how a probe finds the backend again.
 */
import assert from "node:assert/strict";
import { DiagLogLevel, diag, type DiagLogger } from "@opentelemetry/api";
import {
  DEFAULT_BREAKER_OPTIONS,
  ExportBreaker,
  type ExportBreakerOptions,
  type SendResult,
} from "../../telemetry/export-breaker";

const down: SendResult = { delivered: false, retryable: true, error: new Error("UNAVAILABLE") };
const rejected: SendResult = { delivered: false, retryable: false, error: new Error("UNAUTHENTICATED") };
const up: SendResult = { delivered: true };

interface Harness {
  breaker: ExportBreaker<number>;
  /** Every batch `send` was called with, and the deadline it got (relative to the call). */
  sent: { items: number[]; budget: number }[];
  delivered: number[];
  backend: { result: SendResult };
  clock: { t: number };
}

function harness(options: Partial<ExportBreakerOptions<number>> = {}): Harness {
  const clock = { t: 0 };
  const sent: Harness["sent"] = [];
  const delivered: number[] = [];
  const backend = { result: up };
  const breaker = new ExportBreaker<number>({
    ...DEFAULT_BREAKER_OPTIONS,
    target: "http://collector",
    now: () => clock.t,
    ...options,
  });
  return { breaker, sent, delivered, backend, clock };
}

function exportVia(h: Harness, items: number[], timeoutMillis = 2000) {
  return h.breaker.export(items, timeoutMillis, async (batch, deadline) => {
    h.sent.push({ items: [...batch], budget: deadline - h.clock.t });
    if (h.backend.result.delivered) h.delivered.push(...batch);
    return h.backend.result;
  });
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

describe("telemetry: export circuit breaker", () => {
  let logs: string[];
  beforeEach(() => {
    logs = [];
    const record = (level: string) => (message: string) => logs.push(`${level} ${message}`);
    const logger: DiagLogger = {
      error: record("error"),
      warn: record("warn"),
      info: record("info"),
      debug: () => undefined,
      verbose: () => undefined,
    };
    diag.setLogger(logger, { logLevel: DiagLogLevel.INFO, suppressOverrideMessage: true });
  });
  afterEach(() => diag.disable());

  it("sends straight through while the backend answers", async () => {
    const h = harness();
    assert.deepEqual(await exportVia(h, [1, 2]), { kept: true });
    assert.deepEqual(h.sent, [{ items: [1, 2], budget: 2000 }]);
    assert.equal(h.breaker.stats().state, "closed");
  });

  it("after a retryable failure keeps spans and gives later exports only the probe budget", async () => {
    const h = harness({ probeBatchItems: 2 });
    h.backend.result = down;
    assert.deepEqual(await exportVia(h, [1, 2]), { kept: true });
    assert.equal(h.breaker.stats().state, "open");
    assert.deepEqual(await exportVia(h, [3]), { kept: true });
    assert.deepEqual(
      h.sent.map((s) => s.budget),
      [2000, DEFAULT_BREAKER_OPTIONS.probeBudgetMillis],
    );
    assert.deepEqual(h.sent[1].items, [1, 2]); // the probe carries the oldest few buffered spans
    assert.deepEqual(h.breaker.stats(), { state: "open", buffered: 3, dropped: 0, probes: 1 });
    assert.equal(logs.filter((l) => l.includes("failing")).length, 1, logs.join("\n"));
  });

  it("recovers through a probe and drains the whole buffer, batch by batch, within the caller's deadline", async () => {
    const h = harness({ maxBatchItems: 4 });
    h.backend.result = down;
    await exportVia(h, range(0, 3));
    await exportVia(h, range(3, 3));
    h.backend.result = up;
    await exportVia(h, range(6, 3));
    assert.deepEqual(h.delivered, range(0, 9));
    assert.deepEqual(
      h.sent.slice(2).map((s) => s.items.length),
      [4, 4, 1],
    );
    assert.deepEqual(h.breaker.stats(), { state: "closed", buffered: 0, dropped: 0, probes: 2 });
    assert.ok(
      logs.some((l) => /^warn .*recovered/.test(l)),
      logs.join("\n"),
    );
  });

  it("bounds the buffer: overflow is dropped, counted and logged once per interval (not once per export)", async () => {
    const h = harness({ maxBufferedItems: 5, dropLogIntervalMillis: 60_000 });
    h.backend.result = down;
    await exportVia(h, range(0, 4));
    assert.deepEqual(await exportVia(h, range(4, 3)), { kept: true });
    assert.match(logs.find((l) => l.includes("dropped")) ?? "", /dropped 2 span\(s\): export buffer full \(5 spans\)/);
    for (let i = 0; i < 50; i++) await exportVia(h, [100 + i]);
    assert.deepEqual(h.breaker.stats().buffered, 5);
    assert.deepEqual(h.breaker.stats().dropped, 52);
    assert.equal(logs.filter((l) => l.includes("dropped")).length, 1, logs.join("\n"));
    h.clock.t += 60_000;
    await exportVia(h, [999]);
    const dropLines = logs.filter((l) => l.includes("dropped"));
    assert.equal(dropLines.length, 2);
    assert.match(dropLines[1], /53 dropped so far in this failure streak \(50 more since the last report\)/);
  });

  it("bounds the buffer by bytes too: a few large spans fill it long before the count bound", async () => {
    // Items are their own size in bytes here; the exporter measures spans with span-size.ts's quick upper bound.
    const h = harness({ maxBufferedItems: 100, maxBufferedBytes: 1000, itemBytes: (n) => n });
    h.backend.result = down;
    assert.deepEqual(await exportVia(h, [300, 300]), { kept: true });
    assert.deepEqual(await exportVia(h, [300, 300, 50]), { kept: true }); // the newest that do not fit are dropped
    assert.deepEqual(h.breaker.stats(), { state: "open", buffered: 3, dropped: 2, probes: 1 });
    assert.match(
      logs.find((l) => l.includes("dropped")) ?? "",
      /dropped 2 span\(s\): export buffer full \(1000 bytes\)/,
    );
    assert.match(logs.find((l) => l.includes("failing")) ?? "", /keeping up to 100 spans \(1000 bytes\)/);
    await exportVia(h, [1000]); // alone it fits the bound, but not beside what is buffered
    assert.equal(h.breaker.stats().buffered, 3);
    assert.equal(h.breaker.stats().dropped, 3);
    // Delivered spans give their bytes back: after recovery the buffer takes as much again.
    h.backend.result = up;
    await exportVia(h, [1]);
    assert.deepEqual(h.delivered, [300, 300, 300, 1]);
    h.backend.result = down;
    await exportVia(h, [400]);
    await exportVia(h, [400, 300, 1]);
    assert.deepEqual(h.breaker.stats(), { state: "open", buffered: 2, dropped: 5, probes: 4 });
    assert.throws(() => harness({ maxBufferedBytes: 0 }), /maxBufferedBytes must be > 0, got 0/);
  });

  it("with many small spans the count bound still applies under the byte bound", async () => {
    const h = harness({ maxBufferedItems: 5, maxBufferedBytes: 1000, itemBytes: () => 1 });
    h.backend.result = down;
    await exportVia(h, range(0, 4));
    await exportVia(h, range(4, 40));
    assert.deepEqual(h.breaker.stats(), { state: "open", buffered: 5, dropped: 39, probes: 1 });
    assert.match(logs.find((l) => l.includes("dropped")) ?? "", /dropped 39 span\(s\): export buffer full \(5 spans\)/);
  });

  it("drops a batch the backend refuses for good, without opening (nothing to wait for)", async () => {
    const h = harness();
    h.backend.result = rejected;
    const result = await exportVia(h, [1, 2]);
    assert.equal(result.kept, false);
    assert.match(String(result.error?.message), /dropped 2 span\(s\): UNAUTHENTICATED/);
    assert.deepEqual(h.breaker.stats(), { state: "closed", buffered: 0, dropped: 2, probes: 0 });
  });

  it("runs one probe at a time: concurrent exports only buffer", async () => {
    const h = harness();
    h.backend.result = down;
    await exportVia(h, [1]);
    let releaseProbe: () => void = () => undefined;
    const probe = h.breaker.export([2], 2000, async () => {
      await new Promise<void>((resolve) => (releaseProbe = resolve));
      return down;
    });
    const others = await Promise.all([exportVia(h, [3]), exportVia(h, [4])]);
    assert.deepEqual(others, [{ kept: true }, { kept: true }]);
    assert.equal(h.sent.length, 1); // only the very first export reached send
    releaseProbe();
    await probe;
    assert.deepEqual(h.breaker.stats(), { state: "open", buffered: 4, dropped: 0, probes: 1 });
  });

  it("gives a probe the caller's whole deadline once per fullProbeIntervalMillis (a slow backend is found again)", async () => {
    const h = harness({ fullProbeIntervalMillis: 10_000 });
    h.backend.result = down;
    await exportVia(h, [1]);
    await exportVia(h, [2]);
    h.clock.t += 10_000;
    await exportVia(h, [3]);
    await exportVia(h, [4]);
    assert.deepEqual(
      h.sent.map((s) => s.budget),
      [2000, DEFAULT_BREAKER_OPTIONS.probeBudgetMillis, 2000, DEFAULT_BREAKER_OPTIONS.probeBudgetMillis],
    );
  });

  it("costs nothing while the transport has no connection that completed its handshake", async () => {
    let ready = false;
    const asked: number[] = [];
    const h = harness({
      readyToProbe: async (until) => {
        asked.push(until - h.clock.t);
        return ready;
      },
    });
    h.backend.result = down;
    await exportVia(h, [1]);
    await exportVia(h, [2]);
    assert.equal(h.sent.length, 1); // no probe was sent
    assert.deepEqual(asked, [DEFAULT_BREAKER_OPTIONS.probeBudgetMillis]); // the wait for it is part of the budget
    ready = true;
    h.backend.result = up;
    await exportVia(h, [3]);
    assert.deepEqual(h.delivered, [1, 2, 3]);
    assert.equal(h.breaker.stats().state, "closed");
  });

  it("refuses nonsensical settings with a clear error", () => {
    assert.throws(() => harness({ maxBufferedItems: 0 }), /maxBufferedItems must be > 0, got 0/);
    assert.throws(() => harness({ probeIntervalMillis: -1 }), /probeIntervalMillis must be ≥ 0, got -1/);
  });
});
