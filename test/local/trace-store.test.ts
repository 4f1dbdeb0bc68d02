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
    assert.equal(classify([{ ...server, attributes: { "http.response.status_code": 202 } }]), "open");
    const batch = span("CONSUMER", "receive onboarding", "d".repeat(16), undefined, {
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
