/**
 * Searching the local trace store, shared by the Jaeger query API (local/jaeger-api.ts) and the trace UI's own JSON
 * (`/api/local/...`, local/trace-view.ts). Parameters follow Jaeger's `GET /api/traces` search (see
 * local/jaeger-api.ts for the source): `service`, `operation`, `tags` (JSON object) / `tag=key:value`, `minDuration` /
 * `maxDuration` (Go durations: `150ms`, `1.5s`, `300us`), `start` / `end` (microseconds since the epoch), `limit`,
 * `traceID` (repeatable). Like Jaeger, every condition must hold for one and the same span.
 */
import type { ReceivedSpan } from "./otlp-receiver";
import { durationMs, summarize, type StoredTrace, type TraceStore, type TraceSummary } from "./trace-store";

export interface TraceQuery {
  traceIds?: string[];
  service?: string;
  operation?: string;
  tags?: Record<string, string>;
  /** Microseconds. */
  minDurationUs?: number;
  maxDurationUs?: number;
  /** Microseconds since the epoch; compared with span start times. */
  startUs?: number;
  endUs?: number;
  limit: number;
  /** UI only: keep traces with at least one error span (see {@link spanIsError}). */
  errorsOnly?: boolean;
  /** UI only: batch-only traces are left out unless this is set (as in the terminal). */
  includeBatch?: boolean;
  /** Durations apply to one span (Jaeger) or to the whole trace (the UI). @default "span" */
  durationOf?: "span" | "trace";
}

export class QueryError extends Error {}

export const DEFAULT_LIMIT = 100;

const DURATION_UNITS_US: Record<string, number> = { ns: 0.001, us: 1, µs: 1, ms: 1000, s: 1e6, m: 60e6, h: 3600e6 };

/** Go's time.ParseDuration subset Jaeger accepts (`1h2m`, `1.5s`, `250ms`, `300us`), in microseconds. */
export function parseGoDuration(raw: string, name = "duration"): number {
  const text = raw.trim();
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (text === "" || parts.map((m) => m[0]).join("") !== text) {
    throw new QueryError(`${name}: cannot parse "${raw}" as a duration (e.g. 150ms, 1.5s)`);
  }
  return parts.reduce((sum, m) => sum + Number(m[1]) * DURATION_UNITS_US[m[2]!]!, 0);
}

function parseMicros(raw: string | null, name: string): number | undefined {
  if (raw === null || raw === "") return undefined;
  if (!/^\d+$/.test(raw)) throw new QueryError(`${name}: expected microseconds since the epoch, got "${raw}"`);
  return Number(raw);
}

/** URL search parameters → {@link TraceQuery}; throws {@link QueryError} for malformed values (HTTP 400). */
export function parseTraceQuery(params: URLSearchParams): TraceQuery {
  const tags: Record<string, string> = {};
  for (const tag of params.getAll("tag")) {
    const at = tag.indexOf(":");
    if (at < 1) throw new QueryError(`malformed 'tag' parameter, expecting key:value, received: ${tag}`);
    tags[tag.slice(0, at)] = tag.slice(at + 1);
  }
  for (const json of params.getAll("tags")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (error) {
      throw new QueryError(`malformed 'tags' parameter, cannot unmarshal JSON: ${(error as Error).message}`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new QueryError("malformed 'tags' parameter: expected a JSON object of strings");
    }
    for (const [key, value] of Object.entries(parsed)) tags[key] = String(value);
  }
  const limitRaw = params.get("limit");
  const limit = limitRaw === null || limitRaw === "" ? DEFAULT_LIMIT : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 0) throw new QueryError(`limit: expected an integer, got "${limitRaw}"`);
  const duration = (name: string) => {
    const raw = params.get(name);
    return raw ? parseGoDuration(raw, name) : undefined;
  };
  const minDurationUs = duration("minDuration");
  const maxDurationUs = duration("maxDuration");
  if (minDurationUs !== undefined && maxDurationUs !== undefined && maxDurationUs < minDurationUs) {
    throw new QueryError("'maxDuration' should be greater than 'minDuration'");
  }
  const traceIds = params.getAll("traceID").map((id) => {
    const clean = id.trim().toLowerCase();
    if (!/^[0-9a-f]{1,32}$/.test(clean)) throw new QueryError(`cannot parse traceID param: "${id}"`);
    return clean.padStart(32, "0");
  });
  const query: TraceQuery = { limit: limit === 0 ? DEFAULT_LIMIT : limit };
  const service = params.get("service");
  const operation = params.get("operation");
  if (service) query.service = service;
  if (operation) query.operation = operation;
  if (Object.keys(tags).length > 0) query.tags = tags;
  if (minDurationUs !== undefined) query.minDurationUs = minDurationUs;
  if (maxDurationUs !== undefined) query.maxDurationUs = maxDurationUs;
  const startUs = parseMicros(params.get("start"), "start");
  const endUs = parseMicros(params.get("end"), "end");
  if (startUs !== undefined) query.startUs = startUs;
  if (endUs !== undefined) query.endUs = endUs;
  if (traceIds.length > 0) query.traceIds = traceIds;
  return query;
}

/** Span start in microseconds since the epoch. */
export function startMicros(span: ReceivedSpan): number {
  return Number(BigInt(span.startTimeUnixNano) / 1000n);
}

/** An error at a glance: status ERROR, or an HTTP answer ≥ 400 (a rejected request is worth seeing too). */
export function spanIsError(span: ReceivedSpan): boolean {
  const status = Number(span.attributes["http.response.status_code"] ?? 0);
  return span.status.code === "ERROR" || status >= 400;
}

/**
 * The tag values a search can match, per span: its attributes, its resource, and the synthetic tags Jaeger derives
 * from OTLP (`span.kind`, `error`, `otel.status_code`, `otel.status_description`). Compared as strings.
 */
function tagValue(span: ReceivedSpan, key: string): string | undefined {
  if (key in span.attributes) return stringify(span.attributes[key]);
  if (key in span.resource) return stringify(span.resource[key]);
  if (key === "span.kind") return span.kind.toLowerCase();
  if (key === "error") return span.status.code === "ERROR" ? "true" : undefined;
  if (key === "otel.status_code") return span.status.code === "UNSET" ? undefined : span.status.code;
  if (key === "otel.status_description") return span.status.message;
  return undefined;
}

function stringify(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function spanMatches(span: ReceivedSpan, query: TraceQuery): boolean {
  if (query.service && span.serviceName !== query.service) return false;
  if (query.operation && span.name !== query.operation) return false;
  const start = startMicros(span);
  if (query.startUs !== undefined && start < query.startUs) return false;
  if (query.endUs !== undefined && start > query.endUs) return false;
  if ((query.durationOf ?? "span") === "span") {
    const us = durationMs(span) * 1000;
    if (query.minDurationUs !== undefined && us < query.minDurationUs) return false;
    if (query.maxDurationUs !== undefined && us > query.maxDurationUs) return false;
  }
  for (const [key, value] of Object.entries(query.tags ?? {})) {
    if (tagValue(span, key) !== value) return false;
  }
  return true;
}

export function traceMatches(trace: StoredTrace, query: TraceQuery): boolean {
  if (trace.spans.length === 0) return false;
  if (!query.includeBatch && trace.state === "batch") return false;
  if (query.errorsOnly && !trace.spans.some(spanIsError)) return false;
  if (query.durationOf === "trace") {
    const us = summarize(trace).durationMs * 1000;
    if (query.minDurationUs !== undefined && us < query.minDurationUs) return false;
    if (query.maxDurationUs !== undefined && us > query.maxDurationUs) return false;
  }
  return trace.spans.some((span) => spanMatches(span, query));
}

/** Matching traces, newest first, at most `query.limit`. Trace ids, when given, bypass every other filter. */
export function searchTraces(store: TraceStore, query: TraceQuery): StoredTrace[] {
  if (query.traceIds) {
    return query.traceIds.map((id) => store.get(id)).filter((trace): trace is StoredTrace => trace !== undefined);
  }
  const out: StoredTrace[] = [];
  for (const trace of store.list(Number.POSITIVE_INFINITY)) {
    if (traceMatches(trace, query)) out.push(trace);
    if (out.length >= query.limit) break;
  }
  return out;
}

/** Every service name in the store, sorted. */
export function listServices(store: TraceStore): string[] {
  const services = new Set<string>();
  for (const trace of store.list(Number.POSITIVE_INFINITY))
    for (const span of trace.spans) services.add(span.serviceName);
  return [...services].sort();
}

/** The span names of a service with their kinds (Jaeger's `/api/operations` shape), sorted by name. */
export function listOperations(store: TraceStore, service: string): { name: string; spanKind: string }[] {
  const seen = new Map<string, { name: string; spanKind: string }>();
  for (const trace of store.list(Number.POSITIVE_INFINITY)) {
    for (const span of trace.spans) {
      if (span.serviceName !== service) continue;
      const spanKind = span.kind.toLowerCase();
      seen.set(`${span.name}\u0000${spanKind}`, { name: span.name, spanKind });
    }
  }
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name) || a.spanKind.localeCompare(b.spanKind));
}

/** Spans in other traces whose links point into `traceId` (the other direction of a link). */
export function linksInto(
  store: TraceStore,
  traceId: string,
): { traceId: string; spanId: string; service: string; name: string; kind: string; toSpanId: string }[] {
  const out: { traceId: string; spanId: string; service: string; name: string; kind: string; toSpanId: string }[] = [];
  const id = traceId.toLowerCase();
  for (const trace of store.list(Number.POSITIVE_INFINITY)) {
    if (trace.traceId === id) continue;
    for (const span of trace.spans) {
      for (const link of span.links) {
        if (link.traceId === id) {
          out.push({
            traceId: span.traceId,
            spanId: span.spanId,
            service: span.serviceName,
            name: span.name,
            kind: span.kind,
            toSpanId: link.spanId,
          });
        }
      }
    }
  }
  return out;
}

/** The UI's summary row: the store summary plus error and batch flags. */
export function summaryRow(trace: StoredTrace): TraceSummary & { errorSpans: number; batch: boolean } {
  return { ...summarize(trace), errorSpans: trace.spans.filter(spanIsError).length, batch: trace.state === "batch" };
}
