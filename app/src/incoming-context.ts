/**
 * How far the API trusts a client's W3C `traceparent`/`tracestate` (`INCOMING_TRACE_CONTEXT`):
 * - `new-trace-with-link` (default): the SERVER span starts a new trace, sampled by the API's own sampler, and links
 *   the incoming context. A client on the public internet can neither switch tracing off (flags `00`) nor pick or
 *   collide trace ids, and the caller's trace is still one click away.
 * - `honour-always-sample`: the SERVER span joins the caller's trace, but is sampled whatever the caller's flags say.
 * - `honour`: the caller's context is the parent, flags included (a `00` caller disables the trace end to end). Only
 *   for callers you trust, e.g. behind a gateway that sets the context itself.
 */
import { ROOT_CONTEXT, TraceFlags, defaultTextMapGetter, trace, type Context, type Link } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { IncomingHttpHeaders } from "node:http";

export const INCOMING_TRACE_CONTEXT_MODES = ["new-trace-with-link", "honour-always-sample", "honour"] as const;
export type IncomingTraceContext = (typeof INCOMING_TRACE_CONTEXT_MODES)[number];
export const DEFAULT_INCOMING_TRACE_CONTEXT: IncomingTraceContext = "new-trace-with-link";

const propagator = new W3CTraceContextPropagator();

export interface ServerSpanParent {
  readonly parent: Context;
  /** The incoming context as a link (`new-trace-with-link` only). */
  readonly links?: Link[];
}

const NO_INCOMING: ServerSpanParent = { parent: ROOT_CONTEXT };

/** The SERVER span's parent context and links for a request's headers under `mode`. */
export function serverSpanParent(headers: IncomingHttpHeaders, mode: IncomingTraceContext): ServerSpanParent {
  if (headers.traceparent === undefined) return NO_INCOMING;
  const incoming = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
  const spanContext = trace.getSpanContext(incoming);
  if (!spanContext) return NO_INCOMING;
  if (mode === "new-trace-with-link") return { parent: ROOT_CONTEXT, links: [{ context: spanContext }] };
  if (mode === "honour-always-sample" && (spanContext.traceFlags & TraceFlags.SAMPLED) === 0) {
    return {
      parent: trace.setSpanContext(ROOT_CONTEXT, {
        ...spanContext,
        traceFlags: spanContext.traceFlags | TraceFlags.SAMPLED,
      }),
    };
  }
  return { parent: incoming };
}
