/**
 * Stored spans → an OTLP/JSON `ExportTraceServiceRequest` (the trace view's "download OTLP JSON"): hex ids,
 * lowerCamelCase fields, enums as numbers, 64-bit integers as decimal strings — the encoding OTLP/HTTP receivers
 * accept, so the file can be replayed into any collector with
 * `curl -X POST -H 'content-type: application/json' --data @trace.json http://collector:4318/v1/traces`.
 */
import type { ReceivedSpan } from "./otlp-receiver";

type OtlpAnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number }
  | { arrayValue: { values: OtlpAnyValue[] } }
  | { kvlistValue: { values: OtlpKeyValue[] } };
interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

const KIND_NUMBERS: Record<ReceivedSpan["kind"], number> = {
  INTERNAL: 1,
  SERVER: 2,
  CLIENT: 3,
  PRODUCER: 4,
  CONSUMER: 5,
};
const STATUS_NUMBERS: Record<ReceivedSpan["status"]["code"], number> = { UNSET: 0, OK: 1, ERROR: 2 };

export function toAnyValue(value: unknown): OtlpAnyValue {
  if (typeof value === "string") return { stringValue: value };
  if (typeof value === "boolean") return { boolValue: value };
  if (typeof value === "number") return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  if (Array.isArray(value)) return { arrayValue: { values: value.map(toAnyValue) } };
  if (value && typeof value === "object")
    return { kvlistValue: { values: toKeyValues(value as Record<string, unknown>) } };
  return { stringValue: String(value) };
}

function toKeyValues(record: Record<string, unknown>): OtlpKeyValue[] {
  return Object.entries(record).map(([key, value]) => ({ key, value: toAnyValue(value) }));
}

/** Groups spans by resource and scope, as an SDK exports them. */
export function toOtlpJson(spans: readonly ReceivedSpan[]) {
  const resources = new Map<string, { resource: Record<string, unknown>; scopes: Map<string, ReceivedSpan[]> }>();
  for (const span of spans) {
    const resourceKey = JSON.stringify(span.resource);
    let entry = resources.get(resourceKey);
    if (!entry) {
      entry = { resource: span.resource, scopes: new Map() };
      resources.set(resourceKey, entry);
    }
    const scopeKey = JSON.stringify(span.scope ?? {});
    entry.scopes.set(scopeKey, [...(entry.scopes.get(scopeKey) ?? []), span]);
  }
  return {
    resourceSpans: [...resources.values()].map(({ resource, scopes }) => ({
      resource: { attributes: toKeyValues(resource) },
      scopeSpans: [...scopes.values()].map((scopeSpans) => ({
        scope: scopeSpans[0]!.scope ?? {},
        spans: scopeSpans.map((span) => ({
          traceId: span.traceId,
          spanId: span.spanId,
          ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
          name: span.name,
          kind: KIND_NUMBERS[span.kind],
          startTimeUnixNano: span.startTimeUnixNano,
          endTimeUnixNano: span.endTimeUnixNano,
          attributes: toKeyValues(span.attributes),
          events: (span.events ?? []).map((event) => ({
            timeUnixNano: event.timeUnixNano,
            name: event.name,
            attributes: toKeyValues(event.attributes),
          })),
          links: span.links.map((link) => ({
            traceId: link.traceId,
            spanId: link.spanId,
            attributes: toKeyValues(link.attributes),
          })),
          status: {
            code: STATUS_NUMBERS[span.status.code],
            ...(span.status.message ? { message: span.status.message } : {}),
          },
        })),
      })),
    })),
  };
}
