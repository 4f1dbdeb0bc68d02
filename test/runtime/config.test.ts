import assert from "node:assert/strict";
import { resolveExporterSettings, parseOtlpHeaders } from "../../telemetry/exporter";
import { SHORT_LIVED_BATCH_DEFAULTS, flushWithin, resolveBatchSettings } from "../../telemetry/provider";
import { createJsonLogger } from "../../telemetry/logger";
import { ROOT_CONTEXT, trace, TraceFlags } from "@opentelemetry/api";
import { readServerConfig } from "../../app/src/config";

describe("runtime: telemetry configuration", () => {
  it("exporter: Coralogix domain + key → ingress endpoint with Bearer key", () => {
    assert.deepEqual(resolveExporterSettings({ env: { CORALOGIX_DOMAIN: "eu2" }, coralogixApiKey: "k1" }), {
      protocol: "grpc",
      url: "https://ingress.eu2.coralogix.com:443",
      headers: { authorization: "Bearer k1" },
      source: "coralogix",
    });
  });

  it("exporter: allowCoralogix false (the API) ignores CORALOGIX_DOMAIN and uses the sidecar default", () => {
    assert.deepEqual(resolveExporterSettings({ env: { CORALOGIX_DOMAIN: "eu2" }, allowCoralogix: false }), {
      protocol: "grpc",
      url: "http://localhost:4317",
      headers: {},
      source: "default",
    });
  });

  it("exporter: standard OTEL_EXPORTER_OTLP_* win over Coralogix settings", () => {
    const env = {
      CORALOGIX_DOMAIN: "us2",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4317",
      OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20from-env,x-team=a",
    };
    assert.deepEqual(resolveExporterSettings({ env, coralogixApiKey: "secret-key" }), {
      protocol: "grpc",
      url: "http://127.0.0.1:4317",
      headers: { authorization: "Bearer from-env", "x-team": "a" },
      source: "otel-env",
    });
    // Signal-specific variables win over the generic ones.
    const specific = resolveExporterSettings({
      env: {
        ...env,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces:4317",
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-team=b",
      },
    });
    assert.equal(specific.url, "http://traces:4317");
    assert.equal(specific.headers["x-team"], "b");
  });

  it("exporter: endpoint without secret → no key; nothing configured → sidecar default", () => {
    assert.deepEqual(resolveExporterSettings({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4317" } }), {
      protocol: "grpc",
      url: "http://c:4317",
      headers: {},
      source: "otel-env",
    });
    assert.deepEqual(resolveExporterSettings({ env: {} }), {
      protocol: "grpc",
      url: "http://localhost:4317",
      headers: {},
      source: "default",
    });
  });

  it("exporter: an unknown Coralogix domain fails with the list of valid values", () => {
    assert.throws(
      () => resolveExporterSettings({ env: { CORALOGIX_DOMAIN: "mars1" } }),
      /Unknown Coralogix domain "mars1"\. Use a region \(us1, us2, us3, eu1, eu2, ap1, ap2, ap3, gov1\)/,
    );
  });

  it("parses OTLP header syntax", () => {
    assert.deepEqual(parseOtlpHeaders(" Authorization = Bearer abc , bad, =x,k=a%3Db "), {
      authorization: "Bearer abc",
      k: "a=b",
    });
  });

  it("batch settings: short-lived defaults, OTEL_BSP_* override", () => {
    assert.deepEqual(resolveBatchSettings(SHORT_LIVED_BATCH_DEFAULTS, {}), SHORT_LIVED_BATCH_DEFAULTS);
    assert.deepEqual(
      resolveBatchSettings(SHORT_LIVED_BATCH_DEFAULTS, {
        OTEL_BSP_SCHEDULE_DELAY: "50",
        OTEL_BSP_EXPORT_TIMEOUT: "300",
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "64",
        OTEL_BSP_MAX_QUEUE_SIZE: "abc",
      }),
      {
        scheduledDelayMillis: 50,
        exportTimeoutMillis: 300,
        maxExportBatchSize: 64,
        maxQueueSize: SHORT_LIVED_BATCH_DEFAULTS.maxQueueSize,
      },
    );
  });

  it("flushWithin resolves at its deadline when forceFlush hangs, and reports errors without throwing", async () => {
    const started = Date.now();
    assert.equal(await flushWithin({ forceFlush: () => new Promise<void>(() => undefined) }, 100), "timeout");
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 90 && elapsed < 1000, `elapsed ${elapsed} ms`);
    assert.equal(await flushWithin({ forceFlush: () => Promise.reject(new Error("x")) }, 100), "error");
    assert.equal(
      await flushWithin(
        {
          forceFlush: () => {
            throw new Error("sync");
          },
        },
        100,
      ),
      "error",
    );
    assert.equal(await flushWithin({ forceFlush: () => Promise.resolve() }, 100), "flushed");
    assert.equal(await flushWithin({ forceFlush: () => Promise.resolve() }, 0), "timeout");
  });

  it("JSON logger: one line per event with trace_id/span_id of the given context; respects the level", () => {
    const lines: string[] = [];
    const logger = createJsonLogger({ service: "svc", level: "info", write: (l) => lines.push(l) });
    const ctx = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
      traceFlags: TraceFlags.SAMPLED,
    });
    logger.info("thing.happened", { n: 1, error: new TypeError("boom"), level: "overridden?" }, ctx);
    logger.debug("hidden");
    logger.warn("no.trace");
    assert.equal(lines.length, 2);
    assert.ok(lines.every((l) => l.endsWith("\n") && l.indexOf("\n") === l.length - 1));
    const first = JSON.parse(lines[0]) as Record<string, unknown>;
    assert.equal(first.level, "info");
    assert.equal(first.service, "svc");
    assert.equal(first.event, "thing.happened");
    assert.equal(first.trace_id, "0af7651916cd43dd8448eb211c80319c");
    assert.equal(first.span_id, "b7ad6b7169203331");
    assert.equal(first.trace_flags, "01");
    assert.equal(first.n, 1);
    const error = first.error as Record<string, unknown>;
    assert.deepEqual([error.type, error.message], ["TypeError", "boom"]);
    assert.match(String(error.stack), /^TypeError: boom\n\s+at /);
    const second = JSON.parse(lines[1]) as Record<string, unknown>;
    assert.equal(second.trace_id, undefined);
  });

  it("JSON logger: an error keeps its stack and its cause chain (bounded), an unsampled context says 00", () => {
    const lines: string[] = [];
    const logger = createJsonLogger({ service: "svc", write: (l) => lines.push(l) });
    const root = new Error("socket hang up");
    const error = new Error("send failed", { cause: new Error("retry exhausted", { cause: root }) });
    const ctx = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
      traceFlags: TraceFlags.NONE,
    });
    logger.error("publish.failed", { error }, ctx);
    const line = JSON.parse(lines[0]!) as { trace_flags: string; error: any };
    assert.equal(line.trace_flags, "00");
    assert.equal(line.error.message, "send failed");
    assert.equal(line.error.cause.message, "retry exhausted");
    assert.equal(line.error.cause.cause.message, "socket hang up");
    assert.match(line.error.cause.cause.stack, /socket hang up/);
    const cyclic = new Error("a");
    (cyclic as { cause?: unknown }).cause = cyclic;
    logger.error("cyclic", { error: cyclic });
    assert.ok(lines[1]!.length < 10_000, "a cause cycle is cut");
  });

  it("API config: QUEUE_URL required, PORT validated, every problem reported", () => {
    assert.throws(
      () => readServerConfig({ PORT: "99999" }),
      /QUEUE_URL is required, e\.g\. .*; PORT must be an integer between 0 and 65535, got "99999"/,
    );
    assert.deepEqual(readServerConfig({ QUEUE_URL: "http://q/1/onboarding" }), {
      queueUrl: "http://q/1/onboarding",
      port: 8000,
      host: "0.0.0.0",
      serviceName: "onboarding-api",
      http: { requestTimeoutMillis: 30_000, headersTimeoutMillis: 10_000, keepAliveTimeoutMillis: 65_000 },
      incomingTraceContext: "new-trace-with-link",
    });
  });

  it("API config: HTTP timeouts and INCOMING_TRACE_CONTEXT from the environment, validated together", () => {
    const base = { QUEUE_URL: "http://q/1/onboarding" };
    // Default keep-alive outlives the ALB's default 60 s idle timeout; headers never outlive the request.
    const defaults = readServerConfig(base).http;
    assert.ok(defaults.keepAliveTimeoutMillis > 60_000);
    assert.ok(defaults.headersTimeoutMillis <= defaults.requestTimeoutMillis);
    assert.deepEqual(
      readServerConfig({
        ...base,
        HTTP_REQUEST_TIMEOUT_MS: "1000",
        HTTP_KEEP_ALIVE_TIMEOUT_MS: "125000",
        INCOMING_TRACE_CONTEXT: "honour",
      }),
      {
        ...readServerConfig(base),
        http: { requestTimeoutMillis: 1000, headersTimeoutMillis: 1000, keepAliveTimeoutMillis: 125_000 },
        incomingTraceContext: "honour",
      },
    );
    assert.throws(
      () =>
        readServerConfig({
          ...base,
          HTTP_REQUEST_TIMEOUT_MS: "5000",
          HTTP_HEADERS_TIMEOUT_MS: "6000",
          HTTP_KEEP_ALIVE_TIMEOUT_MS: "soon",
          INCOMING_TRACE_CONTEXT: "trust-me",
        }),
      new RegExp(
        [
          "HTTP_HEADERS_TIMEOUT_MS \\(6000\\) must not exceed HTTP_REQUEST_TIMEOUT_MS \\(5000\\)",
          'HTTP_KEEP_ALIVE_TIMEOUT_MS must be a positive integer number of milliseconds, got "soon"',
          'INCOMING_TRACE_CONTEXT must be one of new-trace-with-link, honour-always-sample, honour, got "trust-me"',
        ].join("; "),
      ),
    );
  });
});
