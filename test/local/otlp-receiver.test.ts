import assert from "node:assert/strict";
import { context, SpanKind, SpanStatusCode, trace, type Attributes } from "@opentelemetry/api";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { startOtlpReceiver, type OtlpReceiver } from "../../local/otlp-receiver";

const SERVER_ATTRIBUTES: Attributes = {
  "http.response.status_code": 202,
  ok: true,
  ratio: 0.5,
  tags: ["a", "b"],
  // Zero values: on the wire they are set oneof members, not absent fields, and must come back as given.
  empty: "",
  off: false,
  zero: 0,
};

/** Builds real SDK spans (one parent/child pair + a link) so the exporter sends real OTLP bytes. */
function makeSpans(): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": "receiver-test", "deployment.environment.name": "test" }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
  });
  const tracer = provider.getTracer("test");
  const linked = tracer.startSpan("linked");
  linked.end();
  const parent = tracer.startSpan("POST /onboard", {
    kind: SpanKind.SERVER,
    attributes: SERVER_ATTRIBUTES,
  });
  const child = tracer.startSpan(
    "send onboarding",
    {
      kind: SpanKind.PRODUCER,
      attributes: { "messaging.system": "aws_sqs" },
      links: [{ context: linked.spanContext(), attributes: { "link.kind": "test" } }],
    },
    trace.setSpan(context.active(), parent),
  );
  child.setStatus({ code: SpanStatusCode.ERROR, message: "boom" });
  child.end();
  parent.end();
  return memory.getFinishedSpans();
}

function exportWith(exporter: OTLPTraceExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

/** Constructs an exporter the way production does: configuration from OTEL_* environment variables only. */
function exporterFromEnv(env: Record<string, string>): OTLPTraceExporter {
  const saved: Record<string, string | undefined> = {};
  for (const key of Object.keys(env)) {
    saved[key] = process.env[key];
    process.env[key] = env[key];
  }
  try {
    return new OTLPTraceExporter();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

describe("local OTLP/gRPC receiver", () => {
  let receiver: OtlpReceiver | undefined;
  const exporters: OTLPTraceExporter[] = [];

  afterEach(async () => {
    await Promise.all(exporters.splice(0).map((exporter) => exporter.shutdown()));
    await receiver?.close();
    receiver = undefined;
  });

  it("decodes spans exported by the real OTLP/gRPC exporter, with their metadata", async () => {
    receiver = await startOtlpReceiver({ requiredBearerToken: "s3cret" });
    assert.match(receiver.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    const notified: string[] = [];
    receiver.onSpans((spans) => notified.push(...spans.map((span) => span.name)));
    const exporter = exporterFromEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20s3cret,x-tenant=acme",
    });
    exporters.push(exporter);
    const sdkSpans = makeSpans();

    const result = await exportWith(exporter, sdkSpans);

    assert.equal(result.code, ExportResultCode.SUCCESS, String(result.error));
    assert.equal(receiver.requests.length, 1);
    assert.equal(receiver.requests[0]!.spanCount, 3);
    assert.equal(receiver.requests[0]!.metadata["authorization"], "Bearer s3cret");
    assert.equal(receiver.requests[0]!.metadata["x-tenant"], "acme");
    assert.deepEqual(notified, ["linked", "send onboarding", "POST /onboard"]);

    const byName = new Map(receiver.spans.map((span) => [span.name, span]));
    const server = byName.get("POST /onboard")!;
    const producer = byName.get("send onboarding")!;
    const linked = byName.get("linked")!;
    const sdkServer = sdkSpans.find((span) => span.name === "POST /onboard")!;
    assert.equal(server.traceId, sdkServer.spanContext().traceId);
    assert.equal(server.spanId, sdkServer.spanContext().spanId);
    assert.match(server.traceId, /^[0-9a-f]{32}$/);
    assert.match(server.spanId, /^[0-9a-f]{16}$/);
    assert.equal(server.parentSpanId, undefined);
    assert.equal(server.kind, "SERVER");
    assert.equal(server.serviceName, "receiver-test");
    assert.equal(server.resource["deployment.environment.name"], "test");
    assert.deepEqual(server.attributes, SERVER_ATTRIBUTES);
    assert.deepEqual(server.status, { code: "UNSET" });
    assert.match(server.startTimeUnixNano, /^\d{19}$/);
    assert.ok(BigInt(server.endTimeUnixNano) >= BigInt(server.startTimeUnixNano));

    assert.equal(producer.kind, "PRODUCER");
    assert.equal(producer.traceId, server.traceId);
    assert.equal(producer.parentSpanId, server.spanId);
    assert.deepEqual(producer.status, { code: "ERROR", message: "boom" });
    assert.deepEqual(producer.links, [
      { traceId: linked.traceId, spanId: linked.spanId, attributes: { "link.kind": "test" } },
    ]);
    assert.equal(linked.kind, "INTERNAL");
  });

  it("answers UNAUTHENTICATED when the bearer token is missing or wrong, and keeps nothing", async () => {
    receiver = await startOtlpReceiver({ requiredBearerToken: "s3cret" });
    const missing = exporterFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_HEADERS: "" });
    const wrong = exporterFromEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20nope",
    });
    exporters.push(missing, wrong);

    for (const exporter of [missing, wrong]) {
      const result = await exportWith(exporter, makeSpans());
      assert.equal(result.code, ExportResultCode.FAILED);
      assert.equal((result.error as { code?: number } | undefined)?.code, 16 /* grpc UNAUTHENTICATED */);
      assert.match(String(result.error), /UNAUTHENTICATED/);
    }
    assert.equal(receiver.spans.length, 0);
    assert.equal(receiver.requests.length, 0);
  });

  it("accepts gzip-compressed exports (OTEL_EXPORTER_OTLP_COMPRESSION=gzip)", async () => {
    receiver = await startOtlpReceiver();
    const exporter = exporterFromEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_COMPRESSION: "gzip",
    });
    exporters.push(exporter);
    const result = await exportWith(exporter, makeSpans());
    assert.equal(result.code, ExportResultCode.SUCCESS, String(result.error));
    assert.equal(receiver.spans.length, 3);
  });

  it("keeps only the latest `keep` spans and requests in memory; listeners still see every span", async () => {
    receiver = await startOtlpReceiver({ keep: 4 });
    let notified = 0;
    receiver.onSpans((spans) => (notified += spans.length));
    const exporter = new OTLPTraceExporter({ url: receiver.endpoint });
    exporters.push(exporter);
    const batches = [makeSpans(), makeSpans(), makeSpans()];
    for (const spans of batches) {
      assert.equal((await exportWith(exporter, spans)).code, ExportResultCode.SUCCESS);
    }
    assert.equal(notified, 9);
    assert.equal(receiver.spans.length, 4);
    assert.equal(receiver.requests.length, 3);
    const last = batches[2]!.map((span) => span.spanContext().spanId);
    assert.deepEqual(
      receiver.spans.slice(1).map((span) => span.spanId),
      last,
      "the newest spans are kept, in order",
    );
  });

  it("accepts exports without metadata when no token is required", async () => {
    receiver = await startOtlpReceiver();
    const exporter = new OTLPTraceExporter({ url: receiver.endpoint });
    exporters.push(exporter);
    const result = await exportWith(exporter, makeSpans());
    assert.equal(result.code, ExportResultCode.SUCCESS, String(result.error));
    assert.equal(receiver.spans.length, 3);
  });
});
