/**
 * The trace view's Jaeger query API, field by field against Jaeger's JSON model (see local/jaeger-api.ts for the
 * source files in jaegertracing/jaeger), and the search semantics shared with the UI.
 */
import assert from "node:assert/strict";
import type { ReceivedSpan } from "../../local/otlp-receiver";
import { handleJaegerApi, toJaegerTrace, toKeyValue } from "../../local/jaeger-api";
import { parseGoDuration, parseTraceQuery, searchTraces } from "../../local/trace-query";
import { TraceStore } from "../../local/trace-store";
import { startTraceView, type TraceView } from "../../local/trace-view";

const T0 = 1_700_000_000_000_000_000n; // ns
const REQUEST = "0af7651916cd43dd8448eb211c80319c";
const BATCH = "1".repeat(32);
const REJECTED = "2".repeat(32);

function span(
  extra: Partial<ReceivedSpan> & Pick<ReceivedSpan, "traceId" | "spanId" | "name" | "kind">,
  startMs: number,
  durMs: number,
): ReceivedSpan {
  return {
    serviceName: "onboarding-api",
    resource: { "service.name": extra.serviceName ?? "onboarding-api", "deployment.environment.name": "local" },
    attributes: {},
    links: [],
    status: { code: "UNSET" },
    startTimeUnixNano: String(T0 + BigInt(startMs * 1e6)),
    endTimeUnixNano: String(T0 + BigInt((startMs + durMs) * 1e6)),
    events: [],
    ...extra,
  };
}

const server = span(
  {
    traceId: REQUEST,
    spanId: "a".repeat(16),
    parentSpanId: "f".repeat(16),
    name: "POST /onboard",
    kind: "SERVER",
    attributes: { "http.response.status_code": 202, "http.route": "/onboard", ratio: 0.5, big: "x", list: ["a", 1] },
    scope: { name: "@opentelemetry/instrumentation-http", version: "0.301.2" },
  },
  0,
  80,
);
const producer = span(
  {
    traceId: REQUEST,
    spanId: "b".repeat(16),
    parentSpanId: server.spanId,
    name: "send onboarding",
    kind: "PRODUCER",
    attributes: { "messaging.message.id": "m-1" },
    status: { code: "OK" },
  },
  5,
  60,
);
const consumer = span(
  {
    traceId: REQUEST,
    spanId: "c".repeat(16),
    parentSpanId: producer.spanId,
    name: "process onboarding",
    kind: "CONSUMER",
    serviceName: "onboarding-lambda",
    resource: { "service.name": "onboarding-lambda", "faas.name": "onboarding-lambda" },
    attributes: { "messaging.message.id": "m-1" },
    links: [{ traceId: BATCH, spanId: "d".repeat(16), attributes: {} }],
    status: { code: "ERROR", message: "invalid_message" },
    events: [
      {
        name: "exception",
        timeUnixNano: String(T0 + 120_000_000n),
        attributes: { "exception.type": "RecordError", "exception.message": "bad" },
      },
    ],
  },
  100,
  7,
);
const batch = span(
  {
    traceId: BATCH,
    spanId: "d".repeat(16),
    name: "receive onboarding",
    kind: "CONSUMER",
    serviceName: "onboarding-lambda",
    resource: { "service.name": "onboarding-lambda", "faas.name": "onboarding-lambda" },
    // What makes it the Lambda's batch span for the store (local/trace-store.ts), whatever its name.
    attributes: { "messaging.batch.message_count": 1 },
    links: [{ traceId: REQUEST, spanId: consumer.spanId, attributes: {} }],
  },
  98,
  12,
);
const rejected = span(
  {
    traceId: REJECTED,
    spanId: "e".repeat(16),
    name: "POST /onboard",
    kind: "SERVER",
    attributes: { "http.response.status_code": 400 },
  },
  500,
  3,
);

async function filledStore(): Promise<TraceStore> {
  const store = new TraceStore({ quietMs: 10, settleMs: 50 });
  store.add([server, producer, consumer]);
  await new Promise((resolve) => setTimeout(resolve, 5));
  store.add([batch]);
  await new Promise((resolve) => setTimeout(resolve, 5));
  store.add([rejected]);
  await store.waitFor(BATCH, 1000, ["batch"]);
  return store;
}

describe("Jaeger query API on the trace view", () => {
  let store: TraceStore;
  let view: TraceView;
  before(async () => {
    store = await filledStore();
    view = await startTraceView({ store, port: 0 });
  });
  after(async () => {
    await view?.close();
    store?.close();
  });
  const get = async (path: string) => {
    const response = await fetch(`${view.url}${path}`);
    return {
      status: response.status,
      type: response.headers.get("content-type"),
      body: (await response.json()) as any,
    };
  };

  it("GET /api/traces/{id}: Jaeger's envelope, trace, spans, references, tags, logs and processes", async () => {
    const { status, type, body } = await get(`/api/traces/${REQUEST}`);
    assert.equal(status, 200);
    assert.match(type!, /application\/json/);
    assert.deepEqual(Object.keys(body).sort(), ["data", "errors", "limit", "offset", "total"]);
    assert.equal(body.total, 0);
    assert.equal(body.limit, 0);
    assert.equal(body.offset, 0);
    assert.equal(body.errors, null);
    assert.equal(body.data.length, 1);
    const trace = body.data[0];
    assert.deepEqual(Object.keys(trace).sort(), ["processes", "spans", "traceID", "warnings"]);
    assert.equal(trace.traceID, REQUEST);
    assert.equal(trace.warnings, null);
    assert.deepEqual(
      trace.spans.map((s: any) => s.operationName),
      ["POST /onboard", "send onboarding", "process onboarding"],
    );

    const [s, p, c] = trace.spans;
    assert.deepEqual(Object.keys(s).sort(), [
      "duration",
      "logs",
      "operationName",
      "processID",
      "references",
      "spanID",
      "startTime",
      "tags",
      "traceID",
      "warnings",
    ]);
    assert.equal(s.traceID, REQUEST);
    assert.equal(s.spanID, "a".repeat(16));
    assert.equal(s.startTime, Number(T0 / 1000n), "microseconds since the epoch");
    assert.equal(s.duration, 80_000, "microseconds");
    assert.equal(s.warnings, null);
    assert.deepEqual(s.references, [{ refType: "CHILD_OF", traceID: REQUEST, spanID: "f".repeat(16) }]);
    assert.deepEqual(s.tags, [
      { key: "otel.scope.name", type: "string", value: "@opentelemetry/instrumentation-http" },
      { key: "otel.scope.version", type: "string", value: "0.301.2" },
      { key: "http.response.status_code", type: "int64", value: 202 },
      { key: "http.route", type: "string", value: "/onboard" },
      { key: "ratio", type: "float64", value: 0.5 },
      { key: "big", type: "string", value: "x" },
      { key: "list", type: "string", value: '["a",1]' },
      { key: "span.kind", type: "string", value: "server" },
    ]);
    assert.deepEqual(s.logs, []);
    assert.deepEqual(p.tags.slice(-2), [
      { key: "span.kind", type: "string", value: "producer" },
      { key: "otel.status_code", type: "string", value: "OK" },
    ]);
    assert.equal(p.startTime - s.startTime, 5000);

    assert.deepEqual(c.references, [
      { refType: "CHILD_OF", traceID: REQUEST, spanID: "b".repeat(16) },
      { refType: "FOLLOWS_FROM", traceID: BATCH, spanID: "d".repeat(16) },
    ]);
    assert.deepEqual(c.tags, [
      { key: "messaging.message.id", type: "string", value: "m-1" },
      { key: "span.kind", type: "string", value: "consumer" },
      { key: "error", type: "bool", value: true },
      { key: "otel.status_description", type: "string", value: "invalid_message" },
    ]);
    assert.deepEqual(c.logs, [
      {
        timestamp: Number(T0 / 1000n) + 120_000,
        fields: [
          { key: "event", type: "string", value: "exception" },
          { key: "exception.type", type: "string", value: "RecordError" },
          { key: "exception.message", type: "string", value: "bad" },
        ],
      },
    ]);

    assert.equal(s.processID, "p1");
    assert.equal(p.processID, "p1");
    assert.equal(c.processID, "p2");
    assert.deepEqual(trace.processes, {
      p1: {
        serviceName: "onboarding-api",
        tags: [{ key: "deployment.environment.name", type: "string", value: "local" }],
      },
      p2: {
        serviceName: "onboarding-lambda",
        tags: [{ key: "faas.name", type: "string", value: "onboarding-lambda" }],
      },
    });
  });

  it("GET /api/traces/{id} of an unknown trace: 404 trace not found in Jaeger's error envelope", async () => {
    const { status, body } = await get(`/api/traces/${"9".repeat(32)}`);
    assert.equal(status, 404);
    assert.deepEqual(body, {
      data: null,
      total: 0,
      limit: 0,
      offset: 0,
      errors: [{ code: 404, msg: "trace not found" }],
    });
    assert.equal((await get("/api/traces/not-hex")).status, 400);
  });

  it("GET /api/services and /api/services/{service}/operations and /api/operations", async () => {
    assert.deepEqual((await get("/api/services")).body, {
      data: ["onboarding-api", "onboarding-lambda"],
      total: 2,
      limit: 0,
      offset: 0,
      errors: null,
    });
    const ops = await get(`/api/services/${encodeURIComponent("onboarding-lambda")}/operations`);
    assert.deepEqual(ops.body.data, ["process onboarding", "receive onboarding"]);
    assert.equal(ops.body.total, 2);
    assert.deepEqual((await get("/api/services/nobody/operations")).body.data, []);
    const kinds = await get("/api/operations?service=onboarding-api&spanKind=server");
    assert.deepEqual(kinds.body.data, [{ name: "POST /onboard", spanKind: "server" }]);
    assert.equal((await get("/api/operations")).status, 400);
  });

  it("GET /api/traces searches like Jaeger: service, operation, tags, durations, time range, limit, traceID", async () => {
    const ids = async (query: string) => {
      const { status, body } = await get(`/api/traces?${query}`);
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.errors, null);
      return body.data.map((t: any) => t.traceID);
    };
    assert.deepEqual(await ids("service=onboarding-api"), [REJECTED, REQUEST], "newest first");
    assert.deepEqual(await ids("service=onboarding-lambda"), [BATCH, REQUEST], "batch traces are Jaeger traces too");
    assert.deepEqual(await ids("service=onboarding-api&limit=1"), [REJECTED]);
    assert.deepEqual(await ids("service=onboarding-api&operation=send%20onboarding"), [REQUEST]);
    const tags = encodeURIComponent(JSON.stringify({ "http.response.status_code": "400" }));
    assert.deepEqual(await ids(`service=onboarding-api&tags=${tags}`), [REJECTED]);
    assert.deepEqual(await ids("tag=error:true"), [REQUEST]);
    assert.deepEqual(await ids("tag=span.kind:producer"), [REQUEST]);
    assert.deepEqual(await ids("service=onboarding-api&minDuration=50ms"), [REQUEST]);
    assert.deepEqual(await ids("service=onboarding-api&maxDuration=10ms"), [REJECTED]);
    const start = Number(T0 / 1000n) + 400_000;
    assert.deepEqual(await ids(`start=${start}`), [REJECTED]);
    assert.deepEqual(await ids(`end=${start}`), [BATCH, REQUEST]);
    assert.deepEqual(await ids(`traceID=${REQUEST}&traceID=${"9".repeat(32)}`), [REQUEST]);
    const { body } = await get(`/api/traces?service=onboarding-api&operation=send%20onboarding`);
    assert.deepEqual(Object.keys(body).sort(), ["data", "errors", "limit", "offset", "total"]);
    assert.deepEqual(body.data[0], toJaegerTrace(store.get(REQUEST)!), "search returns whole traces");

    const bad = await get("/api/traces?minDuration=fast");
    assert.equal(bad.status, 400);
    assert.equal(bad.body.data, null);
    assert.equal(bad.body.errors[0].code, 400);
    assert.match(bad.body.errors[0].msg, /minDuration/);
    assert.equal((await get("/api/traces?tag=nocolon")).status, 400);
    assert.equal((await get("/api/traces?tags=[1]")).status, 400);
    assert.equal((await get("/api/traces?minDuration=2s&maxDuration=1s")).status, 400);
  });

  it("keeps the UI's own JSON under /api/local: errors only, batch hidden by default, trace durations, links both ways", async () => {
    const ids = async (query: string) =>
      ((await get(`/api/local/traces?${query}`)).body.traces as any[]).map((t) => t.traceId);
    assert.deepEqual(await ids(""), [REJECTED, REQUEST], "batch traces hidden by default");
    assert.deepEqual(await ids("batch=1"), [REJECTED, BATCH, REQUEST]);
    assert.deepEqual(await ids("errors=1"), [REJECTED, REQUEST], "status ERROR or HTTP ≥ 400");
    assert.deepEqual(await ids("minDuration=100ms"), [REQUEST], "whole-trace duration (107 ms)");
    assert.deepEqual(await ids(`traceID=${BATCH}`), [BATCH], "a trace id finds even a batch trace");
    const list = (await get("/api/local/traces")).body;
    assert.equal(list.retained.spans, 5);
    const row = list.traces[1];
    assert.equal(row.errorSpans, 1);
    assert.equal(row.rootName, "POST /onboard");

    const { body } = await get(`/api/local/traces/${REQUEST}`);
    assert.equal(body.durationMs, 107);
    const process = body.spans.find((s: any) => s.name === "process onboarding");
    assert.equal(process.offsetMs, 100);
    assert.equal(process.error, true);
    assert.deepEqual(process.events[0].offsetMs, 120);
    assert.deepEqual(process.links[0], {
      traceId: BATCH,
      spanId: "d".repeat(16),
      attributes: {},
      service: "onboarding-lambda",
      name: "receive onboarding",
      kind: "CONSUMER",
    });
    assert.deepEqual(body.linkedFrom, [
      {
        traceId: BATCH,
        spanId: "d".repeat(16),
        service: "onboarding-lambda",
        name: "receive onboarding",
        kind: "CONSUMER",
        toSpanId: consumer.spanId,
      },
    ]);
    const download = await fetch(`${view.url}/api/local/traces/${REQUEST}/otlp.json`);
    assert.match(download.headers.get("content-disposition")!, /attachment; filename="trace-0af7.*\.otlp\.json"/);
    const otlp = (await download.json()) as any;
    assert.equal(otlp.resourceSpans.length, 2);
    assert.equal(otlp.resourceSpans[0].scopeSpans[0].spans[0].traceId, REQUEST);
    assert.equal((await get(`/api/local/traces/${"9".repeat(32)}`)).status, 404);
    assert.equal((await get("/no/such/route")).status, 404);
    const post = await fetch(`${view.url}/api/services`, { method: "POST" });
    assert.equal(post.status, 405);
  });

  it("serves the UI at /, /search and /trace/<id>", async () => {
    for (const path of ["/", "/search?service=x", `/trace/${REQUEST}`]) {
      const response = await fetch(`${view.url}${path}`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type")!, /text\/html/);
      assert.match(await response.text(), /<script src="\/ui\/app\.js">/);
    }
    assert.match(await (await fetch(`${view.url}/ui/app.js`)).text(), /renderWaterfall/);
  });

  it("parses Go durations and Jaeger's parameters", () => {
    assert.equal(parseGoDuration("1.5s"), 1_500_000);
    assert.equal(parseGoDuration("250ms"), 250_000);
    assert.equal(parseGoDuration("1m30s"), 90_000_000);
    assert.equal(parseGoDuration("300us"), 300);
    assert.throws(() => parseGoDuration("10"), /cannot parse "10"/);
    assert.throws(() => parseGoDuration("1.5 s"), /cannot parse/);
    const query = parseTraceQuery(new URLSearchParams("tag=a:b:c&tags=%7B%22x%22%3A%221%22%7D&limit=7&start=5&end=9"));
    assert.deepEqual(query, { limit: 7, tags: { a: "b:c", x: "1" }, startUs: 5, endUs: 9 });
    assert.deepEqual(parseTraceQuery(new URLSearchParams("")), { limit: 100 });
    assert.throws(() => parseTraceQuery(new URLSearchParams("limit=x")), /limit/);
    assert.throws(() => parseTraceQuery(new URLSearchParams("start=yesterday")), /start/);
    assert.deepEqual(toKeyValue("n", 2 ** 53 + 2), { key: "n", type: "int64", value: 2 ** 53 + 2 });
    assert.equal(searchTraces(store, { limit: 100 }).length, 2);
  });

  it("returns undefined for paths that are not Jaeger's", () => {
    assert.equal(handleJaegerApi(store, "/api/dependencies", new URLSearchParams()), undefined);
  });
});
