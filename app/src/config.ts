/** API configuration: read once at startup, validated, fail fast (no insecure fallbacks). */
import { DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts } from "./http-server";
import { API_SERVICE_NAME } from "../../packages/traced-components/src/contract/service-names";
import {
  HOST_ENV,
  HTTP_HEADERS_TIMEOUT_MS_ENV,
  HTTP_KEEP_ALIVE_TIMEOUT_MS_ENV,
  HTTP_REQUEST_TIMEOUT_MS_ENV,
  INCOMING_TRACE_CONTEXT_ENV,
  ONBOARDING_TABLE_NAME_ENV,
  PORT_ENV,
  QUEUE_URL_ENV,
} from "../../packages/traced-components/src/contract/runtime-env";
import { envPositiveInteger, envString } from "../../telemetry/env";
import {
  DEFAULT_INCOMING_TRACE_CONTEXT,
  INCOMING_TRACE_CONTEXT_MODES,
  type IncomingTraceContext,
} from "./incoming-context";

export interface ServerConfig {
  readonly queueUrl: string;
  /** The onboarding table the status endpoint reads (`ONBOARDING_TABLE_NAME`); unset: every status is 404. */
  readonly tableName?: string;
  readonly port: number;
  readonly host: string;
  readonly serviceName: string;
  /** Node http server timeouts (`HTTP_REQUEST_TIMEOUT_MS`, `HTTP_HEADERS_TIMEOUT_MS`, `HTTP_KEEP_ALIVE_TIMEOUT_MS`). */
  readonly http: HttpTimeouts;
  /** What an incoming `traceparent` is trusted with (`INCOMING_TRACE_CONTEXT`). */
  readonly incomingTraceContext: IncomingTraceContext;
}

/** A positive integer number of milliseconds from `env[name]`, or `fallback` when unset/blank (or invalid: a problem). */
function millis(env: NodeJS.ProcessEnv, name: string, fallback: number, problems: string[]): number {
  try {
    return envPositiveInteger(env, name, "milliseconds") ?? fallback;
  } catch (error) {
    problems.push((error as Error).message);
    return fallback;
  }
}

/** Validates the environment; collects every problem before throwing. */
export function readServerConfig(env: NodeJS.ProcessEnv): ServerConfig {
  const problems: string[] = [];
  const queueUrl = envString(env, QUEUE_URL_ENV) ?? "";
  if (!queueUrl) {
    problems.push(
      `${QUEUE_URL_ENV} is required, e.g. ${QUEUE_URL_ENV}=https://sqs.eu-west-1.amazonaws.com/123456789012/onboarding`,
    );
  } else if (!/^https?:\/\//.test(queueUrl)) {
    problems.push(`${QUEUE_URL_ENV} must be an http(s) URL, got "${queueUrl}"`);
  }
  const rawPort = envString(env, PORT_ENV) ?? "8000";
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    problems.push(`${PORT_ENV} must be an integer between 0 and 65535, got "${rawPort}"`);
  }
  const requestTimeoutMillis = millis(
    env,
    HTTP_REQUEST_TIMEOUT_MS_ENV,
    DEFAULT_HTTP_TIMEOUTS.requestTimeoutMillis,
    problems,
  );
  // Headers must be complete before the whole request is: the default shrinks with a smaller request timeout.
  const headersTimeoutMillis = millis(
    env,
    HTTP_HEADERS_TIMEOUT_MS_ENV,
    Math.min(DEFAULT_HTTP_TIMEOUTS.headersTimeoutMillis, requestTimeoutMillis),
    problems,
  );
  if (headersTimeoutMillis > requestTimeoutMillis) {
    problems.push(
      `${HTTP_HEADERS_TIMEOUT_MS_ENV} (${headersTimeoutMillis}) must not exceed ${HTTP_REQUEST_TIMEOUT_MS_ENV} (${requestTimeoutMillis})`,
    );
  }
  const keepAliveTimeoutMillis = millis(
    env,
    HTTP_KEEP_ALIVE_TIMEOUT_MS_ENV,
    DEFAULT_HTTP_TIMEOUTS.keepAliveTimeoutMillis,
    problems,
  );
  const rawMode = envString(env, INCOMING_TRACE_CONTEXT_ENV) ?? DEFAULT_INCOMING_TRACE_CONTEXT;
  if (!(INCOMING_TRACE_CONTEXT_MODES as readonly string[]).includes(rawMode)) {
    problems.push(
      `${INCOMING_TRACE_CONTEXT_ENV} must be one of ${INCOMING_TRACE_CONTEXT_MODES.join(", ")}, got "${rawMode}"`,
    );
  }
  if (problems.length > 0) throw new Error(`Invalid configuration: ${problems.join("; ")}`);
  const tableName = envString(env, ONBOARDING_TABLE_NAME_ENV);
  return {
    queueUrl,
    ...(tableName ? { tableName } : {}),
    port,
    host: envString(env, HOST_ENV) ?? "0.0.0.0",
    serviceName: envString(env, "OTEL_SERVICE_NAME") ?? API_SERVICE_NAME,
    http: { requestTimeoutMillis, headersTimeoutMillis, keepAliveTimeoutMillis },
    incomingTraceContext: rawMode as IncomingTraceContext,
  };
}
