/**
 * The Lambda's small OTLP/gRPC exporter (node:http2 + otlp-transformer's ProtobufTraceSerializer) against the real
 * gRPC receiver, which decodes with the generated protobufjs code: every field we rely on must survive the round trip
 * exactly.
 */
import assert from "node:assert/strict";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from "@opentelemetry/api";
import { ExportResultCode, TraceState, type ExportResult } from "@opentelemetry/core";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { startOtlpReceiver, type OtlpReceiver } from "../../local/otlp-receiver";
import { Http2OtlpTraceExporter, grpcOrigin } from "../../telemetry/otlp-http2-exporter";
import { createTracerProvider } from "../../telemetry/provider";
import { createServiceResource } from "../../telemetry/resource";
import { closedPort } from "../runtime/helpers";

function exportOnce(exporter: Http2OtlpTraceExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

/** Every attribute value type the exporter must encode (and the receiver decode back to the same value). */
const SENT_ATTRIBUTES = {
  str: "ü-text",
  int: 42,
  negative: -7,
  big: 2 ** 40,
  double: 1.5,
  bool: false,
  strings: ["a", "b"],
  numbers: [1, 2.5],
};

function makeSpans(): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = createTracerProvider({
    resource: createServiceResource({ defaultServiceName: "svc-x", cloudPlatform: "aws_lambda", env: {} }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
  });
  const tracer = provider.getTracer("scope-a", "1.0.0");
  const parent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: "0af7651916cd43dd8448eb211c80319c",
    spanId: "b7ad6b7169203331",
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState("a=b"),
  });
  const span = tracer.startSpan(
    "process q",
    {
      kind: SpanKind.CONSUMER,
      startTime: [1_700_000_000, 123_456_789],
      attributes: SENT_ATTRIBUTES,
      links: [
        {
          context: { traceId: "1".repeat(32), spanId: "2".repeat(16), traceFlags: TraceFlags.SAMPLED },
          attributes: { "link.kind": "batch" },
        },
      ],
    },
    parent,
  );
  span.setStatus({ code: SpanStatusCode.ERROR, message: "bad record" });
  span.end([1_700_000_001, 5]);
  tracer.startSpan("root", { kind: SpanKind.INTERNAL }, ROOT_CONTEXT).end();
  return memory.getFinishedSpans();
}

describe("telemetry: Lambda OTLP/gRPC exporter (node:http2)", () => {
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver({ requiredBearerToken: "k" });
  });
  after(async () => {
    await receiver.close();
  });

  it("round-trips spans, attributes of every type, links, status and timestamps exactly", async () => {
    const exporter = new Http2OtlpTraceExporter(
      { url: receiver.endpoint, headers: { authorization: "Bearer k", "x-extra": "1" }, source: "otel-env" },
      { timeoutMillis: 2000 },
    );
    const result = await exportOnce(exporter, makeSpans());
    assert.equal(result.code, ExportResultCode.SUCCESS, String(result.error));
    await exporter.shutdown();
    assert.equal(receiver.requests.length, 1);
    assert.equal(receiver.requests[0].metadata.authorization, "Bearer k");
    assert.equal(receiver.requests[0].metadata["x-extra"], "1");
    const [span, root] = receiver.spans;
    assert.deepEqual(
      {
        traceId: span.traceId,
        parentSpanId: span.parentSpanId,
        name: span.name,
        kind: span.kind,
        serviceName: span.serviceName,
        status: span.status,
        start: span.startTimeUnixNano,
        end: span.endTimeUnixNano,
        attributes: span.attributes,
        links: span.links,
      },
      {
        traceId: "0af7651916cd43dd8448eb211c80319c",
        parentSpanId: "b7ad6b7169203331",
        name: "process q",
        kind: "CONSUMER",
        serviceName: "svc-x",
        status: { code: "ERROR", message: "bad record" },
        start: "1700000000123456789",
        end: "1700000001000000005",
        attributes: SENT_ATTRIBUTES,
        links: [{ traceId: "1".repeat(32), spanId: "2".repeat(16), attributes: { "link.kind": "batch" } }],
      },
    );
    assert.equal(span.resource["cloud.platform"], "aws_lambda");
    assert.equal(root.parentSpanId, undefined);
    assert.equal(root.kind, "INTERNAL");
    assert.equal(root.status.code, "UNSET");
  });

  it("reports gRPC errors (UNAUTHENTICATED) as FAILED and keeps spans of a refused connection, never throws", async () => {
    const wrongKey = new Http2OtlpTraceExporter(
      { url: receiver.endpoint, headers: { authorization: "Bearer nope" }, source: "otel-env" },
      { timeoutMillis: 2000 },
    );
    const rejected = await exportOnce(wrongKey, makeSpans());
    assert.equal(rejected.code, ExportResultCode.FAILED);
    assert.match(String(rejected.error?.message), /gRPC status 16/);
    await wrongKey.shutdown();

    // A refused connection is retried inside the deadline, then the spans wait in the breaker's buffer.
    const refused = new Http2OtlpTraceExporter(
      { url: `http://127.0.0.1:${await closedPort()}`, headers: {}, source: "otel-env" },
      { timeoutMillis: 300 },
    );
    const kept = await exportOnce(refused, makeSpans());
    assert.equal(kept.code, ExportResultCode.SUCCESS);
    assert.deepEqual(refused.stats(), { state: "open", buffered: 2, dropped: 0, probes: 0 });
    await refused.shutdown();
  });

  it("endpoint scheme decides TLS; no scheme means https", () => {
    assert.equal(grpcOrigin("http://127.0.0.1:4317"), "http://127.0.0.1:4317");
    assert.equal(grpcOrigin("ingress.eu2.coralogix.com:443"), "https://ingress.eu2.coralogix.com");
    assert.equal(grpcOrigin("https://ingress.us2.coralogix.com:443/"), "https://ingress.us2.coralogix.com");
    assert.throws(() => grpcOrigin("unix:///tmp/otel.sock"), /Unsupported OTLP\/gRPC endpoint scheme "unix:"/);
  });
});
