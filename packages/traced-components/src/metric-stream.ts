/**
 * CoralogixMetricStream: a CloudWatch Metric Stream → Kinesis Firehose → Coralogix's Firehose HTTP endpoint,
 * with the access key taken from Secrets Manager by Firehose itself, GZIP, retries, and failed records backed up
 * to an encrypted, private S3 bucket with a lifecycle rule.
 *
 * Coralogix parses the stream only when the Firehose common attribute `integrationType` announces its format; a
 * mismatch makes metrics silently vanish, so the attribute is derived from the format and an explicit one is
 * validated against it. Coralogix ingests only `opentelemetry0.7` today: terraform-coralogix-aws v1.0.67 removed
 * `CloudWatch_Metrics_JSON` (CHANGELOG "Breaking changes … Remove CloudWatch_Metrics_JSON from metrics
 * integrationTypes"), and `modules/firehose-metrics/variables.tf` `integration_type_metrics` lists only the two
 * OpenTelemetry 0.7 types.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { coralogixFirehoseEndpoint, resolveCoralogixDomain } from "./contract/coralogix";
import { createServiceRole } from "./iam";
import { createCustomerManagedKey } from "./kms";
import { checkLogRetention, DEFAULT_LOG_RETENTION_DAYS } from "./log-retention";
import { createPrivateBucket } from "./private-bucket";
import { secretReadStatements, type TelemetrySecretRef } from "./telemetry-secret";
import { checkIntegerRange, throwIfInvalid } from "./validation";

/** Metric stream output format → the `integrationType` values Coralogix accepts for it (first = default). */
export const INTEGRATION_TYPES = {
  "opentelemetry0.7": ["CloudWatch_Metrics_OpenTelemetry070_WithAggregations", "CloudWatch_Metrics_OpenTelemetry070"],
} as const;

export type MetricStreamFormat = keyof typeof INTEGRATION_TYPES;

/** Documented defaults, merged under the caller's args. */
export const METRIC_STREAM_DEFAULTS = {
  namespaces: ["AWS/Lambda", "AWS/SQS", "AWS/ECS", "AWS/ApplicationELB"],
  format: "opentelemetry0.7",
  subsystemName: "aws-metrics",
  retryDurationSeconds: 300,
  bufferingSizeMb: 1,
  bufferingIntervalSeconds: 60,
  backupExpirationDays: 30,
} as const;

export interface CoralogixMetricStreamArgs {
  /**
   * Coralogix region (`us2`) or domain; decides the endpoint `https://ingress.<domain>/aws/firehose`.
   * @example "eu2"
   */
  readonly coralogixDomain: string;
  /**
   * The secret holding `{"api_key": "…"}`, read by Firehose through its Secrets Manager integration.
   * @example new TelemetrySecret("coralogix", { apiKey })
   */
  readonly secret: TelemetrySecretRef;
  /**
   * Coralogix application name (Firehose common attribute `applicationName`).
   * @example "customer-onboarding"
   */
  readonly applicationName: pulumi.Input<string>;
  /**
   * Coralogix subsystem name (common attribute `subsystemName`).
   * @default "aws-metrics"
   * @example "aws-metrics"
   */
  readonly subsystemName?: pulumi.Input<string>;
  /**
   * CloudWatch namespaces streamed.
   * @default ["AWS/Lambda", "AWS/SQS", "AWS/ECS", "AWS/ApplicationELB"]
   * @example ["AWS/Lambda", "AWS/SQS"]
   */
  readonly namespaces?: string[];
  /**
   * Metric stream output format; Coralogix ingests only `opentelemetry0.7` (it dropped `json`). A string, not
   * {@link MetricStreamFormat}, so the provider schema can carry it; anything else is refused by validation.
   * @default "opentelemetry0.7"
   * @example "opentelemetry0.7"
   */
  readonly format?: string;
  /**
   * Firehose common attribute `integrationType`; must match `format`.
   * @default "CloudWatch_Metrics_OpenTelemetry070_WithAggregations"
   * @example "CloudWatch_Metrics_OpenTelemetry070"
   */
  readonly integrationType?: string;
  /**
   * How long Firehose retries a failed delivery before backing the records up to S3 (0 to 7200 s).
   * @default 300
   * @example 600
   */
  readonly retryDurationSeconds?: number;
  /**
   * Firehose buffer size in MiB (1 to 64).
   * @default 1
   * @example 4
   */
  readonly bufferingSizeMb?: number;
  /**
   * Firehose buffer interval in seconds (0 to 900).
   * @default 60
   * @example 120
   */
  readonly bufferingIntervalSeconds?: number;
  /**
   * Days failed records stay in the backup bucket.
   * @default 30
   * @example 90
   */
  readonly backupExpirationDays?: number;
  /**
   * Retention of Firehose's delivery-error log group (a CloudWatch-accepted value).
   * @default 30
   * @example 90
   */
  readonly logRetentionDays?: number;
}

/** The `integrationType` sent to Coralogix for these args. */
export function resolveIntegrationType(args: Pick<CoralogixMetricStreamArgs, "format" | "integrationType">): string {
  return (
    args.integrationType ??
    (INTEGRATION_TYPES as Record<string, readonly string[]>)[args.format ?? METRIC_STREAM_DEFAULTS.format]![0]!
  );
}

/** Every problem with the args (empty when valid). Pure, so it is tested without Pulumi. */
export function validateCoralogixMetricStreamArgs(args: Omit<CoralogixMetricStreamArgs, "secret">): string[] {
  const problems: string[] = [];
  try {
    resolveCoralogixDomain(args.coralogixDomain);
  } catch (error) {
    problems.push(`coralogixDomain: ${(error as Error).message}`);
  }
  const format = args.format ?? METRIC_STREAM_DEFAULTS.format;
  const accepted: readonly string[] | undefined = (INTEGRATION_TYPES as Record<string, readonly string[]>)[format];
  if (!accepted) {
    problems.push(
      `format must be one of ${Object.keys(INTEGRATION_TYPES).join(", ")} (got "${format}"): Coralogix ingests no ` +
        `other CloudWatch metric stream format.`,
    );
  } else if (args.integrationType !== undefined && !accepted.includes(args.integrationType)) {
    problems.push(
      `integrationType "${args.integrationType}" does not match format "${format}"; Coralogix would drop every ` +
        `metric. Use one of ${accepted.join(", ")} or omit integrationType.`,
    );
  }
  const namespaces = args.namespaces ?? METRIC_STREAM_DEFAULTS.namespaces;
  if (namespaces.length === 0) problems.push(`namespaces must list at least one namespace, e.g. ["AWS/Lambda"].`);
  checkIntegerRange(problems, "retryDurationSeconds", args.retryDurationSeconds, 0, 7200);
  checkIntegerRange(problems, "bufferingSizeMb", args.bufferingSizeMb, 1, 64);
  checkIntegerRange(problems, "bufferingIntervalSeconds", args.bufferingIntervalSeconds, 0, 900);
  checkIntegerRange(problems, "backupExpirationDays", args.backupExpirationDays, 1, 3650);
  const retention = checkLogRetention("logRetentionDays", args.logRetentionDays ?? DEFAULT_LOG_RETENTION_DAYS);
  if (retention) problems.push(retention);
  return problems;
}

/** A CloudWatch metric stream through Kinesis Data Firehose to Coralogix, failed records backed up to S3. */
export class CoralogixMetricStream extends pulumi.ComponentResource {
  readonly backupKey: aws.kms.Key;
  readonly backupBucket: aws.s3.Bucket;
  readonly deliveryStream: aws.kinesis.FirehoseDeliveryStream;
  readonly metricStream: aws.cloudwatch.MetricStream;
  readonly firehoseRole: aws.iam.Role;
  readonly metricStreamRole: aws.iam.Role;
  readonly deliveryStreamArn: pulumi.Output<string>;
  readonly metricStreamName: pulumi.Output<string>;

  constructor(name: string, args: CoralogixMetricStreamArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid("CoralogixMetricStream", name, validateCoralogixMetricStreamArgs(args));
    super("traced:aws:CoralogixMetricStream", name, {}, opts);

    this.backupKey = createCustomerManagedKey(
      `${name}-backup-key`,
      { description: `Encrypts records ${name} failed to deliver`, viaServices: ["s3"] },
      this,
    );
    this.backupBucket = this.createBackupBucket(name, args);
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-firehose-logs`,
      { retentionInDays: args.logRetentionDays ?? DEFAULT_LOG_RETENTION_DAYS },
      { parent: this },
    );
    const logStream = new aws.cloudwatch.LogStream(
      `${name}-firehose-delivery`,
      { logGroupName: logGroup.name, name: "HttpEndpointDelivery" },
      { parent: this },
    );
    const firehose = this.createFirehoseRole(name, args, logGroup);
    this.firehoseRole = firehose.role;
    this.deliveryStream = this.createDeliveryStream(name, args, logGroup, logStream, firehose.policy);
    const stream = this.createMetricStreamRole(name);
    this.metricStreamRole = stream.role;
    this.metricStream = new aws.cloudwatch.MetricStream(
      name,
      {
        firehoseArn: this.deliveryStream.arn,
        roleArn: this.metricStreamRole.arn,
        outputFormat: args.format ?? METRIC_STREAM_DEFAULTS.format,
        includeFilters: (args.namespaces ?? METRIC_STREAM_DEFAULTS.namespaces).map((namespace) => ({ namespace })),
      },
      { parent: this, dependsOn: [stream.policy] },
    );

    this.deliveryStreamArn = this.deliveryStream.arn;
    this.metricStreamName = this.metricStream.name;
    this.registerOutputs({ deliveryStreamArn: this.deliveryStreamArn, metricStreamName: this.metricStreamName });
  }

  /** Private, KMS-encrypted, TLS-only, and emptied by a lifecycle rule. */
  private createBackupBucket(name: string, args: CoralogixMetricStreamArgs): aws.s3.Bucket {
    return createPrivateBucket(
      `${name}-backup`,
      {
        key: this.backupKey,
        expirationDays: args.backupExpirationDays ?? METRIC_STREAM_DEFAULTS.backupExpirationDays,
        ruleId: "expire-failed-records",
      },
      this,
    );
  }

  /** Firehose may back up to its bucket with its key, read the secret, and write its error log. */
  private createFirehoseRole(
    name: string,
    args: CoralogixMetricStreamArgs,
    logGroup: aws.cloudwatch.LogGroup,
  ): { role: aws.iam.Role; policy: aws.iam.RolePolicy } {
    const account = aws.getCallerIdentityOutput({}, { parent: this });
    return createServiceRole(
      `${name}-firehose-role`,
      {
        description: `Delivers ${name} metrics to Coralogix and backs up failures`,
        service: "firehose.amazonaws.com",
        trustConditions: [{ test: "StringEquals", variable: "sts:ExternalId", values: [account.accountId] }],
        statements: [
          {
            sid: "BackupBucket",
            actions: [
              "s3:AbortMultipartUpload",
              "s3:GetBucketLocation",
              "s3:GetObject",
              "s3:ListBucket",
              "s3:ListBucketMultipartUploads",
              "s3:PutObject",
            ],
            resources: [this.backupBucket.arn, pulumi.interpolate`${this.backupBucket.arn}/*`],
          },
          { sid: "BackupKey", actions: ["kms:GenerateDataKey", "kms:Decrypt"], resources: [this.backupKey.arn] },
          ...secretReadStatements(args.secret),
          {
            sid: "WriteDeliveryErrors",
            actions: ["logs:PutLogEvents"],
            resources: [pulumi.interpolate`${logGroup.arn}:*`],
          },
        ],
      },
      this,
    );
  }

  private createDeliveryStream(
    name: string,
    args: CoralogixMetricStreamArgs,
    logGroup: aws.cloudwatch.LogGroup,
    logStream: aws.cloudwatch.LogStream,
    rolePolicy: aws.iam.RolePolicy,
  ): aws.kinesis.FirehoseDeliveryStream {
    return new aws.kinesis.FirehoseDeliveryStream(
      `${name}-firehose`,
      {
        destination: "http_endpoint",
        serverSideEncryption: { enabled: true, keyType: "AWS_OWNED_CMK" },
        httpEndpointConfiguration: {
          name: "Coralogix",
          url: coralogixFirehoseEndpoint(args.coralogixDomain),
          roleArn: this.firehoseRole.arn,
          secretsManagerConfiguration: { enabled: true, secretArn: args.secret.arn, roleArn: this.firehoseRole.arn },
          bufferingSize: args.bufferingSizeMb ?? METRIC_STREAM_DEFAULTS.bufferingSizeMb,
          bufferingInterval: args.bufferingIntervalSeconds ?? METRIC_STREAM_DEFAULTS.bufferingIntervalSeconds,
          retryDuration: args.retryDurationSeconds ?? METRIC_STREAM_DEFAULTS.retryDurationSeconds,
          s3BackupMode: "FailedDataOnly",
          requestConfiguration: {
            contentEncoding: "GZIP",
            commonAttributes: [
              { name: "integrationType", value: resolveIntegrationType(args) },
              { name: "applicationName", value: args.applicationName },
              { name: "subsystemName", value: args.subsystemName ?? METRIC_STREAM_DEFAULTS.subsystemName },
            ],
          },
          cloudwatchLoggingOptions: { enabled: true, logGroupName: logGroup.name, logStreamName: logStream.name },
          s3Configuration: {
            roleArn: this.firehoseRole.arn,
            bucketArn: this.backupBucket.arn,
            kmsKeyArn: this.backupKey.arn,
            compressionFormat: "GZIP",
            prefix: "failed/",
            errorOutputPrefix: "errors/",
            bufferingSize: 5,
            bufferingInterval: 300,
          },
        },
      },
      // Firehose checks its access to the bucket when the stream is created.
      { parent: this, dependsOn: [rolePolicy] },
    );
  }

  /** CloudWatch may put records into this delivery stream only. */
  private createMetricStreamRole(name: string): { role: aws.iam.Role; policy: aws.iam.RolePolicy } {
    return createServiceRole(
      `${name}-stream-role`,
      {
        description: `Lets the ${name} metric stream write to its Firehose`,
        service: "streams.metrics.cloudwatch.amazonaws.com",
        // The trust policy AWS documents for this principal, without conditions (CloudWatch-metric-streams-
        // trustpolicy.html; Coralogix's firehose-metrics module uses the same). An aws:SourceAccount condition the
        // service might not send would deliver nothing, and nothing would fail at deploy.
        statements: [
          {
            sid: "PutToOwnFirehose",
            actions: ["firehose:PutRecord", "firehose:PutRecordBatch"],
            resources: [this.deliveryStream.arn],
          },
        ],
      },
      this,
    );
  }
}
