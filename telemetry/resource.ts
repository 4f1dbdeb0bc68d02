/**
 * Resource attributes shared by the API (ECS) and the Lambda. One place decides what identifies a service, so
 * Coralogix (`cx.application.name` / `cx.subsystem.name`) and OTel backends see the same names.
 */
import { resourceFromAttributes, type Resource } from "@opentelemetry/resources";
import {
  ATTR_DEPLOYMENT_ENVIRONMENT_NAME,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_NAMESPACE,
  ATTR_SERVICE_VERSION,
} from "@opentelemetry/semantic-conventions";
import {
  ATTR_CLOUD_PLATFORM,
  ATTR_CLOUD_PROVIDER,
  ATTR_CLOUD_REGION,
  ATTR_FAAS_NAME,
  CLOUD_PLATFORM_VALUE_AWS_ECS,
  CLOUD_PLATFORM_VALUE_AWS_LAMBDA,
  CLOUD_PROVIDER_VALUE_AWS,
} from "@opentelemetry/semantic-conventions/incubating";

/** Coralogix application/subsystem resource attributes (Coralogix-specific, no semconv constant exists). */
export const ATTR_CX_APPLICATION_NAME = "cx.application.name";
export const ATTR_CX_SUBSYSTEM_NAME = "cx.subsystem.name";

export const DEFAULT_APPLICATION_NAME = "customer-onboarding";
export const DEFAULT_DEPLOYMENT_ENVIRONMENT = "local";
export const DEFAULT_SERVICE_VERSION = "0.0.0-dev";

export type CloudPlatform = typeof CLOUD_PLATFORM_VALUE_AWS_ECS | typeof CLOUD_PLATFORM_VALUE_AWS_LAMBDA;
export { CLOUD_PLATFORM_VALUE_AWS_ECS, CLOUD_PLATFORM_VALUE_AWS_LAMBDA };

export interface ServiceResourceOptions {
  /** Used when `OTEL_SERVICE_NAME` is unset, e.g. `onboarding-api`. */
  readonly defaultServiceName: string;
  /** `aws_ecs` for the API, `aws_lambda` for the consumer. */
  readonly cloudPlatform: CloudPlatform;
  /** Defaults to `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** `OTEL_RESOURCE_ATTRIBUTES` (`k=v,k2=v2`, values percent-encoded) as a record; malformed entries are skipped. */
export function parseResourceAttributesEnv(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const entry of raw.split(",")) {
    const eq = entry.indexOf("=");
    if (eq <= 0) continue;
    const key = entry.slice(0, eq).trim();
    let value = entry.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      continue;
    }
    if (key) out[key] = value;
  }
  return out;
}

/**
 * The resource attributes for one service. Precedence (lowest → highest): built-in defaults,
 * `OTEL_RESOURCE_ATTRIBUTES`, then the dedicated variables (`OTEL_SERVICE_NAME`, `SERVICE_VERSION`,
 * `DEPLOYMENT_ENVIRONMENT`, `CX_APPLICATION_NAME`, `CX_SUBSYSTEM_NAME`, `AWS_REGION`, `AWS_LAMBDA_FUNCTION_NAME`).
 */
export function buildResourceAttributes(options: ServiceResourceOptions): Record<string, string> {
  const env = options.env ?? process.env;
  const fromEnv = parseResourceAttributesEnv(env.OTEL_RESOURCE_ATTRIBUTES);
  const serviceName = nonEmpty(env.OTEL_SERVICE_NAME) ?? fromEnv[ATTR_SERVICE_NAME] ?? options.defaultServiceName;
  const application =
    nonEmpty(env.CX_APPLICATION_NAME) ?? fromEnv[ATTR_CX_APPLICATION_NAME] ?? DEFAULT_APPLICATION_NAME;
  const attributes: Record<string, string> = {
    [ATTR_SERVICE_NAMESPACE]: application,
    [ATTR_SERVICE_VERSION]: DEFAULT_SERVICE_VERSION,
    [ATTR_DEPLOYMENT_ENVIRONMENT_NAME]: DEFAULT_DEPLOYMENT_ENVIRONMENT,
    ...fromEnv,
    [ATTR_SERVICE_NAME]: serviceName,
    [ATTR_CLOUD_PROVIDER]: CLOUD_PROVIDER_VALUE_AWS,
    [ATTR_CLOUD_PLATFORM]: options.cloudPlatform,
    [ATTR_CX_APPLICATION_NAME]: application,
    [ATTR_CX_SUBSYSTEM_NAME]: nonEmpty(env.CX_SUBSYSTEM_NAME) ?? fromEnv[ATTR_CX_SUBSYSTEM_NAME] ?? serviceName,
  };
  const version = nonEmpty(env.SERVICE_VERSION);
  if (version) attributes[ATTR_SERVICE_VERSION] = version;
  const environment = nonEmpty(env.DEPLOYMENT_ENVIRONMENT);
  if (environment) attributes[ATTR_DEPLOYMENT_ENVIRONMENT_NAME] = environment;
  const region = nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
  if (region) attributes[ATTR_CLOUD_REGION] = region;
  const functionName = nonEmpty(env.AWS_LAMBDA_FUNCTION_NAME);
  if (options.cloudPlatform === CLOUD_PLATFORM_VALUE_AWS_LAMBDA && functionName) {
    attributes[ATTR_FAAS_NAME] = functionName;
  }
  return attributes;
}

/** {@link buildResourceAttributes} as an OTel `Resource` (no async detectors: nothing to wait for at startup). */
export function createServiceResource(options: ServiceResourceOptions): Resource {
  return resourceFromAttributes(buildResourceAttributes(options));
}
