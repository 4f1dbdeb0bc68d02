/**
 * Where spans go. One pure resolver decides endpoint + headers from the environment (so it is unit-testable), one
 * of two factories turns the result into an OTLP/gRPC exporter: `grpc-exporter.ts` (the official exporter on
 * `@grpc/grpc-js`, used by the API) or `otlp-http2-exporter.ts` (small, used by the Lambda).
 *
 * Precedence:
 * 1. Standard `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT` (+ `..._HEADERS`) win.
 *    A Coralogix key, when one was loaded, is added as `authorization: Bearer <key>` only if the headers don't
 *    already carry an `authorization` entry.
 * 2. Otherwise `CORALOGIX_DOMAIN` → `https://ingress.<domain>:443` with `authorization: Bearer <key>`.
 * 3. Otherwise the caller's default endpoint (the API's collector sidecar, `http://localhost:4317`).
 */
import { coralogixOtlpEndpoint } from "../packages/traced-components/src/coralogix";

export const DEFAULT_OTLP_GRPC_ENDPOINT = "http://localhost:4317";

export type ExporterSource = "otel-env" | "coralogix" | "default";

export interface ExporterSettings {
  /** gRPC target as a URL (`http://` → plaintext, `https://` → TLS). */
  readonly url: string;
  /** gRPC metadata sent with every Export call (lowercase keys). */
  readonly headers: Readonly<Record<string, string>>;
  readonly source: ExporterSource;
}

export interface ResolveExporterOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Coralogix "send your data" key, when one was loaded (Lambda: from Secrets Manager). */
  readonly coralogixApiKey?: string;
  /** Used when neither an OTLP endpoint nor a Coralogix domain is configured. */
  readonly defaultEndpoint?: string;
  /**
   * Whether `CORALOGIX_DOMAIN` may be the destination (step 2). The API sets false: it holds no key and always
   * exports to its collector sidecar; `CORALOGIX_DOMAIN` in its task belongs to the sidecar.
   * @default true
   */
  readonly allowCoralogix?: boolean;
}

/** Parses `OTEL_EXPORTER_OTLP_HEADERS` syntax (`k=v,k2=v2`, values percent-decoded); keys are lowercased. */
export function parseOtlpHeaders(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const entry of raw.split(",")) {
    const eq = entry.indexOf("=");
    if (eq <= 0) continue;
    const key = entry.slice(0, eq).trim().toLowerCase();
    let value = entry.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      // keep the raw value
    }
    if (key) out[key] = value;
  }
  return out;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** Pure: decides endpoint and headers. Throws only for an invalid `CORALOGIX_DOMAIN` (message lists valid values). */
export function resolveExporterSettings(options: ResolveExporterOptions = {}): ExporterSettings {
  const env = options.env ?? process.env;
  const headers = {
    ...parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_HEADERS),
    ...parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
  };
  const key = nonEmpty(options.coralogixApiKey);
  const withKey = (): Record<string, string> =>
    key && headers.authorization === undefined ? { ...headers, authorization: `Bearer ${key}` } : headers;

  const endpoint = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) ?? nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (endpoint) return { url: endpoint, headers: withKey(), source: "otel-env" };

  const domain = options.allowCoralogix === false ? undefined : nonEmpty(env.CORALOGIX_DOMAIN);
  if (domain) return { url: coralogixOtlpEndpoint(domain), headers: withKey(), source: "coralogix" };

  return { url: options.defaultEndpoint ?? DEFAULT_OTLP_GRPC_ENDPOINT, headers, source: "default" };
}

/** Reads a positive integer env var; anything else → undefined. */
export function envMillis(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** Export deadline: `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` / `OTEL_EXPORTER_OTLP_TIMEOUT`, else the given default. */
export function resolveExportTimeout(env: NodeJS.ProcessEnv, defaultMillis: number): number {
  return (
    envMillis(env, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT") ?? envMillis(env, "OTEL_EXPORTER_OTLP_TIMEOUT") ?? defaultMillis
  );
}
