/**
 * A small OTLP/gRPC trace exporter on Node's built-in `http2` (unary gRPC is one HTTP/2 POST with a 5-byte
 * length prefix and a `grpc-status` trailer). Used by the Lambda instead of `@opentelemetry/exporter-trace-otlp-grpc`
 * because `@grpc/grpc-js` alone is ~270 KB of bundle and ~25–35 ms of cold init (measured; see the report). The
 * request body is encoded by `@opentelemetry/otlp-transformer`'s `ProtobufTraceSerializer` (the same serializer the
 * official OTLP exporters use; no protobufjs), which esbuild tree-shakes down to the trace serializer.
 *
 * Supports what the Lambda needs: `http://` (h2c) and `https://` (TLS, system CAs) endpoints, metadata headers
 * (e.g. `authorization: Bearer <key>`), a per-export deadline, gzip (`OTEL_EXPORTER_OTLP_(TRACES_)COMPRESSION`).
 * It survives a real network:
 * - retryable outcomes are retried inside the deadline (export-retry.ts);
 * - the HTTP/2 session is dropped and re-opened after a deadline, a GOAWAY or a socket error, and a session idle for
 *   `pingAfterIdleMillis` (a thawed Lambda's: NATs and load balancers forget idle flows) is checked with a PING
 *   before it carries an export;
 * - after a failed export, a circuit breaker keeps spans in a bounded buffer and gives later exports only a short
 *   probe budget (export-breaker.ts);
 * - `partial_success` in the response is logged (rate-limited).
 * One HTTP/2 session is reused across invocations and only keeps the process alive while an export is in flight.
 * It never throws: failures go to the export callback.
 */
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from "node:http2";
import { diag } from "@opentelemetry/api";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";
import { DEFAULT_BREAKER_OPTIONS, ExportBreaker, type ExportBreakerOptions, type SendResult } from "./export-breaker";
import { ThrottledLog } from "./export-log";
import {
  DEFAULT_RETRY_POLICY,
  grpcStatusOutcome,
  httpStatusOutcome,
  networkErrorOutcome,
  withRetries,
  type AttemptOutcome,
  type RetryPolicy,
} from "./export-retry";
import { frameGrpcMessage, retryDelayFromStatusDetails, unframeGrpcMessage, type GrpcCompression } from "./export-wire";
import { envOneOf } from "./env";
import { quickStringBytes, spanBytesUpperBound } from "./span-size";
import type { ExporterSettings } from "./exporter";

export const TRACE_EXPORT_PATH = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/**
 * What the official exporters send (`OTel-OTLP-Exporter-JavaScript/<version>`, otlp-grpc-exporter-base
 * grpc-exporter-transport.ts), with the version of the otlp-transformer that encodes our requests (a test keeps it
 * equal to the installed one) and a product comment naming this transport.
 */
export const USER_AGENT = "OTel-OTLP-Exporter-JavaScript/0.301.2 (traced-onboarding node:http2)";

/** Response bodies are tiny (an ExportTraceServiceResponse); a server sending more is not read past this. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** `http://h:4317` → itself; `h:4317` (no scheme) → `https://h:4317` (the OTLP spec's default is secure). */
export function grpcOrigin(url: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `https://${url}`;
  const parsed = new URL(withScheme);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new Error(`Unsupported OTLP/gRPC endpoint scheme "${parsed.protocol}" (use http:// or https://)`);
  }
  return parsed.origin;
}

const GRPC_COMPRESSIONS: readonly GrpcCompression[] = ["gzip", "none"];

/** `OTEL_EXPORTER_OTLP_TRACES_COMPRESSION`, else `OTEL_EXPORTER_OTLP_COMPRESSION`: `gzip` or `none` (the default). */
export function resolveCompression(env: NodeJS.ProcessEnv): GrpcCompression {
  for (const name of ["OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION"]) {
    const compression = envOneOf(env, name, GRPC_COMPRESSIONS, {
      ignoreCase: true,
      hint: " by the Lambda's OTLP exporter (use gzip or none)",
    });
    if (compression) return compression;
  }
  return "none";
}

export interface Http2ExporterOptions {
  /** Deadline of one Export call, retries included. */
  readonly timeoutMillis: number;
  /** Default: from the environment ({@link resolveCompression}). */
  readonly compression?: GrpcCompression;
  readonly env?: NodeJS.ProcessEnv;
  /** A session idle this long is checked with a PING before use. Default 5000. */
  readonly pingAfterIdleMillis?: number;
  /** How long that PING may take before the session is replaced. Default 200. */
  readonly pingTimeoutMillis?: number;
  readonly retryPolicy?: RetryPolicy;
  readonly breaker?: Partial<Omit<ExportBreakerOptions, "target" | "now" | "readyToProbe" | "itemBytes">>;
}

interface SessionEntry {
  readonly session: ClientHttp2Session;
  readonly createdAt: number;
  lastActiveAt: number;
  inFlight: number;
  /** The server's first SETTINGS frame arrived: something that speaks HTTP/2 is listening. */
  handshaken: boolean;
}

const now = (): number => performance.now();

export class Http2OtlpTraceExporter implements SpanExporter {
  private readonly origin: string;
  private readonly headers: Record<string, string>;
  private readonly compression: GrpcCompression;
  private readonly pingAfterIdleMillis: number;
  private readonly pingTimeoutMillis: number;
  private readonly retryPolicy: RetryPolicy;
  private readonly probeBudgetMillis: number;
  private readonly breaker: ExportBreaker<ReadableSpan>;
  private readonly partialSuccessLog = new ThrottledLog("warn", 60_000);
  private current: SessionEntry | undefined;
  private readonly pending = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    settings: ExporterSettings,
    private readonly options: Http2ExporterOptions,
  ) {
    if (!(options.timeoutMillis > 0))
      throw new Error(`OTLP export timeout must be > 0 ms, got ${options.timeoutMillis}`);
    this.origin = grpcOrigin(settings.url);
    this.headers = { ...settings.headers };
    this.compression = options.compression ?? resolveCompression(options.env ?? process.env);
    this.pingAfterIdleMillis = options.pingAfterIdleMillis ?? 5000;
    this.pingTimeoutMillis = options.pingTimeoutMillis ?? 200;
    this.retryPolicy = options.retryPolicy ?? DEFAULT_RETRY_POLICY;
    this.probeBudgetMillis = options.breaker?.probeBudgetMillis ?? DEFAULT_BREAKER_OPTIONS.probeBudgetMillis;
    this.breaker = new ExportBreaker({
      ...DEFAULT_BREAKER_OPTIONS,
      ...options.breaker,
      target: this.origin,
      now,
      // The size-bounded exporter's cheap bound (every character 3 bytes, no string measured): see maxBufferedBytes.
      itemBytes: (span) => spanBytesUpperBound(span, quickStringBytes),
      readyToProbe: (until) => this.handshakeReady(until),
    });
  }

  /** Breaker state, buffered and dropped span counts (tests, bench). */
  stats(): ReturnType<ExportBreaker<ReadableSpan>["stats"]> {
    return this.breaker.stats();
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.stopped) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error("exporter is shut down") });
      return;
    }
    const call = this.breaker
      .export(spans, this.options.timeoutMillis, (batch, deadline) => this.send(batch, deadline))
      .then(({ kept, error }) =>
        resultCallback(kept ? { code: ExportResultCode.SUCCESS } : { code: ExportResultCode.FAILED, error }),
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
      const entry = this.current ?? this.openSession();
      if (entry.inFlight === 0) entry.session.unref();
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
    const { buffered } = this.breaker.stats();
    if (buffered > 0) diag.warn(`OTLP exporter shut down with ${buffered} undelivered span(s) to ${this.origin}`);
    this.current?.session.close();
    this.current = undefined;
  }

  /** One batch, retried inside `deadline`; never rejects. */
  private async send(spans: ReadableSpan[], deadline: number): Promise<SendResult> {
    let frame: Buffer;
    try {
      const payload = ProtobufTraceSerializer.serializeRequest(spans);
      if (!payload) throw new Error("OTLP trace serializer returned no payload");
      frame = frameGrpcMessage(payload, this.compression);
    } catch (error) {
      return { delivered: false, retryable: false, error: error as Error };
    }
    const { outcome, attempts } = await withRetries((d) => this.attempt(frame, d), deadline, this.retryPolicy);
    if (outcome.ok) {
      this.reportPartialSuccess(outcome.response, spans.length);
      return { delivered: true };
    }
    const error = new Error(`${outcome.error.message} (${attempts} attempt${attempts === 1 ? "" : "s"})`);
    diag.debug(`OTLP export of ${spans.length} span(s) to ${this.origin} failed: ${error.message}`);
    return { delivered: false, retryable: outcome.retryable, error };
  }

  private reportPartialSuccess(response: Uint8Array | undefined, sent: number): void {
    if (!response || response.length === 0) return;
    try {
      const partial = ProtobufTraceSerializer.deserializeResponse(response).partialSuccess;
      const rejected = Number(partial?.rejectedSpans ?? 0);
      if (rejected > 0 || partial?.errorMessage) {
        this.partialSuccessLog.log(
          `OTLP backend ${this.origin} rejected ${rejected} of ${sent} span(s)` +
            (partial?.errorMessage ? `: ${partial.errorMessage}` : ""),
        );
      }
    } catch (error) {
      diag.debug(`OTLP export response not decodable: ${(error as Error).message}`);
    }
  }

  private openSession(): SessionEntry {
    const session = connect(this.origin);
    const entry: SessionEntry = { session, createdAt: now(), lastActiveAt: now(), inFlight: 0, handshaken: false };
    session.once("remoteSettings", () => (entry.handshaken = true));
    const forget = (): void => {
      if (this.current === entry) this.current = undefined;
    };
    session.on("error", (error) => {
      diag.debug(`OTLP HTTP/2 session error: ${error.message}`);
      forget();
    });
    session.on("close", forget);
    // Streams the server already accepted still finish on this session; new ones go to a new one.
    session.on("goaway", forget);
    this.current = entry;
    return entry;
  }

  /**
   * For the open breaker: whether a session has completed its HTTP/2 handshake, or does so by `until`. If there is
   * none (or it has been connecting longer than the timeout) a new one starts connecting, unref'd. Only a session
   * younger than the probe budget is waited for: a black hole that accepts TCP but never speaks HTTP/2 costs one
   * budget per export timeout, not one per invocation, and a backend that comes back is noticed as soon as it
   * answers.
   */
  private async handshakeReady(until: number): Promise<boolean> {
    let entry = this.current;
    if (entry && (entry.session.closed || entry.session.destroyed)) entry = undefined;
    if (entry && !entry.handshaken && now() - entry.createdAt > this.options.timeoutMillis) {
      this.dropSession(entry);
      entry = undefined;
    }
    if (!entry) {
      try {
        entry = this.openSession();
        if (entry.inFlight === 0) entry.session.unref();
      } catch (error) {
        diag.debug(`OTLP reconnect failed: ${(error as Error).message}`);
        return false;
      }
    }
    if (entry.handshaken) return true;
    const wait = until - now();
    if (wait <= 0 || now() - entry.createdAt > this.probeBudgetMillis) return false;
    const { session } = entry;
    return new Promise<boolean>((resolve) => {
      const done = (ready: boolean): void => {
        clearTimeout(timer);
        session.off("remoteSettings", onSettings);
        session.off("close", onClose);
        resolve(ready);
      };
      const onSettings = (): void => done(true);
      const onClose = (): void => done(false);
      const timer = setTimeout(() => done(false), wait);
      session.once("remoteSettings", onSettings);
      session.once("close", onClose);
    });
  }

  /** No new export goes to this session; `graceful`: the streams on it may still finish. */
  private dropSession(entry: SessionEntry, graceful = false): void {
    if (this.current === entry) this.current = undefined;
    if (entry.session.destroyed) return;
    if (graceful) entry.session.close();
    else entry.session.destroy();
  }

  /** The session to use now: the current one unless closed, stuck connecting, or idle and not answering a PING. */
  private async usableSession(deadline: number): Promise<SessionEntry> {
    const entry = this.current;
    if (entry && !entry.session.closed && !entry.session.destroyed) {
      const age = now() - entry.createdAt;
      // A connect that never completes would hold every later export; the full timeout is its allowance.
      if (entry.session.connecting && age > this.options.timeoutMillis) this.dropSession(entry);
      else if (entry.session.connecting || now() - entry.lastActiveAt < this.pingAfterIdleMillis) return entry;
      else if (await this.answersPing(entry, Math.min(this.pingTimeoutMillis, (deadline - now()) / 2))) return entry;
      else {
        diag.debug(`OTLP HTTP/2 session to ${this.origin} idle and not answering a PING: reconnecting`);
        this.dropSession(entry);
      }
    }
    return this.openSession();
  }

  private answersPing(entry: SessionEntry, timeoutMillis: number): Promise<boolean> {
    return new Promise((resolve) => {
      this.hold(entry);
      let settled = false;
      const settle = (alive: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.release(entry);
        if (alive) entry.lastActiveAt = now();
        resolve(alive);
      };
      const timer = setTimeout(() => settle(false), Math.max(1, timeoutMillis));
      try {
        if (!entry.session.ping((error) => settle(!error))) settle(false);
      } catch {
        settle(false);
      }
    });
  }

  /** Keep the process alive only while an export is in flight (a frozen/ending Lambda must not be held open). */
  private hold(entry: SessionEntry): void {
    if (entry.inFlight++ === 0) entry.session.ref();
  }

  private release(entry: SessionEntry): void {
    if (--entry.inFlight === 0 && !entry.session.destroyed) entry.session.unref();
  }

  /** One Export call on a (possibly new) session; settles by `deadline`. */
  private async attempt(frame: Buffer, deadline: number): Promise<AttemptOutcome> {
    let entry: SessionEntry;
    try {
      entry = await this.usableSession(deadline);
    } catch (error) {
      return networkErrorOutcome(error as Error);
    }
    const remaining = Math.max(1, Math.ceil(deadline - now()));
    return new Promise<AttemptOutcome>((resolve) => {
      const { session } = entry;
      this.hold(entry);
      let settled = false;
      /**
       * After a retryable failure the retry goes to a new session (a new connection may also reach another backend):
       * one that answered (UNAVAILABLE, a proxy's 503) is closed gracefully, so other exports on it finish; one that
       * failed below gRPC (reset, refused stream, deadline) is destroyed. `keep`: a young session still connecting.
       */
      const finish = (outcome: AttemptOutcome, fate: "keep" | "close" | "destroy" = "destroy"): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.release(entry);
        if (!outcome.ok && outcome.retryable && outcome.retryAfterMillis === undefined && fate !== "keep") {
          this.dropSession(entry, fate === "close");
        }
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        request?.close(constants.NGHTTP2_CANCEL);
        // An established session that let a deadline pass may be silently dropping packets: never reuse it. A young
        // session still connecting keeps connecting, so a short probe budget cannot stop a slow handshake forever.
        const connecting = session.connecting && now() - entry.createdAt <= this.options.timeoutMillis;
        const error = new Error(`OTLP export deadline exceeded${connecting ? " (connection not established)" : ""}`);
        finish({ ok: false, retryable: true, error }, connecting ? "keep" : "destroy");
      }, remaining);
      let request: ReturnType<ClientHttp2Session["request"]> | undefined;
      try {
        request = session.request({
          ":method": "POST",
          ":path": TRACE_EXPORT_PATH,
          "content-type": "application/grpc+proto",
          te: "trailers",
          "user-agent": USER_AGENT,
          "grpc-timeout": `${remaining}m`,
          ...(this.compression === "gzip" ? { "grpc-encoding": "gzip" } : {}),
          ...this.headers,
        });
      } catch (error) {
        // request() throws at once on a session that is closing (GOAWAY) or destroyed.
        finish(networkErrorOutcome(error as Error));
        return;
      }
      let httpStatus: number | undefined;
      let grpcStatus: number | undefined;
      let grpcMessage = "";
      let statusDetails: string | undefined;
      let encoding: string | undefined;
      const body: Buffer[] = [];
      let bodyBytes = 0;
      const readStatus = (headers: IncomingHttpHeaders): void => {
        if (headers["grpc-status"] !== undefined) grpcStatus = Number(headers["grpc-status"]);
        if (headers["grpc-message"] !== undefined) grpcMessage = percentDecoded(String(headers["grpc-message"]));
        if (headers["grpc-status-details-bin"] !== undefined)
          statusDetails = String(headers["grpc-status-details-bin"]);
      };
      request.on("response", (headers) => {
        httpStatus = Number(headers[":status"]);
        encoding = headers["grpc-encoding"] === undefined ? undefined : String(headers["grpc-encoding"]);
        readStatus(headers); // trailers-only responses carry grpc-status here
      });
      request.on("trailers", readStatus);
      request.on("data", (chunk: Buffer) => {
        if (bodyBytes >= MAX_RESPONSE_BYTES) return;
        body.push(chunk);
        bodyBytes += chunk.length;
      });
      request.on("end", () => {
        entry.lastActiveAt = now();
        // gRPC over HTTP/2: a grpc-status wins; without one, the HTTP status decides (http-grpc-status-mapping.md).
        if (grpcStatus === undefined) {
          if (httpStatus !== 200) return finish(httpStatusOutcome(httpStatus ?? 0), "close");
          return finish({ ok: false, retryable: false, error: new Error("gRPC response without grpc-status") });
        }
        if (grpcStatus !== 0) {
          const delay = retryDelayFromStatusDetails(statusDetails);
          return finish(grpcStatusOutcome(grpcStatus, grpcMessage, delay), "close");
        }
        let response: Uint8Array | undefined;
        try {
          response = unframeGrpcMessage(Buffer.concat(body), encoding);
        } catch (error) {
          diag.debug(`OTLP export response not readable: ${(error as Error).message}`);
        }
        finish({ ok: true, response });
      });
      request.on("error", (error) => finish(networkErrorOutcome(error)));
      request.on("close", () => finish(closedStreamOutcome(request?.rstCode, session)));
      request.end(frame);
    });
  }
}

function percentDecoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * A stream that closed without a status: RST_STREAM codes map as in grpc-js (REFUSED_STREAM → UNAVAILABLE and never
 * processed, CANCEL → CANCELLED, ENHANCE_YOUR_CALM → RESOURCE_EXHAUSTED without RetryInfo, the rest → INTERNAL); a
 * stream lost with its session is UNAVAILABLE.
 */
function closedStreamOutcome(rstCode: number | undefined, session: ClientHttp2Session): AttemptOutcome {
  const error = new Error(`OTLP export stream closed before a status was received (RST_STREAM code ${rstCode ?? "-"})`);
  if (rstCode === constants.NGHTTP2_REFUSED_STREAM) return { ok: false, error, retryable: true, refused: true };
  if (rstCode === constants.NGHTTP2_CANCEL) return { ok: false, error, retryable: true };
  if (rstCode === constants.NGHTTP2_ENHANCE_YOUR_CALM) return { ok: false, error, retryable: false };
  if (session.destroyed || session.closed || !rstCode) return { ok: false, error, retryable: true };
  return { ok: false, error, retryable: false };
}
