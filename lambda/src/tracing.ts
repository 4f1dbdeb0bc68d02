/**
 * Lambda telemetry, initialised once per execution environment (at module load, never per invocation).
 *
 * Export: OTLP/gRPC over Node's http2 (telemetry/otlp-http2-exporter.ts). Settings (telemetry/exporter.ts): standard
 * `OTEL_EXPORTER_OTLP_*` win; otherwise Coralogix (`CORALOGIX_DOMAIN` → `https://ingress.<domain>:443`) with
 * `authorization: Bearer <key>`, the key read from the Secrets Manager secret `CORALOGIX_SECRET_ARN` (SecretString
 * JSON `{"api_key": "..."}`) once per environment and cached. The read is one SigV4-signed HTTPS call with the
 * function's env credentials (secrets.ts); only without env credentials is the AWS SDK required (lazily; it is
 * external to the bundle because the Lambda base image ships it).
 *
 * Nothing here throws into the handler: a bad configuration is logged and tracing falls back to a no-op tracer;
 * export failures are reported through `diag` and the JSON log.
 */
import { diag, trace, type Tracer } from "@opentelemetry/api";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter, TracerProvider } from "@opentelemetry/sdk-trace";
import { installDiagLogger } from "../../telemetry/diag";
import { resolveExportTimeout, resolveExporterSettings, type ExporterSettings } from "../../telemetry/exporter";
import { createSpanExporter } from "../../telemetry/exporter-factory";
import { createJsonLogger, type Logger } from "../../telemetry/logger";
import { Http2OtlpTraceExporter } from "../../telemetry/otlp-http2-exporter";
import {
  SHORT_LIVED_BATCH_DEFAULTS,
  createTracerProvider,
  flushWithin,
  type FlushOutcome,
} from "../../telemetry/provider";
import { CLOUD_PLATFORM_VALUE_AWS_LAMBDA, createServiceResource } from "../../telemetry/resource";
import { LAMBDA_SERVICE_NAME } from "../../packages/traced-components/src/contract/service-names";
import {
  CORALOGIX_DOMAIN_ENV,
  CORALOGIX_SECRET_ARN_ENV,
} from "../../packages/traced-components/src/contract/runtime-env";
import { envString } from "../../telemetry/env";
import { credentialsFromEnv, getSecretString } from "./secrets";

/** Extracts the key from a SecretString shaped `{"api_key": "..."}`. */
export function parseApiKeySecret(secretString: string | undefined, secretArn: string): string {
  let key: unknown;
  try {
    key = (JSON.parse(secretString ?? "") as { api_key?: unknown } | null)?.api_key;
  } catch {
    key = undefined;
  }
  if (typeof key !== "string" || key.trim() === "") {
    throw new Error(`Secret ${secretArn} has no "api_key" string (expected SecretString {"api_key":"<key>"})`);
  }
  return key.trim();
}

/**
 * Reads the Coralogix key from a Secrets Manager secret whose SecretString is `{"api_key": "..."}`. In Lambda
 * (credentials in env) one signed HTTPS call, no SDK (see secrets.ts); elsewhere the SDK's credential chain.
 */
export async function loadCoralogixApiKey(secretArn: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const credentials = credentialsFromEnv(env);
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || regionFromArn(secretArn);
  if (credentials && region) {
    const endpoint = env.AWS_ENDPOINT_URL_SECRETS_MANAGER?.trim() || env.AWS_ENDPOINT_URL?.trim() || undefined;
    return parseApiKeySecret(
      await getSecretString(secretArn, { region, credentials, endpoint, timeoutMillis: 3000 }),
      secretArn,
    );
  }
  // Lazy: the SDK (from the Lambda base image / node_modules) is only loaded on this fallback path.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sm = require("@aws-sdk/client-secrets-manager") as typeof import("@aws-sdk/client-secrets-manager");
  const client = new sm.SecretsManagerClient({
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 2000 },
  });
  try {
    const output = await client.send(new sm.GetSecretValueCommand({ SecretId: secretArn }));
    return parseApiKeySecret(output.SecretString, secretArn);
  } finally {
    client.destroy();
  }
}

/** `arn:aws:secretsmanager:eu-west-1:…` → `eu-west-1`. */
function regionFromArn(arn: string): string | undefined {
  const region = arn.split(":")[3];
  return region ? region : undefined;
}

/**
 * A SpanExporter whose real exporter is created asynchronously (after the key arrives). Spans exported before
 * that wait for it; a failed resolution fails that export and is retried on the next one.
 */
export class DeferredSpanExporter implements SpanExporter {
  private pending: Promise<SpanExporter> | undefined;
  private resolved: SpanExporter | undefined;

  constructor(private readonly factory: () => Promise<SpanExporter>) {
    this.get().catch(() => undefined); // start now (init phase), failures are reported on export
  }

  private get(): Promise<SpanExporter> {
    if (this.resolved) return Promise.resolve(this.resolved);
    if (!this.pending) {
      this.pending = this.factory().then(
        (exporter) => {
          this.resolved = exporter;
          return exporter;
        },
        (error: unknown) => {
          this.pending = undefined;
          throw error;
        },
      );
    }
    return this.pending;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.get().then(
      (exporter) => exporter.export(spans, resultCallback),
      (error: unknown) => {
        diag.error(`span export skipped: exporter unavailable: ${(error as Error)?.message ?? String(error)}`);
        resultCallback({ code: ExportResultCode.FAILED, error: error as Error });
      },
    );
  }

  /** Settles once the first attempt to create the real exporter has finished (never rejects). */
  ready(): Promise<void> {
    return this.get().then(
      () => undefined,
      () => undefined,
    );
  }

  async forceFlush(): Promise<void> {
    await this.resolved?.forceFlush?.();
  }

  async shutdown(): Promise<void> {
    await this.resolved?.shutdown();
  }
}

export interface LambdaTelemetry {
  readonly tracer: Tracer;
  readonly logger: Logger;
  readonly provider: TracerProvider | undefined;
  /** Flushes pending spans, resolving within `deadlineMillis` whatever the collector does. Never rejects. */
  flush(deadlineMillis: number): Promise<FlushOutcome>;
  /** Settles when init is done: the exporter exists (the secret was read) or its setup failed. Never rejects. */
  readonly ready: Promise<void>;
}

export interface LambdaTelemetryOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Secret loader (tests); defaults to {@link loadCoralogixApiKey}. */
  readonly loadApiKey?: (secretArn: string) => Promise<string>;
  /** Where telemetry's own lines go (tests); defaults to the JSON logger on stdout. */
  readonly logger?: Logger;
}

/** Builds the provider and exporter; never throws (falls back to a no-op tracer and logs why). */
export function initLambdaTelemetry(options: LambdaTelemetryOptions = {}): LambdaTelemetry {
  const env = options.env ?? process.env;
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || LAMBDA_SERVICE_NAME;
  const logger = options.logger ?? createJsonLogger({ service: serviceName });
  const disabled = (env.OTEL_SDK_DISABLED ?? "").trim().toLowerCase() === "true";
  const noop: LambdaTelemetry = {
    tracer: trace.getTracer(serviceName), // no-op unless someone registered a global provider
    logger,
    provider: undefined,
    flush: () => Promise.resolve("flushed"),
    ready: Promise.resolve(),
  };
  if (disabled) return noop;
  try {
    installDiagLogger(logger, env);
    const resource = createServiceResource({
      defaultServiceName: LAMBDA_SERVICE_NAME,
      cloudPlatform: CLOUD_PLATFORM_VALUE_AWS_LAMBDA,
      env,
    });
    const secretArn = envString(env, CORALOGIX_SECRET_ARN_ENV);
    const build = (apiKey?: string): SpanExporter => {
      const settings: ExporterSettings = resolveExporterSettings({ env, coralogixApiKey: apiKey });
      if (settings.source === "coralogix" && !apiKey) {
        logger.warn("telemetry.no_api_key", {
          message: `${CORALOGIX_DOMAIN_ENV} set without ${CORALOGIX_SECRET_ARN_ENV}`,
        });
      }
      const timeoutMillis = resolveExportTimeout(env, 2000);
      return createSpanExporter(settings, {
        timeoutMillis,
        grpc: (grpcSettings) => {
          // Small HTTP/2 gRPC exporter instead of @grpc/grpc-js: see telemetry/otlp-http2-exporter.ts.
          const exporter = new Http2OtlpTraceExporter(grpcSettings, { timeoutMillis });
          exporter.preconnect();
          return exporter;
        },
      });
    };
    // Validate the domain now (throws with the list of valid values) rather than at the first export.
    resolveExporterSettings({ env });
    let exporter: SpanExporter;
    let ready = Promise.resolve();
    if (secretArn) {
      const loadApiKey = options.loadApiKey ?? ((arn: string) => loadCoralogixApiKey(arn, env));
      const deferred = new DeferredSpanExporter(async () => {
        try {
          return build(await loadApiKey(secretArn));
        } catch (error) {
          logger.error("telemetry.secret_unavailable", { secret_arn: secretArn, error });
          throw error;
        }
      });
      exporter = deferred;
      ready = deferred.ready();
    } else {
      exporter = build();
    }
    const provider = createTracerProvider({ resource, exporter, batch: SHORT_LIVED_BATCH_DEFAULTS, env, logger });
    return {
      tracer: provider.getTracer(serviceName),
      logger,
      provider,
      flush: (deadlineMillis) => flushWithin(provider, deadlineMillis),
      ready,
    };
  } catch (error) {
    logger.error("telemetry.init_failed", { error });
    return noop;
  }
}
