/**
 * OTLP/HTTP beside the gRPC receiver (default port 4318, OTLP's HTTP port): `POST /v1/traces` with
 * `application/x-protobuf` (binary protobuf) or `application/json` (OTLP/JSON: hex trace/span ids, lowerCamelCase
 * fields, enums as numbers, 64-bit integers as strings), optionally `content-encoding: gzip`. Decoded requests go
 * through {@link OtlpReceiver.ingest}, so they land in the same spans list, listeners, trace store and forwarder as
 * gRPC exports. Answers as the OTLP/HTTP spec says: 200 with an `ExportTraceServiceResponse` in the request's
 * encoding; 400 for a body that does not decode; 401 when the receiver requires a bearer token; 415 for another
 * content type.
 */
import http from "node:http";
import { listenHttp } from "./http-listen";
import { gunzipSync } from "node:zlib";
import { OTLP_TRACE_PROTOS, type OtlpReceiver, type PbExportTraceServiceRequest } from "./otlp-receiver";

export const OTLP_HTTP_TRACES_PATH = "/v1/traces";
/** Request bodies above this are refused with 413 (a local receiver, not a collector). */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface OtlpHttpReceiver {
  readonly port: number;
  /** `http://127.0.0.1:<port>` — what `OTEL_EXPORTER_OTLP_ENDPOINT` (http/protobuf or http/json) should be. */
  readonly endpoint: string;
  close(): Promise<void>;
}

export interface OtlpHttpOptions {
  readonly receiver: OtlpReceiver;
  /** 0 = ephemeral. @default 0 */
  readonly port?: number;
  /** @default "127.0.0.1" */
  readonly host?: string;
}

const ID_FIELDS = ["traceId", "spanId", "parentSpanId"] as const;

function hexToBytes(value: unknown, field: string): Uint8Array {
  if (typeof value !== "string" || !/^([0-9a-fA-F]{2})*$/.test(value)) {
    throw new Error(`${field} must be a hex string in OTLP/JSON, got ${JSON.stringify(value)}`);
  }
  return Buffer.from(value, "hex");
}

/**
 * OTLP/JSON → the protobufjs message. OTLP/JSON differs from plain ProtoJSON only in the ids (hex, not base64), so
 * those are converted to bytes first and protobufjs's `fromObject` does the rest (int64 strings, enum numbers/names,
 * base64 `bytesValue`).
 */
export function otlpJsonToRequest(json: unknown): PbExportTraceServiceRequest {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error("the body must be a JSON object (ExportTraceServiceRequest)");
  }
  const copy = structuredClone(json) as { resourceSpans?: unknown };
  if (copy.resourceSpans !== undefined && !Array.isArray(copy.resourceSpans)) {
    throw new Error("resourceSpans must be an array");
  }
  for (const resourceSpans of (copy.resourceSpans ?? []) as { scopeSpans?: { spans?: unknown[] }[] }[]) {
    for (const scopeSpans of resourceSpans?.scopeSpans ?? []) {
      for (const span of (scopeSpans?.spans ?? []) as Record<string, unknown>[]) {
        for (const field of ID_FIELDS) if (span[field] !== undefined) span[field] = hexToBytes(span[field], field);
        for (const link of (span.links ?? []) as Record<string, unknown>[]) {
          for (const field of ["traceId", "spanId"] as const) {
            if (link[field] !== undefined) link[field] = hexToBytes(link[field], `links[].${field}`);
          }
        }
      }
    }
  }
  return OTLP_TRACE_PROTOS.ExportTraceServiceRequest.fromObject(copy as Record<string, unknown>);
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(Object.assign(new Error(`body larger than ${MAX_BODY_BYTES} bytes`), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function startOtlpHttpReceiver(options: OtlpHttpOptions): Promise<OtlpHttpReceiver> {
  const host = options.host ?? "127.0.0.1";
  const { receiver } = options;
  const server = http.createServer((req, res) => {
    const reply = (status: number, contentType: string, body: string | Uint8Array) => {
      res.writeHead(status, { "content-type": contentType });
      res.end(body);
    };
    // Errors carry a google.rpc.Status-shaped JSON body (code 3 = INVALID_ARGUMENT, 16 = UNAUTHENTICATED).
    const fail = (status: number, code: number, message: string) =>
      reply(status, "application/json", JSON.stringify({ code, message }));
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname !== OTLP_HTTP_TRACES_PATH) return fail(404, 5, `no route for ${url.pathname}; POST /v1/traces`);
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      return fail(405, 12, "only POST is supported");
    }
    if (!receiver.authorize(req.headers.authorization)) {
      return fail(
        401,
        16,
        req.headers.authorization ? "invalid bearer token" : "missing authorization: Bearer <token>",
      );
    }
    const contentType = String(req.headers["content-type"] ?? "")
      .split(";")[0]!
      .trim()
      .toLowerCase();
    const isJson = contentType === "application/json";
    if (!isJson && contentType !== "application/x-protobuf") {
      return fail(415, 3, `unsupported content-type "${contentType}": use application/x-protobuf or application/json`);
    }
    readBody(req).then(
      (raw) => {
        let request: PbExportTraceServiceRequest;
        try {
          const body = /gzip/i.test(String(req.headers["content-encoding"] ?? "")) ? gunzipSync(raw) : raw;
          request = isJson
            ? otlpJsonToRequest(JSON.parse(body.toString("utf8")))
            : OTLP_TRACE_PROTOS.ExportTraceServiceRequest.decode(body);
        } catch (error) {
          return fail(400, 3, `cannot decode the ExportTraceServiceRequest: ${(error as Error).message}`);
        }
        const metadata: Record<string, string> = {};
        for (const [key, value] of Object.entries(req.headers)) if (typeof value === "string") metadata[key] = value;
        receiver.ingest(request, metadata);
        if (isJson) return reply(200, "application/json", "{}");
        return reply(200, "application/x-protobuf", OTLP_TRACE_PROTOS.ExportTraceServiceResponse.encode({}).finish());
      },
      (error: Error & { status?: number }) => {
        if (!res.headersSent) fail(error.status ?? 400, 3, error.message);
      },
    );
  });
  const listening = await listenHttp(server, options.port ?? 0, host);
  return { port: listening.port, endpoint: listening.url, close: listening.close };
}
