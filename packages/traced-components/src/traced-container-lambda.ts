/**
 * TracedContainerLambda: the SQS consumer as a container-image Lambda on arm64, pinned to the pushed image digest,
 * with its own log group, a least-privilege role, an event source mapping with partial batch responses, and
 * alarms on errors and throttles. Its args are plain data (the plugin hosts it for every Pulumi language); adjust a
 * child beyond them with the resource option `transforms`, which reaches every child.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { resolveCoralogixDomain } from "./contract/coralogix";
import { LAMBDA_SERVICE_NAME } from "./contract/service-names";
import { CORALOGIX_DOMAIN_ENV, CORALOGIX_SECRET_ARN_ENV, ONBOARDING_TABLE_NAME_ENV } from "./contract/runtime-env";
import { createAlarm } from "./alarms";
import { BUNDLE_BUILD_INPUTS, imageUriProblems, serviceImage } from "./container-image";
import { createServiceRole, deploymentScope, policyDocument, sameAccountTrust, writeLogsStatement } from "./iam";
import { checkedReservedConcurrency } from "./lambda-concurrency";
import { secretReadStatements } from "./telemetry-secret";
import { minimumVisibilityTimeout } from "./delivery-rules";
import { tableRecordStatements, type TableRef } from "./onboarding-table";
import { queueConsumeStatements, type QueueRef } from "./traced-queue";
import {
  logRetentionDays,
  serviceIdentityEnvironment,
  type TracedServiceArgs,
  validateTracedServiceArgs,
} from "./traced-service-args";
import { checkIntegerRange, throwIfInvalid } from "./validation";

/** Documented defaults, merged under the caller's args. */
export const LAMBDA_DEFAULTS = {
  timeoutSeconds: 30,
  memorySizeMb: 512,
  batchSize: 10,
  batchingWindowSeconds: 1,
  maximumConcurrency: 5,
  serviceName: LAMBDA_SERVICE_NAME,
  image: {
    context: ".",
    dockerfile: "lambda/Dockerfile",
    platform: "linux/arm64",
    inputs: [...BUNDLE_BUILD_INPUTS, "lambda/src/", "contract/"],
  },
} as const;

export interface TracedContainerLambdaArgs extends TracedServiceArgs {
  /**
   * The queue this function consumes: a TracedQueue, or any SQS queue with a customer-managed key by ARN, URL and
   * key ARN. Its visibility timeout must be at least `6 × timeoutSeconds + batchingWindowSeconds` (a TracedQueue
   * created with `consumer` set to the same values; checked when `visibilityTimeoutSeconds` is known).
   * @example new TracedQueue("onboarding", { consumer: { timeoutSeconds: 30, batchingWindowSeconds: 1 } })
   */
  readonly queue: QueueRef;
  /**
   * The table the function records each request in, once (`ONBOARDING_TABLE_NAME`): an OnboardingTable, or any
   * table keyed like it by name, ARN and key ARN; the role may put, update and get its items, with its key, nothing
   * else. Without it the function keeps an in-memory store (per environment only).
   * @default none
   * @example new OnboardingTable("onboarding", { deletionProtection: true })
   */
  readonly table?: TableRef;
  /**
   * Coralogix subsystem name (`cx.subsystem.name`) and OpenTelemetry `service.name`.
   * @default "onboarding-lambda"
   * @example "onboarding-lambda"
   */
  readonly serviceName?: string;
  /**
   * Function timeout in seconds (1 to 900).
   * @default 30
   * @example 60
   */
  readonly timeoutSeconds?: number;
  /**
   * Memory in MB (128 to 10240).
   * @default 512
   * @example 1024
   */
  readonly memorySizeMb?: number;
  /**
   * Records per batch (1 to 10000; above 10 needs `batchingWindowSeconds` ≥ 1).
   * @default 10
   * @example 25
   */
  readonly batchSize?: number;
  /**
   * Seconds the event source mapping waits to fill a batch (0 to 300).
   * @default 1
   * @example 5
   */
  readonly batchingWindowSeconds?: number;
  /**
   * Maximum concurrent invocations the SQS event source mapping drives (2 to 1000).
   * @default 5
   * @example 20
   */
  readonly maximumConcurrency?: number;
  /**
   * Reserved concurrency for the function; at least `maximumConcurrency` so the mapping is never throttled, and at
   * most the account's Lambda concurrency limit − 100 (checked against Service Quotas before the function is
   * created).
   * @default none (unreserved)
   * @example 20
   */
  readonly reservedConcurrency?: number;
  /**
   * What to call `reservedConcurrency` when the account cannot reserve it, e.g. the stack config key that sets it.
   * @default "reservedConcurrency"
   * @example "traced-onboarding:lambdaReservedConcurrency"
   */
  readonly reservedConcurrencySetting?: string;
}

/** Every problem with the args (empty when valid). Pure, so it is tested without Pulumi. */
export function validateTracedContainerLambdaArgs(
  args: Omit<TracedContainerLambdaArgs, "queue" | "secret" | "table"> & {
    readonly queue: Partial<QueueRef>;
  },
): string[] {
  const problems: string[] = [];
  const timeout = args.timeoutSeconds ?? LAMBDA_DEFAULTS.timeoutSeconds;
  const window = args.batchingWindowSeconds ?? LAMBDA_DEFAULTS.batchingWindowSeconds;
  const batchSize = args.batchSize ?? LAMBDA_DEFAULTS.batchSize;
  const maxConcurrency = args.maximumConcurrency ?? LAMBDA_DEFAULTS.maximumConcurrency;
  checkIntegerRange(problems, "timeoutSeconds", timeout, 1, 900);
  checkIntegerRange(problems, "memorySizeMb", args.memorySizeMb, 128, 10240);
  checkIntegerRange(problems, "batchSize", batchSize, 1, 10000);
  checkIntegerRange(problems, "batchingWindowSeconds", window, 0, 300);
  checkIntegerRange(problems, "maximumConcurrency", maxConcurrency, 2, 1000);
  if (batchSize > 10 && window < 1) {
    problems.push(`batchSize ${batchSize} needs batchingWindowSeconds of at least 1 (SQS rule for batches over 10).`);
  }
  if (args.reservedConcurrency !== undefined) {
    checkIntegerRange(problems, "reservedConcurrency", args.reservedConcurrency, 0, 10000);
    if (args.reservedConcurrency < maxConcurrency) {
      problems.push(
        `reservedConcurrency (${args.reservedConcurrency}) must be at least maximumConcurrency (${maxConcurrency}), ` +
          `or the event source mapping is throttled. Raise reservedConcurrency or lower maximumConcurrency.`,
      );
    }
  }
  problems.push(...imageUriProblems(args));
  const minimum = minimumVisibilityTimeout({ timeoutSeconds: timeout, batchingWindowSeconds: window });
  if (args.queue.visibilityTimeoutSeconds !== undefined && args.queue.visibilityTimeoutSeconds < minimum) {
    problems.push(
      `the queue's visibility timeout (${args.queue.visibilityTimeoutSeconds} s) must be at least 6 × timeoutSeconds ` +
        `(${timeout}) + batchingWindowSeconds (${window}) = ${minimum} s. Create the queue with ` +
        `consumer: { timeoutSeconds: ${timeout}, batchingWindowSeconds: ${window} }.`,
    );
  }
  return validateTracedServiceArgs(args, problems);
}

/**
 * An SQS consumer as a container-image Lambda on arm64 run by image digest: its own log group, a least-privilege
 * role, an event source mapping with partial batch responses, and alarms on errors and throttles.
 */
export class TracedContainerLambda extends pulumi.ComponentResource {
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly role: aws.iam.Role;
  readonly function: aws.lambda.Function;
  readonly eventSourceMapping: aws.lambda.EventSourceMapping;
  /** The image's repository (none with a prebuilt `imageUri`). */
  readonly repository?: aws.ecr.Repository;
  readonly functionName: pulumi.Output<string>;
  readonly functionArn: pulumi.Output<string>;
  /** The reserved concurrency once the account's limit allows it (undefined when unreserved). */
  readonly reservedConcurrency?: pulumi.Output<number>;
  /** The digest-pinned image URI the function runs. */
  readonly imageUri: pulumi.Output<string>;
  readonly alarms: aws.cloudwatch.MetricAlarm[];

  constructor(name: string, args: TracedContainerLambdaArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid("TracedContainerLambda", name, validateTracedContainerLambdaArgs(args));
    super("traced:aws:TracedContainerLambda", name, {}, opts);

    const built = serviceImage(name, args, { ...LAMBDA_DEFAULTS.image, ...args.image }, this);
    this.repository = built.repository;
    this.imageUri = built.imageUri;
    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { retentionInDays: logRetentionDays(args) },
      { parent: this },
    );
    if (args.reservedConcurrency !== undefined) {
      const setting = args.reservedConcurrencySetting ?? "reservedConcurrency";
      this.reservedConcurrency = checkedReservedConcurrency(args.reservedConcurrency, setting, this);
    }
    // A prebuilt image's repository is the caller's, and so is its policy (see `imageUri`).
    const imagePull = this.repository ? [this.createImagePullPolicy(name, this.repository)] : [];
    const { role, policy } = this.createRole(name, args);
    this.role = role;
    this.function = this.createFunction(name, args, [policy, ...imagePull]);
    this.eventSourceMapping = this.createEventSourceMapping(name, args);
    this.alarms = args.alarms ? this.createAlarms(name, args.alarms.topicArn) : [];

    this.functionName = this.function.name;
    this.functionArn = this.function.arn;
    this.registerOutputs({ functionName: this.functionName, functionArn: this.functionArn, imageUri: this.imageUri });
  }

  /**
   * Writes only its log group, consumes only its queue, reads only its secret, records only in its table, uses only
   * those keys.
   */
  private createRole(name: string, args: TracedContainerLambdaArgs) {
    return createServiceRole(
      `${name}-role`,
      {
        description: `Runs the ${name} function`,
        service: "lambda.amazonaws.com",
        trustConditions: sameAccountTrust(this),
        statements: [
          writeLogsStatement([this.logGroup]),
          ...queueConsumeStatements(args.queue),
          ...secretReadStatements(args.secret),
          ...(args.table ? tableRecordStatements(args.table) : []),
        ],
      },
      this,
    );
  }

  /**
   * Lets the Lambda service pull this repository's images for functions of this account and region. Without it,
   * Lambda adds the grant itself on create — but only when the deployer may call `ecr:SetRepositoryPolicy`.
   */
  private createImagePullPolicy(name: string, repository: aws.ecr.Repository): aws.ecr.RepositoryPolicy {
    const { accountId, region, partition } = deploymentScope(this);
    return new aws.ecr.RepositoryPolicy(
      `${name}-repo-policy`,
      {
        repository: repository.name,
        policy: policyDocument(
          [
            {
              sid: "LambdaImagePull",
              effect: "Allow",
              principals: [{ type: "Service", identifiers: ["lambda.amazonaws.com"] }],
              actions: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
              conditions: [
                {
                  test: "StringLike",
                  variable: "aws:sourceArn",
                  values: [pulumi.interpolate`arn:${partition}:lambda:${region}:${accountId}:function:*`],
                },
              ],
            },
          ],
          { parent: this },
        ),
      },
      { parent: this },
    );
  }

  private createFunction(
    name: string,
    args: TracedContainerLambdaArgs,
    dependsOn: pulumi.Resource[],
  ): aws.lambda.Function {
    const serviceName = args.serviceName ?? LAMBDA_DEFAULTS.serviceName;
    const functionArgs: aws.lambda.FunctionArgs = {
      description: "Consumes onboarding messages from SQS; one trace from the API through this function",
      packageType: "Image",
      imageUri: this.imageUri,
      architectures: ["arm64"],
      role: this.role.arn,
      timeout: args.timeoutSeconds ?? LAMBDA_DEFAULTS.timeoutSeconds,
      memorySize: args.memorySizeMb ?? LAMBDA_DEFAULTS.memorySizeMb,
      // Checked against the account's limit: when it does not fit, the function is never registered.
      reservedConcurrentExecutions: this.reservedConcurrency,
      loggingConfig: { logFormat: "Text", logGroup: this.logGroup.name },
      environment: {
        variables: {
          [CORALOGIX_DOMAIN_ENV]: resolveCoralogixDomain(args.coralogixDomain),
          [CORALOGIX_SECRET_ARN_ENV]: args.secret.arn,
          ...(args.table ? { [ONBOARDING_TABLE_NAME_ENV]: args.table.name } : {}),
          ...serviceIdentityEnvironment(args, serviceName),
        },
      },
    };
    return new aws.lambda.Function(
      name,
      functionArgs,
      // The log group (retention set) must exist before Lambda would create an unmanaged one; the role's policy
      // must exist before the first invocation writes logs, and the repository policy before Lambda pulls the image.
      { parent: this, dependsOn: [this.logGroup, ...dependsOn] },
    );
  }

  private createEventSourceMapping(name: string, args: TracedContainerLambdaArgs): aws.lambda.EventSourceMapping {
    const mappingArgs: aws.lambda.EventSourceMappingArgs = {
      eventSourceArn: args.queue.arn,
      functionName: this.function.arn,
      batchSize: args.batchSize ?? LAMBDA_DEFAULTS.batchSize,
      maximumBatchingWindowInSeconds: args.batchingWindowSeconds ?? LAMBDA_DEFAULTS.batchingWindowSeconds,
      functionResponseTypes: ["ReportBatchItemFailures"],
      scalingConfig: { maximumConcurrency: args.maximumConcurrency ?? LAMBDA_DEFAULTS.maximumConcurrency },
    };
    return new aws.lambda.EventSourceMapping(`${name}-sqs`, mappingArgs, { parent: this });
  }

  private createAlarms(name: string, topicArn: pulumi.Input<string>): aws.cloudwatch.MetricAlarm[] {
    const alarm = (suffix: string, metricName: string, description: string) =>
      createAlarm(
        `${name}-${suffix}`,
        topicArn,
        {
          alarmDescription: description,
          namespace: "AWS/Lambda",
          metricName,
          dimensions: { FunctionName: this.function.name },
          statistic: "Sum",
          threshold: 0,
        },
        this,
      );
    return [
      alarm("errors", "Errors", `The ${name} function is failing invocations: check its logs and traces.`),
      alarm("throttles", "Throttles", `The ${name} function is throttled: raise reserved or account concurrency.`),
    ];
  }
}
