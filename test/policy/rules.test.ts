/**
 * Every rule can fail: starting from a reference stack that passes all rules (fixtures.ts), each case breaks one
 * property and expects the rule to report it, on the right resource, with a message that says what to fix.
 */
import * as assert from "node:assert/strict";
import { evaluate, evaluateRule, formatReport, type RecordedStackResource, type Runs } from "../../policy/evaluate";
import { get, rules, UNKNOWN } from "../../policy/rules";
import { FARGATE_MEMORY_BY_CPU } from "../../packages/traced-components/src/fargate-sizes";
import { enablesHealthCheckExtension } from "../../policy/rules/collector";
import { cpuUnits, memoryMiB } from "../../policy/rules/ecs";
import { literalSecret } from "../../policy/rules/secrets";
import { repositoryOf } from "../../policy/rules/images";
import { isAccountRootKeyStatement, isServiceWildcard, statementsOf } from "../../policy/rules/iam";
import {
  ACCOUNT,
  ARNS,
  appContainer,
  COLLECTOR_CONFIG,
  collectorContainer,
  goodStack,
  IMAGES,
  resource,
  SECRET_VALUE,
  withContainers,
  without,
  withPatch,
} from "./fixtures";

const Q = "aws:sqs/queue:Queue";
const QP = "aws:sqs/queuePolicy:QueuePolicy";
const ROLE = "aws:iam/role:Role";
const RP = "aws:iam/rolePolicy:RolePolicy";
const FN = "aws:lambda/function:Function";
const ESM = "aws:lambda/eventSourceMapping:EventSourceMapping";
const TD = "aws:ecs/taskDefinition:TaskDefinition";
const SVC = "aws:ecs/service:Service";
const IMG = "docker-build:index:Image";
const LEGACY_IMG = "docker:index/image:Image";
const FH = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream";
const MS = "aws:cloudwatch/metricStream:MetricStream";
const BUCKET = "aws:s3/bucket:Bucket";
const SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration";
const PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const LG = "aws:cloudwatch/logGroup:LogGroup";

const urn = (type: string, name: string) => `urn:pulumi:test::traced-onboarding::${type}::${name}`;
const runs = (update: RecordedStackResource[], preview: RecordedStackResource[] = update): Runs => ({
  update,
  preview,
});
const policyDoc = (statements: Record<string, unknown>[]) =>
  JSON.stringify({ Version: "2012-10-17", Statement: statements });
const good = goodStack();

interface BadCase {
  readonly title: string;
  readonly runs: Runs;
  readonly message: RegExp;
  /** The resource the violation must name. */
  readonly urn: string;
}
const bad = (title: string, stack: RecordedStackResource[], message: RegExp, offender: string): BadCase => ({
  title,
  runs: runs(stack),
  message,
  urn: offender,
});

/** A Firehose httpEndpointConfiguration announcing the retired CloudWatch_Metrics_JSON integration type. */
function jsonIntegration(http: unknown): Record<string, unknown> {
  const config = http as { requestConfiguration: { commonAttributes: { name: string; value: string }[] } };
  return {
    ...config,
    requestConfiguration: {
      ...config.requestConfiguration,
      commonAttributes: config.requestConfiguration.commonAttributes.map((a) =>
        a.name === "integrationType" ? { ...a, value: "CloudWatch_Metrics_JSON" } : a,
      ),
    },
  };
}

const cases: Record<string, BadCase[]> = {
  "sqs-encrypted-with-cmk": [
    bad(
      "a queue has no KMS key",
      withPatch(good, Q, "orders", () => ({ kmsMasterKeyId: undefined })),
      /kmsMasterKeyId is not set/,
      urn(Q, "orders"),
    ),
    bad(
      "a queue uses the AWS-managed key",
      withPatch(good, Q, "orders-dlq", () => ({ kmsMasterKeyId: "alias/aws/sqs" })),
      /AWS-managed key alias\/aws\/sqs/,
      urn(Q, "orders-dlq"),
    ),
  ],
  "sqs-policy-denies-insecure-transport": [
    bad(
      "a queue has no policy",
      without(good, QP, "orders-dlq-tls"),
      /no queue policy is attached/,
      urn(Q, "orders-dlq"),
    ),
    bad(
      "the deny does not test aws:SecureTransport",
      withPatch(good, QP, "orders-tls", () => ({
        policy: policyDoc([{ Effect: "Deny", Principal: "*", Action: "sqs:*", Resource: ARNS.queue }]),
      })),
      /no Deny of sqs:\*/,
      urn(Q, "orders"),
    ),
  ],
  "no-public-principal": [
    bad(
      'a queue policy allows Principal "*" unconditionally',
      withPatch(good, QP, "orders-tls", () => ({
        policy: policyDoc([
          { Effect: "Allow", Principal: { AWS: "*" }, Action: "sqs:SendMessage", Resource: ARNS.queue },
        ]),
      })),
      /allows Principal "\*" with no Condition/,
      urn(QP, "orders-tls"),
    ),
    bad(
      "a trust policy lets anyone assume the role",
      withPatch(good, ROLE, "consumer-role", () => ({
        assumeRolePolicy: policyDoc([{ Effect: "Allow", Principal: "*", Action: "sts:AssumeRole" }]),
      })),
      /assumeRolePolicy statement 1 allows Principal "\*"/,
      urn(ROLE, "consumer-role"),
    ),
  ],
  "iam-no-wildcard-actions": [
    bad(
      'a role policy allows "sqs:*"',
      withPatch(good, RP, "consumer-policy", () => ({
        policy: policyDoc([{ Sid: "All", Effect: "Allow", Action: ["sqs:*"], Resource: ARNS.queue }]),
      })),
      /statement "All" allows "sqs:\*"; list the exact actions/,
      urn(RP, "consumer-policy"),
    ),
    bad(
      'a role inline policy allows "*"',
      withPatch(good, ROLE, "consumer-role", () => ({
        inlinePolicies: [
          { name: "admin", policy: policyDoc([{ Effect: "Allow", Action: "*", Resource: ARNS.queue }]) },
        ],
      })),
      /inlinePolicies\[0\] \(admin\) statement 1 allows "\*"/,
      urn(ROLE, "consumer-role"),
    ),
    bad(
      'a key policy gives a role "kms:*" (only the account root keeps it)',
      withPatch(good, "aws:kms/key:Key", "key", () => ({
        policy: policyDoc([
          {
            Sid: "Root",
            Effect: "Allow",
            Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
            Action: "kms:*",
            Resource: "*",
          },
          { Sid: "App", Effect: "Allow", Principal: { AWS: ARNS.taskRole }, Action: "kms:*", Resource: "*" },
        ]),
      })),
      /policy statement "App" allows "kms:\*"; list the exact actions/,
      urn("aws:kms/key:Key", "key"),
    ),
    bad(
      'a key policy allows "*" to the account root',
      withPatch(good, "aws:kms/key:Key", "key", () => ({
        policy: policyDoc([
          { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "*", Resource: "*" },
        ]),
      })),
      /policy statement 1 allows "\*"/,
      urn("aws:kms/key:Key", "key"),
    ),
    bad(
      "a policy allows NotAction",
      withPatch(good, RP, "consumer-policy", () => ({
        policy: policyDoc([{ Effect: "Allow", NotAction: "iam:*", Resource: ARNS.queue }]),
      })),
      /allows NotAction/,
      urn(RP, "consumer-policy"),
    ),
  ],
  "iam-resource-star-only-where-required": [
    bad(
      'a role policy grants sqs:SendMessage on "*"',
      withPatch(good, RP, "consumer-policy", () => ({
        policy: policyDoc([
          { Effect: "Allow", Action: ["ecr:GetAuthorizationToken", "sqs:SendMessage"], Resource: "*" },
        ]),
      })),
      /grants "sqs:SendMessage" on Resource "\*"; scope it/,
      urn(RP, "consumer-policy"),
    ),
  ],
  "iam-no-aws-managed-policies": [
    bad(
      "the Lambda role gets AWSLambdaBasicExecutionRole",
      withPatch(good, ROLE, "consumer-role", () => ({
        managedPolicyArns: ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
      })),
      /managedPolicyArns attaches the AWS-managed policy arn:aws:iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole/,
      urn(ROLE, "consumer-role"),
    ),
    bad(
      "the execution role gets AmazonECSTaskExecutionRolePolicy by attachment",
      [
        ...good,
        resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "exec-managed", {
          role: "api-execution",
          policyArn: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
        }),
      ],
      /policyArn attaches the AWS-managed policy/,
      urn("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "exec-managed"),
    ),
  ],
  "ecs-no-public-ip": [
    bad(
      "the service assigns public IPs",
      withPatch(good, SVC, "api-service", () => ({ networkConfiguration: { assignPublicIp: true, subnets: ["a"] } })),
      /assignPublicIp is true/,
      urn(SVC, "api-service"),
    ),
  ],
  "ecs-execution-role-differs-from-task-role": [
    bad(
      "both roles are the same",
      withPatch(good, TD, "api-task", () => ({ taskRoleArn: ARNS.executionRole })),
      /executionRoleArn and taskRoleArn are the same role/,
      urn(TD, "api-task"),
    ),
  ],
  "ecs-containers-non-privileged": [
    bad(
      "a container is privileged",
      withContainers(good, ([app, collector]) => [{ ...app, privileged: true }, collector]),
      /container "app" sets privileged: true/,
      urn(TD, "api-task"),
    ),
  ],
  "ecs-containers-non-root": [
    bad(
      "a container runs as root",
      withContainers(good, ([app, collector]) => [{ ...app, user: "0:0" }, collector]),
      /container "app" runs as 0:0; set a non-root user/,
      urn(TD, "api-task"),
    ),
    bad(
      "a container sets no user",
      withContainers(good, ([app, collector]) => [app, { ...collector, user: undefined }]),
      /container "otel-collector" sets no user/,
      urn(TD, "api-task"),
    ),
  ],
  "ecs-containers-logging-configured": [
    bad(
      "a container has no log configuration",
      withContainers(good, ([app, collector]) => [app, { ...collector, logConfiguration: undefined }]),
      /container "otel-collector" has no logConfiguration.logDriver/,
      urn(TD, "api-task"),
    ),
  ],
  "ecs-containers-readonly-root-filesystem": [
    bad(
      "a container has a writable root filesystem",
      withContainers(good, ([app, collector]) => [{ ...app, readonlyRootFilesystem: false }, collector]),
      /container "app" does not set readonlyRootFilesystem: true/,
      urn(TD, "api-task"),
    ),
  ],
  "no-literal-secrets-in-environment": [
    bad(
      "a Lambda variable holds an API key",
      withPatch(good, FN, "consumer", () => ({ environment: { variables: { CORALOGIX_API_KEY: "abc123" } } })),
      /CORALOGIX_API_KEY looks like a credential and has a literal value/,
      urn(FN, "consumer"),
    ),
    bad(
      "a container passes the key in OTEL_EXPORTER_OTLP_HEADERS",
      withContainers(good, ([app, collector]) => [
        { ...app, environment: [{ name: "OTEL_EXPORTER_OTLP_HEADERS", value: "authorization=Bearer abc123" }] },
        collector,
      ]),
      /container "app" environment: OTEL_EXPORTER_OTLP_HEADERS carries a credential/,
      urn(TD, "api-task"),
    ),
    bad(
      "a container sets AWS_SECRET_ACCESS_KEY",
      withContainers(good, ([app, collector]) => [
        app,
        { ...collector, environment: [{ name: "AWS_SECRET_ACCESS_KEY", value: "wJalrXUtnFEMI" }] },
      ]),
      /AWS_SECRET_ACCESS_KEY looks like a credential/,
      urn(TD, "api-task"),
    ),
  ],
  "secrets-encrypted-with-cmk": [
    bad(
      "the secret uses the default key",
      withPatch(good, "aws:secretsmanager/secret:Secret", "coralogix", () => ({ kmsKeyId: undefined })),
      /kmsKeyId is not set/,
      urn("aws:secretsmanager/secret:Secret", "coralogix"),
    ),
  ],
  "coralogix-key-only-in-secret-version": [
    bad(
      "the key is also a Lambda environment variable",
      withPatch(good, FN, "consumer", () => ({ environment: { variables: { CX_KEY_FOR_DEBUG: SECRET_VALUE } } })),
      /contains the secret's value in plaintext at environment.variables.CX_KEY_FOR_DEBUG/,
      urn(FN, "consumer"),
    ),
    bad(
      "the key is exported as a stack output",
      [...good, resource("pulumi:pulumi:Stack", "traced-onboarding-test", { debugKey: SECRET_VALUE })],
      /plaintext at debugKey/,
      urn("pulumi:pulumi:Stack", "traced-onboarding-test"),
    ),
    bad(
      "the key is the Firehose accessKey",
      withPatch(good, FH, "metrics-firehose", (p) => ({
        httpEndpointConfiguration: { ...(p.httpEndpointConfiguration as object), accessKey: SECRET_VALUE },
      })),
      /plaintext at httpEndpointConfiguration.accessKey/,
      urn(FH, "metrics-firehose"),
    ),
    bad(
      "the key is inside a container definition",
      withContainers(good, ([app, collector]) => [
        app,
        {
          ...collector,
          environment: [{ name: "CONFIG", value: `headers: {Authorization: "Bearer ${SECRET_VALUE}"}` }],
        },
      ]),
      /plaintext at containerDefinitions/,
      urn(TD, "api-task"),
    ),
  ],
  "firehose-encrypted": [
    bad(
      "SSE is off",
      withPatch(good, FH, "metrics-firehose", () => ({ serverSideEncryption: undefined })),
      /serverSideEncryption.enabled is not true/,
      urn(FH, "metrics-firehose"),
    ),
    bad(
      "a customer-managed key is asked for but not named",
      withPatch(good, FH, "metrics-firehose", () => ({
        serverSideEncryption: { enabled: true, keyType: "CUSTOMER_MANAGED_CMK" },
      })),
      /keyType is CUSTOMER_MANAGED_CMK but keyArn is not set/,
      urn(FH, "metrics-firehose"),
    ),
  ],
  "firehose-access-key-from-secrets-manager": [
    bad(
      "the key is a plaintext accessKey and no secret is configured",
      withPatch(good, FH, "metrics-firehose", (p) => ({
        httpEndpointConfiguration: {
          ...(p.httpEndpointConfiguration as object),
          accessKey: "abc",
          secretsManagerConfiguration: undefined,
        },
      })),
      /accessKey is set in plaintext/,
      urn(FH, "metrics-firehose"),
    ),
  ],
  "s3-bucket-encrypted-with-kms": [
    bad(
      "the bucket has no encryption configuration",
      without(good, SSE, "backup-encryption"),
      /has no server-side encryption configuration/,
      urn(BUCKET, "backup"),
    ),
    bad(
      "the bucket uses SSE-S3",
      withPatch(good, SSE, "backup-encryption", () => ({
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
      })),
      /default encryption is AES256; use sseAlgorithm aws:kms/,
      urn(BUCKET, "backup"),
    ),
  ],
  "s3-bucket-public-access-blocked": [
    bad(
      "the bucket has no public access block",
      without(good, PAB, "backup-private"),
      /has no BucketPublicAccessBlock/,
      urn(BUCKET, "backup"),
    ),
    bad(
      "one setting is off",
      withPatch(good, PAB, "backup-private", () => ({ restrictPublicBuckets: false })),
      /leaves restrictPublicBuckets off/,
      urn(BUCKET, "backup"),
    ),
  ],
  "ecr-scan-on-push": [
    bad(
      "scan on push is off",
      withPatch(good, "aws:ecr/repository:Repository", "consumer-repo", () => ({
        imageScanningConfiguration: undefined,
      })),
      /scanOnPush is not true/,
      urn("aws:ecr/repository:Repository", "consumer-repo"),
    ),
  ],
  "alb-drops-invalid-headers": [
    bad(
      "the ALB keeps invalid headers (default)",
      withPatch(good, "aws:lb/loadBalancer:LoadBalancer", "api-alb", () => ({
        dropInvalidHeaderFields: undefined,
        loadBalancerType: undefined,
      })),
      /dropInvalidHeaderFields is not true/,
      urn("aws:lb/loadBalancer:LoadBalancer", "api-alb"),
    ),
    bad(
      "an aws.alb.LoadBalancer (the alias token) keeps invalid headers",
      [...good, resource("aws:alb/loadBalancer:LoadBalancer", "legacy-alb", { loadBalancerType: "application" })],
      /dropInvalidHeaderFields is not true/,
      urn("aws:alb/loadBalancer:LoadBalancer", "legacy-alb"),
    ),
  ],
  "log-group-retention": [
    bad(
      "a log group keeps logs forever",
      withPatch(good, LG, "consumer-logs", () => ({ retentionInDays: undefined })),
      /retentionInDays is not set/,
      urn(LG, "consumer-logs"),
    ),
  ],
  "log-groups-managed": [
    bad(
      "the function's log group is implicit",
      without(good, LG, "consumer-logs"),
      /logs to \/aws\/lambda\/consumer, which this stack does not create/,
      urn(FN, "consumer"),
    ),
    bad(
      "a container's awslogs group is not one of the stack's (awslogs-create-group makes it without retention)",
      withContainers(good, ([app, collector]) => [
        {
          ...app,
          logConfiguration: {
            logDriver: "awslogs",
            options: { "awslogs-group": "/ecs/api", "awslogs-create-group": "true" },
          },
        },
        collector,
      ]),
      /container "app" logs to \/ecs\/api, which this stack does not create/,
      urn(TD, "api-task"),
    ),
  ],
  "lambda-queue-dlq-and-visibility": [
    bad(
      "the visibility timeout is below 6 × timeout + window",
      withPatch(good, Q, "orders", () => ({ visibilityTimeoutSeconds: 185 })),
      /visibilityTimeoutSeconds 185 < 6 × 30s \(timeout of consumer\) \+ 6s batching window = 186/,
      urn(Q, "orders"),
    ),
    bad(
      "the visibility timeout is left at its 30 s default",
      withPatch(good, Q, "orders", () => ({ visibilityTimeoutSeconds: undefined })),
      /visibilityTimeoutSeconds 30 </,
      urn(Q, "orders"),
    ),
    bad(
      "the consumed queue has no DLQ",
      withPatch(good, Q, "orders", () => ({ redrivePolicy: undefined })),
      /consumed by consumer but has no redrive policy/,
      urn(Q, "orders"),
    ),
    bad(
      "the DLQ keeps messages no longer than the queue",
      withPatch(good, Q, "orders-dlq", () => ({ messageRetentionSeconds: 345_600 })),
      /DLQ retention 345600s is not longer/,
      urn(Q, "orders-dlq"),
    ),
  ],
  "esm-report-batch-item-failures": [
    bad(
      "the mapping does not report batch item failures",
      withPatch(good, ESM, "consumer-sqs", () => ({ functionResponseTypes: undefined })),
      /does not include "ReportBatchItemFailures"/,
      urn(ESM, "consumer-sqs"),
    ),
  ],
  "fargate-cpu-memory-valid": [
    bad(
      "memory does not fit the CPU",
      withPatch(good, TD, "api-task", () => ({ memory: "512" })),
      /memory 512 is not allowed with cpu 512; use 1024–4096 MiB/,
      urn(TD, "api-task"),
    ),
    bad(
      "CPU is not a Fargate size",
      withPatch(good, TD, "api-task", () => ({ cpu: "300" })),
      /cpu 300 is not a Fargate size/,
      urn(TD, "api-task"),
    ),
  ],
  "collector-health-check-exists-in-image": [
    bad(
      "the ADOT health check uses curl through a shell",
      withContainers(good, ([app, collector]) => [
        app,
        { ...collector, healthCheck: { command: ["CMD-SHELL", "curl -f http://localhost:13133/ || exit 1"] } },
      ]),
      /uses CMD-SHELL but AWS Distro for OpenTelemetry .* has no \/bin\/sh; use \["CMD", "\/healthcheck"\]/,
      urn(TD, "api-task"),
    ),
    bad(
      "the contrib image is given a wget health check",
      withContainers(good, ([app, collector]) => [
        app,
        {
          ...collector,
          image: "otel/opentelemetry-collector-contrib:0.110.0",
          healthCheck: { command: ["CMD", "wget", "-q", "localhost:13133"] },
        },
      ]),
      /runs wget, which OpenTelemetry collector \(distroless.*does not provide; this image cannot run a health check/,
      urn(TD, "api-task"),
    ),
    bad(
      "the collector has no health check",
      withContainers(good, ([app, collector]) => [app, { ...collector, healthCheck: undefined }]),
      /collector container "otel-collector" has no healthCheck/,
      urn(TD, "api-task"),
    ),
    bad(
      "the collector runs an image the rule knows nothing about",
      withContainers(good, ([app, collector]) => [app, { ...collector, image: "ghcr.io/acme/telemetry-agent:1.0" }]),
      /collector container "otel-collector" runs ghcr.io\/acme\/telemetry-agent:1.0, an image whose contents this rule does not know/,
      urn(TD, "api-task"),
    ),
    bad(
      "the inline ADOT config leaves out the health_check extension /healthcheck queries",
      withContainers(good, ([app, collector]) => [
        app,
        {
          ...collector,
          environment: [
            { name: "AOT_CONFIG_CONTENT", value: COLLECTOR_CONFIG.replace("  extensions: [health_check]\n", "") },
          ],
        },
      ]),
      /does not enable the health_check extension it queries/,
      urn(TD, "api-task"),
    ),
  ],
  "app-depends-on-healthy-collector": [
    bad(
      "the app does not depend on the collector",
      withContainers(good, ([app, collector]) => [{ ...app, dependsOn: undefined }, collector]),
      /container "app" does not depend on collector "otel-collector"/,
      urn(TD, "api-task"),
    ),
    bad(
      "the app only waits for the collector to START",
      withContainers(good, ([app, collector]) => [
        { ...app, dependsOn: [{ containerName: "otel-collector", condition: "START" }] },
        collector,
      ]),
      /with condition START; use HEALTHY/,
      urn(TD, "api-task"),
    ),
  ],
  "lambda-image-pinned-by-digest": [
    bad(
      "the function runs a tag",
      withPatch(good, FN, "consumer", () => ({
        imageUri: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/consumer:latest",
      })),
      /is not pinned by digest/,
      urn(FN, "consumer"),
    ),
  ],
  "image-platform-matches-runtime": [
    bad(
      "the Lambda image is built for amd64 but the function is arm64",
      withPatch(good, IMG, "consumer-image", () => ({ platforms: ["linux/amd64"] })),
      /image consumer-image is built for linux\/amd64 but function consumer runs linux\/arm64/,
      urn(IMG, "consumer-image"),
    ),
    bad(
      "the API image sets no platform",
      withPatch(good, IMG, "api-image", () => ({ platforms: undefined })),
      /image api-image used by task api-task \(container app\) sets no platforms/,
      urn(IMG, "api-image"),
    ),
    bad(
      "the task runs X86_64 while its image is arm64",
      withPatch(good, TD, "api-task", () => ({
        runtimePlatform: { cpuArchitecture: "X86_64", operatingSystemFamily: "LINUX" },
      })),
      /image api-image is built for linux\/arm64 but task api-task \(container app\) runs linux\/amd64/,
      urn(IMG, "api-image"),
    ),
    bad(
      "a @pulumi/docker image (build.platform) built for amd64 runs in the arm64 function",
      [
        ...without(good, IMG, "consumer-image"),
        resource(LEGACY_IMG, "consumer-image", {
          imageName: `${IMAGES.consumer}:latest`,
          repoDigest: `${IMAGES.consumer}@sha256:${"0f".repeat(32)}`,
          build: { context: ".", dockerfile: "lambda/Dockerfile", platform: "linux/amd64" },
        }),
      ],
      /image consumer-image is built for linux\/amd64 but function consumer runs linux\/arm64/,
      urn(LEGACY_IMG, "consumer-image"),
    ),
  ],
  "lambda-image-single-manifest": [
    bad(
      "the Lambda image is built for two platforms (an image index)",
      withPatch(good, IMG, "consumer-image", () => ({ platforms: ["linux/arm64", "linux/amd64"] })),
      /image consumer-image run by function consumer builds linux\/arm64 \+ linux\/amd64; set exactly one platform/,
      urn(IMG, "consumer-image"),
    ),
    bad(
      "the Lambda image is built in exec mode (buildx's default provenance makes an index)",
      withPatch(good, IMG, "consumer-image", () => ({ exec: true })),
      /image consumer-image run by function consumer builds in exec mode/,
      urn(IMG, "consumer-image"),
    ),
  ],
  "firehose-http-endpoint-s3-backup": [
    bad(
      "failed records are not backed up",
      withPatch(good, FH, "metrics-firehose", (p) => ({
        httpEndpointConfiguration: { ...(p.httpEndpointConfiguration as object), s3Configuration: {} },
      })),
      /s3Configuration.bucketArn is not set/,
      urn(FH, "metrics-firehose"),
    ),
    bad(
      "the backup bucket is not part of the stack",
      withPatch(good, FH, "metrics-firehose", (p) => ({
        httpEndpointConfiguration: {
          ...(p.httpEndpointConfiguration as object),
          s3Configuration: { bucketArn: "arn:aws:s3:::someone-elses-bucket" },
        },
      })),
      /not a bucket of this stack/,
      urn(FH, "metrics-firehose"),
    ),
  ],
  "metric-stream-includes-lambda-and-sqs": [
    bad(
      "AWS/SQS is not streamed",
      withPatch(good, MS, "metrics", () => ({ includeFilters: [{ namespace: "AWS/Lambda" }] })),
      /namespaces AWS\/SQS are not streamed/,
      urn(MS, "metrics"),
    ),
  ],
  "metric-stream-format-matches-coralogix-integration": [
    bad(
      "json output, even announced as CloudWatch_Metrics_JSON (removed by Coralogix in terraform-coralogix-aws v1.0.67)",
      withPatch(
        withPatch(good, MS, "metrics", () => ({ outputFormat: "json" })),
        FH,
        "metrics-firehose",
        (p) => ({ httpEndpointConfiguration: jsonIntegration(p.httpEndpointConfiguration) }),
      ),
      /outputFormat json is not parsed by Coralogix; use opentelemetry0.7\./,
      urn(MS, "metrics"),
    ),
    bad(
      "OpenTelemetry output announced as CloudWatch_Metrics_JSON",
      withPatch(good, FH, "metrics-firehose", (p) => ({
        httpEndpointConfiguration: jsonIntegration(p.httpEndpointConfiguration),
      })),
      /outputFormat opentelemetry0.7 but Firehose metrics-firehose announces integrationType CloudWatch_Metrics_JSON; expected CloudWatch_Metrics_OpenTelemetry070 or CloudWatch_Metrics_OpenTelemetry070_WithAggregations/,
      urn(MS, "metrics"),
    ),
    bad(
      "a format Coralogix does not parse",
      withPatch(good, MS, "metrics", () => ({ outputFormat: "opentelemetry1.0" })),
      /outputFormat opentelemetry1.0 is not parsed by Coralogix/,
      urn(MS, "metrics"),
    ),
  ],
  "same-resources-in-preview-and-update": [
    {
      title: "a resource is created inside an apply (absent from preview)",
      runs: runs(good, without(good, PAB, "backup-private")),
      message: /registered in update but not in preview/,
      urn: urn(PAB, "backup-private"),
    },
  ],
};

describe("policy rules", () => {
  it("the reference stack passes every rule", () => {
    const failures = evaluate(runs(good)).filter((r) => r.status === "fail");
    assert.deepEqual(
      failures.map((f) => ({ rule: f.rule.id, violations: f.violations })),
      [],
    );
  });

  it("every rule has a case proving it can fail, and ids are unique", () => {
    const ids = rules.map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual([...ids].sort(), Object.keys(cases).sort());
  });

  it("every rule declares a description, severity and category; ids look like ids", () => {
    for (const rule of rules) {
      assert.match(rule.id, /^[a-z0-9]+(-[a-z0-9]+)*$/);
      assert.ok(rule.description.length > 10, rule.id);
      for (const id of rule.checkov ?? []) assert.match(id, /^CKV2?_AWS_\d+$/, rule.id);
      for (const id of rule.fsbp ?? []) assert.match(id, /^[A-Za-z0-9]+\.\d+$/, rule.id);
    }
  });

  for (const rule of rules) {
    describe(rule.id, () => {
      for (const c of cases[rule.id] ?? []) {
        it(`fails when ${c.title}`, () => {
          const result = evaluateRule(rule, c.runs);
          assert.equal(result.status, "fail");
          const hit = result.violations.find((v) => c.message.test(v.message));
          assert.ok(hit, `no violation matches ${c.message}; got ${JSON.stringify(result.violations, null, 2)}`);
          assert.equal(hit.urn, c.urn);
        });
      }
    });
  }

  describe("the failing cases break only their own rule", () => {
    for (const [id, list] of Object.entries(cases)) {
      for (const c of list) {
        if (id === "coralogix-key-only-in-secret-version" || id === "no-literal-secrets-in-environment") continue; // overlap by design
        it(`${id}: ${c.title}`, () => {
          const others = evaluate(c.runs).filter((r) => r.status === "fail" && r.rule.id !== id);
          const tolerated = new Set(OVERLAPS[id] ?? []);
          assert.deepEqual(
            others.filter((r) => !tolerated.has(r.rule.id)).map((r) => r.rule.id),
            [],
          );
        });
      }
    }
  });
});

/** Cases that, by their nature, also break a related rule. */
const OVERLAPS: Record<string, string[]> = {
  // Replacing the queue policy with a public Allow also drops its TLS-only Deny.
  "no-public-principal": ["sqs-policy-denies-insecure-transport"],
};

/**
 * The first preview of a new stack as the engine shows it: every computed id, ARN, URL and name is unknown, and so
 * is every input derived from one (a policy JSON naming an ARN, container definitions naming a queue URL, …).
 */
function firstPreview(stack: readonly RecordedStackResource[]): RecordedStackResource[] {
  const computed = new Set<string>();
  for (const r of stack) {
    for (const key of ["id", "arn", "url", "name", "bucket"]) {
      if (typeof r.props[key] === "string") computed.add(String(r.props[key]));
    }
  }
  const derive = (value: unknown): unknown => {
    if (typeof value === "string") return [...computed].some((c) => value.includes(c)) ? UNKNOWN : value;
    if (Array.isArray(value)) return value.map(derive);
    if (typeof value === "object" && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, derive(v)]));
    }
    return value;
  };
  return stack.map((r) => {
    const props = derive(r.props) as Record<string, unknown>;
    return { ...r, props, inputs: props };
  });
}

describe("rule helpers", () => {
  it("reports nothing on the first preview of a good stack, where references are not known yet", () => {
    const preview = firstPreview(good);
    assert.ok(Object.values(preview[1]!.props).includes(UNKNOWN), "the simulation made nothing unknown");
    const failures = evaluate(runs(preview)).filter((r) => r.status === "fail");
    assert.deepEqual(
      failures.map((f) => ({ rule: f.rule.id, violations: f.violations })),
      [],
    );
  });

  it("skips values not known during a preview", () => {
    const preview = withPatch(good, Q, "orders", () => ({ kmsMasterKeyId: UNKNOWN, visibilityTimeoutSeconds: 186 }));
    assert.equal(evaluate(runs(preview)).filter((r) => r.status === "fail").length, 0);
  });

  it("skips a whole settings block that is unknown during a preview (not just a field inside it)", () => {
    const preview = withPatch(good, FH, "metrics-firehose", () => ({ serverSideEncryption: UNKNOWN }));
    assert.equal(get(preview.find((r) => r.type === FH)!.props, "serverSideEncryption.enabled"), UNKNOWN);
    assert.equal(evaluate(runs(preview)).filter((r) => r.status === "fail").length, 0);
  });

  it("keeps a key policy's kms:* only for the account root", () => {
    const [root, role, rootStar] = statementsOf(
      policyDoc([
        { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "kms:*", Resource: "*" },
        { Effect: "Allow", Principal: { AWS: ARNS.taskRole }, Action: "kms:*", Resource: "*" },
        { Effect: "Allow", Principal: { AWS: ACCOUNT }, Action: "*", Resource: "*" },
      ]),
    );
    assert.ok(isAccountRootKeyStatement(root!));
    assert.ok(!isAccountRootKeyStatement(role!));
    assert.ok(!isAccountRootKeyStatement(rootStar!));
  });

  it("reads whether an inline collector config enables the health_check extension", () => {
    assert.ok(enablesHealthCheckExtension(COLLECTOR_CONFIG));
    assert.ok(enablesHealthCheckExtension("service:\n  extensions: [health_check/ecs, pprof]\n"));
    assert.ok(!enablesHealthCheckExtension("service:\n  extensions: [pprof]\n"));
    assert.ok(!enablesHealthCheckExtension("receivers: [unclosed"));
    assert.ok(enablesHealthCheckExtension(undefined), "no inline config: the image's default config is used");
    assert.ok(enablesHealthCheckExtension(UNKNOWN), "not known yet: judged at update time");
  });

  it("reads policy documents given as JSON strings or objects, with single values or lists", () => {
    const fromObject = statementsOf({
      Statement: { Effect: "Allow", Action: "sqs:SendMessage", Resource: ARNS.queue },
    });
    const fromString = statementsOf(
      policyDoc([{ Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [ARNS.queue] }]),
    );
    assert.deepEqual(fromObject, fromString);
    assert.deepEqual(statementsOf("not json"), []);
  });

  it("knows wildcard actions from specific ones", () => {
    assert.ok(isServiceWildcard("*"));
    assert.ok(isServiceWildcard("sqs:*"));
    assert.ok(!isServiceWildcard("sqs:Send*"));
    assert.ok(!isServiceWildcard("sqs:SendMessage"));
  });

  it("accepts a secret ARN and plain settings, and flags literal credentials", () => {
    assert.equal(literalSecret("CORALOGIX_SECRET_ARN", ARNS.secret), undefined);
    assert.equal(literalSecret("OTEL_SERVICE_NAME", "onboarding-api"), undefined);
    assert.equal(literalSecret("DB_PASSWORD", ""), undefined);
    assert.ok(literalSecret("DB_PASSWORD", "hunter2"));
    assert.ok(literalSecret("GITHUB_TOKEN", "ghp_x"));
    assert.equal(literalSecret("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer ${env:CX_KEY}"), undefined);
    assert.ok(literalSecret("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer cxtp_abc"));
  });

  it("parses Fargate sizes written as units or as vCPU/GB", () => {
    assert.equal(cpuUnits("1 vCPU"), 1024);
    assert.equal(cpuUnits("256"), 256);
    assert.equal(memoryMiB("2 GB"), 2048);
    // The one size table (the component's), which the rule reads too.
    assert.deepEqual(FARGATE_MEMORY_BY_CPU[256], [512, 1024, 2048]);
    assert.equal(FARGATE_MEMORY_BY_CPU[16384]?.at(-1), 122880);
  });

  it("derives an image's repository from tags and digests", () => {
    assert.equal(repositoryOf("host:5000/a/b:tag"), "host:5000/a/b");
    assert.equal(repositoryOf("host/a/b@sha256:00"), "host/a/b");
    assert.equal(repositoryOf("host/a/b:latest@sha256:00"), "host/a/b");
    assert.equal(repositoryOf("host:5000/a/b"), "host:5000/a/b");
  });

  it("fixtures build resources the way the runner records them", () => {
    const r = resource(FN, "x", { a: 1 });
    assert.equal(r.urn, "urn:pulumi:test::traced-onboarding::aws:lambda/function:Function::x");
    assert.deepEqual(r.inputs, r.props);
    assert.ok(appContainer.dependsOn[0]?.containerName === collectorContainer.name);
  });
});

describe("policy report", () => {
  it("prints one line per rule and a passing summary", () => {
    const report = formatReport(evaluate(runs(good)), "header");
    assert.equal(report.split("\n")[0], "header");
    for (const rule of rules) assert.match(report, new RegExp(`^PASS  ${rule.id} `, "m"));
    assert.match(report, new RegExp(`All ${rules.length} rules pass\\.$`));
  });

  it("lists each failing rule's offenders (URN and message) and counts them", () => {
    const broken = withPatch(good, Q, "orders", () => ({ kmsMasterKeyId: undefined, visibilityTimeoutSeconds: 1 }));
    const report = formatReport(evaluate(runs(broken)));
    assert.match(
      report,
      /^FAIL {2}sqs-encrypted-with-cmk .*\n {6}urn:pulumi:test::traced-onboarding::aws:sqs\/queue:Queue::orders\n {8}kmsMasterKeyId is not set/m,
    );
    assert.match(report, /^FAIL {2}lambda-queue-dlq-and-visibility /m);
    assert.match(
      report,
      new RegExp(
        `2 of ${rules.length} rules fail with 2 violation\\(s\\): sqs-encrypted-with-cmk, lambda-queue-dlq-and-visibility\\.$`,
      ),
    );
  });
});
