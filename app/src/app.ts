/**
 * The Koa app, built by a factory so tests can inject an in-memory tracer, a fake or real publisher and a
 * capturing logger. Instrumentation is hand-written: one middleware creates the SERVER span (HTTP semconv), the
 * publisher creates the PRODUCER span. Contexts are passed explicitly (no AsyncLocalStorage on the hot path).
 * Routes are one @koa/router table; its allowedMethods() gives known paths 405 + Allow for other methods.
 */
import { randomUUID } from "node:crypto";
import { METHODS, type IncomingMessage } from "node:http";
import Router from "@koa/router";
import Koa from "koa";
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type Tracer,
} from "@opentelemetry/api";
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from "@opentelemetry/semantic-conventions";
import { ATTR_HTTP_REQUEST_BODY_SIZE } from "@opentelemetry/semantic-conventions/incubating";
import type { Logger } from "../../telemetry/logger";
import { DEFAULT_INCOMING_TRACE_CONTEXT, serverSpanParent, type IncomingTraceContext } from "./incoming-context";
import {
  MAX_BODY_BYTES,
  buildOnboardingMessage,
  validateOnboardRequest,
  type FieldError,
} from "../../contract/onboarding";
import {
  IDEMPOTENCY_HEADER,
  canonicalBodyHash,
  readIdempotencyKey,
  type AcceptedResponse,
  type IdempotencyStore,
} from "./idempotency";
import { PublishError, type Publisher } from "./publisher";
import { REQUEST_ID_PATTERN, type StatusReader } from "./status";

export interface AppDeps {
  readonly publisher: Publisher;
  /** Reads a request's status for `GET /onboard/{request_id}` (the onboarding table); without it every id is 404. */
  readonly statusReader?: StatusReader;
  /** Records `Idempotency-Key`s (the onboarding table); without it the header is validated but not honoured (tests). */
  readonly idempotency?: IdempotencyStore;
  readonly tracer: Tracer;
  readonly logger: Logger;
  /** Request body limit in bytes (default {@link MAX_BODY_BYTES} = 16 KiB). */
  readonly maxBodyBytes?: number;
  /** Trust in a client's `traceparent` (default `new-trace-with-link`; see app/src/incoming-context.ts). */
  readonly incomingTraceContext?: IncomingTraceContext;
  /** Clock and id source, injectable for tests. */
  readonly now?: () => Date;
  readonly newRequestId?: () => string;
}

/** Per-request state shared between middlewares. */
export interface OnboardState {
  otelContext: Context;
  span?: Span;
  /** Set for every traced request, and for any error answer; echoed as `x-request-id` and in error bodies. */
  requestId?: string;
  /** How the client ended the request, when no answer could be given (see {@link ClientGone}). */
  clientGone?: ClientGone;
}

/** Span attribute marking a request the client abandoned (no status code was sent; not a server error). */
export const ATTR_CLIENT_ABORTED = "onboarding.client_aborted";

const ROUTE_ONBOARD = "/onboard";
const ROUTE_STATUS = "/onboard/:request_id";
const UNTRACED_PATHS = new Set(["/healthz", "/readyz"]);
const INVALID_TRACE_ID = "00000000000000000000000000000000";

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    /** Response headers that come with the answer (e.g. `Retry-After`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.message ?? body.error));
  }
}

/**
 * The client went away, broke HTTP framing or was too slow while its body was being read: `aborted` (it closed or
 * reset the connection mid-body: no answer), `malformed` (Node's parser refused the bytes, answered a bare 400 and
 * closed) or `timed_out` (the body outlived the server's requestTimeout: Node answered 408 and closed).
 */
const CLIENT_GONE_STATUS = { aborted: undefined, malformed: 400, timed_out: 408 } as const;
class ClientGone extends Error {
  constructor(
    readonly kind: keyof typeof CLIENT_GONE_STATUS,
    readonly code: string,
    readonly bytesReceived: number,
  ) {
    super(`client ${kind} the request (${code})`);
  }
}

function traceIdOf(otelContext: Context): string {
  return trace.getSpanContext(otelContext)?.traceId ?? INVALID_TRACE_ID;
}

function badRequest(error: string, message: string, fields: FieldError[]): HttpError {
  return new HttpError(400, { error, message, fields });
}

/** Errors that mean the peer closed or reset the connection (Node's `aborted`, resets, writes after close). */
const CLIENT_GONE_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "ERR_STREAM_PREMATURE_CLOSE"]);
const REQUEST_TIMEOUT = "ERR_HTTP_REQUEST_TIMEOUT";

/**
 * A request stream error → {@link ClientGone}; other errors pass through unchanged. Node reports every early end of
 * the body to the request as ECONNRESET `aborted`; the socket's own error says why: none, a reset, or
 * HPE_INVALID_EOF_STATE (the peer closed mid-body) is an abort; another HPE_* code is broken framing, which Node has
 * already answered with a bare 400 before closing; ERR_HTTP_REQUEST_TIMEOUT is a body slower than requestTimeout (408).
 */
function classifyBodyError(req: IncomingMessage, error: Error, bytesReceived: number): Error {
  const code = (error as NodeJS.ErrnoException).code ?? "";
  if (!CLIENT_GONE_CODES.has(code)) return error;
  const cause = (req.socket as { errored?: NodeJS.ErrnoException | null } | null)?.errored?.code ?? code;
  if (cause === REQUEST_TIMEOUT) return new ClientGone("timed_out", cause, bytesReceived);
  if (cause.startsWith("HPE_") && cause !== "HPE_INVALID_EOF_STATE")
    return new ClientGone("malformed", cause, bytesReceived);
  return new ClientGone("aborted", cause, bytesReceived);
}

/**
 * Reads the raw body up to `limit` bytes; over the limit → 413 `body_too_large` naming `body`, and the rest is NOT
 * read: the request is paused and the error middleware answers with `Connection: close`, so Node closes the socket
 * after the answer. A client that disconnects, breaks the framing or times out mid-body rejects with {@link ClientGone}.
 * Hand-written rather than @koa/bodyparser 6 (co-body), which would change answers this API gives (pinned in
 * test/runtime/routes.test.ts): an empty body parses as {} (validation_failed, not empty_body); a JSON scalar is
 * invalid_json in its strict mode, while its non-strict mode passes an empty body on as ""; a `__proto__` key is a
 * parse error instead of a named unknown field; gzip/deflate bodies are inflated (here: 415, not decoded).
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(limit));
  if (req.destroyed) return Promise.reject(new ClientGone("aborted", "ECONNRESET", 0));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | undefined, body?: Buffer): void => {
      if (done) return;
      done = true;
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      if (err) {
        req.pause(); // read no more: the connection is closed after the answer
        req.on("error", ignore); // a late reset must not become an unhandled 'error'
        reject(err);
      } else resolve(body as Buffer);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) finish(tooLarge(limit));
      else chunks.push(chunk);
    };
    const onEnd = (): void => finish(undefined, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    const onError = (err: Error): void => finish(classifyBodyError(req, err, size));
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}

const ignore = (): void => undefined;

function tooLarge(limit: number): HttpError {
  return new HttpError(413, {
    error: "body_too_large",
    message: `Request body exceeds ${limit} bytes`,
    fields: [{ field: "body", message: `must be at most ${limit} bytes` }],
  });
}

function unsupportedMedia(error: string, field: string, message: string): HttpError {
  return new HttpError(415, { error, message, fields: [{ field, message }] });
}

/** `application/json` with no charset or UTF-8; anything else is refused before the body is read. */
function checkContentHeaders(req: IncomingMessage): void {
  const header = req.headers["content-type"] ?? "";
  const semicolon = header.indexOf(";");
  const type = (semicolon < 0 ? header : header.slice(0, semicolon)).trim().toLowerCase();
  if (type !== "application/json") {
    throw badRequest("unsupported_content_type", "Content-Type must be application/json", [
      { field: "content-type", message: "must be application/json" },
    ]);
  }
  const encoding = req.headers["content-encoding"]?.trim().toLowerCase();
  if (encoding && encoding !== "identity") {
    throw unsupportedMedia(
      "unsupported_content_encoding",
      "content-encoding",
      `${encoding} is not supported: send the body uncompressed (no Content-Encoding, or identity)`,
    );
  }
  if (semicolon >= 0) {
    const charset = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(header)?.[1].toLowerCase();
    if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
      throw unsupportedMedia(
        "unsupported_charset",
        "content-type",
        `charset ${charset || "(empty)"} is not supported: send UTF-8 (charset=utf-8, or no charset)`,
      );
    }
  }
}

/** True when the request announces no body at all (no Content-Length or Transfer-Encoding, or a length of 0). */
function hasNoBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return length === undefined ? req.headers["transfer-encoding"] === undefined : Number(length) === 0;
}

const emptyBody = (): HttpError =>
  badRequest("empty_body", "Request body is empty: send the JSON object", [{ field: "body", message: "required" }]);

type AppContext = Koa.ParameterizedContext<OnboardState>;

export function createApp(deps: AppDeps): Koa<OnboardState> {
  const { publisher, tracer, logger } = deps;
  const maxBodyBytes = deps.maxBodyBytes ?? MAX_BODY_BYTES;
  const incomingTraceContext = deps.incomingTraceContext ?? DEFAULT_INCOMING_TRACE_CONTEXT;
  const now = deps.now ?? (() => new Date());
  const newRequestId = deps.newRequestId ?? randomUUID;

  const app = new Koa<OnboardState>();
  app.proxy = true;

  /** SERVER span per request (health probes are not traced: they would drown the traces). */
  const tracing: Koa.Middleware<OnboardState> = async (ctx, next) => {
    const path = ctx.path;
    if (UNTRACED_PATHS.has(path)) {
      ctx.state.otelContext = ROOT_CONTEXT;
      return next();
    }
    const method = ctx.method;
    const route = routeOf(path, method);
    const { parent, links } = serverSpanParent(ctx.headers, incomingTraceContext);
    const span = tracer.startSpan(
      route ? `${method} ${route}` : method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: method,
          [ATTR_URL_PATH]: path,
          [ATTR_URL_SCHEME]: ctx.protocol,
          [ATTR_USER_AGENT_ORIGINAL]: ctx.headers["user-agent"],
          [ATTR_NETWORK_PEER_ADDRESS]: ctx.req.socket?.remoteAddress,
          ...(route ? { [ATTR_HTTP_ROUTE]: route } : {}),
        },
        links,
      },
      parent,
    );
    ctx.state.span = span;
    ctx.state.otelContext = trace.setSpan(parent, span);
    const requestId = newRequestId();
    ctx.state.requestId = requestId;
    ctx.set("x-request-id", requestId);
    try {
      await next();
    } finally {
      const gone = ctx.state.clientGone;
      if (gone?.kind === "aborted") {
        // No status code was sent. HTTP semconv (Status): 4xx on a SERVER span leaves the status unset, and a request
        // the caller cancelled "SHOULD NOT be treated as an error" (status unset, no error.type); so: unset, marked.
        span.setAttribute(ATTR_CLIENT_ABORTED, true);
        span.setAttribute(ATTR_HTTP_REQUEST_BODY_SIZE, gone.bytesReceived);
      } else {
        const status = gone ? CLIENT_GONE_STATUS[gone.kind] : ctx.status; // Node itself answered 400/408 and closed
        span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
        if (gone) span.setAttribute(ATTR_ERROR_TYPE, gone.code);
        if (status >= 500) {
          span.setAttribute(ATTR_ERROR_TYPE, String(status));
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
      }
      span.end();
    }
  };

  /**
   * The one error middleware: HttpError → its JSON with `request_id` and `trace_id`; a client gone mid-body → no
   * answer, one info line; anything else → 500 JSON, logged and re-emitted. Whatever the answer, a request whose body
   * was not read to its end gets `Connection: close`, so Node closes the socket after the answer instead of
   * draining an unbounded body on a keep-alive connection.
   */
  const errors: Koa.Middleware<OnboardState> = async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (error instanceof ClientGone) {
        ctx.state.clientGone = error;
        logger.info(
          `http.${error.kind === "aborted" ? "client_aborted" : error.kind === "malformed" ? "malformed_request" : "request_timeout"}`,
          { request_id: ctx.state.requestId, path: ctx.path, code: error.code, bytes_received: error.bytesReceived },
          ctx.state.otelContext,
        );
        return;
      }
      const requestId = (ctx.state.requestId ??= newRequestId());
      const ids = ctx.state.span
        ? { request_id: requestId, trace_id: traceIdOf(ctx.state.otelContext) }
        : { request_id: requestId };
      if (error instanceof HttpError) {
        ctx.status = error.status;
        for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
        ctx.body = { ...error.body, ...ids };
      } else {
        ctx.status = 500;
        ctx.body = { error: "internal_error", message: "Internal server error", ...ids };
        ctx.state.span?.recordException(error as Error);
        ctx.app.emit("error", error, ctx);
      }
    } finally {
      if (!ctx.req.complete) ctx.set("Connection", "close");
    }
  };

  /**
   * What the router left unanswered, as JSON errors: a known path with another method (allowedMethods() set 405 and
   * Allow) → method_not_allowed; no route → not_found.
   */
  const unrouted: Koa.Middleware<OnboardState> = async (ctx, next) => {
    await next();
    if (ctx.body !== undefined) return;
    if (ctx.status === 405) {
      throw new HttpError(405, { error: "method_not_allowed", message: `Use ${ctx.response.get("allow")}` });
    }
    if (ctx.status === 404) {
      throw new HttpError(404, { error: "not_found", message: `No route for ${ctx.method} ${ctx.path}` });
    }
  };

  const onboard = async (ctx: AppContext): Promise<void> => {
    const requestId = ctx.state.requestId as string; // /onboard is traced: the tracing middleware set it
    const otelContext = ctx.state.otelContext;
    try {
      const { key: idempotencyKey, problem } = readIdempotencyKey(ctx.req);
      if (problem) {
        throw badRequest("invalid_idempotency_key", `Idempotency-Key ${problem}`, [
          { field: IDEMPOTENCY_HEADER, message: problem },
        ]);
      }
      checkContentHeaders(ctx.req);
      if (hasNoBody(ctx.req)) throw emptyBody();
      const raw = await readBody(ctx.req, maxBodyBytes);
      if (raw.length === 0) throw emptyBody();
      let json: unknown;
      try {
        json = JSON.parse(raw.toString("utf8"));
      } catch {
        throw badRequest("invalid_json", "Request body is not valid JSON", [
          { field: "body", message: "must be valid JSON" },
        ]);
      }
      const result = validateOnboardRequest(json);
      if (!result.ok) throw badRequest("validation_failed", "Request body failed validation", result.errors);

      // With an Idempotency-Key, an earlier request with the key decides: replay its answer, or re-send its request_id.
      let sendRequestId = requestId;
      let acceptedAt = now();
      const idempotency = idempotencyKey ? deps.idempotency : undefined;
      if (idempotencyKey && idempotency) {
        let claim;
        try {
          claim = await idempotency.claim(
            {
              key: idempotencyKey,
              bodyHash: canonicalBodyHash(result.value),
              requestId,
              customerId: result.value.customer_id,
              acceptedAt: acceptedAt.toISOString(),
            },
            otelContext,
          );
        } catch (error) {
          logger.error("onboard.idempotency_unavailable", { request_id: requestId, error }, otelContext);
          throw new HttpError(503, {
            error: "store_unavailable",
            message: "The onboarding store is unavailable; nothing was sent: retry later with the same Idempotency-Key",
          });
        }
        if (claim.kind === "mismatch") {
          throw new HttpError(422, {
            error: "idempotency_key_reused",
            message:
              "This Idempotency-Key was used with a different request body in the last 24 h: use a new key for a new request",
            fields: [{ field: IDEMPOTENCY_HEADER, message: "already used with a different body" }],
          });
        }
        if (claim.kind === "in_use") {
          // Another request with this key is sending right now (it holds the key's lease): sending too would race it.
          throw new HttpError(
            409,
            {
              error: "idempotency_key_in_use",
              message: `A request with this Idempotency-Key is still being processed; nothing was sent: retry after ${claim.retryAfterSeconds} s with the same Idempotency-Key`,
              fields: [{ field: IDEMPOTENCY_HEADER, message: "in use by a request still being processed" }],
            },
            { "retry-after": String(claim.retryAfterSeconds) },
          );
        }
        if (claim.kind === "replay") {
          ctx.status = 202;
          ctx.set("idempotent-replayed", "true");
          ctx.body = claim.response;
          logger.info(
            "onboard.replayed",
            { request_id: requestId, first_request_id: claim.response.request_id },
            otelContext,
          );
          return;
        }
        if (claim.kind === "resend") {
          sendRequestId = claim.requestId;
          const firstAcceptedAt = new Date(claim.acceptedAt);
          if (!Number.isNaN(firstAcceptedAt.getTime())) acceptedAt = firstAcceptedAt;
        }
      }
      const message = buildOnboardingMessage(result.value, sendRequestId, acceptedAt);
      let messageId: string;
      try {
        ({ messageId } = await publisher.publish(message, otelContext));
      } catch (error) {
        if (idempotencyKey && idempotency) {
          // Not sent, or unknown: give the key's lease back so a retry with the key re-sends at once (not a 409). If
          // this write fails too, the lease runs out by itself (IDEMPOTENCY_LEASE_MS).
          await idempotency.release(idempotencyKey, requestId, otelContext).catch((releaseError: unknown) => {
            logger.warn(
              "onboard.idempotency_lease_not_released",
              { request_id: sendRequestId, error: releaseError },
              otelContext,
            );
          });
        }
        if (error instanceof PublishError && error.rejectedContent) {
          // SQS refused the content itself: permanent and caused by the request, so a 400 (a retry cannot help).
          // Validation should have caught it first: warn, so the gap gets fixed.
          logger.warn(
            "onboard.message_refused",
            { request_id: requestId, customer_id: message.customer_id, error_type: error.errorType, error },
            otelContext,
          );
          throw badRequest("validation_failed", "The queue refused the request's characters", [
            { field: "body", message: `contains characters SQS does not accept (${error.errorType})` },
          ]);
        }
        logger.error(
          "onboard.queue_unavailable",
          { request_id: sendRequestId, customer_id: message.customer_id, error },
          otelContext,
        );
        // A timed-out send may still have reached SQS: say so, and how to retry without onboarding twice.
        throw new HttpError(503, {
          error: "queue_unavailable",
          message: idempotencyKey
            ? "The onboarding queue did not confirm the request; it may have been accepted. Retry with the same Idempotency-Key"
            : "The onboarding queue did not confirm the request; it may have been accepted. Retry with an Idempotency-Key to be sure it is onboarded once",
          ...(idempotencyKey ? { retry_with_same_idempotency_key: true } : {}),
        });
      }
      const response: AcceptedResponse = {
        request_id: sendRequestId,
        customer_id: message.customer_id,
        trace_id: traceIdOf(otelContext),
      };
      if (idempotencyKey && idempotency) {
        // Sent already: failing to remember it only means a retry re-sends (and the consumer keeps one record).
        await idempotency.complete(idempotencyKey, response, otelContext).catch((error: unknown) => {
          logger.warn("onboard.idempotency_not_recorded", { request_id: sendRequestId, error }, otelContext);
        });
      }
      ctx.status = 202;
      ctx.body = response;
      logger.info(
        "onboard.accepted",
        { request_id: sendRequestId, customer_id: message.customer_id, message_id: messageId },
        otelContext,
      );
    } catch (error) {
      if (error instanceof HttpError && error.status < 500) {
        logger.info(
          "onboard.rejected",
          { request_id: requestId, reason: error.body.error, fields: error.body.fields },
          otelContext,
        );
      }
      throw error;
    }
  };

  /**
   * `GET /onboard/{request_id}`: `processed` (with `processed_at` and `customer_id`) once the consumer recorded the
   * request, `accepted` when the API recorded it, else 404 — unknown, or not processed yet. A malformed id is a 400
   * and never reaches the table; a table that cannot be read is a 503.
   */
  const status = async (ctx: AppContext): Promise<void> => {
    const id = String(ctx.params.request_id ?? "");
    if (!REQUEST_ID_PATTERN.test(id)) {
      throw badRequest("validation_failed", "request_id is not a request id this API issues", [
        { field: "request_id", message: "must be a lowercase UUID, as returned by POST /onboard" },
      ]);
    }
    let found;
    try {
      found = await deps.statusReader?.get(id, ctx.state.otelContext);
    } catch (error) {
      logger.error("onboard.status_unavailable", { lookup_request_id: id, error }, ctx.state.otelContext);
      throw new HttpError(503, {
        error: "store_unavailable",
        message: "The onboarding store is unavailable; retry later",
      });
    }
    if (!found) {
      throw new HttpError(404, {
        error: "not_found",
        message: `Unknown request_id, or not processed yet: ${id}`,
        fields: [{ field: "request_id", message: "unknown or not processed yet" }],
      });
    }
    ctx.body = { request_id: id, ...found };
  };

  // Exact paths as before the router: `strict` (no trailing slash) and `sensitive` (case matters), so /onboard/ and
  // /ONBOARD stay 404. Every HTTP method counts as implemented, so a known path answers any other method with 405 and
  // an Allow header (never the router's 501); OPTIONS on a known path is 200 with Allow (allowedMethods()).
  const routes = new Router<OnboardState>({ strict: true, sensitive: true, methods: METHODS });
  routes.post(ROUTE_ONBOARD, onboard);
  routes.get(ROUTE_STATUS, status);
  routes.get("/healthz", (ctx) => {
    ctx.body = { status: "ok" };
  });
  routes.get("/readyz", async (ctx) => {
    const ready = await publisher.ready();
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? "ready" : "not_ready", checks: { sqs: ready ? "ok" : "unavailable" } };
  });

  /** The route template (`http.route`) a path matches with any method, e.g. "/onboard"; undefined for no route. */
  const routeOf = (path: string, method: string): string | undefined => {
    for (const layer of routes.match(path, method).path) {
      if (layer.methods.length > 0 && typeof layer.path === "string") return layer.path;
    }
    return undefined;
  };

  app.use(tracing);
  app.use(errors);
  app.use(unrouted);
  app.use(routes.allowedMethods());
  app.use(routes.routes());
  app.on("error", (error: unknown, ctx?: AppContext) => {
    // A client that went away (or was cut off) is not a server error: logged once (info) by the error middleware when
    // it happened mid-body; Koa re-reports the socket's error when the answer cannot be written: not worth a line.
    // (Koa reports the socket's error: a reset, or Node's parser refusing the bytes, e.g. HPE_INVALID_EOF_STATE.)
    const code = (error as NodeJS.ErrnoException)?.code ?? "";
    if (ctx?.state.clientGone || CLIENT_GONE_CODES.has(code) || code.startsWith("HPE_") || code === REQUEST_TIMEOUT) {
      return;
    }
    logger.error("http.unhandled_error", { error, path: ctx?.path }, ctx?.state.otelContext);
  });
  return app;
}
