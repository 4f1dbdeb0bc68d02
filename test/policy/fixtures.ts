/**
 * A small, hand-written stack that satisfies every rule, and helpers to break it one property at a time. Each rule
 * test starts from this stack, changes one thing, and expects exactly that rule to fail.
 */
import type { RecordedStackResource } from "../../policy/evaluate";

export const ACCOUNT = "123456789012";
export const REGION = "eu-west-1";
export const SECRET_VALUE = "cx-test-api-key-0123456789";
const digest = `sha256:${"0f".repeat(32)}`;

export function resource(type: string, name: string, props: Record<string, unknown>): RecordedStackResource {
  return { type, name, urn: `urn:pulumi:test::traced-onboarding::${type}::${name}`, props, inputs: props };
}

const arn = (service: string, rest: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`;
export const ARNS = {
  key: arn("kms", "key/1111"),
  queue: arn("sqs", "orders"),
  dlq: arn("sqs", "orders-dlq"),
  fn: arn("lambda", "function:consumer"),
  secret: arn("secretsmanager", "secret:coralogix-abc123"),
  bucket: "arn:aws:s3:::metrics-backup",
  firehose: arn("firehose", "deliverystream/metrics"),
  lambdaRole: `arn:aws:iam::${ACCOUNT}:role/consumer`,
  executionRole: `arn:aws:iam::${ACCOUNT}:role/api-execution`,
  taskRole: `arn:aws:iam::${ACCOUNT}:role/api-task`,
};
export const URLS = {
  queue: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/orders`,
  dlq: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/orders-dlq`,
};
export const IMAGES = {
  consumer: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/consumer`,
  api: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/api`,
  collector: "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3",
};

export const tlsOnlyPolicy = (queueArn: string) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "sqs:*",
        Resource: queueArn,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  });

const trust = (service: string) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });

export const appContainer = {
  name: "app",
  image: `${IMAGES.api}@${digest}`,
  essential: true,
  user: "1000:1000",
  readonlyRootFilesystem: true,
  environment: [
    { name: "QUEUE_URL", value: URLS.queue },
    { name: "OTEL_EXPORTER_OTLP_ENDPOINT", value: "http://localhost:4317" },
  ],
  dependsOn: [{ containerName: "otel-collector", condition: "HEALTHY" }],
  logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "api" } },
};

/** An inline ADOT config (AOT_CONFIG_CONTENT) with the health_check extension /healthcheck queries. */
export const COLLECTOR_CONFIG = [
  "extensions:",
  "  health_check:",
  "    endpoint: 127.0.0.1:13133",
  "receivers:",
  "  otlp:",
  "    protocols:",
  "      grpc:",
  "        endpoint: 127.0.0.1:4317",
  "exporters:",
  "  debug: {}",
  "service:",
  "  extensions: [health_check]",
  "  pipelines:",
  "    traces:",
  "      receivers: [otlp]",
  "      exporters: [debug]",
].join("\n");

export const collectorContainer = {
  name: "otel-collector",
  image: IMAGES.collector,
  essential: true,
  user: "10001",
  readonlyRootFilesystem: true,
  environment: [{ name: "AOT_CONFIG_CONTENT", value: COLLECTOR_CONFIG }],
  secrets: [{ name: "CORALOGIX_API_KEY", valueFrom: `${ARNS.secret}:api_key::` }],
  healthCheck: { command: ["CMD", "/healthcheck"], interval: 10 },
  logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "collector" } },
};

/** Every resource kind the rules look at, configured the way the rules want. */
export function goodStack(): RecordedStackResource[] {
  return [
    resource("aws:kms/key:Key", "key", {
      arn: ARNS.key,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "kms:*", Resource: "*" },
        ],
      }),
    }),
    resource("aws:sqs/queue:Queue", "orders", {
      arn: ARNS.queue,
      url: URLS.queue,
      kmsMasterKeyId: ARNS.key,
      visibilityTimeoutSeconds: 186,
      messageRetentionSeconds: 345_600,
      redrivePolicy: JSON.stringify({ deadLetterTargetArn: ARNS.dlq, maxReceiveCount: 5 }),
    }),
    resource("aws:sqs/queue:Queue", "orders-dlq", {
      arn: ARNS.dlq,
      url: URLS.dlq,
      kmsMasterKeyId: ARNS.key,
      messageRetentionSeconds: 1_209_600,
    }),
    resource("aws:sqs/queuePolicy:QueuePolicy", "orders-tls", {
      queueUrl: URLS.queue,
      policy: tlsOnlyPolicy(ARNS.queue),
    }),
    resource("aws:sqs/queuePolicy:QueuePolicy", "orders-dlq-tls", {
      queueUrl: URLS.dlq,
      policy: tlsOnlyPolicy(ARNS.dlq),
    }),
    resource("aws:iam/role:Role", "consumer-role", {
      arn: ARNS.lambdaRole,
      assumeRolePolicy: trust("lambda.amazonaws.com"),
    }),
    resource("aws:iam/rolePolicy:RolePolicy", "consumer-policy", {
      role: "consumer-role",
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            Resource: ARNS.queue,
          },
          { Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: ARNS.secret },
          { Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
        ],
      }),
    }),
    resource("aws:cloudwatch/logGroup:LogGroup", "consumer-logs", {
      name: "/aws/lambda/consumer",
      retentionInDays: 30,
    }),
    resource("aws:cloudwatch/logGroup:LogGroup", "api-logs", { name: "api", retentionInDays: 30 }),
    resource("aws:cloudwatch/logGroup:LogGroup", "collector-logs", { name: "collector", retentionInDays: 30 }),
    resource("docker-build:index:Image", "consumer-image", {
      tags: [`${IMAGES.consumer}:src-${"1".repeat(64)}`],
      ref: `${IMAGES.consumer}:src-${"1".repeat(64)}@${digest}`,
      digest,
      context: { location: "." },
      dockerfile: { location: "lambda/Dockerfile" },
      platforms: ["linux/arm64"],
      exports: [{ registry: { ociMediaTypes: false } }],
      push: false,
    }),
    resource("aws:lambda/function:Function", "consumer", {
      name: "consumer",
      arn: ARNS.fn,
      role: ARNS.lambdaRole,
      packageType: "Image",
      imageUri: `${IMAGES.consumer}@${digest}`,
      architectures: ["arm64"],
      timeout: 30,
      environment: { variables: { CORALOGIX_SECRET_ARN: ARNS.secret, CORALOGIX_DOMAIN: "eu2" } },
    }),
    resource("aws:lambda/eventSourceMapping:EventSourceMapping", "consumer-sqs", {
      eventSourceArn: ARNS.queue,
      functionName: ARNS.fn,
      functionResponseTypes: ["ReportBatchItemFailures"],
      maximumBatchingWindowInSeconds: 6,
    }),
    resource("aws:ecr/repository:Repository", "consumer-repo", { imageScanningConfiguration: { scanOnPush: true } }),
    resource("docker-build:index:Image", "api-image", {
      tags: [`${IMAGES.api}:src-${"2".repeat(64)}`],
      ref: `${IMAGES.api}:src-${"2".repeat(64)}@${digest}`,
      digest,
      context: { location: "." },
      dockerfile: { location: "app/Dockerfile" },
      platforms: ["linux/arm64"],
      exports: [{ registry: { ociMediaTypes: false } }],
      push: false,
    }),
    resource("aws:ecs/taskDefinition:TaskDefinition", "api-task", {
      family: "api",
      cpu: "512",
      memory: "1024",
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      runtimePlatform: { cpuArchitecture: "ARM64", operatingSystemFamily: "LINUX" },
      executionRoleArn: ARNS.executionRole,
      taskRoleArn: ARNS.taskRole,
      containerDefinitions: JSON.stringify([appContainer, collectorContainer]),
    }),
    resource("aws:ecs/service:Service", "api-service", {
      networkConfiguration: { assignPublicIp: false, subnets: ["subnet-private-a"] },
    }),
    resource("aws:lb/loadBalancer:LoadBalancer", "api-alb", {
      loadBalancerType: "application",
      dropInvalidHeaderFields: true,
    }),
    resource("aws:secretsmanager/secret:Secret", "coralogix", { arn: ARNS.secret, kmsKeyId: ARNS.key }),
    resource("aws:secretsmanager/secretVersion:SecretVersion", "coralogix-value", {
      secretId: ARNS.secret,
      secretString: JSON.stringify({ api_key: SECRET_VALUE }),
    }),
    resource("aws:s3/bucket:Bucket", "backup", { id: "metrics-backup", bucket: "metrics-backup", arn: ARNS.bucket }),
    resource(
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "backup-encryption",
      {
        bucket: "metrics-backup",
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: ARNS.key } }],
      },
    ),
    resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "backup-private", {
      bucket: "metrics-backup",
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    }),
    resource("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "metrics-firehose", {
      arn: ARNS.firehose,
      destination: "http_endpoint",
      serverSideEncryption: { enabled: true, keyType: "CUSTOMER_MANAGED_CMK", keyArn: ARNS.key },
      httpEndpointConfiguration: {
        url: "https://ingress.eu2.coralogix.com/aws/firehose",
        s3BackupMode: "FailedDataOnly",
        s3Configuration: { bucketArn: ARNS.bucket, roleArn: "arn:aws:iam::1:role/firehose" },
        secretsManagerConfiguration: { enabled: true, secretArn: ARNS.secret },
        requestConfiguration: {
          contentEncoding: "GZIP",
          commonAttributes: [
            { name: "integrationType", value: "CloudWatch_Metrics_OpenTelemetry070_WithAggregations" },
          ],
        },
      },
    }),
    resource("aws:cloudwatch/metricStream:MetricStream", "metrics", {
      firehoseArn: ARNS.firehose,
      outputFormat: "opentelemetry0.7",
      includeFilters: [{ namespace: "AWS/Lambda" }, { namespace: "AWS/SQS" }, { namespace: "AWS/ECS" }],
    }),
  ];
}

/** The stack with one resource's props changed: `patch` is merged over them (`undefined` deletes a key). */
export function withPatch(
  stack: readonly RecordedStackResource[],
  type: string,
  name: string,
  patch: (props: Record<string, unknown>) => Record<string, unknown>,
): RecordedStackResource[] {
  let found = false;
  const out = stack.map((r) => {
    if (r.type !== type || r.name !== name) return r;
    found = true;
    const merged = { ...r.props, ...patch({ ...r.props }) };
    for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
    return { ...r, props: merged, inputs: merged };
  });
  if (!found) throw new Error(`fixture has no ${type} named ${name}`);
  return out;
}

/** The stack without one resource. */
export function without(stack: readonly RecordedStackResource[], type: string, name: string): RecordedStackResource[] {
  return stack.filter((r) => !(r.type === type && r.name === name));
}

/** The task definition with its container definitions changed. */
export function withContainers(
  stack: readonly RecordedStackResource[],
  change: (containers: Record<string, unknown>[]) => Record<string, unknown>[],
): RecordedStackResource[] {
  return withPatch(stack, "aws:ecs/taskDefinition:TaskDefinition", "api-task", (p) => ({
    containerDefinitions: JSON.stringify(
      change(JSON.parse(String(p.containerDefinitions)) as Record<string, unknown>[]),
    ),
  }));
}
