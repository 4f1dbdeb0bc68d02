/**
 * The official OTLP/gRPC trace exporter (`@grpc/grpc-js`) for resolved settings — used by the long-running API, where
 * bundle size and cold start don't matter and the full `OTEL_EXPORTER_OTLP_*` support (certificates, compression,
 * insecure) does — with the channel's reconnect backoff bounded to a second.
 *
 * Why not `new OTLPTraceExporter(...)` as it is: its transport (otlp-grpc-exporter-base's `GrpcExporterTransport`)
 * creates the grpc-js client with two fixed channel options (compression, user agent) and no way to pass others;
 * grpc-js reads no environment variable for backoff either (`subchannel.js` takes `grpc.initial_reconnect_backoff_ms`
 * / `grpc.max_reconnect_backoff_ms` from the channel options only). Its default backoff grows 1 s × 1.6ⁿ up to 120 s,
 * so after a 28 s sidecar outage the API's spans stayed missing for another 7 s, after 60 s for 29 s.
 *
 * So this is `OTLPTraceExporter` rebuilt from the same public pieces — `OTLPExporterBase`,
 * `createOtlpNetworkExportDelegate` (concurrency limit, partial-success handling), `ProtobufTraceSerializer`,
 * `createOtlpGrpcExporterMetrics` and `convertLegacyOtlpGrpcOptions` (the `OTEL_EXPORTER_OTLP_*` env) — with the
 * transport's client created here, with {@link RECONNECT_BACKOFF}.
 */
import { Client, Metadata, type ChannelOptions, type ServiceError } from "@grpc/grpc-js";
import { OTLPExporterBase, createOtlpNetworkExportDelegate } from "@opentelemetry/otlp-exporter-base";
import type { ExportResponse, IExporterTransport } from "@opentelemetry/otlp-exporter-base";
import { convertLegacyOtlpGrpcOptions, createOtlpGrpcExporterMetrics } from "@opentelemetry/otlp-grpc-exporter-base";
import { ProtobufTraceSerializer, TraceExporterMetricsHelper } from "@opentelemetry/otlp-transformer";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";
import { resolveExportTimeout, type ExporterSettings } from "./exporter";

export const TRACE_EXPORT_PATH = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/**
 * Reconnect at most a second after the collector comes back (250 ms first, ±20 % jitter in grpc-js). A refused
 * connect to the sidecar on localhost costs next to nothing, and grpc-js only reconnects for a call (one export a
 * second), so a long outage stays cheap.
 */
export const RECONNECT_BACKOFF: ChannelOptions = {
  "grpc.initial_reconnect_backoff_ms": 250,
  "grpc.max_reconnect_backoff_ms": 1000,
};

/** As the official transport: after this many deadline errors in a row, start over with a new channel. */
const MAX_DEADLINE_EXCEEDED = 5;
const GRPC_STATUS_DEADLINE_EXCEEDED = 4;
const GRPC_COMPRESSION = { none: 0, gzip: 2 } as const;

type GrpcConfiguration = ReturnType<typeof convertLegacyOtlpGrpcOptions>;
const passThrough = (bytes: Buffer): Buffer => bytes;

/** One unary Export call per send, on a client (channel) with {@link RECONNECT_BACKOFF}; failures are not retried here. */
class BoundedBackoffGrpcTransport implements IExporterTransport {
  private client: Client | undefined;
  private deadlineExceeded = 0;

  constructor(private readonly config: GrpcConfiguration) {}

  send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    let client: Client;
    let metadata: Metadata;
    try {
      metadata = this.config.metadata();
      client = this.client ??= new Client(this.config.url, this.config.credentials(), {
        ...RECONNECT_BACKOFF,
        "grpc.default_compression_algorithm": GRPC_COMPRESSION[this.config.compression],
        "grpc.primary_user_agent": [this.config.userAgent, "OTel-OTLP-Exporter-JavaScript"].filter(Boolean).join(" "),
      });
    } catch (error) {
      return Promise.resolve({ status: "failure", error: error as Error });
    }
    return new Promise((resolve) => {
      client.makeUnaryRequest(
        TRACE_EXPORT_PATH,
        passThrough,
        passThrough,
        Buffer.from(data),
        metadata,
        { deadline: Date.now() + timeoutMillis },
        (error: ServiceError | null, response?: Buffer) => {
          if (!error) {
            this.deadlineExceeded = 0;
            return resolve({ status: "success", data: response });
          }
          if (error.code === GRPC_STATUS_DEADLINE_EXCEEDED && ++this.deadlineExceeded > MAX_DEADLINE_EXCEEDED) {
            this.shutdown();
          }
          resolve({ status: "failure", error });
        },
      );
    });
  }

  shutdown(): void {
    this.client?.close();
    this.client = undefined;
    this.deadlineExceeded = 0;
  }
}

/**
 * Per-Export deadline when `OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT` is unset. The SDK default (10 s) is too long, and it
 * stays under the API batch processor's 5 s export timeout (`SERVICE_BATCH_DEFAULTS`): when the processor gives up
 * first it starts the next export beside the one still waiting, and with a stalled sidecar those piled up (+53 MB RSS
 * in the bench's sidecar section with 5 s here).
 */
export const DEFAULT_EXPORT_TIMEOUT_MILLIS = 4000;

export interface OtlpExporterOptions {
  /** @default DEFAULT_EXPORT_TIMEOUT_MILLIS */
  readonly defaultTimeoutMillis?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** OTLP/gRPC trace exporter for resolved settings. Compression etc. still follow the standard env variables. */
export function createOtlpTraceExporter(settings: ExporterSettings, options: OtlpExporterOptions = {}): SpanExporter {
  const env = options.env ?? process.env;
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(settings.headers)) metadata.set(k, v);
  const config = convertLegacyOtlpGrpcOptions(
    {
      url: settings.url,
      metadata,
      timeoutMillis: resolveExportTimeout(env, options.defaultTimeoutMillis ?? DEFAULT_EXPORT_TIMEOUT_MILLIS),
    },
    "TRACES",
  );
  const delegate = createOtlpNetworkExportDelegate(
    config,
    ProtobufTraceSerializer,
    createOtlpGrpcExporterMetrics("otlp_grpc_span_exporter", TraceExporterMetricsHelper, config.url, undefined),
    new BoundedBackoffGrpcTransport(config),
  );
  return new OTLPExporterBase<ReadableSpan[]>(delegate);
}
