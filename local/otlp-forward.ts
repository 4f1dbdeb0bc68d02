/**
 * `OTLP_FORWARD_ENDPOINT`: copies every export the local receiver accepts (gRPC or OTLP/HTTP) to another OTLP/gRPC
 * endpoint — a collector or a Jaeger the user already runs — as the same `ExportTraceServiceRequest`, unchanged.
 * Fire and forget: the local pipeline never waits for the forward and never fails because of it; failures are counted
 * and reported through `onError` (once per kind of failure, so a down collector does not flood the terminal).
 * `http://` is plaintext, `https://` uses TLS; `headers` become gRPC metadata (e.g. `authorization`).
 */
import * as grpc from "@grpc/grpc-js";
import { traceServiceDefinition, type OtlpReceiver, type PbExportTraceServiceRequest } from "./otlp-receiver";

export interface OtlpForwarder {
  readonly endpoint: string;
  /** Requests sent / answered OK / failed. */
  readonly stats: { sent: number; ok: number; failed: number; dropped: number };
  forward(request: PbExportTraceServiceRequest): void;
  /** Waits for in-flight forwards (up to `timeoutMs`), then closes the channel. */
  close(timeoutMs?: number): Promise<void>;
}

export interface OtlpForwarderOptions {
  /** `http://host:port` or `https://host:port` (a bare `host:port` means plaintext). */
  readonly endpoint: string;
  readonly headers?: Record<string, string>;
  /** Forwards in flight at most; more are dropped (and counted). @default 64 */
  readonly maxInFlight?: number;
  readonly timeoutMs?: number;
  readonly onError?: (message: string) => void;
}

/** Parses `OTLP_FORWARD_ENDPOINT`; throws a message fit for the terminal. */
export function parseForwardEndpoint(raw: string): { target: string; secure: boolean } {
  const withScheme = /^[a-z]+:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`OTLP_FORWARD_ENDPOINT must look like http://host:4317, got "${raw}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`OTLP_FORWARD_ENDPOINT must be http:// or https://, got "${raw}"`);
  }
  const port = url.port || (url.protocol === "https:" ? "443" : "4317");
  return { target: `${url.hostname}:${port}`, secure: url.protocol === "https:" };
}

const ForwardClient = grpc.makeGenericClientConstructor(traceServiceDefinition, "TraceService");

export function startOtlpForwarder(options: OtlpForwarderOptions): OtlpForwarder {
  const { target, secure } = parseForwardEndpoint(options.endpoint);
  const client = new ForwardClient(
    target,
    secure ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(),
  ) as unknown as grpc.Client & {
    Export(
      request: PbExportTraceServiceRequest,
      metadata: grpc.Metadata,
      options: grpc.CallOptions,
      callback: (error: grpc.ServiceError | null) => void,
    ): void;
  };
  const stats = { sent: 0, ok: 0, failed: 0, dropped: 0 };
  const maxInFlight = options.maxInFlight ?? 64;
  const reported = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  let closed = false;

  const report = (message: string) => {
    if (reported.has(message)) return;
    reported.add(message);
    options.onError?.(message);
  };

  return {
    endpoint: options.endpoint,
    stats,
    forward(request) {
      if (closed) return;
      if (inFlight.size >= maxInFlight) {
        stats.dropped += 1;
        report(`forward to ${options.endpoint}: more than ${maxInFlight} exports in flight, dropping`);
        return;
      }
      const metadata = new grpc.Metadata();
      for (const [key, value] of Object.entries(options.headers ?? {})) metadata.set(key, value);
      stats.sent += 1;
      const done = new Promise<void>((resolve) => {
        client.Export(request, metadata, { deadline: Date.now() + (options.timeoutMs ?? 10_000) }, (error) => {
          if (error) {
            stats.failed += 1;
            report(`forward to ${options.endpoint} failed: ${grpc.status[error.code] ?? error.code} ${error.details}`);
          } else {
            stats.ok += 1;
          }
          resolve();
        });
      });
      inFlight.add(done);
      void done.then(() => inFlight.delete(done));
    },
    async close(timeoutMs = 2000) {
      closed = true;
      await Promise.race([
        Promise.all([...inFlight]),
        new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
      ]);
      client.close();
    },
  };
}

/** Forwards everything `receiver` accepts from now on. */
export function forwardReceiver(receiver: OtlpReceiver, options: OtlpForwarderOptions): OtlpForwarder {
  const forwarder = startOtlpForwarder(options);
  receiver.onExport((request) => forwarder.forward(request));
  return forwarder;
}
