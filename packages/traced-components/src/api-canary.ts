/**
 * ApiCanary: a CloudWatch Synthetics canary that onboards a synthetic customer (customer_id `SYNTHETIC-…`,
 * user-agent `traced-onboarding-canary`) through the public API on a schedule, and an alarm on its SuccessPercent.
 *
 * - The script is `canary/onboard-canary.js` (shipped in this package), uploaded as a zip (`nodejs/node_modules/onboard-canary.js`, the
 *   Node.js canary layout; handler `onboard-canary.handler`) to a key named after its content hash, so a changed
 *   script is a new key and updates the canary.
 * - Artifacts (logs and reports of each run, under `runs/`) go to a private, SSE-KMS, TLS-only bucket that expires
 *   them; the canary encrypts them with the same key (`artifactConfig.s3Encryption` SSE_KMS).
 * - The role is the one the CloudWatch User Guide requires for a canary that uses KMS and no VPC
 *   ("Required roles and permissions for canaries"), scoped to this bucket, key and canary: `s3:ListAllMyBuckets`
 *   and `cloudwatch:PutMetricData` (namespace CloudWatchSynthetics only) have no resource-level permissions.
 * - Synthetics creates the canary's Lambda function `cwsyn-<name>-<id>` and its log group itself;
 *   `deleteLambda` removes the function with the canary.
 */
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createAlarm, type AlarmsArgs } from "./alarms";
import { createServiceRole, deploymentScope, sameAccountTrust } from "./iam";
import { createCustomerManagedKey } from "./kms";
import { createPrivateBucket } from "./private-bucket";
import { PACKAGE_ROOT } from "./project-root";
import { sourceHash } from "./source-hash";
import { checkIntegerRange, throwIfInvalid } from "./validation";

/** Documented defaults, merged under the caller's args. */
export const CANARY_DEFAULTS = {
  /** Every five minutes. */
  schedule: "rate(5 minutes)",
  /**
   * The newest Node.js + Puppeteer runtime in the CloudWatch User Guide ("Runtime versions using Node.js and
   * Puppeteer"); the script needs only Node's fetch, which every supported runtime has.
   */
  runtimeVersion: "syn-nodejs-puppeteer-15.0",
  artifactRetentionDays: 14,
  timeoutSeconds: 60,
  /** The script, relative to this package (it ships in it). */
  script: "canary/onboard-canary.js",
} as const;

/** The module name inside the zip; the handler is `<module>.handler`. */
export const CANARY_MODULE = "onboard-canary";

export interface ApiCanaryArgs {
  /**
   * The API's base URL; the canary POSTs to `<url>/onboard`.
   * @example api.url
   */
  readonly url: pulumi.Input<string>;
  /**
   * The canary's name (lower-case letters, digits, `-` and `_`, at most 21 characters); its Lambda is
   * `cwsyn-<name>-…`.
   * @example "onboarding-dev"
   */
  readonly canaryName: string;
  /**
   * When it runs: a Synthetics `rate(…)` or `cron(…)` expression.
   * @default "rate(5 minutes)"
   * @example "rate(1 minute)"
   */
  readonly schedule?: string;
  /**
   * The Synthetics runtime (a `syn-nodejs-puppeteer-*` version).
   * @default "syn-nodejs-puppeteer-15.0"
   * @example "syn-nodejs-puppeteer-13.1"
   */
  readonly runtimeVersion?: string;
  /**
   * Days the artifacts of each run are kept (in Synthetics and in the bucket).
   * @default 14
   * @example 30
   */
  readonly artifactRetentionDays?: number;
  /**
   * An alarm on the canary's SuccessPercent notifying `topicArn`.
   * @default no alarm
   * @example { topicArn: alarmTopic.topicArn }
   */
  readonly alarms?: AlarmsArgs;
}

/**
 * A canary name from a base and the stack: lower case, `[0-9a-z_-]`, at most 21 characters (the Synthetics limit
 * when it was introduced; newer accounts allow 255, so 21 fits both).
 */
export function canaryNameFor(base: string, stack: string): string {
  const clean = (s: string) => s.toLowerCase().replace(/[^0-9a-z_-]+/g, "-");
  return `${clean(base)}-${clean(stack)}`.slice(0, 21).replace(/-+$/, "");
}

/** Every problem with the args (empty when valid). Pure. */
export function validateApiCanaryArgs(args: Omit<ApiCanaryArgs, "url" | "alarms">): string[] {
  const problems: string[] = [];
  if (!/^[0-9a-z_-]{1,21}$/.test(args.canaryName)) {
    problems.push(
      `canaryName must be 1-21 lower-case letters, digits, "-" or "_" (got "${args.canaryName}"), e.g. "onboarding-dev".`,
    );
  }
  const schedule = args.schedule ?? CANARY_DEFAULTS.schedule;
  if (!/^(rate\((0|1 minute|[1-9]\d* minutes|1 hour|[1-9]\d* hours)\)|cron\(.+\))$/.test(schedule)) {
    problems.push(
      `schedule must be a Synthetics rate(…) or cron(…) expression (got "${schedule}"), e.g. "rate(5 minutes)".`,
    );
  }
  const runtime = args.runtimeVersion ?? CANARY_DEFAULTS.runtimeVersion;
  if (!/^syn-nodejs-puppeteer-\d+\.\d+$/.test(runtime)) {
    problems.push(
      `runtimeVersion must be a syn-nodejs-puppeteer-<major>.<minor> runtime (the script is Node.js) (got ` +
        `"${runtime}"), e.g. "${CANARY_DEFAULTS.runtimeVersion}".`,
    );
  }
  checkIntegerRange(problems, "artifactRetentionDays", args.artifactRetentionDays, 1, 455);
  return problems;
}

export class ApiCanary extends pulumi.ComponentResource {
  readonly key: aws.kms.Key;
  readonly bucket: aws.s3.Bucket;
  readonly code: aws.s3.BucketObjectv2;
  readonly role: aws.iam.Role;
  readonly rolePolicy: aws.iam.RolePolicy;
  readonly canary: aws.synthetics.Canary;
  readonly alarm?: aws.cloudwatch.MetricAlarm;
  readonly canaryName: pulumi.Output<string>;

  constructor(name: string, args: ApiCanaryArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid("ApiCanary", name, validateApiCanaryArgs(args));
    super("traced:aws:ApiCanary", name, {}, opts);
    const retention = args.artifactRetentionDays ?? CANARY_DEFAULTS.artifactRetentionDays;

    this.key = createCustomerManagedKey(
      `${name}-artifacts-key`,
      { description: `Encrypts the ${name} canary's code and run artifacts`, viaServices: ["s3"] },
      this,
    );
    this.bucket = createPrivateBucket(
      `${name}-artifacts`,
      { key: this.key, expirationDays: retention, ruleId: "expire-canary-runs", expirePrefix: "runs/" },
      this,
    );
    this.code = new aws.s3.BucketObjectv2(
      `${name}-code`,
      {
        bucket: this.bucket.id,
        key: `code/${CANARY_MODULE}-${sourceHash([CANARY_DEFAULTS.script], PACKAGE_ROOT).slice(0, 16)}.zip`,
        source: new pulumi.asset.AssetArchive({
          [`nodejs/node_modules/${CANARY_MODULE}.js`]: new pulumi.asset.FileAsset(
            path.join(PACKAGE_ROOT, CANARY_DEFAULTS.script),
          ),
        }),
        serverSideEncryption: "aws:kms",
        kmsKeyId: this.key.arn,
      },
      { parent: this },
    );
    const role = this.createRole(name, args.canaryName);
    this.role = role.role;
    this.rolePolicy = role.policy;
    this.canary = new aws.synthetics.Canary(
      name,
      {
        name: args.canaryName,
        runtimeVersion: args.runtimeVersion ?? CANARY_DEFAULTS.runtimeVersion,
        handler: `${CANARY_MODULE}.handler`,
        s3Bucket: this.bucket.bucket,
        s3Key: this.code.key,
        executionRoleArn: this.role.arn,
        artifactS3Location: pulumi.interpolate`s3://${this.bucket.bucket}/runs/`,
        artifactConfig: { s3Encryption: { encryptionMode: "SSE_KMS", kmsKeyArn: this.key.arn } },
        schedule: { expression: args.schedule ?? CANARY_DEFAULTS.schedule },
        runConfig: {
          timeoutInSeconds: CANARY_DEFAULTS.timeoutSeconds,
          environmentVariables: { API_URL: args.url },
        },
        successRetentionPeriod: retention,
        failureRetentionPeriod: retention,
        startCanary: true,
        deleteLambda: true,
      },
      // Synthetics checks the role when it creates the canary's function.
      { parent: this, dependsOn: [this.rolePolicy] },
    );
    this.canaryName = this.canary.name;
    if (args.alarms) this.alarm = this.createAlarm(name, args.alarms.topicArn);
    this.registerOutputs({ canaryName: this.canaryName });
  }

  /** What a KMS-encrypting, VPC-less canary needs (CloudWatch User Guide), scoped to its bucket, key and name. */
  private createRole(name: string, canaryName: string) {
    const { accountId, region, partition } = deploymentScope(this);
    return createServiceRole(
      `${name}-role`,
      {
        description: `Runs the ${name} synthetic check`,
        service: "lambda.amazonaws.com",
        trustConditions: sameAccountTrust(this),
        statements: [
          {
            sid: "WriteRunArtifacts",
            actions: ["s3:PutObject", "s3:GetObject"],
            resources: [pulumi.interpolate`${this.bucket.arn}/runs/*`],
          },
          { sid: "LocateArtifactsBucket", actions: ["s3:GetBucketLocation"], resources: [this.bucket.arn] },
          // No resource-level permissions (Service Authorization Reference); the runtime lists buckets on start.
          { sid: "ListBuckets", actions: ["s3:ListAllMyBuckets"], resources: ["*"] },
          {
            sid: "EncryptArtifacts",
            actions: ["kms:GenerateDataKey", "kms:Decrypt"],
            resources: [this.key.arn],
          },
          {
            sid: "WriteOwnLogs",
            actions: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            resources: [
              pulumi.interpolate`arn:${partition}:logs:${region}:${accountId}:log-group:/aws/lambda/cwsyn-${canaryName}-*`,
            ],
          },
          {
            sid: "PublishSyntheticsMetrics",
            actions: ["cloudwatch:PutMetricData"],
            resources: ["*"],
            conditions: [{ test: "StringEquals", variable: "cloudwatch:namespace", values: ["CloudWatchSynthetics"] }],
          },
        ],
      },
      this,
    );
  }

  /**
   * Fires when 2 of the last 3 five-minute periods had a failed run (SuccessPercent is 0 or 100 per run). A canary
   * that stops running is as bad as a failing one, so missing data breaches.
   */
  private createAlarm(name: string, topicArn: pulumi.Input<string>): aws.cloudwatch.MetricAlarm {
    return createAlarm(
      `${name}-success`,
      topicArn,
      {
        alarmDescription:
          `The ${name} synthetic check failed to onboard a SYNTHETIC- customer through the API: read the ` +
          `canary's last runs in the CloudWatch Synthetics console, then the API's logs and traces.`,
        namespace: "CloudWatchSynthetics",
        metricName: "SuccessPercent",
        dimensions: { CanaryName: this.canary.name },
        statistic: "Average",
        period: 300,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        comparisonOperator: "LessThanThreshold",
        threshold: 90,
        treatMissingData: "breaching",
      },
      this,
    );
  }
}
