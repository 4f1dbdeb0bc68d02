/** API configuration: read once at startup, validated, fail fast (no insecure fallbacks). */
export interface ServerConfig {
  readonly queueUrl: string;
  readonly port: number;
  readonly host: string;
  readonly serviceName: string;
  readonly serviceVersion: string;
}

/** Validates the environment; collects every problem before throwing. */
export function readServerConfig(env: NodeJS.ProcessEnv): ServerConfig {
  const problems: string[] = [];
  const queueUrl = env.QUEUE_URL?.trim() ?? "";
  if (!queueUrl) {
    problems.push("QUEUE_URL is required, e.g. QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/onboarding");
  } else if (!/^https?:\/\//.test(queueUrl)) {
    problems.push(`QUEUE_URL must be an http(s) URL, got "${queueUrl}"`);
  }
  const rawPort = env.PORT?.trim() || "8000";
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    problems.push(`PORT must be an integer between 0 and 65535, got "${rawPort}"`);
  }
  if (problems.length > 0) throw new Error(`Invalid configuration: ${problems.join("; ")}`);
  return {
    queueUrl,
    port,
    host: env.HOST?.trim() || "0.0.0.0",
    serviceName: env.OTEL_SERVICE_NAME?.trim() || "onboarding-api",
    serviceVersion: env.SERVICE_VERSION?.trim() || "0.0.0-dev",
  };
}
