/**
 * A real OTLP/gRPC trace receiver on loopback: serves
 * `/opentelemetry.proto.collector.trace.v1.TraceService/Export` with `@grpc/grpc-js`, decodes the request with
 * protobufjs from the official OTLP `.proto` definitions (vendored from opentelemetry-proto, see
 * `local/proto/README.md`), and keeps every span in memory as a {@link ReceivedSpan} (hex ids, kind/status names,
 * flattened attribute values).
 *
 * Used by the local stack (`npm start`), the runtime tests and the bench. Optionally requires
 * `authorization: Bearer <token>` so the Coralogix auth path can be exercised end to end.
 */
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protobuf from "protobufjs";

export type SpanKindName = "INTERNAL" | "SERVER" | "CLIENT" | "PRODUCER" | "CONSUMER";
export type StatusCodeName = "UNSET" | "OK" | "ERROR";

/** An OTLP span event (`Span.events`), e.g. a recorded exception. */
export interface ReceivedSpanEvent {
  name: string;
  /** Decimal string (nanoseconds since the epoch). */
  timeUnixNano: string;
  attributes: Record<string, unknown>;
}

export interface ReceivedSpan {
  /** Lowercase hex. */
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: SpanKindName;
  serviceName: string;
  resource: Record<string, unknown>;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string; attributes: Record<string, unknown> }[];
  status: { code: StatusCodeName; message?: string };
  /** Decimal strings (nanoseconds since the epoch). */
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  /** Span events (recorded exceptions, logs), in the order sent. Always set by the decoder. */
  events?: ReceivedSpanEvent[];
  /** The instrumentation scope that produced the span. */
  scope?: { name: string; version?: string };
}

export interface OtlpReceiver {
  readonly port: number;
  /** `http://127.0.0.1:<port>` — what `OTEL_EXPORTER_OTLP_ENDPOINT` should be set to. */
  readonly endpoint: string;
  /** The most recent spans received (at most `keep`), in order. */
  readonly spans: ReceivedSpan[];
  /** One entry per accepted Export call (the most recent `keep`). */
  readonly requests: { metadata: Record<string, string>; spanCount: number }[];
  onSpans(listener: (spans: ReceivedSpan[]) => void): void;
  /** Called with every accepted export request as decoded (gRPC or {@link OtlpReceiver.ingest}), e.g. to forward it. */
  onExport(listener: (request: PbExportTraceServiceRequest, metadata: Record<string, string>) => void): void;
  /**
   * Accepts an already decoded export request from another transport (OTLP/HTTP, local/otlp-http.ts) exactly as a
   * gRPC Export: spans kept, requests counted, listeners called. Authentication is the caller's job.
   */
  ingest(request: PbExportTraceServiceRequest, metadata?: Record<string, string>): ReceivedSpan[];
  /** Whether `authorization` satisfies the receiver's required bearer token (always true when none is required). */
  authorize(authorization: string | undefined): boolean;
  close(): Promise<void>;
}

export interface OtlpReceiverOptions {
  /** 0 = ephemeral. @default 0 */
  port?: number;
  /** @default "127.0.0.1" */
  host?: string;
  /** When set, an Export without `authorization: Bearer <token>` fails with gRPC status UNAUTHENTICATED. */
  requiredBearerToken?: string;
  /**
   * How many of the latest spans (and Export calls) `spans` (and `requests`) keep; older ones are dropped, so a
   * long-running receiver stays bounded. `onSpans` listeners see everything. @default 10000
   */
  keep?: number;
}

export const TRACE_EXPORT_PATH = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

// ---- decoded protobuf shapes (subset of opentelemetry/proto/*.proto that this receiver reads) ----

interface LongLike {
  toString(): string;
}
interface PbAnyValue {
  stringValue?: string | null;
  boolValue?: boolean | null;
  intValue?: number | LongLike | null;
  doubleValue?: number | null;
  arrayValue?: { values?: PbAnyValue[] | null } | null;
  kvlistValue?: { values?: PbKeyValue[] | null } | null;
  bytesValue?: Uint8Array | null;
}
interface PbKeyValue {
  key?: string | null;
  value?: PbAnyValue | null;
}
interface PbSpan {
  traceId?: Uint8Array | null;
  spanId?: Uint8Array | null;
  parentSpanId?: Uint8Array | null;
  name?: string | null;
  kind?: number | null;
  startTimeUnixNano?: number | LongLike | null;
  endTimeUnixNano?: number | LongLike | null;
  attributes?: PbKeyValue[] | null;
  links?: { traceId?: Uint8Array | null; spanId?: Uint8Array | null; attributes?: PbKeyValue[] | null }[] | null;
  status?: { code?: number | null; message?: string | null } | null;
  events?: { timeUnixNano?: number | LongLike | null; name?: string | null; attributes?: PbKeyValue[] | null }[] | null;
}
export interface PbExportTraceServiceRequest {
  resourceSpans?: {
    resource?: { attributes?: PbKeyValue[] | null } | null;
    scopeSpans?: { scope?: { name?: string | null; version?: string | null } | null; spans?: PbSpan[] | null }[] | null;
  }[];
}
export interface PbMessageType<T> {
  decode(reader: Uint8Array): T;
  encode(message: T): { finish(): Uint8Array };
  /** protobufjs: plain object (ProtoJSON-like, int64 as string/number, enums as names or numbers) → message. */
  fromObject(object: Record<string, unknown>): T;
}

/** Where the vendored opentelemetry-proto tree lives (its root holds `opentelemetry/proto/...`). */
export const OTLP_PROTO_ROOT = path.join(__dirname, "proto");

/**
 * The OTLP trace service messages, parsed from the official `.proto` files once per process. protobufjs generates
 * the decoder/encoder of each type on first use (reflection + codegen, no build step). int64/fixed64 fields decode
 * as `Long` (protobufjs depends on `long`), which {@link longToString} handles.
 */
export function loadOtlpTraceProtos(): {
  ExportTraceServiceRequest: PbMessageType<PbExportTraceServiceRequest>;
  ExportTraceServiceResponse: PbMessageType<object>;
} {
  const root = new protobuf.Root();
  // Imports are written relative to the proto root (`import "opentelemetry/proto/common/v1/common.proto"`).
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(OTLP_PROTO_ROOT, target));
  root.loadSync("opentelemetry/proto/collector/trace/v1/trace_service.proto", { keepCase: false });
  root.resolveAll();
  const service = "opentelemetry.proto.collector.trace.v1";
  return {
    ExportTraceServiceRequest: root.lookupType(
      `${service}.ExportTraceServiceRequest`,
    ) as unknown as PbMessageType<PbExportTraceServiceRequest>,
    ExportTraceServiceResponse: root.lookupType(
      `${service}.ExportTraceServiceResponse`,
    ) as unknown as PbMessageType<object>,
  };
}

const proto = loadOtlpTraceProtos();

/** The parsed OTLP trace service messages this module uses (shared with the OTLP/HTTP listener and forwarder). */
export const OTLP_TRACE_PROTOS = proto;

const KIND_NAMES: Record<number, SpanKindName> = {
  1: "INTERNAL",
  2: "SERVER",
  3: "CLIENT",
  4: "PRODUCER",
  5: "CONSUMER",
};
const STATUS_NAMES: Record<number, StatusCodeName> = { 0: "UNSET", 1: "OK", 2: "ERROR" };

/** Bytes field → lowercase hex. An absent field decodes to protobufjs's shared empty default (a plain `[]`). */
function hex(bytes: Uint8Array | null | undefined): string {
  if (!bytes || bytes.length === 0) return "";
  return bytes instanceof Uint8Array
    ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")
    : Buffer.from(bytes).toString("hex");
}

function longToString(value: number | LongLike | null | undefined): string {
  return value === null || value === undefined ? "0" : value.toString();
}

const ANY_VALUE_FIELDS = [
  "stringValue",
  "boolValue",
  "intValue",
  "doubleValue",
  "arrayValue",
  "kvlistValue",
  "bytesValue",
] as const;

/**
 * Which member of AnyValue's `value` oneof is set. Decoded protobufjs messages keep defaults (`""`, `false`, `0`)
 * on the prototype and only the fields on the wire as own properties, so own-ness tells a real `""`/`false`/`0`
 * from an absent field.
 */
function anyValueField(value: PbAnyValue): (typeof ANY_VALUE_FIELDS)[number] | undefined {
  return ANY_VALUE_FIELDS.find(
    (field) => Object.hasOwn(value, field) && value[field] !== null && value[field] !== undefined,
  );
}

/** Flattens an OTLP AnyValue into the plain JS value the SDK was given. int64 values outside ±2^53 stay strings. */
export function anyValueToJs(value: PbAnyValue | null | undefined): unknown {
  if (!value) return undefined;
  switch (anyValueField(value)) {
    case "stringValue":
      return value.stringValue;
    case "boolValue":
      return value.boolValue;
    case "intValue": {
      const intValue = value.intValue!;
      if (typeof intValue === "number") return intValue;
      const asString = intValue.toString();
      const asNumber = Number(asString);
      return Number.isSafeInteger(asNumber) ? asNumber : asString;
    }
    case "doubleValue":
      return value.doubleValue;
    case "arrayValue":
      return (value.arrayValue!.values ?? []).map(anyValueToJs);
    case "kvlistValue":
      return keyValuesToRecord(value.kvlistValue!.values);
    case "bytesValue":
      return Buffer.from(value.bytesValue!).toString("base64");
    default:
      return undefined;
  }
}

function keyValuesToRecord(values: PbKeyValue[] | null | undefined): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const kv of values ?? []) {
    if (kv.key) record[kv.key] = anyValueToJs(kv.value);
  }
  return record;
}

/** Converts one decoded ExportTraceServiceRequest into {@link ReceivedSpan}s. */
export function toReceivedSpans(request: PbExportTraceServiceRequest): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    const resource = keyValuesToRecord(resourceSpans.resource?.attributes);
    const serviceName = typeof resource["service.name"] === "string" ? resource["service.name"] : "unknown_service";
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      const scopeName = scopeSpans.scope?.name ?? "";
      const scopeVersion = scopeSpans.scope?.version ?? "";
      for (const span of scopeSpans.spans ?? []) {
        const parentSpanId = hex(span.parentSpanId);
        const statusMessage = span.status?.message;
        out.push({
          traceId: hex(span.traceId),
          spanId: hex(span.spanId),
          ...(parentSpanId ? { parentSpanId } : {}),
          name: span.name ?? "",
          kind: KIND_NAMES[span.kind ?? 1] ?? "INTERNAL",
          serviceName,
          resource,
          attributes: keyValuesToRecord(span.attributes),
          links: (span.links ?? []).map((link) => ({
            traceId: hex(link.traceId),
            spanId: hex(link.spanId),
            attributes: keyValuesToRecord(link.attributes),
          })),
          status: {
            code: STATUS_NAMES[span.status?.code ?? 0] ?? "UNSET",
            ...(statusMessage ? { message: statusMessage } : {}),
          },
          startTimeUnixNano: longToString(span.startTimeUnixNano),
          endTimeUnixNano: longToString(span.endTimeUnixNano),
          events: (span.events ?? []).map((event) => ({
            name: event.name ?? "",
            timeUnixNano: longToString(event.timeUnixNano),
            attributes: keyValuesToRecord(event.attributes),
          })),
          ...(scopeName ? { scope: { name: scopeName, ...(scopeVersion ? { version: scopeVersion } : {}) } } : {}),
        });
      }
    }
  }
  return out;
}

function metadataToRecord(metadata: grpc.Metadata): Record<string, string> {
  const record: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata.getMap())) {
    record[key] = typeof value === "string" ? value : value.toString("base64");
  }
  return record;
}

export const traceServiceDefinition: grpc.ServiceDefinition = {
  Export: {
    path: TRACE_EXPORT_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: (message: PbExportTraceServiceRequest) =>
      Buffer.from(proto.ExportTraceServiceRequest.encode(message).finish()),
    requestDeserialize: (bytes: Buffer) => proto.ExportTraceServiceRequest.decode(bytes),
    responseSerialize: (message: object) => Buffer.from(proto.ExportTraceServiceResponse.encode(message).finish()),
    responseDeserialize: (bytes: Buffer) => proto.ExportTraceServiceResponse.decode(bytes),
  },
};

/** Starts the receiver; resolves once it is listening. */
export async function startOtlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const host = options.host ?? "127.0.0.1";
  const keep = options.keep ?? 10_000;
  const spans: ReceivedSpan[] = [];
  const requests: { metadata: Record<string, string>; spanCount: number }[] = [];
  const listeners: ((spans: ReceivedSpan[]) => void)[] = [];
  const exportListeners: ((request: PbExportTraceServiceRequest, metadata: Record<string, string>) => void)[] = [];
  const expectedAuthorization =
    options.requiredBearerToken !== undefined ? `Bearer ${options.requiredBearerToken}` : undefined;

  const server = new grpc.Server();
  server.addService(traceServiceDefinition, {
    Export: (call: grpc.ServerUnaryCall<PbExportTraceServiceRequest, object>, callback: grpc.sendUnaryData<object>) => {
      const metadata = metadataToRecord(call.metadata);
      if (expectedAuthorization !== undefined && metadata["authorization"] !== expectedAuthorization) {
        callback({
          code: grpc.status.UNAUTHENTICATED,
          details: metadata["authorization"] ? "invalid bearer token" : "missing authorization: Bearer <token>",
        });
        return;
      }
      const received = toReceivedSpans(call.request);
      for (const span of received) spans.push(span);
      if (spans.length > keep) spans.splice(0, spans.length - keep);
      requests.push({ metadata, spanCount: received.length });
      if (requests.length > keep) requests.splice(0, requests.length - keep);
      callback(null, {});
      notify(call.request, metadata, received);
    },
  });

  function notify(request: PbExportTraceServiceRequest, metadata: Record<string, string>, received: ReceivedSpan[]) {
    for (const listener of exportListeners) {
      try {
        listener(request, metadata);
      } catch {
        // A listener's bug must not break the export path.
      }
    }
    for (const listener of listeners) {
      try {
        listener(received);
      } catch {
        // A listener's bug must not break the export path.
      }
    }
  }

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (error, boundPort) =>
      error ? reject(error) : resolve(boundPort),
    );
  });

  let closed: Promise<void> | undefined;
  return {
    port,
    endpoint: `http://${host}:${port}`,
    spans,
    requests,
    onSpans(listener) {
      listeners.push(listener);
    },
    onExport(listener) {
      exportListeners.push(listener);
    },
    ingest(request, metadata = {}) {
      const received = toReceivedSpans(request);
      spans.push(...received);
      requests.push({ metadata, spanCount: received.length });
      notify(request, metadata, received);
      return received;
    },
    authorize(authorization) {
      return expectedAuthorization === undefined || authorization === expectedAuthorization;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        // Give in-flight exports a moment, then cut the rest so close() never hangs.
        const timer = setTimeout(() => server.forceShutdown(), 1000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closed;
    },
  };
}
