/**
 * Where spans go and over which OTLP transport. One pure resolver decides protocol + endpoint + headers from the
 * environment (so it is unit-testable); telemetry/exporter-factory.ts turns the result into an exporter: for `grpc`
 * the caller's gRPC exporter (`grpc-exporter.ts`, the official one on `@grpc/grpc-js`, in the API;
 * `otlp-http2-exporter.ts`, small, in the Lambda), for `http/protobuf` the official `@opentelemetry/exporter-trace-otlp-proto`.
 *
 * Protocol: `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`, else `grpc` (this project's
 * default; the spec's list is grpc, http/protobuf, http/json). Anything but `grpc` or `http/protobuf` is an error
 * naming both. Coralogix's ingress takes both on the same host and port 443
 * (https://coralogix.com/docs/developer-portal/apis/data-ingestion/opentelemetry-custom-traces/).
 *
 * Endpoint precedence (OTLP exporter spec, "Endpoint URLs for OTLP/HTTP"):
 * 1. `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as is, else `OTEL_EXPORTER_OTLP_ENDPOINT` (for http/protobuf a base URL:
 *    `v1/traces` is appended). A Coralogix key, when one was loaded, is added as `authorization: Bearer <key>` only if
 *    the headers (`OTEL_EXPORTER_OTLP_(TRACES_)HEADERS`) don't already carry an `authorization` entry.
 * 2. Otherwise `CORALOGIX_DOMAIN` → `https://ingress.<domain>:443` (+ `/v1/traces`) with `authorization: Bearer <key>`.
 * 3. Otherwise the collector on this host: `http://localhost:4317` (grpc) or `http://localhost:4318/v1/traces`.
 */
import { coralogixOtlpEndpoint } from "../packages/traced-components/src/contract/coralogix";
import { CORALOGIX_DOMAIN_ENV } from "../packages/traced-components/src/contract/runtime-env";
import { envNonNegativeNumber, envOneOf, envString } from "./env";

export const DEFAULT_OTLP_GRPC_ENDPOINT = "http://localhost:4317";
export const DEFAULT_OTLP_HTTP_ENDPOINT = "http://localhost:4318/v1/traces";

export const OTLP_PROTOCOLS = ["grpc", "http/protobuf"] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export type ExporterSource = "otel-env" | "coralogix" | "default";

export interface ExporterSettings {
  /** Always set by the resolver; optional so hand-made gRPC settings (tests, benches) need not name it. @default "grpc" */
  readonly protocol?: OtlpProtocol;
  /**
   * grpc: the target as a URL (`http://` → plaintext, `https://` → TLS); http/protobuf: the full URL spans are
   * POSTed to (`…/v1/traces`).
   */
  readonly url: string;
  /** Sent with every export: gRPC metadata or HTTP headers (lowercase keys). */
  readonly headers: Readonly<Record<string, string>>;
  readonly source: ExporterSource;
}

export interface ResolveExporterOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Coralogix "send your data" key, when one was loaded (Lambda: from Secrets Manager). */
  readonly coralogixApiKey?: string;
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

/** `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` / `OTEL_EXPORTER_OTLP_PROTOCOL`, default `grpc`; others throw, naming the valid ones. */
export function resolveOtlpProtocol(env: NodeJS.ProcessEnv = process.env): OtlpProtocol {
  const name = envString(env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
    ? "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
    : "OTEL_EXPORTER_OTLP_PROTOCOL";
  return envOneOf(env, name, OTLP_PROTOCOLS, { ignoreCase: true }) ?? "grpc";
}

/** A base URL + `v1/traces`, with exactly one `/` between (the spec's rule for `OTEL_EXPORTER_OTLP_ENDPOINT`). */
export function appendTracesPath(base: string): string {
  return `${base.endsWith("/") ? base : `${base}/`}v1/traces`;
}

/**
 * Pure: decides protocol, endpoint and headers. Throws for an unsupported protocol or an invalid `CORALOGIX_DOMAIN`
 * (each message lists the valid values).
 */
export function resolveExporterSettings(options: ResolveExporterOptions = {}): ExporterSettings {
  const env = options.env ?? process.env;
  const protocol = resolveOtlpProtocol(env);
  const http = protocol === "http/protobuf";
  const headers = {
    ...parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_HEADERS),
    ...parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
  };
  const key = options.coralogixApiKey?.trim() || undefined;
  const withKey = (): Record<string, string> =>
    key && headers.authorization === undefined ? { ...headers, authorization: `Bearer ${key}` } : headers;

  const signalEndpoint = envString(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  if (signalEndpoint) return { protocol, url: signalEndpoint, headers: withKey(), source: "otel-env" };
  const baseEndpoint = envString(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
  if (baseEndpoint) {
    return {
      protocol,
      url: http ? appendTracesPath(baseEndpoint) : baseEndpoint,
      headers: withKey(),
      source: "otel-env",
    };
  }

  const domain = options.allowCoralogix === false ? undefined : envString(env, CORALOGIX_DOMAIN_ENV);
  if (domain) {
    const url = coralogixOtlpEndpoint(domain);
    return { protocol, url: http ? appendTracesPath(url) : url, headers: withKey(), source: "coralogix" };
  }

  return { protocol, url: http ? DEFAULT_OTLP_HTTP_ENDPOINT : DEFAULT_OTLP_GRPC_ENDPOINT, headers, source: "default" };
}

/** Export deadline: `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` / `OTEL_EXPORTER_OTLP_TIMEOUT`, else the given default. */
export function resolveExportTimeout(env: NodeJS.ProcessEnv, defaultMillis: number): number {
  return (
    envNonNegativeNumber(env, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT") ??
    envNonNegativeNumber(env, "OTEL_EXPORTER_OTLP_TIMEOUT") ??
    defaultMillis
  );
}
