import assert from "node:assert/strict";
import type { ReceivedSpan } from "../../local/otlp-receiver";
import { formatTrace } from "../../local/trace-printer";
import { classify, summarize, TraceStore, type StoredTrace } from "../../local/trace-store";

const TRACE = "0af7651916cd43dd8448eb211c80319c";
let clock = 1_700_000_000_000_000_000n;

function span(
  kind: ReceivedSpan["kind"],
  name: string,
  spanId: string,
  parentSpanId?: string,
  extra: Partial<ReceivedSpan> = {},
): ReceivedSpan {
  clock += 1_000_000n;
  return {
    traceId: TRACE,
    spanId,
    ...(parentSpanId ? { parentSpanId } : {}),
    name,
    kind,
    serviceName: kind === "CONSUMER" ? "onboarding-lambda" : "onboarding-api",
    resource: {},
    attributes: {},
    links: [],
    status: { code: "UNSET" },
    startTimeUnixNano: String(clock),
    endTimeUnixNano: String(clock + 2_000_000n),
    ...extra,
  };
}

const server = span("SERVER", "POST /onboard", "a".repeat(16), "f".repeat(16)); // remote parent (client traceparent)
const producer = span("PRODUCER", "send onboarding", "b".repeat(16), server.spanId);
const consumer = span("CONSUMER", "process onboarding", "c".repeat(16), producer.spanId);

describe("local trace store", () => {
  it("classifies by structure: complete chain, 4xx without a send, batch-only traces, and the rest open", () => {
    assert.equal(classify([server, producer, consumer]), "complete");
    assert.equal(classify([server, producer]), "open");
    assert.equal(classify([consumer, producer]), "open");
    assert.equal(classify([{ ...server, attributes: { "http.response.status_code": 400 } }]), "complete");
    const read = { ...server, attributes: { "http.request.method": "GET", "http.response.status_code": 200 } };
    assert.equal(classify([read]), "complete", "a status read sends nothing");
    assert.equal(classify([{ ...read, attributes: { ...read.attributes, "http.request.method": "POST" } }]), "open");
    assert.equal(classify([{ ...server, attributes: { "http.response.status_code": 202 } }]), "open");
    const batch = span("CONSUMER", "process onboarding", "d".repeat(16), undefined, {
      attributes: { "messaging.batch.message_count": 1 },
      links: [{ traceId: TRACE, spanId: consumer.spanId, attributes: {} }],
    });
    assert.equal(classify([batch]), "batch");
    assert.equal(classify([{ ...consumer, parentSpanId: undefined, links: batch.links }]), "open");
  });

  it("reports a trace once quiet, reports partial traces after settleMs, and re-reports after late spans", async () => {
    const store = new TraceStore({ quietMs: 30, settleMs: 150 });
    const reports: string[] = [];
    store.onTrace((trace) => reports.push(`${trace.traceId.slice(0, 4)}:${trace.state}:${trace.reports}`));
    try {
      store.add([server, producer]);
      await new Promise((resolve) => setTimeout(resolve, 80));
      assert.deepEqual(reports, [], "an unfinished chain is not reported before settleMs");
      store.add([consumer]);
      const trace = await store.waitFor(TRACE, 1000);
      assert.equal(trace.state, "complete");
      store.add([{ ...consumer, spanId: "e".repeat(16), status: { code: "ERROR", message: "again" } }]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(reports, ["0af7:complete:1", "0af7:complete:2"]);

      const other = "1".repeat(32);
      store.add([{ ...server, traceId: other }]);
      await store.waitFor(other, 1000, ["partial"]);
      assert.equal(store.get(other)?.state, "partial");
      assert.equal(store.list(1)[0]?.traceId, other, "newest first");
    } finally {
      store.close();
    }
  });

  it("stays within maxSpans under load, dropping reported traces first, so a slow trace still completes", async () => {
    // 400 req/s for 8 s at ≈ 3 spans each: more traces than the old 2000-trace cap, more spans than maxSpans.
    const store = new TraceStore({ quietMs: 5, settleMs: 60_000, maxSpans: 3000 });
    const id = (n: number) => n.toString(16).padStart(32, "0");
    const chain = (traceId: string) => [server, producer, consumer].map((s) => ({ ...s, traceId }));
    const kept = () => store.list(Number.MAX_SAFE_INTEGER).reduce((n, trace) => n + trace.spans.length, 0);
    try {
      const slow = "5".repeat(32);
      store.add([server, producer].map((s) => ({ ...s, traceId: slow }))); // its CONSUMER comes last
      let peak = 0;
      for (let batch = 0; batch < 32; batch++) {
        for (let i = 0; i < 100; i++) store.add(chain(id(batch * 100 + i + 1)));
        peak = Math.max(peak, kept());
        await new Promise((resolve) => setTimeout(resolve, 30)); // let the sweep report them
      }
      store.add([{ ...consumer, traceId: slow }]);
      const trace = await store.waitFor(slow, 2000);
      assert.equal(trace.spans.length, 3, "the late span joined its trace, which was kept");
      assert.ok(peak <= 3000, `spans kept: peak ${peak}`);
      const stats = store.stats();
      assert.equal(stats.spans, kept());
      assert.equal(stats.evictedOpen, 0);
      assert.ok(stats.evictedReported >= 2000, `evicted ${stats.evictedReported} reported traces`);
    } finally {
      store.close();
    }
  });

  it("summarizes and prints the tree with the root first, kinds, durations and errors", () => {
    const trace: StoredTrace = {
      traceId: TRACE,
      spans: [consumer, producer, { ...server, attributes: { "http.response.status_code": 202 } }],
      state: "complete",
      reports: 1,
      firstSeenMs: 0,
      lastSpanMs: 0,
    };
    const summary = summarize(trace);
    assert.equal(summary.rootName, "POST /onboard");
    assert.deepEqual(summary.services, ["onboarding-api", "onboarding-lambda"]);
    assert.deepEqual(summary.kinds, { CONSUMER: 1, PRODUCER: 1, SERVER: 1 });

    const text = formatTrace(trace, { color: false });
    const lines = text.split("\n");
    assert.match(lines[0]!, new RegExp(`^trace ${TRACE} {2}3 spans, .* complete$`));
    assert.match(lines[1]!, /onboarding-api +SERVER +2\.0 ms {2}POST \/onboard {2}http\.response\.status_code=202$/);
    assert.match(lines[2]!, /PRODUCER .*└─ send onboarding$/);
    assert.match(lines[3]!, /onboarding-lambda +CONSUMER .* {4}└─ process onboarding$/);

    const failed = formatTrace(
      { ...trace, spans: [server, producer, { ...consumer, status: { code: "ERROR", message: "bad" } }] },
      { color: false },
    );
    assert.match(failed, /process onboarding ERROR: bad/);
  });
});
