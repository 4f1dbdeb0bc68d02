/**
 * Resource attributes shared by the API (ECS) and the Lambda. One place decides what identifies a service, so
 * Coralogix (`cx.application.name` / `cx.subsystem.name`) and OTel backends see the same names.
 *
 * The service's identity comes from the standard variables only, `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`
 * (`service.version`, `deployment.environment.name`, `service.namespace`, `cx.*`, …), parsed by the SDK's own
 * detectors (`serviceNameEnvDetector`, `resourceAttributesEnvDetector`: the 3.x successors of `envDetector`), so a
 * service in another language given the same environment reports the same resource. Per the resource SDK spec a
 * malformed `OTEL_RESOURCE_ATTRIBUTES` is discarded whole (reported here with a diag warning). The components set both
 * variables (packages/traced-components/src/traced-service-args.ts).
 */
import { diag, type AttributeValue } from "@opentelemetry/api";
import { awsLambdaDetector } from "@opentelemetry/resource-detector-aws";
import {
  detectResources,
  resourceAttributesEnvDetector,
  resourceFromAttributes,
  serviceNameEnvDetector,
  type Resource,
} from "@opentelemetry/resources";
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
} from "./semconv";
import { envString } from "./env";

/** Coralogix application/subsystem resource attributes (Coralogix-specific, no semconv constant exists). */
export const ATTR_CX_APPLICATION_NAME = "cx.application.name";
export const ATTR_CX_SUBSYSTEM_NAME = "cx.subsystem.name";

export const DEFAULT_APPLICATION_NAME = "customer-onboarding";
export const DEFAULT_DEPLOYMENT_ENVIRONMENT = "local";
export const DEFAULT_SERVICE_VERSION = "0.0.0-dev";

export type CloudPlatform = typeof CLOUD_PLATFORM_VALUE_AWS_ECS | typeof CLOUD_PLATFORM_VALUE_AWS_LAMBDA;
export { CLOUD_PLATFORM_VALUE_AWS_ECS, CLOUD_PLATFORM_VALUE_AWS_LAMBDA };

export interface ServiceResourceOptions {
  /** Used when `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` name no service, e.g. `onboarding-api`. */
  readonly defaultServiceName: string;
  /** `aws_ecs` for the API, `aws_lambda` for the consumer. */
  readonly cloudPlatform: CloudPlatform;
  /**
   * Where `AWS_REGION` and `AWS_LAMBDA_FUNCTION_NAME` are read. Defaults to `process.env`. The detectors (`OTEL_*`,
   * the Lambda runtime's variables) always read `process.env`: they take no other.
   */
  readonly env?: NodeJS.ProcessEnv;
}

export { formatResourceAttributesEnv } from "../packages/traced-components/src/contract/resource-attributes-env";

/** What the SDK's env detectors find in `process.env`; warns when a set `OTEL_RESOURCE_ATTRIBUTES` was discarded. */
function detectEnvAttributes(): Record<string, AttributeValue> {
  const fromAttributes = detectResources({ detectors: [resourceAttributesEnvDetector] }).attributes;
  const raw = process.env.OTEL_RESOURCE_ATTRIBUTES;
  if (Object.keys(fromAttributes).length === 0 && raw !== undefined && /[^\s,]/.test(raw)) {
    // The detector discards a malformed value whole (resource SDK spec) and says so only at debug level.
    diag.warn(
      "OTEL_RESOURCE_ATTRIBUTES discarded: it must be a comma-separated list of key=value with ',' and '=' " +
        "percent-encoded (and values of at most 255 characters)",
    );
  }
  const fromServiceName = detectResources({ detectors: [serviceNameEnvDetector] }).attributes;
  return { ...fromAttributes, ...fromServiceName } as Record<string, AttributeValue>;
}

/**
 * On Lambda, `@opentelemetry/resource-detector-aws`'s `awsLambdaDetector`: `faas.name`, `faas.version`,
 * `faas.instance` (the log stream), `faas.max_memory` (bytes), `aws.log.group.names`, `cloud.region`, from the
 * runtime's reserved variables in `process.env` (only when `AWS_EXECUTION_ENV` says Lambda). Bundled, it costs no
 * measurable cold-init time over reading the variables here (README, Performance).
 */
function lambdaAttributes(): Record<string, AttributeValue> {
  return detectResources({ detectors: [awsLambdaDetector] }).attributes as Record<string, AttributeValue>;
}

/**
 * The resource attributes for one service. Precedence (lowest → highest): built-in defaults and the platform's
 * variables, then `OTEL_RESOURCE_ATTRIBUTES`, then `OTEL_SERVICE_NAME`. `cx.application.name` defaults to
 * `service.namespace` and `cx.subsystem.name` to `service.name`.
 */
export function buildResourceAttributes(options: ServiceResourceOptions): Record<string, AttributeValue> {
  const env = options.env ?? process.env;
  const region = envString(env, "AWS_REGION") ?? envString(env, "AWS_DEFAULT_REGION");
  const functionName = envString(env, "AWS_LAMBDA_FUNCTION_NAME");
  const lambda = options.cloudPlatform === CLOUD_PLATFORM_VALUE_AWS_LAMBDA;
  const attributes: Record<string, AttributeValue> = {
    [ATTR_SERVICE_NAME]: options.defaultServiceName,
    [ATTR_SERVICE_NAMESPACE]: DEFAULT_APPLICATION_NAME,
    [ATTR_SERVICE_VERSION]: DEFAULT_SERVICE_VERSION,
    [ATTR_DEPLOYMENT_ENVIRONMENT_NAME]: DEFAULT_DEPLOYMENT_ENVIRONMENT,
    [ATTR_CLOUD_PROVIDER]: CLOUD_PROVIDER_VALUE_AWS,
    [ATTR_CLOUD_PLATFORM]: options.cloudPlatform,
    ...(region ? { [ATTR_CLOUD_REGION]: region } : {}),
    ...(lambda && functionName ? { [ATTR_FAAS_NAME]: functionName } : {}),
    ...(lambda ? lambdaAttributes() : {}),
    ...detectEnvAttributes(),
  };
  attributes[ATTR_CX_APPLICATION_NAME] ??= attributes[ATTR_SERVICE_NAMESPACE]!;
  attributes[ATTR_CX_SUBSYSTEM_NAME] ??= attributes[ATTR_SERVICE_NAME]!;
  return attributes;
}

/** {@link buildResourceAttributes} as an OTel `Resource` (no async detectors: nothing to wait for at startup). */
export function createServiceResource(options: ServiceResourceOptions): Resource {
  return resourceFromAttributes(buildResourceAttributes(options));
}
