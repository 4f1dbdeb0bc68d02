/**
 * A small OTLP/gRPC trace exporter on Node's built-in `http2` (unary gRPC is one HTTP/2 POST with a 5-byte
 * length prefix and a `grpc-status` trailer). Used by the Lambda instead of `@opentelemetry/exporter-trace-otlp-grpc`
 * because `@grpc/grpc-js` alone is ~270 KB of bundle and ~25–35 ms of cold init (measured; see the report). The
 * request body is encoded by `@opentelemetry/otlp-transformer`'s `ProtobufTraceSerializer` (the same serializer the
 * official OTLP exporters use; no protobufjs), which esbuild tree-shakes down to the trace serializer.
 *
 * Supports what the Lambda needs: `http://` (h2c) and `https://` (TLS, system CAs) endpoints, metadata headers
 * (e.g. `authorization: Bearer <key>`), a per-export deadline. One HTTP/2 session is reused across invocations and
 * only keeps the process alive while an export is in flight. It never throws: failures go to the export callback.
 */
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from "node:http2";
import { diag } from "@opentelemetry/api";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";
import type { ExporterSettings } from "./exporter";

export const TRACE_EXPORT_PATH = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/** `http://h:4317` → itself; `h:4317` (no scheme) → `https://h:4317` (the OTLP spec's default is secure). */
export function grpcOrigin(url: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `https://${url}`;
  const parsed = new URL(withScheme);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new Error(`Unsupported OTLP/gRPC endpoint scheme "${parsed.protocol}" (use http:// or https://)`);
  }
  return parsed.origin;
}

export interface Http2ExporterOptions {
  /** Deadline of one Export call. */
  readonly timeoutMillis: number;
}

export class Http2OtlpTraceExporter implements SpanExporter {
  private readonly origin: string;
  private readonly headers: Record<string, string>;
  private session: ClientHttp2Session | undefined;
  private inFlight = 0;
  private readonly pending = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    settings: ExporterSettings,
    private readonly options: Http2ExporterOptions,
  ) {
    this.origin = grpcOrigin(settings.url);
    this.headers = { ...settings.headers };
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.stopped) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error("exporter is shut down") });
      return;
    }
    let payload: Uint8Array;
    try {
      const encoded = ProtobufTraceSerializer.serializeRequest(spans);
      if (!encoded) throw new Error("OTLP trace serializer returned no payload");
      payload = encoded;
    } catch (error) {
      resultCallback({ code: ExportResultCode.FAILED, error: error as Error });
      return;
    }
    const call = this.call(payload).then(
      () => resultCallback({ code: ExportResultCode.SUCCESS }),
      (error: Error) => {
        diag.error(`OTLP export of ${spans.length} span(s) to ${this.origin} failed: ${error.message}`);
        resultCallback({ code: ExportResultCode.FAILED, error });
      },
    );
    this.pending.add(call);
    void call.finally(() => this.pending.delete(call));
  }

  /**
   * Opens the HTTP/2 session ahead of the first export (Lambda: during init, so the first invocation doesn't pay
   * the TCP/TLS handshake). Never keeps the process alive and never throws.
   */
  preconnect(): void {
    if (this.stopped) return;
    try {
      const session = this.getSession();
      if (this.inFlight === 0) session.unref();
    } catch (error) {
      diag.debug(`OTLP preconnect failed: ${(error as Error).message}`);
    }
  }

  async forceFlush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    await this.forceFlush();
    this.session?.close();
    this.session = undefined;
  }

  private getSession(): ClientHttp2Session {
    const current = this.session;
    if (current && !current.closed && !current.destroyed) return current;
    const session = connect(this.origin);
    session.on("error", (error) => diag.debug(`OTLP HTTP/2 session error: ${error.message}`));
    session.on("close", () => {
      if (this.session === session) this.session = undefined;
    });
    session.on("goaway", () => {
      if (this.session === session) this.session = undefined;
    });
    this.session = session;
    return session;
  }

  private call(payload: Uint8Array): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let session: ClientHttp2Session;
      try {
        session = this.getSession();
      } catch (error) {
        reject(error as Error);
        return;
      }
      // Keep the process alive only while an export is in flight (a frozen/ending Lambda must not be held open).
      if (this.inFlight++ === 0) session.ref();
      let settled = false;
      const finish = (error?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (--this.inFlight === 0 && !session.destroyed) session.unref();
        if (error) reject(error);
        else resolve();
      };
      const frame = Buffer.allocUnsafe(5 + payload.length);
      frame[0] = 0; // not compressed
      frame.writeUInt32BE(payload.length, 1);
      frame.set(payload, 5);
      const request = session.request({
        ":method": "POST",
        ":path": TRACE_EXPORT_PATH,
        "content-type": "application/grpc+proto",
        te: "trailers",
        "grpc-timeout": `${Math.max(1, Math.ceil(this.options.timeoutMillis))}m`,
        ...this.headers,
      });
      const timer = setTimeout(() => {
        request.close(constants.NGHTTP2_CANCEL);
        // A connect that never completes would block every later export too: start over next time.
        if (!session.connecting || session.destroyed) return finish(new Error("OTLP export deadline exceeded"));
        session.destroy();
        finish(new Error("OTLP export deadline exceeded (connection not established)"));
      }, this.options.timeoutMillis);
      let grpcStatus: string | undefined;
      let grpcMessage: string | undefined;
      const readStatus = (headers: IncomingHttpHeaders): void => {
        if (headers["grpc-status"] !== undefined) grpcStatus = String(headers["grpc-status"]);
        if (headers["grpc-message"] !== undefined) grpcMessage = String(headers["grpc-message"]);
      };
      request.on("response", (headers) => {
        const status = headers[":status"];
        if (status !== 200) finish(new Error(`OTLP endpoint answered HTTP ${status}`));
        readStatus(headers); // trailers-only responses carry grpc-status here
      });
      request.on("trailers", readStatus);
      request.on("data", () => undefined);
      request.on("end", () => {
        if (grpcStatus === "0") finish();
        else {
          let message = grpcMessage ?? "";
          try {
            message = decodeURIComponent(message);
          } catch {
            // keep raw
          }
          finish(new Error(`gRPC status ${grpcStatus ?? "missing"}${message ? `: ${message}` : ""}`));
        }
      });
      request.on("error", (error) => finish(error));
      request.on("close", () => finish(new Error("OTLP export stream closed before a status was received")));
      request.end(frame);
    });
  }
}
