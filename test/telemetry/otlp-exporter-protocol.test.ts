/**
 * The node:http2 exporter's side of the OTLP/gRPC contract, against a real scripted HTTP/2 server: no retry of
 * permanent codes, RESOURCE_EXHAUSTED only with RetryInfo, partial_success reported (rate-limited), the user-agent,
 * gzip, and the wire helpers they rely on.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { DiagLogLevel, diag, type DiagLogger } from "@opentelemetry/api";
import { ExportResultCode } from "@opentelemetry/core";
import { readProtoFields, retryDelayFromStatusDetails } from "../../telemetry/export-wire";
import { Http2OtlpTraceExporter, USER_AGENT, resolveCompression } from "../../telemetry/otlp-http2-exporter";
import { createExporter, makeSpans } from "./exporters";
import {
  partialSuccessResponse,
  retryInfoDetails,
  startFaultServer,
  type Answer,
  type FaultServer,
} from "./fault-servers";

const REPO_ROOT = path.resolve(__dirname, "../..");

describe("telemetry: Lambda exporter protocol (retry codes, partial_success, user-agent, gzip)", () => {
  let server: FaultServer | undefined;
  let warnings: string[];
  beforeEach(() => {
    warnings = [];
    const logger: DiagLogger = {
      error: (m) => warnings.push(m),
      warn: (m) => warnings.push(m),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    };
    diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  });
  afterEach(async () => {
    diag.disable();
    await server?.close();
    server = undefined;
  });

  async function exportTo(answer: (call: number) => Answer, options = {}, exports = 1) {
    server = await startFaultServer({ answer: ({ call }) => answer(call) });
    const exporter = createExporter("http2", server.endpoint, 2000, options);
    const results = [];
    for (let i = 0; i < exports; i++) results.push((await exporter.export(makeSpans(5))).result);
    await exporter.shutdown();
    return { results, calls: server.calls(), accepted: server.spansAccepted() };
  }

  it("does not retry RESOURCE_EXHAUSTED without RetryInfo, nor UNAUTHENTICATED: the batch fails at once", async () => {
    for (const code of [8, 16]) {
      const { results, calls } = await exportTo(() => ({ kind: "grpc-status", code, message: "no" }));
      assert.equal(results[0].code, ExportResultCode.FAILED);
      assert.match(String(results[0].error?.message), new RegExp(`gRPC status ${code}: no \\(1 attempt\\)`));
      assert.equal(calls.length, 1, `code ${code} was retried`);
      await server?.close();
      server = undefined;
    }
  });

  it("retries RESOURCE_EXHAUSTED that carries RetryInfo, after the server's delay", async () => {
    const { results, calls, accepted } = await exportTo((call) =>
      call === 0 ? { kind: "grpc-status", code: 8, detailsBin: retryInfoDetails(100) } : { kind: "ok" },
    );
    assert.equal(results[0].code, ExportResultCode.SUCCESS);
    assert.equal(calls.length, 2);
    assert.equal(accepted, 5);
  });

  it("after an UNAVAILABLE answer retries on a new session but lets other exports on the old one finish", async () => {
    server = await startFaultServer({
      answer: ({ call }) =>
        call === 0 ? { kind: "ok", delayMillis: 200 } : call === 1 ? { kind: "grpc-status", code: 14 } : { kind: "ok" },
    });
    const exporter = createExporter("http2", server.endpoint, 2000);
    const results = await Promise.all([exporter.export(makeSpans(5, "a")), exporter.export(makeSpans(5, "b"))]);
    await exporter.shutdown();
    assert.deepEqual(
      results.map((r) => r.result.code),
      [ExportResultCode.SUCCESS, ExportResultCode.SUCCESS],
    );
    // Destroying the session would have cancelled the slow call 0 and resent it (a 4th call).
    assert.deepEqual(
      server.calls().map((c) => c.session),
      [0, 0, 1],
    );
    assert.equal(server.spansAccepted(), 10);
  });

  it("logs partial_success (rejected spans and the server's message), once per interval", async () => {
    const response = partialSuccessResponse(3, "spans too old");
    const { results } = await exportTo(() => ({ kind: "ok", responseMessage: response }), {}, 3);
    assert.deepEqual(
      results.map((r) => r.code),
      [ExportResultCode.SUCCESS, ExportResultCode.SUCCESS, ExportResultCode.SUCCESS],
    );
    const lines = warnings.filter((w) => w.includes("rejected"));
    assert.equal(lines.length, 1, warnings.join("\n"));
    assert.match(lines[0], /rejected 3 of 5 span\(s\): spans too old/);
  });

  it("sends the official exporters' user-agent with the installed otlp-transformer version", async () => {
    const { calls } = await exportTo(() => ({ kind: "ok" }));
    assert.equal(calls[0].headers["user-agent"], USER_AGENT);
    const installed = JSON.parse(
      readFileSync(path.join(REPO_ROOT, "node_modules/@opentelemetry/otlp-transformer/package.json"), "utf8"),
    ) as { version: string };
    assert.ok(USER_AGENT.startsWith(`OTel-OTLP-Exporter-JavaScript/${installed.version} `), USER_AGENT);
  });

  it("compresses with gzip when OTEL_EXPORTER_OTLP_(TRACES_)COMPRESSION says so", async () => {
    const env = { OTEL_EXPORTER_OTLP_COMPRESSION: "none", OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: "GZIP" };
    const { calls, accepted } = await exportTo(() => ({ kind: "ok" }), { env });
    assert.equal(calls[0].headers["grpc-encoding"], "gzip");
    assert.equal(accepted, 5); // the server gunzipped a message flagged compressed and decoded every span

    assert.equal(resolveCompression({}), "none");
    assert.equal(resolveCompression({ OTEL_EXPORTER_OTLP_COMPRESSION: "gzip" }), "gzip");
    assert.throws(
      () => resolveCompression({ OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: "br" }),
      /OTEL_EXPORTER_OTLP_TRACES_COMPRESSION="br" is not supported by the Lambda's OTLP exporter \(use gzip or none\)/,
    );
  });

  it("refuses a deadline that is not a positive number with a clear error", () => {
    const settings = { url: "http://127.0.0.1:4317", headers: {}, source: "otel-env" as const };
    for (const timeoutMillis of [0, -1, Number.NaN]) {
      assert.throws(
        () => new Http2OtlpTraceExporter(settings, { timeoutMillis, env: {} }),
        /OTLP export timeout must be > 0 ms, got/,
      );
    }
  });

  it("reads RetryInfo's delay from grpc-status-details-bin; anything unreadable counts as none", () => {
    assert.equal(retryDelayFromStatusDetails(retryInfoDetails(1500)), 1500);
    assert.equal(retryDelayFromStatusDetails(undefined), undefined);
    assert.equal(retryDelayFromStatusDetails(Buffer.from([0xff, 0xff]).toString("base64")), undefined);
    assert.throws(() => readProtoFields(Uint8Array.from([0x0a, 0x05, 0x01])), /length past the end/);
  });
});
