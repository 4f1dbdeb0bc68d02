import * as assert from "node:assert/strict";
import {
  CoralogixMetricStream,
  resolveIntegrationType,
  validateCoralogixMetricStreamArgs,
} from "../../packages/traced-components/src/metric-stream";
import { fakeSecret, SECRET_ARN, SECRET_READ_GRANTS } from "./fixtures";
import {
  grantsOf,
  inlinePolicyOfRole,
  installMocks,
  resourceNamed,
  resourcesOfType,
  settleAll,
} from "../../harness/mocks";

const FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream";
const BUCKET_ARN = "arn:aws:s3:eu-west-1:123456789012:metrics-backup-mock";
const BACKUP_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/key-metrics-backup-key";

describe("CoralogixMetricStream validation", () => {
  it("derives integrationType from the format", () => {
    assert.equal(resolveIntegrationType({}), "CloudWatch_Metrics_OpenTelemetry070_WithAggregations");
    assert.equal(
      resolveIntegrationType({ format: "opentelemetry0.7" }),
      "CloudWatch_Metrics_OpenTelemetry070_WithAggregations",
    );
  });

  it("rejects an integrationType that does not match the format, since Coralogix would drop the metrics", () => {
    assert.deepEqual(
      validateCoralogixMetricStreamArgs({
        coralogixDomain: "eu2",
        applicationName: "app",
        integrationType: "CloudWatch_Metrics_JSON",
      }),
      [
        'integrationType "CloudWatch_Metrics_JSON" does not match format "opentelemetry0.7"; Coralogix would drop ' +
          "every metric. Use one of CloudWatch_Metrics_OpenTelemetry070_WithAggregations, " +
          "CloudWatch_Metrics_OpenTelemetry070 or omit integrationType.",
      ],
    );
  });

  it("rejects the json format, which Coralogix no longer ingests (terraform-coralogix-aws v1.0.67)", () => {
    assert.deepEqual(
      validateCoralogixMetricStreamArgs({
        coralogixDomain: "eu2",
        applicationName: "app",
        format: "json" as "opentelemetry0.7",
      }),
      [
        'format must be one of opentelemetry0.7 (got "json"): Coralogix ingests no other CloudWatch metric stream ' +
          "format.",
      ],
    );
  });

  it("collects every problem and throws them together", () => {
    installMocks();
    assert.throws(
      () =>
        new CoralogixMetricStream("metrics", {
          coralogixDomain: "eu2",
          applicationName: "app",
          secret: fakeSecret(),
          namespaces: [],
          retryDurationSeconds: 9000,
          bufferingSizeMb: 128,
        }),
      {
        message:
          'Invalid CoralogixMetricStream "metrics":\n' +
          '  - namespaces must list at least one namespace, e.g. ["AWS/Lambda"].\n' +
          "  - retryDurationSeconds must be an integer from 0 to 7200 (got 9000).\n" +
          "  - bufferingSizeMb must be an integer from 1 to 64 (got 128).",
      },
    );
    assert.equal(resourcesOfType(FIREHOSE).length, 0);
  });
});

describe("CoralogixMetricStream", () => {
  before(async () => {
    installMocks();
    new CoralogixMetricStream("metrics", {
      coralogixDomain: "ap1",
      applicationName: "customer-onboarding",
      secret: fakeSecret(),
    });
    await settleAll();
  });

  it("streams the dashboard's namespaces as opentelemetry0.7 to its Firehose", () => {
    const stream = resourceNamed("aws:cloudwatch/metricStream:MetricStream", "metrics").inputs;
    assert.equal(stream.outputFormat, "opentelemetry0.7");
    assert.deepEqual(stream.includeFilters, [
      { namespace: "AWS/Lambda" },
      { namespace: "AWS/SQS" },
      { namespace: "AWS/ECS" },
      { namespace: "AWS/ApplicationELB" },
    ]);
    assert.equal(stream.firehoseArn, "arn:aws:kinesis:eu-west-1:123456789012:metrics-firehose-mock");
  });

  it("delivers to the region's Coralogix endpoint with the key from Secrets Manager, never plaintext", () => {
    const http = resourceNamed(FIREHOSE, "metrics-firehose").inputs.httpEndpointConfiguration;
    assert.equal(http.url, "https://ingress.ap1.coralogix.com/aws/firehose");
    assert.equal(http.accessKey, undefined);
    assert.deepEqual(http.secretsManagerConfiguration, {
      enabled: true,
      secretArn: SECRET_ARN,
      roleArn: "arn:aws:iam:eu-west-1:123456789012:metrics-firehose-role-mock",
    });
  });

  it("announces the format with matching common attributes, GZIP, retries and failed-data backup", () => {
    const firehose = resourceNamed(FIREHOSE, "metrics-firehose").inputs;
    const http = firehose.httpEndpointConfiguration;
    assert.deepEqual(http.requestConfiguration, {
      contentEncoding: "GZIP",
      commonAttributes: [
        { name: "integrationType", value: "CloudWatch_Metrics_OpenTelemetry070_WithAggregations" },
        { name: "applicationName", value: "customer-onboarding" },
        { name: "subsystemName", value: "aws-metrics" },
      ],
    });
    assert.equal(http.retryDuration, 300);
    assert.equal(http.s3BackupMode, "FailedDataOnly");
    assert.equal(http.s3Configuration.bucketArn, BUCKET_ARN);
    assert.equal(http.s3Configuration.kmsKeyArn, BACKUP_KEY_ARN);
    assert.equal(http.s3Configuration.compressionFormat, "GZIP");
    assert.equal(http.cloudwatchLoggingOptions.enabled, true);
    assert.deepEqual(firehose.serverSideEncryption, { enabled: true, keyType: "AWS_OWNED_CMK" });
  });

  it("backs up to a private, KMS-encrypted, TLS-only bucket that expires records", () => {
    const block = resourceNamed("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "metrics-backup-private");
    assert.deepEqual(block.inputs, {
      bucket: "metrics-backup-id",
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    const sse = resourceNamed(
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "metrics-backup-encryption",
    ).inputs;
    assert.deepEqual(sse.rules[0].applyServerSideEncryptionByDefault, {
      sseAlgorithm: "aws:kms",
      kmsMasterKeyId: BACKUP_KEY_ARN,
    });
    const lifecycle = resourceNamed(
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      "metrics-backup-lifecycle",
    ).inputs;
    assert.deepEqual(lifecycle.rules[0].expiration, { days: 30 });
    assert.equal(lifecycle.rules[0].status, "Enabled");
    const policy = JSON.parse(
      resourceNamed("aws:s3/bucketPolicy:BucketPolicy", "metrics-backup-tls-only").inputs.policy,
    );
    assert.deepEqual(policy.Statement[0].Condition, { Bool: { "aws:SecureTransport": "false" } });
    assert.equal(policy.Statement[0].Effect, "Deny");
  });

  it("gives Firehose exactly its bucket, its key, the secret and its error log", () => {
    assert.deepEqual(grantsOf(inlinePolicyOfRole("metrics-firehose-role")), {
      BackupBucket: {
        effect: "Allow",
        actions: [
          "s3:AbortMultipartUpload",
          "s3:GetBucketLocation",
          "s3:GetObject",
          "s3:ListBucket",
          "s3:ListBucketMultipartUploads",
          "s3:PutObject",
        ],
        resources: [BUCKET_ARN, `${BUCKET_ARN}/*`],
      },
      BackupKey: { effect: "Allow", actions: ["kms:GenerateDataKey", "kms:Decrypt"], resources: [BACKUP_KEY_ARN] },
      ...SECRET_READ_GRANTS,
      WriteDeliveryErrors: {
        effect: "Allow",
        actions: ["logs:PutLogEvents"],
        resources: ["arn:aws:cloudwatch:eu-west-1:123456789012:metrics-firehose-logs-mock:*"],
      },
    });
    const trust = JSON.parse(resourceNamed("aws:iam/role:Role", "metrics-firehose-role").inputs.assumeRolePolicy);
    assert.deepEqual(trust.Statement[0].Principal, { Service: "firehose.amazonaws.com" });
    assert.deepEqual(trust.Statement[0].Condition, { StringEquals: { "sts:ExternalId": "123456789012" } });
  });

  it("lets the metric stream put records into its own Firehose only", () => {
    assert.deepEqual(grantsOf(inlinePolicyOfRole("metrics-stream-role")), {
      PutToOwnFirehose: {
        effect: "Allow",
        actions: ["firehose:PutRecord", "firehose:PutRecordBatch"],
        resources: ["arn:aws:kinesis:eu-west-1:123456789012:metrics-firehose-mock"],
      },
    });
    // Exactly the trust policy AWS documents (CloudWatch-metric-streams-trustpolicy.html) and Coralogix's
    // firehose-metrics module uses: no aws:SourceAccount condition the service might not send.
    assert.deepEqual(JSON.parse(resourceNamed("aws:iam/role:Role", "metrics-stream-role").inputs.assumeRolePolicy), {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: "sts:AssumeRole",
          Principal: { Service: "streams.metrics.cloudwatch.amazonaws.com" },
        },
      ],
    });
  });

  it("creates the delivery stream after its role's policy, which Firehose checks at creation", () => {
    const firehose = resourceNamed(FIREHOSE, "metrics-firehose");
    const policy = resourceNamed("aws:iam/rolePolicy:RolePolicy", "metrics-firehose-role-policy");
    assert.ok(firehose.dependencies.includes(policy.urn));
  });

  it("refuses the json format before creating anything", () => {
    installMocks();
    assert.throws(
      () =>
        new CoralogixMetricStream("json", {
          coralogixDomain: "eu1",
          applicationName: "a",
          secret: fakeSecret(),
          format: "json" as "opentelemetry0.7",
        }),
      /format must be one of opentelemetry0\.7 \(got "json"\)/,
    );
    assert.equal(resourcesOfType(FIREHOSE).length, 0);
  });
});
