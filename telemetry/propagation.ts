/**
 * Which context propagators the services use: `OTEL_PROPAGATORS`, read once here and used by every place that
 * injects or extracts context (the API's global propagator and incoming requests, the SQS publisher, the Lambda's
 * record extraction), so they can never disagree.
 *
 * The OpenTelemetry SDK configuration spec (sdk-environment-variables.md, "General SDK Configuration"): a
 * comma-separated list, default `tracecontext,baggage`, values deduplicated, `none` for no propagator; for an enum
 * value it does not recognise an implementation MUST generate a warning and ignore it. Supported here: `tracecontext`
 * (W3C Trace Context), `baggage` (W3C Baggage), `xray` (AWS X-Ray `X-Amzn-Trace-Id`) and `none`; `b3`, `b3multi`,
 * `jaeger`, `ottrace` are valid in the spec but not installed, so they are warned about and skipped like unknown names.
 */
import { diag, type TextMapPropagator } from "@opentelemetry/api";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { AWSXRayPropagator } from "@opentelemetry/propagator-aws-xray";
import { envString } from "./env";

export const DEFAULT_PROPAGATORS = "tracecontext,baggage";

const FACTORIES = {
  tracecontext: () => new W3CTraceContextPropagator(),
  baggage: () => new W3CBaggagePropagator(),
  xray: () => new AWSXRayPropagator(),
} satisfies Record<string, () => TextMapPropagator>;

export type PropagatorName = keyof typeof FACTORIES;
export const SUPPORTED_PROPAGATORS: readonly string[] = [...Object.keys(FACTORIES), "none"];

export interface ResolvedPropagation {
  /** The propagators in use, in order, deduplicated (empty for `none`). */
  readonly names: readonly PropagatorName[];
  /** One propagator over all of them (injects each in order; extraction applies each in order). */
  readonly propagator: TextMapPropagator;
}

/**
 * `OTEL_PROPAGATORS` → the propagators. Unset or blank means the default; `none` anywhere in the list means none at
 * all (the spec's "no automatically configured propagator"); names this project does not support are dropped with one
 * diag warning naming them. Never throws: a typo must not take tracing down.
 */
export function resolvePropagation(env: NodeJS.ProcessEnv = process.env): ResolvedPropagation {
  const raw = envString(env, "OTEL_PROPAGATORS") ?? DEFAULT_PROPAGATORS;
  const requested = raw
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "");
  const unknown = requested.filter((name) => !SUPPORTED_PROPAGATORS.includes(name));
  if (unknown.length > 0) {
    diag.warn(
      `OTEL_PROPAGATORS: ignoring unsupported propagator(s) ${unknown.map((n) => `"${n}"`).join(", ")} ` +
        `(supported: ${SUPPORTED_PROPAGATORS.join(", ")})`,
    );
  }
  const names = requested.includes("none")
    ? []
    : [...new Set(requested.filter((name): name is PropagatorName => name in FACTORIES))];
  return { names, propagator: new CompositePropagator({ propagators: names.map((name) => FACTORIES[name]()) }) };
}

let configured: ResolvedPropagation | undefined;

/** The process's propagation, from `process.env` on first use (the env does not change while a process runs). */
export function configuredPropagation(): ResolvedPropagation {
  configured ??= resolvePropagation(process.env);
  return configured;
}
