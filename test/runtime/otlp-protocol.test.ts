/**
 * `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL`: the resolver's choice of protocol and endpoint (pure), and http/protobuf
 * through the official exporter into the local OTLP/HTTP receiver — span events (recorded exceptions) included, as far
 * as the trace view.
 */
import assert from "node:assert/strict";
import { SpanKind } from "@opentelemetry/api";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type SpanExporter } from "@opentelemetry/sdk-trace";
import { startOtlpHttpReceiver, type OtlpHttpReceiver } from "../../local/otlp-http";
import { startOtlpReceiver, type OtlpReceiver } from "../../local/otlp-receiver";
import { TraceStore } from "../../local/trace-store";
import { startTraceView } from "../../local/trace-view";
import { resolveExporterSettings, resolveOtlpProtocol } from "../../telemetry/exporter";
import { createSpanExporter } from "../../telemetry/exporter-factory";
import { createTracerProvider, flushWithin } from "../../telemetry/provider";
import { createServiceResource } from "../../telemetry/resource";

const HTTP = { OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf" };
const noGrpc = (): SpanExporter => assert.fail("the gRPC exporter must not be created for http/protobuf");

describe("runtime: OTLP protocol", () => {
  describe("resolver", () => {
    it("grpc unless set; the traces-specific variable wins; values are case-insensitive", () => {
      assert.equal(resolveOtlpProtocol({}), "grpc");
      assert.equal(resolveOtlpProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: " HTTP/Protobuf " }), "http/protobuf");
      assert.equal(
        resolveOtlpProtocol({
          OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
          OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc",
        }),
        "grpc",
      );
    });

    it("an unsupported value fails naming the variable, the value and the valid ones", () => {
      assert.throws(
        () => resolveOtlpProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }),
        /^Error: OTEL_EXPORTER_OTLP_PROTOCOL="http\/json" is not supported; use one of: grpc, http\/protobuf$/,
      );
      assert.throws(
        () => resolveExporterSettings({ env: { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "udp" } }),
        /OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="udp" is not supported; use one of: grpc, http\/protobuf/,
      );
    });

    it("http/protobuf: a base endpoint gets /v1/traces (one slash), the traces endpoint is used as is", () => {
      for (const base of ["http://collector:4318", "http://collector:4318/"]) {
        const settings = resolveExporterSettings({ env: { ...HTTP, OTEL_EXPORTER_OTLP_ENDPOINT: base } });
        assert.deepEqual(settings, {
          protocol: "http/protobuf",
          url: "http://collector:4318/v1/traces",
          headers: {},
          source: "otel-env",
        });
      }
      const prefixed = resolveExporterSettings({ env: { ...HTTP, OTEL_EXPORTER_OTLP_ENDPOINT: "https://gw/otlp" } });
      assert.equal(prefixed.url, "https://gw/otlp/v1/traces");
      const exact = resolveExporterSettings({
        env: {
          ...HTTP,
          OTEL_EXPORTER_OTLP_ENDPOINT: "http://ignored",
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://c/x",
        },
      });
      assert.equal(exact.url, "http://c/x");
    });

    it("http/protobuf: Coralogix's ingress on 443 at /v1/traces with the key; else the local collector's 4318", () => {
      assert.deepEqual(resolveExporterSettings({ env: { ...HTTP, CORALOGIX_DOMAIN: "eu2" }, coralogixApiKey: "k" }), {
        protocol: "http/protobuf",
        url: "https://ingress.eu2.coralogix.com:443/v1/traces",
        headers: { authorization: "Bearer k" },
        source: "coralogix",
      });
      assert.deepEqual(resolveExporterSettings({ env: HTTP, allowCoralogix: false }), {
        protocol: "http/protobuf",
        url: "http://localhost:4318/v1/traces",
        headers: {},
        source: "default",
      });
    });

    it("grpc endpoints are left alone (no path)", () => {
      const settings = resolveExporterSettings({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4317" } });
      assert.equal(settings.url, "http://collector:4317");
      assert.equal(settings.protocol, "grpc");
    });

    it("the factory hands grpc settings to the caller's gRPC exporter", () => {
      const settings = resolveExporterSettings({ env: {} });
      const marker = { export: () => undefined, shutdown: async () => undefined } as unknown as SpanExporter;
      let given: unknown;
      const exporter = createSpanExporter(settings, {
        timeoutMillis: 1000,
        grpc: (s) => {
          given = s;
          return marker;
        },
      });
      assert.equal(exporter, marker);
      assert.equal(given, settings);
    });
  });

  describe("http/protobuf into the local OTLP/HTTP receiver (local/otlp-http.ts)", function () {
    let receiver: OtlpReceiver;
    let http: OtlpHttpReceiver;
    before(async () => {
      receiver = await startOtlpReceiver({ requiredBearerToken: "t0k3n" });
      http = await startOtlpHttpReceiver({ receiver });
    });
    after(async () => {
      await http?.close();
      await receiver?.close();
    });

    function providerFor(env: NodeJS.ProcessEnv) {
      const settings = resolveExporterSettings({
        env: { ...HTTP, OTEL_EXPORTER_OTLP_ENDPOINT: http.endpoint, ...env },
      });
      const exporter = createSpanExporter(settings, { timeoutMillis: 5000, grpc: noGrpc });
      const provider = createTracerProvider({
        resource: createServiceResource({ defaultServiceName: "proto-test", cloudPlatform: "aws_ecs", env: {} }),
        exporter,
      });
      return provider;
    }

    it("delivers spans with their headers, recorded exceptions included, and the trace view shows the event", async () => {
      const provider = providerFor({ OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20t0k3n" });
      const span = provider.getTracer("proto").startSpan("POST /onboard", { kind: SpanKind.SERVER });
      span.recordException(new RangeError("queue unreachable"));
      span.end();
      assert.equal(await flushWithin(provider, 5000), "flushed");
      await provider.shutdown();

      const received = receiver.spans.find((s) => s.spanId === span.spanContext().spanId);
      assert.ok(received, "the span reached the receiver");
      assert.equal(received.serviceName, "proto-test");
      assert.equal(received.events?.[0]?.name, "exception");
      assert.equal(received.events?.[0]?.attributes["exception.type"], "RangeError");
      assert.equal(receiver.requests.at(-1)?.metadata.authorization, "Bearer t0k3n");

      const store = new TraceStore({ quietMs: 10, settleMs: 50 });
      store.add([received]);
      const view = await startTraceView({ store, port: 0 });
      try {
        const res = await fetch(`${view.url}/api/local/traces/${received.traceId}`);
        assert.equal(res.status, 200);
        const body = (await res.json()) as {
          spans: { events: { name: string; attributes: Record<string, unknown> }[] }[];
        };
        assert.equal(body.spans[0]?.events[0]?.name, "exception");
        assert.equal(body.spans[0]?.events[0]?.attributes["exception.message"], "queue unreachable");
      } finally {
        await view.close();
      }
    });

    it("a rejected export (401 without the token) is reported as a failure, not as success", async () => {
      const settings = resolveExporterSettings({ env: { ...HTTP, OTEL_EXPORTER_OTLP_ENDPOINT: http.endpoint } });
      const exporter = createSpanExporter(settings, { timeoutMillis: 5000, grpc: noGrpc });
      const memory = new InMemorySpanExporter();
      const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: memory })] });
      provider.getTracer("proto").startSpan("unauthorised").end();
      const before = receiver.spans.length;
      const result = await new Promise<ExportResult>((resolve) => exporter.export(memory.getFinishedSpans(), resolve));
      assert.equal(result.code, ExportResultCode.FAILED);
      assert.match(String(result.error), /Unauthorized/);
      assert.equal(receiver.spans.length, before);
      await exporter.shutdown();
    });
  });
});
