import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { AlarmTopic, validateAlarmTopicArgs } from "../../packages/traced-components/src/alarm-topic";
import {
  dashboardName,
  END_TO_END_EXPRESSION,
  PipelineDashboard,
  validatePipelineDashboardArgs,
} from "../../packages/traced-components/src/pipeline-dashboard";
import { TelemetrySecret, validateTelemetrySecretArgs } from "../../packages/traced-components/src/telemetry-secret";
import { TOPIC_ARN } from "./fixtures";
import {
  installMocks,
  isSecretValue,
  plaintextOccurrences,
  promiseOf,
  resourceNamed,
  resourcesOfType,
  settleAll,
  unwrapSecrets,
} from "../../harness/mocks";

describe("AlarmTopic", () => {
  it("encrypts the topic with a key CloudWatch may use, and lets only this account's alarms publish", async () => {
    installMocks();
    new AlarmTopic("alarms");
    await settleAll();
    const topic = resourceNamed("aws:sns/topic:Topic", "alarms").inputs;
    assert.equal(topic.kmsMasterKeyId, "arn:aws:kms:eu-west-1:123456789012:key/key-alarms-key");
    const keyPolicy = JSON.parse(resourceNamed("aws:kms/key:Key", "alarms-key").inputs.policy);
    const services = keyPolicy.Statement.find((s: any) => s.Sid === "ServicesUseKey");
    assert.deepEqual(services.Principal, { Service: "cloudwatch.amazonaws.com" });
    assert.deepEqual(services.Action, ["kms:Decrypt", "kms:GenerateDataKey*"]);
    const policy = JSON.parse(resourceNamed("aws:sns/topicPolicy:TopicPolicy", "alarms-policy").inputs.policy);
    assert.deepEqual(policy.Statement[0].Principal, { Service: "cloudwatch.amazonaws.com" });
    assert.deepEqual(policy.Statement[0].Condition, { StringEquals: { "aws:SourceAccount": "123456789012" } });
    assert.equal(resourcesOfType("aws:sns/topicSubscription:TopicSubscription").length, 0);
  });

  it("subscribes an email when given one", async () => {
    installMocks();
    new AlarmTopic("alarms", { email: "oncall@example.com" });
    await settleAll();
    const sub = resourceNamed("aws:sns/topicSubscription:TopicSubscription", "alarms-email").inputs;
    assert.deepEqual(sub, {
      topic: "arn:aws:sns:eu-west-1:123456789012:alarms-mock",
      protocol: "email",
      endpoint: "oncall@example.com",
    });
  });

  it("rejects an invalid email", () => {
    assert.deepEqual(validateAlarmTopicArgs({ email: "oncall" }), [
      'email must be an email address like "oncall@example.com" (got "oncall").',
    ]);
  });
});

describe("TelemetrySecret", () => {
  it('stores {"api_key": key} as a secret, encrypted with its own key', async () => {
    installMocks();
    const secret = new TelemetrySecret("cx", { apiKey: pulumi.secret("k-123") });
    await settleAll();
    const version = resourceNamed("aws:secretsmanager/secretVersion:SecretVersion", "cx-value").inputs;
    assert.ok(isSecretValue(version.secretString));
    assert.deepEqual(JSON.parse(unwrapSecrets(version.secretString)), { api_key: "k-123" });
    assert.deepEqual(plaintextOccurrences("k-123"), []);
    const stored = resourceNamed("aws:secretsmanager/secret:Secret", "cx").inputs;
    assert.equal(stored.kmsKeyId, "arn:aws:kms:eu-west-1:123456789012:key/key-cx-key");
    const keyPolicy = JSON.parse(resourceNamed("aws:kms/key:Key", "cx-key").inputs.policy);
    assert.equal(
      keyPolicy.Statement[1].Condition.StringEquals["kms:ViaService"],
      "secretsmanager.eu-west-1.amazonaws.com",
    );
    assert.equal(await promiseOf(secret.arn), "arn:aws:secretsmanager:eu-west-1:123456789012:cx-mock");
  });

  it("rejects an invalid recovery window", () => {
    assert.deepEqual(validateTelemetrySecretArgs({ recoveryWindowInDays: 3 }), [
      "recoveryWindowInDays must be an integer from 7 to 30 (got 3).",
    ]);
    assert.deepEqual(validateTelemetrySecretArgs({ recoveryWindowInDays: 0 }), []);
  });
});

const DASHBOARD_ARGS = {
  alarmTopicArn: TOPIC_ARN,
  queueName: "orders",
  deadLetterQueueName: "orders-dlq",
  functionName: "consumer",
  loadBalancerArnSuffix: "app/api/123",
  targetGroupArnSuffix: "targetgroup/api/456",
  clusterName: "cluster",
  serviceName: "api",
};

describe("PipelineDashboard", () => {
  let dashboard: PipelineDashboard;
  before(async () => {
    installMocks({ stack: "dev" });
    dashboard = new PipelineDashboard("pipeline", DASHBOARD_ARGS);
    await settleAll();
  });

  it("alarms when processed ÷ sent drops below 95 % over 15 minutes, with metric math", () => {
    const alarm = resourceNamed("aws:cloudwatch/metricAlarm:MetricAlarm", "pipeline-end-to-end").inputs;
    assert.equal(alarm.comparisonOperator, "LessThanThreshold");
    assert.equal(alarm.threshold, 95);
    assert.equal(alarm.evaluationPeriods, 1);
    assert.deepEqual(alarm.alarmActions, [TOPIC_ARN]);
    const [sent, processed, ratio] = alarm.metricQueries;
    assert.deepEqual(sent, {
      id: "sent",
      returnData: false,
      metric: {
        namespace: "AWS/SQS",
        metricName: "NumberOfMessagesSent",
        dimensions: { QueueName: "orders" },
        period: 900,
        stat: "Sum",
      },
    });
    assert.equal(processed.metric.metricName, "NumberOfMessagesDeleted");
    assert.equal(processed.metric.period, 900);
    assert.equal(ratio.expression, END_TO_END_EXPRESSION);
    assert.equal(END_TO_END_EXPRESSION, "IF(sent > 0, 100 * processed / sent, 100)");
    assert.equal(ratio.returnData, true);
  });

  it("charts API errors/latency, queue depth/age, DLQ and Lambda duration/errors/throttles/concurrency", async () => {
    const body = JSON.parse(resourceNamed("aws:cloudwatch/dashboard:Dashboard", "pipeline").inputs.dashboardBody);
    const metricNames = new Set<string>();
    for (const widget of body.widgets) {
      for (const row of widget.properties.metrics)
        for (const cell of row) if (typeof cell === "string") metricNames.add(cell);
    }
    for (const metric of [
      "HTTPCode_Target_5XX_Count",
      "TargetResponseTime",
      "ApproximateNumberOfMessagesVisible",
      "ApproximateAgeOfOldestMessage",
      "orders-dlq",
      "Duration",
      "Errors",
      "Throttles",
      "ConcurrentExecutions",
    ]) {
      assert.ok(metricNames.has(metric), metric);
    }
    const name = resourceNamed("aws:cloudwatch/dashboard:Dashboard", "pipeline").inputs.dashboardName;
    assert.match(name, /^pipeline-dev-[0-9a-f]{8}$/);
    assert.equal(
      await promiseOf(dashboard.dashboardUrl),
      `https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/${name}`,
    );
  });

  it("names the dashboard only with characters PutDashboard accepts, for a stack name with dots", async () => {
    installMocks({ stack: "team.eu-west.dev" });
    const dotted = new PipelineDashboard("pipeline", DASHBOARD_ARGS);
    await settleAll();
    const name = resourceNamed("aws:cloudwatch/dashboard:Dashboard", "pipeline").inputs.dashboardName;
    // CloudWatch: "can contain only alphanumerics, dash (-) and underscore (_)", at most 255 characters.
    assert.match(name, /^pipeline-team-eu-west-dev-[0-9a-f]{8}$/);
    assert.ok(name.length <= 255);
    assert.equal(
      await promiseOf(dotted.dashboardUrl),
      `https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/${name}`,
    );
  });

  it("gives same-named stacks of other projects, organizations or regions their own dashboard, within 255 characters", () => {
    const scope = { organization: "acme", project: "traced-onboarding", stack: "prod", region: "eu-west-1" };
    const names = new Set([
      dashboardName("onboarding", scope),
      dashboardName("onboarding", { ...scope, project: "billing" }),
      dashboardName("onboarding", { ...scope, organization: "globex" }),
      dashboardName("onboarding", { ...scope, region: "us-east-1" }),
      dashboardName("other", scope),
    ]);
    assert.equal(names.size, 5);
    assert.equal(dashboardName("onboarding", scope), dashboardName("onboarding", { ...scope }), "stable across runs");
    const long = dashboardName("d", { ...scope, stack: "x.".repeat(200) });
    assert.equal(long.length, 255);
    assert.match(long, /^[A-Za-z0-9_-]+$/);
  });

  it("charts the end-to-end ratio over the same period the alarm evaluates, the default and any other", async () => {
    const endToEndWidget = () =>
      JSON.parse(resourceNamed("aws:cloudwatch/dashboard:Dashboard", "pipeline").inputs.dashboardBody).widgets.find(
        (widget: any) => widget.properties.title.startsWith("End to end"),
      );
    const alarmPeriod = () =>
      resourceNamed("aws:cloudwatch/metricAlarm:MetricAlarm", "pipeline-end-to-end").inputs.metricQueries[0].metric
        .period;
    for (const [endToEndPeriodSeconds, expected] of [
      [undefined, 900],
      [300, 300],
    ] as const) {
      installMocks({ stack: "dev" });
      new PipelineDashboard("pipeline", { ...DASHBOARD_ARGS, endToEndPeriodSeconds });
      await settleAll();
      assert.equal(alarmPeriod(), expected);
      assert.equal(endToEndWidget().properties.period, expected, `endToEndPeriodSeconds ${endToEndPeriodSeconds}`);
    }
  });

  it("validates the end-to-end settings", () => {
    assert.deepEqual(validatePipelineDashboardArgs({ endToEndThresholdPercent: 120, endToEndPeriodSeconds: 90 }), [
      "endToEndThresholdPercent must be an integer from 1 to 100 (got 120).",
      "endToEndPeriodSeconds must be a multiple of 60 of at least 60 (got 90), e.g. 900.",
    ]);
  });
});
