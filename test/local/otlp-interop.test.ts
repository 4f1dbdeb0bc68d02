/**
 * Interoperating with other OTLP tools: span events decoded by the gRPC receiver, OTLP/HTTP (protobuf and JSON, as
 * the SDK's own serializers write them), forwarding every export to another collector, and the trace view's
 * "download OTLP JSON" replayed into an OTLP/HTTP receiver.
 */
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import { JsonTraceSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { forwardReceiver, parseForwardEndpoint } from "../../local/otlp-forward";
import { otlpJsonToRequest, startOtlpHttpReceiver, type OtlpHttpReceiver } from "../../local/otlp-http";
import { toOtlpJson } from "../../local/otlp-json";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../../local/otlp-receiver";
import { waitFor } from "./helpers";

/** A SERVER span with a recorded exception and an event with attributes, and its PRODUCER child. */
function makeSpans(): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": "interop-test", "service.version": "1.2.3" }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
  });
  const tracer = provider.getTracer("interop-scope", "0.0.7");
  const server = tracer.startSpan("POST /onboard", { kind: SpanKind.SERVER, attributes: { "http.route": "/onboard" } });
  server.addEvent("validated", { "onboarding.fields": 4, ok: true });
  server.recordException(new TypeError("queue unreachable"));
  server.setStatus({ code: SpanStatusCode.ERROR, message: "queue unreachable" });
  const child = tracer.startSpan(
    "send onboarding",
    { kind: SpanKind.PRODUCER, links: [{ context: server.spanContext(), attributes: { why: "test" } }] },
    trace.setSpan(context.active(), server),
  );
  child.end();
  server.end();
  return memory.getFinishedSpans();
}

function checkDecoded(spans: readonly ReceivedSpan[], sdkSpans: readonly ReadableSpan[]): void {
  const server = spans.find((s) => s.name === "POST /onboard");
  const producer = spans.find((s) => s.name === "send onboarding");
  assert.ok(server && producer, `spans: ${spans.map((s) => s.name).join(", ")}`);
  const sdkServer = sdkSpans.find((s) => s.name === "POST /onboard")!;
  assert.equal(server.traceId, sdkServer.spanContext().traceId);
  assert.equal(server.spanId, sdkServer.spanContext().spanId);
  assert.equal(producer.parentSpanId, server.spanId);
  assert.equal(server.kind, "SERVER");
  assert.deepEqual(server.status, { code: "ERROR", message: "queue unreachable" });
  assert.deepEqual(server.scope, { name: "interop-scope", version: "0.0.7" });
  assert.equal(server.resource["service.version"], "1.2.3");
  assert.deepEqual(
    server.events?.map((e) => e.name),
    ["validated", "exception"],
  );
  assert.deepEqual(server.events![0]!.attributes, { "onboarding.fields": 4, ok: true });
  const exception = server.events![1]!.attributes;
  assert.equal(exception["exception.type"], "TypeError");
  assert.equal(exception["exception.message"], "queue unreachable");
  assert.match(String(exception["exception.stacktrace"]), /TypeError: queue unreachable/);
  const [seconds, nanos] = sdkServer.events[1]!.time;
  assert.equal(server.events![1]!.timeUnixNano, String(BigInt(seconds) * 1_000_000_000n + BigInt(nanos)));
  assert.deepEqual(producer.links, [{ traceId: server.traceId, spanId: server.spanId, attributes: { why: "test" } }]);
  assert.deepEqual(producer.events, []);
}

describe("local OTLP interop", () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function receiverWithHttp(token?: string): Promise<{ receiver: OtlpReceiver; http: OtlpHttpReceiver }> {
    const receiver = await startOtlpReceiver(token ? { requiredBearerToken: token } : {});
    closers.push(() => receiver.close());
    const http = await startOtlpHttpReceiver({ receiver });
    closers.push(() => http.close());
    return { receiver, http };
  }

  it("decodes span events (recorded exceptions) and the scope from the real gRPC exporter", async () => {
    const receiver = await startOtlpReceiver();
    closers.push(() => receiver.close());
    const exporter = new OTLPTraceExporter({ url: receiver.endpoint });
    closers.push(() => exporter.shutdown());
    const sdkSpans = makeSpans();
    const result = await new Promise<ExportResult>((resolve) => exporter.export(sdkSpans, resolve));
    assert.equal(result.code, ExportResultCode.SUCCESS, String(result.error));
    checkDecoded(receiver.spans, sdkSpans);
  });

  it("accepts OTLP/HTTP protobuf (also gzip) and JSON as the SDK serializes them, into the same receiver", async () => {
    const { receiver, http } = await receiverWithHttp();
    const seen: string[] = [];
    receiver.onSpans((spans) => seen.push(...spans.map((s) => s.name)));
    const sdkSpans = makeSpans();

    const protobuf = ProtobufTraceSerializer.serializeRequest(sdkSpans)!;
    let response = await fetch(`${http.endpoint}/v1/traces`, {
      method: "POST",
      headers: { "content-type": "application/x-protobuf" },
      body: protobuf,
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/x-protobuf");
    checkDecoded(receiver.spans.splice(0), sdkSpans);

    response = await fetch(`${http.endpoint}/v1/traces`, {
      method: "POST",
      headers: { "content-type": "application/x-protobuf", "content-encoding": "gzip" },
      body: gzipSync(protobuf),
    });
    assert.equal(response.status, 200);
    checkDecoded(receiver.spans.splice(0), sdkSpans);

    const json = Buffer.from(JsonTraceSerializer.serializeRequest(sdkSpans)!).toString("utf8");
    assert.match(json, new RegExp(`"traceId":"${sdkSpans[0]!.spanContext().traceId}"`), "OTLP/JSON ids are hex");
    response = await fetch(`${http.endpoint}/v1/traces`, {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8" },
      body: json,
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {});
    checkDecoded(receiver.spans.splice(0), sdkSpans);
    assert.equal(receiver.requests.length, 3);
    assert.equal(seen.length, 6, "listeners hear OTLP/HTTP exports too");
  });

  it("answers OTLP/HTTP errors: 400 undecodable, 415 content type, 405 method, 404 path, 401 without the token", async () => {
    const { receiver, http } = await receiverWithHttp("s3cret");
    const post = (body: string, headers: Record<string, string>, path = "/v1/traces", method = "POST") =>
      fetch(`${http.endpoint}${path}`, { method, headers, ...(method === "POST" ? { body } : {}) });
    const auth = { authorization: "Bearer s3cret" };
    assert.equal((await post("{}", { "content-type": "application/json" })).status, 401);
    assert.equal((await post("{}", { "content-type": "application/json", authorization: "Bearer no" })).status, 401);
    const bad = await post('{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}', {
      ...auth,
      "content-type": "application/json",
    });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /traceId must be a hex string/);
    assert.equal((await post("not json", { ...auth, "content-type": "application/json" })).status, 400);
    assert.equal((await post("x", { ...auth, "content-type": "text/plain" })).status, 415);
    assert.equal((await post("", auth, "/v1/traces", "GET")).status, 405);
    assert.equal((await post("{}", { ...auth, "content-type": "application/json" }, "/v1/metrics")).status, 404);
    assert.equal((await post("{}", { ...auth, "content-type": "application/json" })).status, 200);
    assert.equal(receiver.spans.length, 0);
  });

  it("forwards every export (gRPC and OTLP/HTTP) unchanged to OTLP_FORWARD_ENDPOINT", async () => {
    const upstream = await startOtlpReceiver({ requiredBearerToken: "up" });
    closers.push(() => upstream.close());
    const { receiver, http } = await receiverWithHttp();
    const forwarder = forwardReceiver(receiver, {
      endpoint: upstream.endpoint,
      headers: { authorization: "Bearer up" },
    });
    closers.push(() => forwarder.close());
    const exporter = new OTLPTraceExporter({ url: receiver.endpoint });
    closers.push(() => exporter.shutdown());
    const sdkSpans = makeSpans();
    await new Promise<ExportResult>((resolve) => exporter.export(sdkSpans, resolve));
    await fetch(`${http.endpoint}/v1/traces`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: Buffer.from(JsonTraceSerializer.serializeRequest(sdkSpans)!),
    });
    await waitFor(() => upstream.spans.length === 4, 5000, "4 forwarded spans");
    checkDecoded(upstream.spans.slice(0, 2), sdkSpans);
    checkDecoded(upstream.spans.slice(2), sdkSpans);
    assert.deepEqual(upstream.spans.slice(0, 2), receiver.spans.slice(0, 2), "forwarded unchanged");
    assert.deepEqual(forwarder.stats, { sent: 2, ok: 2, failed: 0, dropped: 0 });
  });

  it("reports a forward failure once and keeps receiving", async () => {
    const { receiver } = await receiverWithHttp();
    const errors: string[] = [];
    const closed = await startOtlpReceiver(); // a port nothing listens on once closed
    await closed.close();
    const forwarder = forwardReceiver(receiver, {
      endpoint: closed.endpoint,
      timeoutMs: 2000,
      onError: (message) => errors.push(message),
    });
    closers.push(() => forwarder.close());
    const exporter = new OTLPTraceExporter({ url: receiver.endpoint });
    closers.push(() => exporter.shutdown());
    for (let i = 0; i < 2; i++) {
      const result = await new Promise<ExportResult>((resolve) => exporter.export(makeSpans(), resolve));
      assert.equal(result.code, ExportResultCode.SUCCESS, "the local export never fails because of the forward");
    }
    await waitFor(() => forwarder.stats.failed === 2, 10_000, "both forwards failed");
    assert.equal(errors.length, 1, errors.join("\n"));
    assert.match(errors[0]!, /forward to http:\/\/127\.0\.0\.1:\d+ failed: UNAVAILABLE/);
    assert.equal(receiver.spans.length, 4);
  });

  it("parses forward endpoints and refuses other schemes", () => {
    assert.deepEqual(parseForwardEndpoint("http://collector:4317"), { target: "collector:4317", secure: false });
    assert.deepEqual(parseForwardEndpoint("localhost:14317"), { target: "localhost:14317", secure: false });
    assert.deepEqual(parseForwardEndpoint("https://otel.example.com"), {
      target: "otel.example.com:443",
      secure: true,
    });
    assert.throws(() => parseForwardEndpoint("ftp://x:1"), /http:\/\/ or https:\/\//);
  });

  it("round-trips stored spans through the OTLP/JSON download into an OTLP/HTTP receiver", async () => {
    const receiver = await startOtlpReceiver();
    closers.push(() => receiver.close());
    const exporter = new OTLPTraceExporter({ url: receiver.endpoint });
    closers.push(() => exporter.shutdown());
    await new Promise<ExportResult>((resolve) => exporter.export(makeSpans(), resolve));
    const original = receiver.spans.slice();
    const json = JSON.parse(JSON.stringify(toOtlpJson(original))) as Record<string, unknown>;

    const { receiver: replay, http } = await receiverWithHttp();
    const response = await fetch(`${http.endpoint}/v1/traces`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(json),
    });
    assert.equal(response.status, 200);
    assert.deepEqual(replay.spans, original);
    assert.deepEqual(otlpJsonToRequest({}), otlpJsonToRequest({ resourceSpans: [] }));
  });
});
