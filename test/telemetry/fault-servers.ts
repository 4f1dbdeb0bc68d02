/**
 * Real misbehaving OTLP/gRPC servers on loopback for the exporter fault suite: a node:http2 server whose answer to
 * each Export call is scripted (OK, REFUSED_STREAM, GOAWAY, trailers-only gRPC status, bare HTTP status, delay,
 * silence), and a TCP proxy that treats idle connections the way a NAT or load balancer does after a Lambda freeze
 * (RST on the next packet, or silently swallow it). Spans are counted from the decoded requests the server accepted.
 */
import { once } from "node:events";
import {
  constants,
  createServer as createHttp2Server,
  type Http2Server,
  type Http2Session,
  type ServerHttp2Stream,
} from "node:http2";
import { createConnection, createServer as createTcpServer, type Server, type Socket } from "node:net";
import { readProtoFields, unframeGrpcMessage } from "../../telemetry/export-wire";

/** What the server does with one Export call. */
export type Answer =
  | { readonly kind: "ok"; readonly delayMillis?: number; readonly responseMessage?: Uint8Array }
  | { readonly kind: "refuse" } // RST_STREAM(REFUSED_STREAM)
  | { readonly kind: "goaway" } // GOAWAY(NO_ERROR, last stream = the previous one), this stream refused
  | {
      readonly kind: "grpc-status";
      readonly code: number;
      readonly message?: string;
      readonly detailsBin?: string;
    } // trailers-only
  | { readonly kind: "http"; readonly status: number }
  | { readonly kind: "hang" }; // read the request, never answer

export interface CallInfo {
  /** 0-based over the server's lifetime. */
  readonly call: number;
  /** 0-based over the server's connections. */
  readonly session: number;
  readonly headers: Record<string, string | string[] | undefined>;
}

export interface FaultServer {
  readonly port: number;
  readonly endpoint: string;
  /** Distinct spans (trace id + span id) in the Export calls answered OK: what was delivered. */
  spansAccepted(): number;
  /** Extra copies of spans already accepted (a batch resent after its answer was lost). */
  duplicatesAccepted(): number;
  calls(): CallInfo[];
  sessions(): number;
  close(): Promise<void>;
}

/** Ids (trace id + span id, hex) of the spans in one ExportTraceServiceRequest: resource_spans(1) → scope_spans(2) → spans(2). */
export function spanIds(request: Uint8Array): string[] {
  const ids: string[] = [];
  for (const resource of readProtoFields(request).filter((f) => f.field === 1)) {
    for (const scope of readProtoFields(resource.value as Uint8Array).filter((f) => f.field === 2)) {
      for (const span of readProtoFields(scope.value as Uint8Array).filter((f) => f.field === 2)) {
        const fields = readProtoFields(span.value as Uint8Array);
        const hex = (n: number) => Buffer.from(fields.find((f) => f.field === n)?.value as Uint8Array).toString("hex");
        ids.push(`${hex(1)}/${hex(2)}`);
      }
    }
  }
  return ids;
}

export interface FaultServerOptions {
  readonly answer: (info: CallInfo) => Answer;
  /** Send GOAWAY(NO_ERROR, 0) as soon as these connections (0-based) open: "GOAWAY before a stream". */
  readonly goawayOnConnect?: (session: number) => boolean;
  /** Listen on this port (a server that comes back where it was). */
  readonly port?: number;
}

export async function startFaultServer(options: FaultServerOptions): Promise<FaultServer> {
  const accepted = new Set<string>();
  let copies = 0;
  let sessionCount = 0;
  const calls: CallInfo[] = [];
  const sessions = new Set<Http2Session>();
  const sessionIndex = new WeakMap<Http2Session, number>();
  const server: Http2Server = createHttp2Server();
  server.on("session", (session) => {
    const index = sessionCount++;
    sessionIndex.set(session, index);
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
    session.on("error", () => undefined);
    if (options.goawayOnConnect?.(index)) session.goaway(constants.NGHTTP2_NO_ERROR, 0);
  });
  server.on("stream", (stream: ServerHttp2Stream, headers) => {
    stream.on("error", () => undefined);
    const info: CallInfo = { call: calls.length, session: sessionIndex.get(stream.session!) ?? -1, headers };
    calls.push(info);
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      const answer = options.answer(info);
      const respond = (): void =>
        answerCall(stream, answer, () => {
          const body = unframeGrpcMessage(Buffer.concat(chunks), headers["grpc-encoding"] as string | undefined);
          for (const id of body ? spanIds(body) : []) {
            copies++;
            accepted.add(id);
          }
        });
      if (answer.kind === "ok" && answer.delayMillis) setTimeout(respond, answer.delayMillis);
      else respond();
    });
  });
  server.listen(options.port ?? 0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    spansAccepted: () => accepted.size,
    duplicatesAccepted: () => copies - accepted.size,
    calls: () => calls,
    sessions: () => sessionCount,
    close: async () => {
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function answerCall(stream: ServerHttp2Stream, answer: Answer, onAccepted: () => void): void {
  if (stream.destroyed || stream.closed) return; // the client gave up (deadline) before the answer
  switch (answer.kind) {
    case "ok": {
      onAccepted();
      const message = answer.responseMessage ?? new Uint8Array();
      const frame = Buffer.alloc(5 + message.length);
      frame.writeUInt32BE(message.length, 1);
      frame.set(message, 5);
      stream.respond({ ":status": 200, "content-type": "application/grpc+proto" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(frame);
      return;
    }
    case "refuse":
      stream.close(constants.NGHTTP2_REFUSED_STREAM);
      return;
    case "goaway":
      stream.session?.goaway(constants.NGHTTP2_NO_ERROR, Math.max(0, (stream.id ?? 1) - 2));
      stream.close(constants.NGHTTP2_REFUSED_STREAM);
      return;
    case "grpc-status":
      stream.respond(
        {
          ":status": 200,
          "content-type": "application/grpc+proto",
          "grpc-status": String(answer.code),
          ...(answer.message ? { "grpc-message": encodeURIComponent(answer.message) } : {}),
          ...(answer.detailsBin ? { "grpc-status-details-bin": answer.detailsBin } : {}),
        },
        { endStream: true },
      );
      return;
    case "http":
      stream.respond({ ":status": answer.status, "content-type": "text/plain" });
      stream.end("service unavailable");
      return;
    case "hang":
      return;
  }
}

export interface IdleProxy {
  readonly endpoint: string;
  /** Connections the proxy reset or swallowed because they had been idle. */
  staleHits(): number;
  close(): Promise<void>;
}

/**
 * A TCP proxy to `targetPort` that forgets a connection idle for `idleMillis`, like a NAT gateway or load balancer
 * after a Lambda freeze: the next bytes the client sends on it are answered with a TCP RST (`reset`), or vanish
 * (`swallow`, nothing ever comes back). New connections are proxied normally.
 */
export async function startIdleProxy(
  targetPort: number,
  idleMillis: number,
  mode: "reset" | "swallow",
): Promise<IdleProxy> {
  const sockets = new Set<Socket>();
  let hits = 0;
  const server: Server = createTcpServer((client) => {
    const upstream = createConnection(targetPort, "127.0.0.1");
    sockets.add(client).add(upstream);
    let lastActivity = Date.now();
    let stale = false;
    const forget = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", forget);
    upstream.on("error", forget);
    client.on("close", () => (sockets.delete(client), upstream.destroy()));
    upstream.on("close", () => (sockets.delete(upstream), stale ? undefined : client.destroy()));
    client.on("data", (chunk) => {
      if (!stale && Date.now() - lastActivity >= idleMillis) {
        stale = true;
        hits++;
        upstream.destroy();
        if (mode === "reset") client.resetAndDestroy();
      }
      if (stale) return; // swallowed
      lastActivity = Date.now();
      upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (stale) return;
      lastActivity = Date.now();
      client.write(chunk);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    staleHits: () => hits,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function protoBytesField(field: number, bytes: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([(field << 3) | 2, bytes.length]), bytes]);
}

function protoVarintField(field: number, value: number): Buffer {
  const out = [(field << 3) | 0];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.from(out);
}

/** `grpc-status-details-bin` for RESOURCE_EXHAUSTED with `RetryInfo{retry_delay}` (google.rpc.Status, base64). */
export function retryInfoDetails(delayMillis: number): string {
  const duration = Buffer.concat([
    protoVarintField(1, Math.floor(delayMillis / 1000)),
    protoVarintField(2, (delayMillis % 1000) * 1e6),
  ]);
  const retryInfo = protoBytesField(1, duration);
  const any = Buffer.concat([
    protoBytesField(1, Buffer.from("type.googleapis.com/google.rpc.RetryInfo")),
    protoBytesField(2, retryInfo),
  ]);
  return Buffer.concat([protoVarintField(1, 8), protoBytesField(3, any)]).toString("base64");
}

/** An ExportTraceServiceResponse with partial_success{rejected_spans, error_message}. */
export function partialSuccessResponse(rejectedSpans: number, errorMessage: string): Uint8Array {
  const partial = Buffer.concat([protoVarintField(1, rejectedSpans), protoBytesField(2, Buffer.from(errorMessage))]);
  return protoBytesField(1, partial);
}
