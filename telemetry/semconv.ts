/**
 * The incubating (not yet stable) semantic-convention names this project's runtime code uses, copied from
 * `@opentelemetry/semantic-conventions/incubating` 1.45.0. Its README asks libraries to copy incubating constants
 * rather than import that entry point: they may be renamed or removed in any minor release, which would then change
 * what the services emit without a change here. Stable names are imported from the package itself.
 */

// Cloud / FaaS (resource and invocation span).
export const ATTR_CLOUD_ACCOUNT_ID = "cloud.account.id" as const;
export const ATTR_CLOUD_PLATFORM = "cloud.platform" as const;
export const ATTR_CLOUD_PROVIDER = "cloud.provider" as const;
export const ATTR_CLOUD_REGION = "cloud.region" as const;
export const CLOUD_PLATFORM_VALUE_AWS_ECS = "aws_ecs" as const;
export const CLOUD_PLATFORM_VALUE_AWS_LAMBDA = "aws_lambda" as const;
export const CLOUD_PROVIDER_VALUE_AWS = "aws" as const;
export const ATTR_FAAS_NAME = "faas.name" as const;
export const ATTR_FAAS_COLDSTART = "faas.coldstart" as const;
export const ATTR_FAAS_INVOCATION_ID = "faas.invocation.id" as const;
export const ATTR_FAAS_TRIGGER = "faas.trigger" as const;
export const FAAS_TRIGGER_VALUE_PUBSUB = "pubsub" as const;
/** The invoked ARN as Lambda's context gives it (an alias included); not `cloud.resource_id`. */
export const ATTR_AWS_LAMBDA_INVOKED_ARN = "aws.lambda.invoked_arn" as const;

// Messaging.
export const ATTR_MESSAGING_BATCH_MESSAGE_COUNT = "messaging.batch.message_count" as const;
export const ATTR_MESSAGING_DESTINATION_NAME = "messaging.destination.name" as const;
export const ATTR_MESSAGING_MESSAGE_ID = "messaging.message.id" as const;
export const ATTR_MESSAGING_OPERATION_NAME = "messaging.operation.name" as const;
export const ATTR_MESSAGING_OPERATION_TYPE = "messaging.operation.type" as const;
export const ATTR_MESSAGING_SYSTEM = "messaging.system" as const;
export const MESSAGING_OPERATION_TYPE_VALUE_PROCESS = "process" as const;
export const MESSAGING_OPERATION_TYPE_VALUE_SEND = "send" as const;
export const MESSAGING_SYSTEM_VALUE_AWS_SQS = "aws_sqs" as const;

/**
 * The Lambda's per-invocation span and its per-record spans are both `process <queue>` (FaaS + messaging
 * conventions); only the invocation's carries the batch count. How every reader of the trace tells them apart.
 */
export function isInvocationSpan(attributes: Readonly<Record<string, unknown>>): boolean {
  return attributes[ATTR_MESSAGING_BATCH_MESSAGE_COUNT] !== undefined;
}
