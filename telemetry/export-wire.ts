/**
 * gRPC framing and the few protobuf bytes the OTLP exporter must read without a protobuf library: the 5-byte
 * length prefix of a gRPC message (gRPC "Length-Prefixed-Message": 1 byte compressed flag + 4 bytes big-endian
 * length, PROTOCOL-HTTP2.md) and a field walker over protobuf's wire format (varint / fixed64 / length-delimited /
 * fixed32), enough for `google.rpc.Status` → `RetryInfo` in `grpc-status-details-bin`.
 */
import type * as Zlib from "node:zlib";

/** Loaded on first use: most deployments never compress, and every module loaded counts in a Lambda cold start. */
const zlib = (): typeof Zlib => process.getBuiltinModule("node:zlib");

export type GrpcCompression = "none" | "gzip";

/** One gRPC message: flag byte (1 = compressed with the call's `grpc-encoding`), length, payload. */
export function frameGrpcMessage(payload: Uint8Array, compression: GrpcCompression): Buffer {
  const body = compression === "gzip" ? zlib().gzipSync(payload) : payload;
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame[0] = compression === "gzip" ? 1 : 0;
  frame.writeUInt32BE(body.length, 1);
  frame.set(body, 5);
  return frame;
}

/** The first gRPC message of a response body (unary: there is at most one); undefined when there is none. */
export function unframeGrpcMessage(body: Buffer, encoding: string | undefined): Uint8Array | undefined {
  if (body.length < 5) return undefined;
  const length = body.readUInt32BE(1);
  if (body.length < 5 + length) throw new Error(`gRPC message truncated (${body.length - 5} of ${length} bytes)`);
  const payload = body.subarray(5, 5 + length);
  if (body[0] === 0) return payload;
  if (encoding !== "gzip") throw new Error(`gRPC message compressed with unsupported encoding "${encoding ?? ""}"`);
  return zlib().gunzipSync(payload);
}

export interface ProtoField {
  readonly field: number;
  /** varint / fixed values as bigint; length-delimited ones as bytes. */
  readonly value: bigint | Uint8Array;
}

function readVarint(bytes: Uint8Array, start: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = start; i < bytes.length && shift < 70n; i++) {
    result |= BigInt(bytes[i] & 0x7f) << shift;
    if ((bytes[i] & 0x80) === 0) return [result, i + 1];
    shift += 7n;
  }
  throw new Error("malformed protobuf varint");
}

/** The top-level fields of one protobuf message, in order. Throws on malformed input. */
export function readProtoFields(bytes: Uint8Array): ProtoField[] {
  const fields: ProtoField[] = [];
  let at = 0;
  while (at < bytes.length) {
    const [key, afterKey] = readVarint(bytes, at);
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    at = afterKey;
    if (wireType === 0) {
      const [value, next] = readVarint(bytes, at);
      fields.push({ field, value });
      at = next;
    } else if (wireType === 2) {
      const [length, next] = readVarint(bytes, at);
      const end = next + Number(length);
      if (end > bytes.length) throw new Error("malformed protobuf: length past the end");
      fields.push({ field, value: bytes.subarray(next, end) });
      at = end;
    } else if (wireType === 1 || wireType === 5) {
      const size = wireType === 1 ? 8 : 4;
      if (at + size > bytes.length) throw new Error("malformed protobuf: fixed value past the end");
      let value = 0n;
      for (let i = size - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[at + i]);
      fields.push({ field, value });
      at += size;
    } else {
      throw new Error(`malformed protobuf: wire type ${wireType}`);
    }
  }
  return fields;
}

const RETRY_INFO_TYPE_URL = "type.googleapis.com/google.rpc.RetryInfo";

/**
 * The `RetryInfo.retry_delay` carried in a `grpc-status-details-bin` trailer (base64 of `google.rpc.Status`, whose
 * field 3 holds `Any` details), in milliseconds; undefined when absent or unreadable. The OTLP spec makes
 * RESOURCE_EXHAUSTED retryable only when the server sends this.
 */
export function retryDelayFromStatusDetails(detailsBase64: string | undefined): number | undefined {
  if (!detailsBase64) return undefined;
  try {
    const status = readProtoFields(Buffer.from(detailsBase64, "base64"));
    for (const detail of status.filter((f) => f.field === 3 && f.value instanceof Uint8Array)) {
      const any = readProtoFields(detail.value as Uint8Array);
      const typeUrl = any.find((f) => f.field === 1)?.value;
      const value = any.find((f) => f.field === 2)?.value;
      if (!(typeUrl instanceof Uint8Array) || Buffer.from(typeUrl).toString("utf8") !== RETRY_INFO_TYPE_URL) continue;
      if (!(value instanceof Uint8Array)) return 0;
      const delay = readProtoFields(value).find((f) => f.field === 1)?.value;
      if (!(delay instanceof Uint8Array)) return 0;
      const duration = readProtoFields(delay);
      const seconds = Number(duration.find((f) => f.field === 1)?.value ?? 0n);
      const nanos = Number(duration.find((f) => f.field === 2)?.value ?? 0n);
      return Math.max(0, seconds * 1000 + nanos / 1e6);
    }
  } catch {
    // An unreadable detail is the same as none: RESOURCE_EXHAUSTED stays non-retryable.
  }
  return undefined;
}
