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
  defaultTextMapGetter,
  trace,
  type Context,
  type Span,
  type Tracer,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
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
import type { Logger } from "../../telemetry/logger";
import { MAX_BODY_BYTES, buildOnboardingMessage, validateOnboardRequest, type FieldError } from "./onboard";
import type { Publisher } from "./publisher";

export interface AppDeps {
  readonly publisher: Publisher;
  readonly tracer: Tracer;
  readonly logger: Logger;
  /** Request body limit in bytes (default {@link MAX_BODY_BYTES} = 16 KiB). */
  readonly maxBodyBytes?: number;
  /** Clock and id source, injectable for tests. */
  readonly now?: () => Date;
  readonly newRequestId?: () => string;
}

/** Per-request state shared between middlewares. */
export interface OnboardState {
  otelContext: Context;
  span?: Span;
}

const ROUTE_ONBOARD = "/onboard";
const UNTRACED_PATHS = new Set(["/healthz", "/readyz"]);
const INVALID_TRACE_ID = "00000000000000000000000000000000";
const propagator = new W3CTraceContextPropagator();

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message ?? body.error));
  }
}

function traceIdOf(otelContext: Context): string {
  return trace.getSpanContext(otelContext)?.traceId ?? INVALID_TRACE_ID;
}

function badRequest(error: string, message: string, fields: FieldError[]): HttpError {
  return new HttpError(400, { error, message, fields });
}

/**
 * Reads the raw body up to `limit` bytes; over the limit → 400 naming `body`.
 * Hand-written rather than @koa/bodyparser 6 (co-body), which would change answers this API gives (pinned in
 * test/runtime/routes.test.ts): an empty body parses as {} (validation_failed, not invalid_json); a JSON scalar is
 * invalid_json in its strict mode, while its non-strict mode passes an empty body on as ""; a `__proto__` key is a
 * parse error instead of a named unknown field; gzip/deflate bodies are inflated and an unknown Content-Encoding is a
 * 415; a body over the limit is a 413 and left paused rather than drained.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit));
  }
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
        req.resume(); // drain and discard the rest
        reject(err);
      } else resolve(body as Buffer);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) finish(tooLarge(limit));
      else chunks.push(chunk);
    };
    const onEnd = (): void => finish(undefined, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    const onError = (err: Error): void => finish(err);
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}

function tooLarge(limit: number): HttpError {
  return badRequest("body_too_large", `Request body exceeds ${limit} bytes`, [
    { field: "body", message: `must be at most ${limit} bytes` },
  ]);
}

type AppContext = Koa.ParameterizedContext<OnboardState>;

export function createApp(deps: AppDeps): Koa<OnboardState> {
  const { publisher, tracer, logger } = deps;
  const maxBodyBytes = deps.maxBodyBytes ?? MAX_BODY_BYTES;
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
    const parent = propagator.extract(ROOT_CONTEXT, ctx.headers, defaultTextMapGetter);
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
      },
      parent,
    );
    ctx.state.span = span;
    ctx.state.otelContext = trace.setSpan(parent, span);
    try {
      await next();
    } finally {
      const status = ctx.status;
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      if (status >= 500) {
        span.setAttribute(ATTR_ERROR_TYPE, String(status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    }
  };

  /** The one error middleware: HttpError → its JSON; anything else → 500 JSON, logged and re-emitted. */
  const errors: Koa.Middleware<OnboardState> = async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (error instanceof HttpError) {
        ctx.status = error.status;
        ctx.body = error.body;
        return;
      }
      ctx.status = 500;
      ctx.body = { error: "internal_error", message: "Internal server error" };
      ctx.state.span?.recordException(error as Error);
      ctx.app.emit("error", error, ctx);
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
    const requestId = newRequestId();
    const otelContext = ctx.state.otelContext;
    ctx.set("x-request-id", requestId);
    let accepted = false;
    try {
      if (!ctx.request.is("application/json")) {
        throw badRequest("unsupported_content_type", "Content-Type must be application/json", [
          { field: "content-type", message: "must be application/json" },
        ]);
      }
      const raw = await readBody(ctx.req, maxBodyBytes);
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

      const message = buildOnboardingMessage(result.value, requestId, now());
      let messageId: string;
      try {
        ({ messageId } = await publisher.publish(message, otelContext));
      } catch (error) {
        logger.error(
          "onboard.queue_unavailable",
          { request_id: requestId, customer_id: message.customer_id, error },
          otelContext,
        );
        throw new HttpError(503, {
          error: "queue_unavailable",
          message: "The onboarding queue is unavailable; retry later",
          request_id: requestId,
          trace_id: traceIdOf(otelContext),
        });
      }
      accepted = true;
      ctx.status = 202;
      ctx.body = { request_id: requestId, customer_id: message.customer_id, trace_id: traceIdOf(otelContext) };
      logger.info(
        "onboard.accepted",
        { request_id: requestId, customer_id: message.customer_id, message_id: messageId },
        otelContext,
      );
    } catch (error) {
      if (!accepted && error instanceof HttpError && error.status === 400) {
        // The trace id lets a client (or support) find the rejected request's SERVER span.
        const body: Record<string, unknown> = {
          ...error.body,
          request_id: requestId,
          trace_id: traceIdOf(otelContext),
        };
        ctx.status = 400;
        ctx.body = body;
        logger.info(
          "onboard.rejected",
          { request_id: requestId, reason: body.error, fields: body.fields },
          otelContext,
        );
        return;
      }
      throw error;
    }
  };

  // Exact paths as before the router: `strict` (no trailing slash) and `sensitive` (case matters), so /onboard/ and
  // /ONBOARD stay 404. Every HTTP method counts as implemented, so a known path answers any other method with 405 and
  // an Allow header (never the router's 501); OPTIONS on a known path is 200 with Allow (allowedMethods()).
  const routes = new Router<OnboardState>({ strict: true, sensitive: true, methods: METHODS });
  routes.post(ROUTE_ONBOARD, onboard);
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
    logger.error("http.unhandled_error", { error, path: ctx?.path }, ctx?.state.otelContext);
  });
  return app;
}
