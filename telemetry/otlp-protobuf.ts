/**
 * A compact OTLP/protobuf encoder for `ExportTraceServiceRequest` (opentelemetry/proto/collector/trace/v1), so the
 * Lambda bundle needs neither protobufjs nor gRPC code generation. Field numbers follow
 * https://github.com/open-telemetry/opentelemetry-proto/blob/main/opentelemetry/proto/trace/v1/trace.proto and
 * mirror `@opentelemetry/otlp-transformer`'s hand-written serializer. Verified by decoding with the generated
 * protobufjs code in the local OTLP receiver (test/runtime/lambda.test.ts, otlp-exporter.test.ts).
 */
import type { Attributes, AttributeValue, HrTime, Link, SpanContext } from "@opentelemetry/api";
import type { ReadableSpan, TimedEvent } from "@opentelemetry/sdk-trace-base";

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/** Append-only protobuf writer; nested messages are encoded bottom-up and framed by the parent. */
class Writer {
  private readonly parts: Uint8Array[] = [];
  length = 0;

  private push(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.length += bytes.length;
  }

  varint(value: number): void {
    // Non-negative values below 2^53 (lengths, counts, enums, tags).
    const bytes: number[] = [];
    let v = value;
    while (v > 0x7f) {
      bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    bytes.push(v);
    this.push(Uint8Array.from(bytes));
  }

  varint64(value: bigint): void {
    let v = BigInt.asUintN(64, value);
    const bytes: number[] = [];
    while (v > 0x7fn) {
      bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    bytes.push(Number(v));
    this.push(Uint8Array.from(bytes));
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  bytesField(field: number, bytes: Uint8Array): void {
    this.tag(field, WIRE_LEN);
    this.varint(bytes.length);
    this.push(bytes);
  }

  stringField(field: number, value: string | undefined, always = false): void {
    if (!value && !always) return;
    this.bytesField(field, Buffer.from(value ?? "", "utf8"));
  }

  uintField(field: number, value: number | undefined): void {
    if (!value) return;
    this.tag(field, WIRE_VARINT);
    this.varint(value);
  }

  fixed64Field(field: number, value: bigint): void {
    this.tag(field, WIRE_FIXED64);
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, value));
    this.push(b);
  }

  fixed32Field(field: number, value: number): void {
    this.tag(field, WIRE_FIXED32);
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(value >>> 0);
    this.push(b);
  }

  doubleField(field: number, value: number): void {
    this.tag(field, WIRE_FIXED64);
    const b = Buffer.allocUnsafe(8);
    b.writeDoubleLE(value);
    this.push(b);
  }

  messageField(field: number, message: Writer): void {
    this.tag(field, WIRE_LEN);
    this.varint(message.length);
    for (const part of message.parts) this.push(part);
  }

  finish(): Uint8Array {
    return Buffer.concat(this.parts, this.length);
  }
}

function hrTimeToNanos(time: HrTime): bigint {
  return BigInt(time[0]) * 1_000_000_000n + BigInt(time[1]);
}

function hex(id: string): Uint8Array {
  return Buffer.from(id, "hex");
}

/** AnyValue: string_value=1, bool_value=2, int_value=3, double_value=4, array_value=5 (ArrayValue.values=1), bytes=7. */
function anyValue(value: AttributeValue | Uint8Array | null | undefined): Writer {
  const w = new Writer();
  if (typeof value === "string") w.stringField(1, value, true);
  else if (typeof value === "boolean") {
    w.tag(2, WIRE_VARINT);
    w.varint(value ? 1 : 0);
  } else if (typeof value === "number") {
    if (Number.isInteger(value) && Number.isSafeInteger(value)) {
      w.tag(3, WIRE_VARINT);
      w.varint64(BigInt(value));
    } else w.doubleField(4, value);
  } else if (value instanceof Uint8Array) w.bytesField(7, value);
  else if (Array.isArray(value)) {
    const array = new Writer();
    for (const item of value as unknown[]) array.messageField(1, anyValue(item as AttributeValue));
    w.messageField(5, array);
  }
  return w;
}

/** Repeated KeyValue (key=1, value=2). */
function writeAttributes(w: Writer, field: number, attributes: Attributes | undefined): void {
  if (!attributes) return;
  for (const key of Object.keys(attributes)) {
    const value = attributes[key];
    if (value === undefined) continue;
    const kv = new Writer();
    kv.stringField(1, key, true);
    kv.messageField(2, anyValue(value));
    w.messageField(field, kv);
  }
}

// Span.flags / Link.flags: low 8 bits = W3C trace flags; bit 8 = "has is_remote", bit 9 = is_remote.
function spanFlags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | 0x100 | (isRemote ? 0x200 : 0);
}

function encodeEvent(event: TimedEvent): Writer {
  const w = new Writer();
  w.fixed64Field(1, hrTimeToNanos(event.time));
  w.stringField(2, event.name, true);
  writeAttributes(w, 3, event.attributes);
  w.uintField(4, event.droppedAttributesCount);
  return w;
}

function encodeLink(link: Link & { droppedAttributesCount?: number }): Writer {
  const w = new Writer();
  const ctx: SpanContext = link.context;
  w.bytesField(1, hex(ctx.traceId));
  w.bytesField(2, hex(ctx.spanId));
  w.stringField(3, ctx.traceState?.serialize());
  writeAttributes(w, 4, link.attributes);
  w.uintField(5, link.droppedAttributesCount);
  w.fixed32Field(6, spanFlags(ctx.traceFlags, ctx.isRemote));
  return w;
}

function encodeSpan(span: ReadableSpan): Writer {
  const w = new Writer();
  const ctx = span.spanContext();
  w.bytesField(1, hex(ctx.traceId));
  w.bytesField(2, hex(ctx.spanId));
  w.stringField(3, ctx.traceState?.serialize());
  if (span.parentSpanContext?.spanId) w.bytesField(4, hex(span.parentSpanContext.spanId));
  w.stringField(5, span.name, true);
  w.uintField(6, span.kind + 1); // OTLP reserves 0 for UNSPECIFIED
  w.fixed64Field(7, hrTimeToNanos(span.startTime));
  w.fixed64Field(8, hrTimeToNanos(span.endTime));
  writeAttributes(w, 9, span.attributes);
  w.uintField(10, span.droppedAttributesCount);
  for (const event of span.events) w.messageField(11, encodeEvent(event));
  w.uintField(12, span.droppedEventsCount);
  for (const link of span.links) w.messageField(13, encodeLink(link));
  w.uintField(14, span.droppedLinksCount);
  const status = new Writer();
  status.stringField(2, span.status.message);
  status.uintField(3, span.status.code);
  w.messageField(15, status);
  w.fixed32Field(16, spanFlags(ctx.traceFlags, span.parentSpanContext?.isRemote));
  return w;
}

/** Serialises spans into an `ExportTraceServiceRequest`, grouped by resource and instrumentation scope. */
export function encodeTraceExportRequest(spans: readonly ReadableSpan[]): Uint8Array {
  const byResource = new Map<ReadableSpan["resource"], Map<string, ReadableSpan[]>>();
  for (const span of spans) {
    let scopes = byResource.get(span.resource);
    if (!scopes) byResource.set(span.resource, (scopes = new Map()));
    const scope = span.instrumentationScope;
    const key = `${scope.name}\u0000${scope.version ?? ""}\u0000${scope.schemaUrl ?? ""}`;
    let list = scopes.get(key);
    if (!list) scopes.set(key, (list = []));
    list.push(span);
  }
  const request = new Writer();
  for (const [resource, scopes] of byResource) {
    const resourceSpans = new Writer();
    const res = new Writer();
    writeAttributes(res, 1, resource.attributes);
    resourceSpans.messageField(1, res);
    for (const list of scopes.values()) {
      const scope = list[0].instrumentationScope;
      const scopeSpans = new Writer();
      const scopeMsg = new Writer();
      scopeMsg.stringField(1, scope.name);
      scopeMsg.stringField(2, scope.version);
      scopeSpans.messageField(1, scopeMsg);
      for (const span of list) scopeSpans.messageField(2, encodeSpan(span));
      scopeSpans.stringField(3, scope.schemaUrl);
      resourceSpans.messageField(2, scopeSpans);
    }
    resourceSpans.stringField(3, resource.schemaUrl);
    request.messageField(1, resourceSpans);
  }
  return request.finish();
}
