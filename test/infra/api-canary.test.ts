/**
 * The synthetic check: the ApiCanary component under mocks (canary, artifacts bucket, least-privilege role, alarm)
 * and the canary script itself against a local HTTP server standing in for the API.
 */
import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { ApiCanary, canaryNameFor, validateApiCanaryArgs } from "../../packages/traced-components/src/api-canary";
import {
  grantsOf,
  inlinePolicyOfRole,
  installMocks,
  resourceNamed,
  resourcesOfType,
  settleAll,
} from "../../harness/mocks";
import { TOPIC_ARN } from "./fixtures";

// The script the canary runs (plain CommonJS: it is zipped as is).
const script = require("../../packages/traced-components/canary/onboard-canary.js") as {
  handler(): Promise<{ customer_id: string }>;
  syntheticCustomer(now?: Date, id?: string): Record<string, string>;
  USER_AGENT: string;
};

describe("ApiCanary validation", () => {
  it("names canaries within Synthetics' limits", () => {
    assert.equal(canaryNameFor("onboarding", "dev"), "onboarding-dev");
    assert.equal(canaryNameFor("onboarding", "Feature/Long.Stack-Name"), "onboarding-feature-lo");
    assert.ok(canaryNameFor("onboarding", "x".repeat(40)).length <= 21);
  });

  it("collects every problem", () => {
    assert.deepEqual(
      validateApiCanaryArgs({
        canaryName: "Onboarding Dev",
        schedule: "every 5 minutes",
        runtimeVersion: "syn-python-selenium-4.0",
        artifactRetentionDays: 0,
      }),
      [
        'canaryName must be 1-21 lower-case letters, digits, "-" or "_" (got "Onboarding Dev"), e.g. "onboarding-dev".',
        'schedule must be a Synthetics rate(…) or cron(…) expression (got "every 5 minutes"), e.g. "rate(5 minutes)".',
        "runtimeVersion must be a syn-nodejs-puppeteer-<major>.<minor> runtime (the script is Node.js) (got " +
          '"syn-python-selenium-4.0"), e.g. "syn-nodejs-puppeteer-15.0".',
        "artifactRetentionDays must be an integer from 1 to 455 (got 0).",
      ],
    );
  });
});

describe("ApiCanary", () => {
  before(async () => {
    installMocks();
    new ApiCanary("check", { url: "https://api.acme.io", canaryName: "check-dev", alarms: { topicArn: TOPIC_ARN } });
    await settleAll();
  });

  it("runs the script from its content-addressed zip every 5 minutes against the API, encrypting its artifacts", () => {
    const canary = resourceNamed("aws:synthetics/canary:Canary", "check").inputs;
    const code = resourceNamed("aws:s3/bucketObjectv2:BucketObjectv2", "check-code").inputs;
    assert.match(code.key, /^code\/onboard-canary-[0-9a-f]{16}\.zip$/);
    assert.equal(canary.s3Key, code.key);
    assert.equal(canary.s3Bucket, "check-artifacts-mock");
    assert.equal(canary.handler, "onboard-canary.handler");
    assert.equal(canary.runtimeVersion, "syn-nodejs-puppeteer-15.0");
    assert.deepEqual(canary.schedule, { expression: "rate(5 minutes)" });
    assert.deepEqual(canary.runConfig, {
      timeoutInSeconds: 60,
      environmentVariables: { API_URL: "https://api.acme.io" },
    });
    assert.equal(canary.artifactS3Location, "s3://check-artifacts-mock/runs/");
    const keyArn = resourceNamed("aws:kms/key:Key", "check-artifacts-key").state.arn;
    assert.deepEqual(canary.artifactConfig, { s3Encryption: { encryptionMode: "SSE_KMS", kmsKeyArn: keyArn } });
    assert.equal(code.kmsKeyId, keyArn);
    assert.equal(canary.startCanary, true);
    assert.equal(canary.deleteLambda, true);
    assert.equal(canary.name, "check-dev");
  });

  it("keeps artifacts in a private, KMS-encrypted bucket that expires the runs but never the code", () => {
    const block = resourceNamed("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "check-artifacts-private");
    for (const flag of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) {
      assert.equal(block.inputs[flag], true, flag);
    }
    const sse = resourceNamed(
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "check-artifacts-encryption",
    );
    assert.equal(sse.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, "aws:kms");
    const lifecycle = resourceNamed(
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      "check-artifacts-lifecycle",
    );
    assert.deepEqual(lifecycle.inputs.rules[0].filter, { prefix: "runs/" });
    assert.deepEqual(lifecycle.inputs.rules[0].expiration, { days: 14 });
  });

  it("has a role that only writes its runs, uses its key, writes its own logs and Synthetics metrics", () => {
    assert.deepEqual(grantsOf(inlinePolicyOfRole("check-role")), {
      WriteRunArtifacts: {
        effect: "Allow",
        actions: ["s3:PutObject", "s3:GetObject"],
        resources: ["arn:aws:s3:eu-west-1:123456789012:check-artifacts-mock/runs/*"],
      },
      LocateArtifactsBucket: {
        effect: "Allow",
        actions: ["s3:GetBucketLocation"],
        resources: ["arn:aws:s3:eu-west-1:123456789012:check-artifacts-mock"],
      },
      ListBuckets: { effect: "Allow", actions: ["s3:ListAllMyBuckets"], resources: ["*"] },
      EncryptArtifacts: {
        effect: "Allow",
        actions: ["kms:GenerateDataKey", "kms:Decrypt"],
        resources: ["arn:aws:kms:eu-west-1:123456789012:key/key-check-artifacts-key"],
      },
      WriteOwnLogs: {
        effect: "Allow",
        actions: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        resources: ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/cwsyn-check-dev-*"],
      },
      PublishSyntheticsMetrics: { effect: "Allow", actions: ["cloudwatch:PutMetricData"], resources: ["*"] },
    });
    const metrics = inlinePolicyOfRole("check-role").Statement.find((s) => s.Sid === "PublishSyntheticsMetrics")!;
    assert.deepEqual(metrics.Condition, { StringEquals: { "cloudwatch:namespace": "CloudWatchSynthetics" } });
    const trust = JSON.parse(resourceNamed("aws:iam/role:Role", "check-role").inputs.assumeRolePolicy).Statement[0];
    assert.deepEqual(trust.Principal, { Service: "lambda.amazonaws.com" });
    const canary = resourceNamed("aws:synthetics/canary:Canary", "check");
    assert.ok(canary.dependencies.includes(resourceNamed("aws:iam/rolePolicy:RolePolicy", "check-role-policy").urn));
  });

  it("alarms to the topic when 2 of 3 five-minute periods fail or have no run", () => {
    const alarm = resourceNamed("aws:cloudwatch/metricAlarm:MetricAlarm", "check-success").inputs;
    assert.deepEqual(
      [alarm.namespace, alarm.metricName, alarm.dimensions, alarm.statistic, alarm.comparisonOperator, alarm.threshold],
      ["CloudWatchSynthetics", "SuccessPercent", { CanaryName: "check-dev" }, "Average", "LessThanThreshold", 90],
    );
    assert.deepEqual(
      [alarm.period, alarm.evaluationPeriods, alarm.datapointsToAlarm, alarm.treatMissingData],
      [300, 3, 2, "breaching"],
    );
    assert.deepEqual(alarm.alarmActions, [TOPIC_ARN]);
    assert.deepEqual(alarm.okActions, [TOPIC_ARN]);
    assert.equal(resourcesOfType("aws:cloudwatch/metricAlarm:MetricAlarm").length, 1);
  });
});

describe("the canary script (packages/traced-components/canary/onboard-canary.js)", () => {
  let server: http.Server;
  let answer: (body: Record<string, unknown>) => { status: number; body: unknown };
  const requests: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: any }[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      let raw = "";
      req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
      req.on("end", () => {
        const body = JSON.parse(raw);
        requests.push({ method: req.method, url: req.url, headers: req.headers, body });
        const { status, body: out } = answer(body);
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(out));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    process.env.API_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => {
    delete process.env.API_URL;
    server.close();
  });

  it("builds a valid, recognisable synthetic customer", () => {
    const customer = script.syntheticCustomer(
      new Date("2026-03-01T12:34:56.789Z"),
      "0f1e2d3c-aaaa-bbbb-cccc-1234567890ab",
    );
    assert.deepEqual(customer, {
      customer_id: "SYNTHETIC-20260301T123456-0f1e2d3c",
      email: "canary+0f1e2d3c@example.com",
      company_size: "small",
      name: "Synthetic Canary",
    });
    assert.ok(customer.customer_id.length <= 64, "the API accepts customer_id of at most 64 characters");
  });

  it("POSTs one synthetic customer to /onboard with its user-agent and passes on 202", async () => {
    answer = (body) => ({
      status: 202,
      body: { request_id: "r-1", customer_id: body.customer_id, trace_id: "a".repeat(32) },
    });
    const result = await script.handler();
    const [request] = requests.splice(0);
    assert.equal(request.method, "POST");
    assert.equal(request.url, "/onboard");
    assert.equal(request.headers["user-agent"], "traced-onboarding-canary");
    assert.equal(request.headers["content-type"], "application/json");
    assert.match(request.body.customer_id, /^SYNTHETIC-\d{8}T\d{6}-[0-9a-f]{8}$/);
    assert.deepEqual(Object.keys(request.body).sort(), ["company_size", "customer_id", "email", "name"]);
    assert.equal(result.customer_id, request.body.customer_id);
  });

  it("fails the run when the API does not accept the customer", async () => {
    answer = () => ({ status: 503, body: { error: "queue_unavailable" } });
    await assert.rejects(script.handler(), /POST \/onboard answered 503 for SYNTHETIC-.*queue_unavailable/);
    answer = () => ({ status: 202, body: { customer_id: "someone-else" } });
    await assert.rejects(script.handler(), /accepted SYNTHETIC-\S+ with an unexpected body/);
  });

  it("fails without API_URL", async () => {
    const url = process.env.API_URL;
    delete process.env.API_URL;
    try {
      await assert.rejects(script.handler(), /API_URL is not set/);
    } finally {
      process.env.API_URL = url;
    }
  });
});
