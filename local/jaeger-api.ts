/**
 * The subset of Jaeger's query HTTP API that tools call (Grafana's Jaeger data source, Jaeger UI, scripts), served
 * by the trace view on the same port (16686) from the local trace store:
 *
 * - `GET /api/services` → `{data: ["onboarding-api", …], total}`
 * - `GET /api/services/{service}/operations` → `{data: ["POST /onboard", …], total}`
 * - `GET /api/operations?service=&spanKind=` → `{data: [{name, spanKind}], total}`
 * - `GET /api/traces?service=&operation=&tags=&minDuration=&maxDuration=&start=&end=&limit=` → `{data: [trace…]}`
 * - `GET /api/traces/{traceID}` → `{data: [trace]}`; 404 `{data: null, errors: [{code: 404, msg: "trace not found"}]}`
 *
 * The shapes are Jaeger's, checked against jaegertracing/jaeger @ 8498073f (2026-08-20):
 * - envelope `structuredResponse {data, total, limit, offset, errors}` and `structuredError {code, msg, traceID}` in
 *   cmd/jaeger/internal/extension/jaegerquery/internal/http_handler.go; `handleError` answers
 *   `{"data":null,"total":0,"limit":0,"offset":0,"errors":[{"code":404,"msg":"trace not found"}]}`;
 * - the UI model (`Trace {traceID, spans, processes, warnings}`, `Span {traceID, spanID, operationName, references,
 *   startTime, duration, tags, logs, processID, warnings}` in microseconds, `KeyValue {key, type, value}`,
 *   `Log {timestamp, fields}`, `Reference {refType: CHILD_OF|FOLLOWS_FROM, traceID, spanID}`) in
 *   internal/uimodel/model.go, converted by internal/uimodel/converter/v1/json/from_domain.go (processes keyed
 *   `p1`, `p2`… in process_hashtable.go; int64 beyond ±2^53 as a string);
 * - OTLP → Jaeger mapping (parent as the first CHILD_OF reference, links as FOLLOWS_FROM, `span.kind` lowercase,
 *   status ERROR → `error: true`, OK → `otel.status_code: "OK"`, message → `otel.status_description`, scope →
 *   `otel.scope.name`/`otel.scope.version`, each event → a log whose first field is `event: <name>`, resource
 *   attributes other than `service.name` → process tags) as in internal/storage/v2/cassandra/tracestore/to_dbmodel.go
 *   and internal/storage/v2/elasticsearch/tracestore/to_dbmodel.go;
 * - the search parameters in cmd/jaeger/internal/extension/jaegerquery/internal/query_parser.go and the search,
 *   services and operations handlers in http_handler.go as of 639eefe04^ — Jaeger removed those four v1 endpoints
 *   in 639eefe04 ("Remove v1 HTTP endpoints the UI no longer calls", #9260) after its UI moved to /api/v3; Grafana's
 *   Jaeger data source and older Jaeger UIs still call them, so they are served here.
 */
import type { ReceivedSpan } from "./otlp-receiver";
import { durationMs, type StoredTrace, type TraceStore } from "./trace-store";
import { listOperations, listServices, parseTraceQuery, QueryError, searchTraces, startMicros } from "./trace-query";

export type JaegerValueType = "string" | "bool" | "int64" | "float64" | "binary";
export interface JaegerKeyValue {
  key: string;
  type: JaegerValueType;
  value: string | number | boolean;
}
export interface JaegerReference {
  refType: "CHILD_OF" | "FOLLOWS_FROM";
  traceID: string;
  spanID: string;
}
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: JaegerReference[];
  startTime: number;
  duration: number;
  tags: JaegerKeyValue[];
  logs: { timestamp: number; fields: JaegerKeyValue[] }[];
  processID: string;
  warnings: string[] | null;
}
export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: JaegerKeyValue[] }>;
  warnings: string[] | null;
}
export interface JaegerResponse<T> {
  data: T;
  total: number;
  limit: number;
  offset: number;
  errors: { code?: number; msg: string; traceID?: string }[] | null;
}

/** A JS attribute value → Jaeger's typed KeyValue (arrays and maps become their JSON text, as `AsString()` does). */
export function toKeyValue(key: string, value: unknown): JaegerKeyValue {
  if (typeof value === "string") return { key, type: "string", value };
  if (typeof value === "boolean") return { key, type: "bool", value };
  if (typeof value === "number") {
    return Number.isInteger(value) ? { key, type: "int64", value } : { key, type: "float64", value };
  }
  return { key, type: "string", value: JSON.stringify(value) ?? "" };
}

function keyValues(record: Record<string, unknown>, skip: readonly string[] = []): JaegerKeyValue[] {
  return Object.entries(record)
    .filter(([key]) => !skip.includes(key))
    .map(([key, value]) => toKeyValue(key, value));
}

function spanTags(span: ReceivedSpan): JaegerKeyValue[] {
  const tags: JaegerKeyValue[] = [];
  if (span.scope?.name) tags.push(toKeyValue("otel.scope.name", span.scope.name));
  if (span.scope?.version) tags.push(toKeyValue("otel.scope.version", span.scope.version));
  tags.push(...keyValues(span.attributes));
  tags.push(toKeyValue("span.kind", span.kind.toLowerCase()));
  if (span.status.code === "ERROR") tags.push(toKeyValue("error", true));
  if (span.status.code === "OK") tags.push(toKeyValue("otel.status_code", "OK"));
  if (span.status.message) tags.push(toKeyValue("otel.status_description", span.status.message));
  return tags;
}

function references(span: ReceivedSpan): JaegerReference[] {
  const refs: JaegerReference[] = [];
  if (span.parentSpanId) refs.push({ refType: "CHILD_OF", traceID: span.traceId, spanID: span.parentSpanId });
  for (const link of span.links) {
    if (span.parentSpanId && link.traceId === span.traceId && link.spanId === span.parentSpanId) {
      refs[0]!.refType = "FOLLOWS_FROM";
      continue;
    }
    refs.push({ refType: "FOLLOWS_FROM", traceID: link.traceId, spanID: link.spanId });
  }
  return refs;
}

/** One stored trace in Jaeger's UI model. */
export function toJaegerTrace(trace: StoredTrace): JaegerTrace {
  const processes: JaegerTrace["processes"] = {};
  const processKeys = new Map<string, string>();
  const processId = (span: ReceivedSpan) => {
    const tags = keyValues(span.resource, ["service.name"]);
    const identity = JSON.stringify([span.serviceName, tags]);
    let key = processKeys.get(identity);
    if (!key) {
      key = `p${processKeys.size + 1}`;
      processKeys.set(identity, key);
      processes[key] = { serviceName: span.serviceName, tags };
    }
    return key;
  };
  const spans = [...trace.spans]
    .sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1))
    .map((span): JaegerSpan => ({
      traceID: span.traceId,
      spanID: span.spanId,
      operationName: span.name,
      references: references(span),
      startTime: startMicros(span),
      duration: Math.round(durationMs(span) * 1000),
      tags: spanTags(span),
      logs: (span.events ?? []).map((event) => ({
        timestamp: Number(BigInt(event.timeUnixNano) / 1000n),
        fields: [
          ...(event.name && !("event" in event.attributes) ? [toKeyValue("event", event.name)] : []),
          ...keyValues(event.attributes),
        ],
      })),
      processID: processId(span),
      warnings: null,
    }));
  return { traceID: trace.traceId, spans, processes, warnings: null };
}

function envelope<T>(data: T, total = 0): JaegerResponse<T> {
  return { data, total, limit: 0, offset: 0, errors: null };
}

function failure(code: number, msg: string): { status: number; body: JaegerResponse<null> } {
  return { status: code, body: { data: null, total: 0, limit: 0, offset: 0, errors: [{ code, msg }] } };
}

/**
 * Answers a Jaeger query API request, or returns undefined when the path is not one of them (the caller serves
 * the rest).
 */
export function handleJaegerApi(
  store: TraceStore,
  pathname: string,
  params: URLSearchParams,
): { status: number; body: unknown } | undefined {
  if (pathname === "/api/services") {
    const services = listServices(store);
    return { status: 200, body: envelope(services, services.length) };
  }
  const operationsOf = /^\/api\/services\/([^/]+)\/operations$/.exec(pathname);
  if (operationsOf) {
    const names = [...new Set(listOperations(store, decodeURIComponent(operationsOf[1]!)).map((op) => op.name))];
    return { status: 200, body: envelope(names, names.length) };
  }
  if (pathname === "/api/operations") {
    const service = params.get("service");
    if (!service) return failure(400, "parameter 'service' is required");
    const kind = params.get("spanKind");
    const operations = listOperations(store, service).filter((op) => !kind || op.spanKind === kind);
    return { status: 200, body: envelope(operations, operations.length) };
  }
  if (pathname === "/api/traces") {
    try {
      const traces = searchTraces(store, { ...parseTraceQuery(params), includeBatch: true });
      return { status: 200, body: envelope(traces.map(toJaegerTrace)) };
    } catch (error) {
      if (error instanceof QueryError) return failure(400, error.message);
      throw error;
    }
  }
  const one = /^\/api\/traces\/([^/]+)$/.exec(pathname);
  if (one) {
    const id = one[1]!.toLowerCase();
    if (!/^[0-9a-f]{1,32}$/.test(id)) return failure(400, `cannot parse traceID param: "${one[1]}"`);
    const trace = store.get(id.padStart(32, "0"));
    return trace ? { status: 200, body: envelope([toJaegerTrace(trace)]) } : failure(404, "trace not found");
  }
  return undefined;
}
