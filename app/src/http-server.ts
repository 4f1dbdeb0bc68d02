/**
 * The API's Node http server with coherent timeouts (Node's semantics, https://nodejs.org/api/http.html):
 * - `requestTimeout`: the whole request (headers and body) must arrive within it, else 408 and the socket is closed;
 * - `headersTimeout`: the headers must arrive within it; Node requires it to be ≤ `requestTimeout`;
 * - `keepAliveTimeout`: how long an idle keep-alive connection is kept after a response. Behind an ALB it must exceed
 *   the balancer's idle timeout (60 s by default), so the ALB, not the target, closes idle connections — otherwise the
 *   ALB can reuse a connection the target is closing and answer 502;
 * - `connectionsCheckingInterval`: how often Node looks for requests past those deadlines (default 30 s, which would
 *   let a slow body run up to 30 s past `requestTimeout`); here at most 1 s.
 */
import { createServer, type RequestListener, type Server } from "node:http";

export interface HttpTimeouts {
  readonly requestTimeoutMillis: number;
  readonly headersTimeoutMillis: number;
  readonly keepAliveTimeoutMillis: number;
}

/** The ALB idle timeout (AWS default, seconds) the keep-alive default is set against. */
export const ALB_DEFAULT_IDLE_TIMEOUT_SECONDS = 60;

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = {
  requestTimeoutMillis: 30_000,
  headersTimeoutMillis: 10_000,
  keepAliveTimeoutMillis: (ALB_DEFAULT_IDLE_TIMEOUT_SECONDS + 5) * 1000,
};

export function createHttpServer(listener: RequestListener, timeouts: HttpTimeouts = DEFAULT_HTTP_TIMEOUTS): Server {
  const shortest = Math.min(timeouts.requestTimeoutMillis, timeouts.headersTimeoutMillis);
  return createServer(
    {
      requestTimeout: timeouts.requestTimeoutMillis,
      headersTimeout: timeouts.headersTimeoutMillis,
      keepAliveTimeout: timeouts.keepAliveTimeoutMillis,
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(shortest / 4))),
    },
    listener,
  );
}
