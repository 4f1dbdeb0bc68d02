/**
 * What the traced compute components (TracedFargateService, TracedContainerLambda) have in common: the args that say
 * where telemetry goes and how the service names itself, their validation, and the environment they become.
 * Each component extends {@link TracedServiceArgs} with its own sizing and documents the fields whose meaning or
 * default differs between them (`queue`, `table`, `serviceName`).
 */
import * as pulumi from "@pulumi/pulumi";
import { resolveCoralogixDomain } from "./contract/coralogix";
import { serviceIdentityEnv } from "./contract/resource-attributes-env";
import { HTTP_KEEP_ALIVE_TIMEOUT_MS_ENV, INCOMING_TRACE_CONTEXT_ENV } from "./contract/runtime-env";
import type { AlarmsArgs } from "./alarms";
import type { ImageBuildArgs } from "./container-image";
import { checkLogRetention, DEFAULT_LOG_RETENTION_DAYS } from "./log-retention";
import type { TelemetrySecretRef } from "./telemetry-secret";

export interface TracedServiceArgs {
  /**
   * The Secrets Manager secret holding `{"api_key": "…"}`. The Lambda function gets its ARN, never its value; the
   * Fargate execution role reads it to inject the collector's key.
   * @example new TelemetrySecret("coralogix", { apiKey })
   */
  readonly secret: TelemetrySecretRef;
  /**
   * Coralogix region (`us2`) or domain (`us2.coralogix.com`).
   * @example "eu2"
   */
  readonly coralogixDomain: string;
  /**
   * Coralogix application name (`cx.application.name` and `service.namespace` in `OTEL_RESOURCE_ATTRIBUTES`; the
   * collector sidecar's `CX_APPLICATION_NAME`).
   * @example "customer-onboarding"
   */
  readonly applicationName: pulumi.Input<string>;
  /**
   * `service.version` of the deployed code (in `OTEL_RESOURCE_ATTRIBUTES`).
   * @example "0.1.0"
   */
  readonly serviceVersion: pulumi.Input<string>;
  /**
   * `deployment.environment.name` (in `OTEL_RESOURCE_ATTRIBUTES`).
   * @example "dev"
   */
  readonly deploymentEnvironment: pulumi.Input<string>;
  /**
   * Log retention in days (a CloudWatch-accepted value).
   * @default 30
   * @example 90
   */
  readonly logRetentionDays?: number;
  /**
   * How the service's image is built, over the component's defaults (its Dockerfile, the repo root as context,
   * `linux/arm64`). The image is pushed to the component's own ECR repository and run by digest.
   * @default the component's `image` default: `lambda/Dockerfile` or `app/Dockerfile`, context ".", linux/arm64
   * @example { dockerfile: "lambda/Dockerfile" }
   */
  readonly image?: Partial<ImageBuildArgs>;
  /**
   * A prebuilt image to run instead of building one (e.g. from your CI): digest-pinned, `<repository>@sha256:<64 hex
   * digits>`, so the same URI always runs the same bytes. No ECR repository or build is created. For the Lambda the
   * image must be in ECR in the function's account and region, its repository policy letting `lambda.amazonaws.com`
   * pull (`ecr:BatchGetImage`, `ecr:GetDownloadUrlForLayer`); the Fargate execution role may pull it from ECR.
   * @default built from `image`
   * @example "123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders@sha256:<64 hex digits>"
   */
  readonly imageUri?: string;
  /**
   * Alarms on what makes the service fail — the Lambda's errors and throttles, the API's target 5xx responses and
   * unhealthy targets — notifying `topicArn`.
   * @default no alarms
   * @example { topicArn: alarmTopic.topicArn }
   */
  readonly alarms?: AlarmsArgs;
}

/**
 * Every problem with a component's args, in the order they are listed: the Coralogix domain, then the component's
 * own problems (`own`), then the log retention. Pure, so it is tested without Pulumi.
 */
export function validateTracedServiceArgs(
  args: Pick<TracedServiceArgs, "coralogixDomain" | "logRetentionDays">,
  own: readonly string[],
): string[] {
  const problems: string[] = [];
  try {
    resolveCoralogixDomain(args.coralogixDomain);
  } catch (error) {
    problems.push(`coralogixDomain: ${(error as Error).message}`);
  }
  problems.push(...own);
  const retention = checkLogRetention("logRetentionDays", logRetentionDays(args));
  if (retention) problems.push(retention);
  return problems;
}

/** The retention of every log group the component creates. */
export function logRetentionDays(args: Pick<TracedServiceArgs, "logRetentionDays">): number {
  return args.logRetentionDays ?? DEFAULT_LOG_RETENTION_DAYS;
}

/**
 * How the service names itself to OpenTelemetry and Coralogix (the env contract), in the standard variables only:
 * `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` (`service.namespace`, `service.version`,
 * `deployment.environment.name`, and Coralogix's `cx.application.name` / `cx.subsystem.name`), so any OpenTelemetry SDK
 * — a function in another language included — reports the same resource. `serviceName` is both `service.name` and
 * the Coralogix subsystem.
 */
export function serviceIdentityEnvironment(
  args: Pick<TracedServiceArgs, "applicationName" | "serviceVersion" | "deploymentEnvironment">,
  serviceName: string,
): Record<string, pulumi.Input<string>> {
  return {
    OTEL_SERVICE_NAME: serviceName,
    OTEL_RESOURCE_ATTRIBUTES: pulumi
      .all([args.applicationName, args.serviceVersion, args.deploymentEnvironment])
      .apply(
        ([application, version, environment]) =>
          serviceIdentityEnv({ serviceName, application, version, environment }).OTEL_RESOURCE_ATTRIBUTES,
      ),
  };
}

/** The ALB idle timeout AWS uses when none is set, in seconds. */
export const ALB_DEFAULT_IDLE_TIMEOUT_SECONDS = 60;

/**
 * The public API's edge settings (read by app/src/config.ts): a client's `traceparent` starts a new trace that links
 * it (a public edge must not let callers switch tracing off or choose trace ids), and the server keeps idle
 * connections 5 s longer than the load balancer in front of it (`albIdleTimeoutSeconds`, AWS default 60), so the ALB
 * always closes first and never reuses a connection the task is closing.
 */
export function apiEdgeEnvironment(
  albIdleTimeoutSeconds: pulumi.Input<number | undefined>,
): Record<string, pulumi.Input<string>> {
  return {
    [INCOMING_TRACE_CONTEXT_ENV]: "new-trace-with-link",
    [HTTP_KEEP_ALIVE_TIMEOUT_MS_ENV]: pulumi
      .output(albIdleTimeoutSeconds)
      .apply((seconds) => String(((seconds ?? ALB_DEFAULT_IDLE_TIMEOUT_SECONDS) + 5) * 1000)),
  };
}
