/**
 * Cheap upper bounds of a span's size in an OTLP `ExportTraceServiceRequest`, so a batch can be split by bytes
 * without encoding it twice. The layout follows `@opentelemetry/otlp-transformer`'s protobuf serializer
 * (`trace/protobuf/trace-serializer` and `common/protobuf/common-serializer`: every span, event, link, KeyValue and
 * AnyValue is a length-delimited field; times are fixed64; counts and codes varints). Every field is charged its
 * worst case (a 2-byte tag, a 5-byte length, a 10-byte varint), so the bound is safe and at most a few dozen bytes
 * per field above the real size; `test/telemetry-sizing/span-size.test.ts` checks it against the real serializer.
 */
import type { Attributes, AttributeValue, Link } from "@opentelemetry/api";
import type { InstrumentationScope } from "@opentelemetry/core";
import type { Resource } from "@opentelemetry/resources";
import type { ReadableSpan, TimedEvent } from "@opentelemetry/sdk-trace";

/** Tag (≤ 2 bytes: field numbers ≤ 16 here) + length prefix (≤ 5 bytes) of a length-delimited field. */
const DELIMITED = 7;
/** Tag + the longest varint (10 bytes). */
const VARINT = 12;
/** Tag + 8 bytes. */
const FIXED64 = 10;
/** Tag + 4 bytes. */
const FIXED32 = 6;

/** How many bytes a string takes in the request: exactly, or bounded without looking at it. */
export type StringBytes = (text: string) => number;
/** Exact UTF-8 length, what the serializer writes (~170 ns per short string on the bench machine). */
export const utf8Bytes: StringBytes = (text) => Buffer.byteLength(text, "utf8");
/** A UTF-16 code unit is at most 3 UTF-8 bytes (a surrogate pair, 2 units, is 4): ~8× cheaper, up to 3× high. */
export const quickStringBytes: StringBytes = (text) => 3 * text.length;

const text = (value: string | undefined, m: StringBytes): number => (value ? DELIMITED + m(value) : 0);

function anyValueBytes(value: unknown, m: StringBytes): number {
  if (typeof value === "string") return DELIMITED + m(value);
  if (typeof value === "boolean" || typeof value === "number") return VARINT;
  if (value instanceof Uint8Array) return DELIMITED + value.length;
  if (Array.isArray(value)) {
    let bytes = DELIMITED;
    for (const item of value as unknown[]) bytes += DELIMITED + anyValueBytes(item, m);
    return bytes;
  }
  if (value !== null && typeof value === "object") {
    let bytes = DELIMITED;
    for (const [key, item] of Object.entries(value)) {
      bytes += DELIMITED + text(key, m) + DELIMITED + anyValueBytes(item, m);
    }
    return bytes;
  }
  return 0; // null/undefined: an empty AnyValue, already charged by its enclosing field
}

function attributesBytes(attributes: Attributes | undefined, m: StringBytes): number {
  let bytes = 0;
  if (!attributes) return bytes;
  for (const key in attributes) {
    if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
    bytes += DELIMITED + DELIMITED + m(key) + DELIMITED + anyValueBytes(attributes[key] as AttributeValue, m);
  }
  return bytes;
}

function eventBytes(event: TimedEvent, m: StringBytes): number {
  return DELIMITED + FIXED64 + text(event.name, m) + attributesBytes(event.attributes, m) + VARINT;
}

function linkBytes(link: Link, m: StringBytes): number {
  const traceState = link.context.traceState?.serialize();
  return (
    DELIMITED +
    (DELIMITED + 16) +
    (DELIMITED + 8) +
    text(traceState, m) +
    attributesBytes(link.attributes, m) +
    VARINT +
    FIXED32
  );
}

/**
 * Upper bound of one span's bytes inside its ScopeSpans (the span's own tag and length included); strings are
 * measured by `m` (exactly by default).
 */
export function spanBytesUpperBound(span: ReadableSpan, m: StringBytes = utf8Bytes): number {
  let bytes =
    DELIMITED + // the span field itself
    (DELIMITED + 16) + // trace_id
    (DELIMITED + 8) + // span_id
    text(span.spanContext().traceState?.serialize(), m) +
    (DELIMITED + 8) + // parent_span_id
    text(span.name, m) +
    VARINT + // kind
    2 * FIXED64 + // start, end
    attributesBytes(span.attributes, m) +
    3 * VARINT + // dropped attribute/event/link counts
    (DELIMITED + text(span.status.message, m) + VARINT) + // status
    FIXED32; // flags
  for (const event of span.events) bytes += eventBytes(event, m);
  for (const link of span.links) bytes += linkBytes(link, m);
  return bytes;
}

/** The serializer also writes scope attributes, which the API lets a tracer carry though the core type omits them. */
const scopeAttributes = (scope: InstrumentationScope): Attributes | undefined =>
  (scope as { attributes?: Attributes }).attributes;

/** Upper bound of one ResourceSpans + ScopeSpans envelope (everything of a request but its spans). */
export function envelopeBytesUpperBound(resource: Resource, scope: InstrumentationScope): number {
  const m = utf8Bytes;
  return (
    DELIMITED + // ResourceSpans
    (DELIMITED + attributesBytes(resource.attributes, m) + VARINT) + // Resource
    text(resource.schemaUrl, m) +
    DELIMITED + // ScopeSpans
    (DELIMITED + text(scope.name, m) + text(scope.version, m) + attributesBytes(scopeAttributes(scope), m) + VARINT) +
    text(scope.schemaUrl, m)
  );
}
