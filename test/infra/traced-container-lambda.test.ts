import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { imageTag } from "../../packages/traced-components/src/container-image";
import { reservedConcurrencyProblem } from "../../packages/traced-components/src/lambda-concurrency";
import {
  LAMBDA_DEFAULTS,
  TracedContainerLambda,
  validateTracedContainerLambdaArgs,
} from "../../packages/traced-components/src/traced-container-lambda";
import { SECRET_ARN, SECRET_READ_GRANTS, serviceIdentityArgs, TOPIC_ARN, tracedServiceArgs } from "./fixtures";
import {
  grantsOf,
  inlinePolicyOfRole,
  isSecretValue,
  mockServiceQuotas,
  resourceNamed,
  resourcesOfType,
  settleAll,
  unwrapSecrets,
} from "../../harness/mocks";

const QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:orders-mock";
const QUEUE_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/key-orders-key";
const REPO_URL = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/consumer-repo-mock";
const DIGEST_URI = `${REPO_URL}@sha256:${"ab".repeat(32)}`;

const baseArgs = serviceIdentityArgs("eu2");

describe("TracedContainerLambda validation", () => {
  const queue = { visibilityTimeoutSeconds: 181 };

  it("accepts the defaults with a queue sized for them", () => {
    assert.deepEqual(validateTracedContainerLambdaArgs({ ...baseArgs, queue }), []);
  });

  it("rejects a queue whose visibility timeout is too short for the function, saying how to create it", () => {
    assert.deepEqual(validateTracedContainerLambdaArgs({ ...baseArgs, queue, timeoutSeconds: 60 }), [
      "the queue's visibility timeout (181 s) must be at least 6 × timeoutSeconds (60) + batchingWindowSeconds (1) " +
        "= 361 s. Create the queue with consumer: { timeoutSeconds: 60, batchingWindowSeconds: 1 }.",
    ]);
  });

  it("collects every problem", () => {
    assert.deepEqual(
      validateTracedContainerLambdaArgs({
        ...baseArgs,
        coralogixDomain: "mars1",
        queue: { visibilityTimeoutSeconds: 10000 },
        batchSize: 20,
        batchingWindowSeconds: 0,
        maximumConcurrency: 1,
        reservedConcurrency: 0,
        logRetentionDays: 10,
      }),
      [
        'coralogixDomain: Unknown Coralogix domain "mars1". Use a region (us1, us2, us3, eu1, eu2, ap1, ap2, ap3, ' +
          "gov1) or a domain (us1.coralogix.com, us2.coralogix.com, us3.coralogix.com, eu1.coralogix.com, " +
          "eu2.coralogix.com, ap1.coralogix.com, ap2.coralogix.com, ap3.coralogix.com, gov1.coralogixgov.us, " +
          'coralogix.com, coralogix.us, cx498.coralogix.com, coralogix.in, coralogixsg.com), e.g. "us2".',
        "maximumConcurrency must be an integer from 2 to 1000 (got 1).",
        "batchSize 20 needs batchingWindowSeconds of at least 1 (SQS rule for batches over 10).",
        "reservedConcurrency (0) must be at least maximumConcurrency (1), or the event source mapping is throttled. " +
          "Raise reservedConcurrency or lower maximumConcurrency.",
        "logRetentionDays must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, " +
          "2192, 2557, 2922, 3288, 3653 (got 10).",
      ],
    );
  });

  it("throws before creating anything", () => {
    const args = tracedServiceArgs("eu2", { timeoutSeconds: 30, batchingWindowSeconds: 1 });
    assert.throws(() => new TracedContainerLambda("consumer", { ...args, memorySizeMb: 64 }), {
      message:
        'Invalid TracedContainerLambda "consumer":\n  - memorySizeMb must be an integer from 128 to 10240 (got 64).',
    });
    assert.equal(resourcesOfType("aws:lambda/function:Function").length, 0);
  });
});

describe("TracedContainerLambda reserved concurrency against the account's limit", () => {
  const QUOTA = "lambda/L-B99A9384";
  afterEach(() => {
    mockServiceQuotas[QUOTA] = 1000;
  });

  it("allows up to the account's Lambda concurrency limit − 100", () => {
    assert.equal(reservedConcurrencyProblem(900, 1000, "reservedConcurrency"), undefined);
    assert.equal(
      reservedConcurrencyProblem(901, 1000, "reservedConcurrency"),
      'reservedConcurrency (901) cannot be reserved: this account\'s Lambda "Concurrent executions" quota ' +
        "(Service Quotas lambda L-B99A9384) is 1000, and Lambda keeps 100 unreserved, so at most 900 can be " +
        "reserved. Fix: set reservedConcurrency to at most 900 (limit − 100) or leave it unset (-1), or request a " +
        "quota increase to at least 1001 (aws service-quotas request-service-quota-increase --service-code lambda " +
        "--quota-code L-B99A9384 --desired-value 1001).",
    );
  });

  it("refuses a reservation in a new account (limit 10) before creating the function, naming the setting", async () => {
    mockServiceQuotas[QUOTA] = 10;
    const consumer = new TracedContainerLambda("small", {
      ...tracedServiceArgs("eu2", { timeoutSeconds: 30, batchingWindowSeconds: 1 }),
      reservedConcurrency: 5,
      reservedConcurrencySetting: "traced-onboarding:lambdaReservedConcurrency",
    });
    await assert.rejects((consumer.reservedConcurrency as any).promise(), (error: Error) => {
      assert.ok(pulumi.RunError.isInstance(error));
      assert.equal(
        error.message,
        "traced-onboarding:lambdaReservedConcurrency (5) cannot be reserved: this account's Lambda \"Concurrent " +
          'executions" quota (Service Quotas lambda L-B99A9384) is 10, and Lambda keeps 100 unreserved, so at most 0 ' +
          "can be reserved. Fix: leave traced-onboarding:lambdaReservedConcurrency unset (-1), or request a quota " +
          "increase to at least 105 (aws service-quotas request-service-quota-increase --service-code lambda " +
          "--quota-code L-B99A9384 --desired-value 105).",
      );
      return true;
    });
    await settleAll();
    assert.equal(resourcesOfType("aws:lambda/function:Function").length, 0, "the function is never registered");
  });

  it("reserves when the limit allows it, and asks Service Quotas nothing without a reservation", async () => {
    mockServiceQuotas[QUOTA] = 150;
    const reserved = new TracedContainerLambda("fits", {
      ...tracedServiceArgs("eu2", { timeoutSeconds: 30, batchingWindowSeconds: 1 }),
      reservedConcurrency: 50,
    });
    await settleAll();
    assert.equal(resourceNamed("aws:lambda/function:Function", "fits").inputs.reservedConcurrentExecutions, 50);
    assert.equal(await (reserved.reservedConcurrency as any).promise(), 50);
    delete mockServiceQuotas[QUOTA]; // the strict mock now fails any lookup
    const unreserved = new TracedContainerLambda("open", {
      ...tracedServiceArgs("eu2", { timeoutSeconds: 30, batchingWindowSeconds: 1 }),
    });
    await settleAll();
    assert.equal(unreserved.reservedConcurrency, undefined);
    assert.equal(resourceNamed("aws:lambda/function:Function", "open").inputs.reservedConcurrentExecutions, undefined);
  });
});

describe("TracedContainerLambda", () => {
  before(async () => {
    new TracedContainerLambda("consumer", {
      ...tracedServiceArgs("eu2", { timeoutSeconds: 20, batchingWindowSeconds: 2 }),
      timeoutSeconds: 20,
      memorySizeMb: 1024,
      batchSize: 25,
      batchingWindowSeconds: 2,
      maximumConcurrency: 7,
      reservedConcurrency: 10,
      logRetentionDays: 14,
      alarms: { topicArn: TOPIC_ARN },
    });
    await settleAll();
  });

  it("scans images on push, never moves a tag, and keeps the last 10 images a rollback may need", () => {
    const repo = resourceNamed("aws:ecr/repository:Repository", "consumer-repo").inputs;
    assert.deepEqual(repo.imageScanningConfiguration, { scanOnPush: true });
    assert.equal(repo.imageTagMutability, "IMMUTABLE");
    const rules = resourceNamed("aws:ecr/lifecyclePolicy:LifecyclePolicy", "consumer-lifecycle").inputs.policy.rules;
    // No age-based or untagged expiry: the circuit breaker rolls back to the previous task definition's image.
    assert.deepEqual(
      rules.map((r: any) => r.selection),
      [{ tagStatus: "tagged", tagPrefixList: ["src-"], countType: "imageCountMoreThan", countNumber: 10 }],
    );
  });

  it("lets only the Lambda service, for this account's functions in this region, pull its images", () => {
    const policy = resourceNamed("aws:ecr/repositoryPolicy:RepositoryPolicy", "consumer-repo-policy");
    assert.equal(policy.inputs.repository, "consumer-repo-mock");
    assert.deepEqual(JSON.parse(policy.inputs.policy).Statement, [
      {
        Sid: "LambdaImagePull",
        Effect: "Allow",
        Principal: { Service: "lambda.amazonaws.com" },
        Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        Condition: { StringLike: { "aws:sourceArn": "arn:aws:lambda:eu-west-1:123456789012:function:*" } },
      },
    ]);
    const fn = resourceNamed("aws:lambda/function:Function", "consumer");
    assert.ok(fn.dependencies.includes(policy.urn), "the function is created after the pull grant");
  });

  it("builds lambda/Dockerfile for exactly linux/arm64 and pushes one Docker manifest with a secret ECR token", () => {
    const image = resourceNamed("docker-build:index:Image", "consumer-image").inputs;
    // Paths relative to the project root, the docker-build provider's working directory.
    assert.deepEqual(image.context, { location: "." });
    assert.deepEqual(image.dockerfile, { location: "lambda/Dockerfile" });
    assert.deepEqual(image.platforms, ["linux/arm64"]);
    // A registry export with Docker media types; no exec mode (buildx's default provenance would make an index).
    assert.deepEqual(image.exports, [{ registry: { ociMediaTypes: false } }]);
    assert.equal(image.push, false, "the registry export pushes; push: true would add a second, default export");
    assert.equal(image.exec, undefined);
    assert.deepEqual(image.tags, [`${REPO_URL}:${imageTag(LAMBDA_DEFAULTS.image)}`]);
    assert.match(image.tags[0], /:src-[0-9a-f]{64}$/);
    assert.deepEqual(unwrapSecrets(image.registries), [
      { address: REPO_URL, username: "AWS", password: "mock-ecr-password" },
    ]);
    // The password is a secret, which makes the whole registries list secret.
    assert.ok(isSecretValue(image.registries), "the registry credentials are a secret");
  });

  it("runs the image pinned to its pushed digest, on arm64, with the configured size", () => {
    const fn = resourceNamed("aws:lambda/function:Function", "consumer").inputs;
    assert.equal(fn.packageType, "Image");
    assert.equal(fn.imageUri, DIGEST_URI);
    assert.match(fn.imageUri, /@sha256:[0-9a-f]{64}$/);
    assert.deepEqual(fn.architectures, ["arm64"]);
    assert.equal(fn.timeout, 20);
    assert.equal(fn.memorySize, 1024);
    assert.equal(fn.reservedConcurrentExecutions, 10);
  });

  it("passes names and ARNs only in the environment (the contract's variable names)", () => {
    const fn = resourceNamed("aws:lambda/function:Function", "consumer").inputs;
    assert.deepEqual(fn.environment.variables, {
      CORALOGIX_DOMAIN: "eu2.coralogix.com",
      CORALOGIX_SECRET_ARN: SECRET_ARN,
      OTEL_SERVICE_NAME: "onboarding-lambda",
      // The standard variables only: any OpenTelemetry SDK reads them (percent-encoded values, none needed here).
      OTEL_RESOURCE_ATTRIBUTES:
        "service.namespace=customer-onboarding,service.version=1.2.3,deployment.environment.name=dev," +
        "cx.application.name=customer-onboarding,cx.subsystem.name=onboarding-lambda",
    });
  });

  it("logs to its own log group, created before the function", () => {
    const group = resourceNamed("aws:cloudwatch/logGroup:LogGroup", "consumer-logs");
    assert.equal(group.inputs.retentionInDays, 14);
    const fn = resourceNamed("aws:lambda/function:Function", "consumer");
    assert.deepEqual(fn.inputs.loggingConfig, { logFormat: "Text", logGroup: "consumer-logs-mock" });
    assert.ok(fn.dependencies.includes(group.urn), "the function depends on its log group");
    assert.ok(
      fn.dependencies.includes(resourceNamed("aws:iam/rolePolicy:RolePolicy", "consumer-role-policy").urn),
      "the function depends on its role's policy",
    );
  });

  it("has a role that writes only its logs, consumes only its queue, reads only its secret, decrypts only its keys", () => {
    const role = resourceNamed("aws:iam/role:Role", "consumer-role").inputs;
    const trust = JSON.parse(role.assumeRolePolicy).Statement[0];
    assert.deepEqual(trust.Principal, { Service: "lambda.amazonaws.com" });
    assert.deepEqual(grantsOf(inlinePolicyOfRole("consumer-role")), {
      WriteOwnLogs: {
        effect: "Allow",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: ["arn:aws:cloudwatch:eu-west-1:123456789012:consumer-logs-mock:*"],
      },
      ConsumeQueue: {
        effect: "Allow",
        actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
        resources: [QUEUE_ARN],
      },
      DecryptFromQueue: { effect: "Allow", actions: ["kms:Decrypt"], resources: [QUEUE_KEY_ARN] },
      ...SECRET_READ_GRANTS,
    });
  });

  it("maps the queue with partial batch responses, batch size, window and maximum concurrency", () => {
    const mapping = resourceNamed("aws:lambda/eventSourceMapping:EventSourceMapping", "consumer-sqs").inputs;
    assert.deepEqual(mapping, {
      eventSourceArn: QUEUE_ARN,
      functionName: "arn:aws:lambda:eu-west-1:123456789012:consumer-mock",
      batchSize: 25,
      maximumBatchingWindowInSeconds: 2,
      functionResponseTypes: ["ReportBatchItemFailures"],
      scalingConfig: { maximumConcurrency: 7 },
    });
  });

  it("alarms on errors and throttles, notifying the topic", () => {
    for (const [name, metric] of [
      ["consumer-errors", "Errors"],
      ["consumer-throttles", "Throttles"],
    ]) {
      const alarm = resourceNamed("aws:cloudwatch/metricAlarm:MetricAlarm", name).inputs;
      assert.equal(alarm.namespace, "AWS/Lambda");
      assert.equal(alarm.metricName, metric);
      assert.deepEqual(alarm.dimensions, { FunctionName: "consumer-mock" });
      assert.deepEqual(alarm.alarmActions, [TOPIC_ARN]);
    }
  });

  // The escape hatch instead of callbacks in its args: a resource transform in the component's options reaches its
  // children through `parent`. The engine applies `opts.transforms`, which the mocks cannot run; the SDK applies
  // `opts.transformations` itself, with the same inheritance, so that is what is checked here.
  it("lets a resource transform in its options adjust its children, after its own args", async () => {
    new TracedContainerLambda("hooked", tracedServiceArgs("eu2", { timeoutSeconds: 30, batchingWindowSeconds: 1 }), {
      transformations: [
        ({ type, props, opts }) =>
          type === "aws:lambda/function:Function"
            ? { props: { ...props, tracingConfig: { mode: "Active" } }, opts }
            : type === "aws:lambda/eventSourceMapping:EventSourceMapping"
              ? { props: { ...props, enabled: false }, opts }
              : undefined,
      ],
    });
    await settleAll();
    const fn = resourceNamed("aws:lambda/function:Function", "hooked").inputs;
    assert.deepEqual(fn.tracingConfig, { mode: "Active" });
    assert.equal(fn.packageType, "Image");
    assert.equal(resourceNamed("aws:lambda/eventSourceMapping:EventSourceMapping", "hooked-sqs").inputs.enabled, false);
  });
});
