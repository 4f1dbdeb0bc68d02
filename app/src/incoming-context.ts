/**
 * How far the API trusts a client's context — the headers of the propagators in `OTEL_PROPAGATORS`
 * (telemetry/propagation.ts: `traceparent`/`tracestate`, `baggage`, …) — under `INCOMING_TRACE_CONTEXT`:
 * - `new-trace-with-link` (default): the SERVER span starts a new trace, sampled by the API's own sampler, and links
 *   the incoming context. A client on the public internet can neither switch tracing off (flags `00`) nor pick or
 *   collide trace ids, and the caller's trace is still one click away. The caller's baggage is dropped too: on a public
 *   edge it is anyone's data, and it would travel on to the queue and the Lambda.
 * - `honour-always-sample`: the SERVER span joins the caller's trace, but is sampled whatever the caller's flags say.
 * - `honour`: the caller's context is the parent, flags included (a `00` caller disables the trace end to end). Only
 *   for callers you trust, e.g. behind a gateway that sets the context itself.
 * Both `honour` modes keep the caller's baggage in the context, so it propagates with the trace.
 */
import {
  ROOT_CONTEXT,
  TraceFlags,
  defaultTextMapGetter,
  trace,
  type Context,
  type Link,
  type TextMapPropagator,
} from "@opentelemetry/api";
import type { IncomingHttpHeaders } from "node:http";
import { configuredPropagation } from "../../telemetry/propagation";

export const INCOMING_TRACE_CONTEXT_MODES = ["new-trace-with-link", "honour-always-sample", "honour"] as const;
export type IncomingTraceContext = (typeof INCOMING_TRACE_CONTEXT_MODES)[number];
export const DEFAULT_INCOMING_TRACE_CONTEXT: IncomingTraceContext = "new-trace-with-link";

export interface ServerSpanParent {
  readonly parent: Context;
  /** The incoming context as a link (`new-trace-with-link` only). */
  readonly links?: Link[];
}

const NO_INCOMING: ServerSpanParent = { parent: ROOT_CONTEXT };

/** The SERVER span's parent context and links for a request's headers under `mode`. */
export function serverSpanParent(
  headers: IncomingHttpHeaders,
  mode: IncomingTraceContext,
  propagator: TextMapPropagator = configuredPropagation().propagator,
): ServerSpanParent {
  // Most requests carry no context at all: skip extraction (Node lowercases header names).
  if (!propagator.fields().some((field) => headers[field.toLowerCase()] !== undefined)) return NO_INCOMING;
  const incoming = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
  const spanContext = trace.getSpanContext(incoming);
  if (mode === "new-trace-with-link") {
    return spanContext ? { parent: ROOT_CONTEXT, links: [{ context: spanContext }] } : NO_INCOMING;
  }
  if (mode === "honour-always-sample" && spanContext && (spanContext.traceFlags & TraceFlags.SAMPLED) === 0) {
    // setSpanContext on `incoming` (not ROOT_CONTEXT) keeps the caller's baggage.
    return {
      parent: trace.setSpanContext(incoming, {
        ...spanContext,
        traceFlags: spanContext.traceFlags | TraceFlags.SAMPLED,
      }),
    };
  }
  return { parent: incoming };
}
