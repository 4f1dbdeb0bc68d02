/**
 * The whole stack program (infra/index.ts) under mocks, in the shared modes of harness/stack-modes.ts: Pulumi.dev.yaml
 * in preview and update mode, with every option, and Pulumi.prod.yaml; plus the runs that must fail.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { plaintextOccurrences, secretOccurrences, type RecordedResource } from "../../harness/mocks";
import {
  PROJECT_ROOT,
  runStackProgram,
  STACK_RUN_TEST_TIMEOUT_MS,
  type StackRun,
  StackRunError,
  TEST_API_KEY,
  UNKNOWN_OUTPUT,
} from "../../harness/run-program";
import { EVERY_OPTION_CONFIG, PROD_OPERATOR_CONFIG, STACK_MODES, stackRun } from "../../harness/stack-modes";

/** Each image build's context and Dockerfile as the docker-build provider receives them. */
function imageBuilds(resources: readonly RecordedResource[]): { name: string; context: string; dockerfile: string }[] {
  return resources
    .filter((r) => r.type === "docker-build:index:Image")
    .map((r) => ({ name: r.name, context: r.inputs.context.location, dockerfile: r.inputs.dockerfile.location }));
}

const COMPONENT_TYPES = [
  "traced:aws:AlarmTopic",
  "traced:aws:TelemetrySecret",
  "traced:aws:TracedQueue",
  "traced:aws:TracedContainerLambda",
  "traced:aws:TracedFargateService",
  "traced:aws:CoralogixMetricStream",
  "traced:aws:PipelineDashboard",
];

for (const preview of [true, false]) {
  describe(`stack program under mocks (${preview ? "preview" : "update"})`, function () {
    this.timeout(STACK_RUN_TEST_TIMEOUT_MS);
    let run: StackRun;
    const ofType = (type: string): RecordedResource[] => run.resources.filter((r) => r.type === type);

    before(async () => {
      run = await stackRun(preview ? "devPreview" : "devUpdate");
    });

    it("exports the API URL, queue/DLQ/key/secret/function identifiers, ECS cluster and service, dashboard URL", () => {
      assert.deepEqual(Object.keys(run.outputs).sort(), [
        "apiUrl",
        "canaryName",
        "clusterName",
        "dashboardUrl",
        "dlqUrl",
        "functionArn",
        "functionName",
        "queueArn",
        "queueKeyArn",
        "queueUrl",
        "secretArn",
        "serviceName",
        "tableName",
      ]);
      assert.match(String(run.outputs.apiUrl), /^http:\/\/onboarding-api-alb-mock\..+\.elb\.amazonaws\.com$/);
      assert.match(String(run.outputs.queueUrl), /^https:\/\/sqs\..+\/onboarding-mock$/);
      assert.match(String(run.outputs.dlqUrl), /^https:\/\/sqs\..+\/onboarding-dlq-mock$/);
      assert.equal(run.outputs.functionName, "onboarding-consumer-mock");
      assert.equal(run.outputs.canaryName, "", "no canary unless canary: true");
      assert.match(String(run.outputs.dashboardUrl), /#dashboards\/dashboard\/onboarding-dev-[0-9a-f]{8}$/);
      // Each output is the ARN/name of the resource it names.
      const state = (type: string, name: string) =>
        run.resources.find((r) => r.type === type && r.name === name)!.state;
      assert.equal(run.outputs.queueArn, state("aws:sqs/queue:Queue", "onboarding").arn);
      assert.equal(run.outputs.queueKeyArn, state("aws:kms/key:Key", "onboarding-key").arn);
      assert.equal(run.outputs.secretArn, state("aws:secretsmanager/secret:Secret", "coralogix-key").arn);
      assert.equal(run.outputs.functionArn, state("aws:lambda/function:Function", "onboarding-consumer").arn);
      assert.equal(run.outputs.clusterName, state("aws:ecs/cluster:Cluster", "onboarding-api-cluster").name);
      assert.equal(run.outputs.serviceName, state("aws:ecs/service:Service", "onboarding-api-service").name);
    });

    it("runs where the language host runs it: the project root, with the project's tsconfig", () => {
      assert.equal(run.location.pwd, PROJECT_ROOT);
      assert.equal(run.location.tsconfig, path.join(PROJECT_ROOT, "tsconfig.json"));
    });

    it("gives the Docker provider a build context and Dockerfile that exist from its working directory", () => {
      // The engine starts provider plugins in the program's pwd (getPwdMain), and the provider resolves both paths
      // from its own working directory (pulumi-docker provider/provider.go: `os.Stat(build.Dockerfile)`).
      const builds = imageBuilds(run.resources);
      assert.ok(builds.length >= 2, "expected the API and Lambda images");
      for (const { name, context, dockerfile } of builds) {
        const contextDir = path.resolve(run.location.pwd, context);
        assert.ok(fs.statSync(contextDir).isDirectory(), `${name}: context ${context} is not a directory`);
        assert.ok(
          fs.existsSync(path.resolve(run.location.pwd, dockerfile)),
          `${name}: Dockerfile ${dockerfile} not found`,
        );
      }
    });

    it("reports package.json's version as service.version (read from the project root, not the working directory)", () => {
      const { version } = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8"));
      const [fn] = ofType("aws:lambda/function:Function");
      assert.match(
        fn.inputs.environment.variables.OTEL_RESOURCE_ATTRIBUTES,
        new RegExp(`(^|,)service\\.version=${encodeURIComponent(version).replace(/\./g, "\\.")}(,|$)`),
      );
    });

    it("builds every component once", () => {
      for (const type of COMPONENT_TYPES) assert.equal(ofType(type).length, 1, type);
    });

    it("parents every cloud resource to one of the components", () => {
      const componentUrns = new Set(run.resources.filter((r) => r.type.startsWith("traced:")).map((r) => r.urn));
      const orphans = run.resources
        .filter((r) => !r.type.startsWith("traced:"))
        .filter((r) => !componentUrns.has(r.parent))
        .map((r) => `${r.type} ${r.name}`);
      assert.deepEqual(orphans, []);
    });

    it("never sends the Coralogix key in plaintext; it is only the secret value of the SecretVersion", () => {
      assert.deepEqual(plaintextOccurrences(TEST_API_KEY, run.resources), []);
      assert.deepEqual(secretOccurrences(TEST_API_KEY, run.resources), [
        "aws:secretsmanager/secretVersion:SecretVersion coralogix-key-value",
      ]);
    });

    it("wires every alarm to the one alarm topic", () => {
      const [topic] = ofType("aws:sns/topic:Topic");
      const alarms = ofType("aws:cloudwatch/metricAlarm:MetricAlarm");
      assert.deepEqual(alarms.map((a) => a.name).sort(), [
        "onboarding-api-5xx",
        "onboarding-api-unhealthy-targets",
        "onboarding-consumer-errors",
        "onboarding-consumer-throttles",
        "onboarding-dlq-depth",
        "onboarding-end-to-end",
        "onboarding-oldest-message-age",
      ]);
      for (const alarm of alarms) {
        assert.deepEqual(alarm.inputs.alarmActions, [topic.state.arn], alarm.name);
        assert.deepEqual(alarm.inputs.okActions, [topic.state.arn], alarm.name);
      }
    });

    it("evaluates the component alarms on one-minute data, 3 of 5 breaching (the DLQ on its first message)", () => {
      const evaluation = Object.fromEntries(
        ofType("aws:cloudwatch/metricAlarm:MetricAlarm")
          .filter((a) => a.name !== "onboarding-end-to-end")
          .map((a) => {
            const { period, evaluationPeriods, datapointsToAlarm, treatMissingData } = a.inputs;
            return [a.name, [period, evaluationPeriods, datapointsToAlarm, treatMissingData]];
          }),
      );
      const threeOfFive = [60, 5, 3, "notBreaching"];
      assert.deepEqual(evaluation, {
        "onboarding-api-5xx": threeOfFive,
        "onboarding-api-unhealthy-targets": threeOfFive,
        "onboarding-consumer-errors": threeOfFive,
        "onboarding-consumer-throttles": threeOfFive,
        "onboarding-oldest-message-age": threeOfFive,
        "onboarding-dlq-depth": [60, 1, 1, "notBreaching"],
      });
    });

    it("measures the end-to-end ratio on the work queue, not the DLQ", () => {
      const [alarm] = ofType("aws:cloudwatch/metricAlarm:MetricAlarm").filter(
        (a) => a.name === "onboarding-end-to-end",
      );
      const queues = alarm.inputs.metricQueries
        .filter((q: any) => q.metric)
        .map((q: any) => [q.id, q.metric.metricName, q.metric.dimensions.QueueName]);
      assert.deepEqual(queues, [
        ["sent", "NumberOfMessagesSent", "onboarding-mock"],
        ["processed", "NumberOfMessagesDeleted", "onboarding-mock"],
      ]);
    });

    it("subscribes no email when alarmEmail is not set", () => {
      assert.deepEqual(ofType("aws:sns/topicSubscription:TopicSubscription"), []);
    });

    it("sizes the resources from Pulumi.dev.yaml", () => {
      const [task] = ofType("aws:ecs/taskDefinition:TaskDefinition");
      assert.equal(task.inputs.cpu, "256");
      assert.equal(task.inputs.memory, "512");
      const [service] = ofType("aws:ecs/service:Service");
      assert.equal(service.inputs.desiredCount, 1);
      const [mapping] = ofType("aws:lambda/eventSourceMapping:EventSourceMapping");
      assert.deepEqual(mapping.inputs.scalingConfig, { maximumConcurrency: 2 });
      for (const group of ofType("aws:cloudwatch/logGroup:LogGroup")) assert.equal(group.inputs.retentionInDays, 7);
      const [queue] = run.resources.filter((r) => r.type === "aws:sqs/queue:Queue" && r.name === "onboarding");
      assert.equal(queue.inputs.visibilityTimeoutSeconds, 6 * 30 + 1);
    });
  });
}

describe("stack program compiled the way the Pulumi Node language host compiles it", function () {
  this.timeout(STACK_RUN_TEST_TIMEOUT_MS);

  it("type-checks and loads under the host's ts-node with the project's typescript and tsconfig.json", async () => {
    const run = await stackRun("devPreview");
    assert.equal(run.location.tsconfig, path.join(PROJECT_ROOT, "tsconfig.json"));
    assert.ok(run.resources.some((r) => r.type === "aws:lambda/function:Function"));
  });
});

describe("stack program, preview vs update", function () {
  this.timeout(STACK_RUN_TEST_TIMEOUT_MS);
  it("registers the same resources when every computed output is unknown (nothing is created inside .apply)", async () => {
    const key = (r: RecordedResource) => `${r.type} ${r.name}`;
    const preview = await stackRun("devPreviewNew");
    const update = await stackRun("devUpdate");
    assert.deepEqual(preview.resources.map(key).sort(), update.resources.map(key).sort());
    // The run really was engine-like: what AWS computes is not known yet, so no .apply on it ran.
    assert.equal(preview.outputs.queueUrl, UNKNOWN_OUTPUT);
    assert.equal(preview.outputs.apiUrl, UNKNOWN_OUTPUT);
  });
});

describe("stack program with Pulumi.prod.yaml", function () {
  this.timeout(STACK_RUN_TEST_TIMEOUT_MS);

  it("runs more tasks, serves HTTPS on its domain, alerts the operator's on-call address and keeps logs longer", async () => {
    const run = await stackRun("prodPreview");
    const one = (type: string) => run.resources.filter((r) => r.type === type)[0];
    assert.equal(one("aws:lambda/function:Function").inputs.reservedConcurrentExecutions, undefined);
    assert.equal(one("aws:ecs/service:Service").inputs.desiredCount, 4);
    assert.equal(one("aws:ecs/taskDefinition:TaskDefinition").inputs.cpu, "1024");
    assert.equal(one("awsx:ec2:Vpc").inputs.natGateways.strategy, "OnePerAz");
    assert.equal(one("aws:cloudwatch/logGroup:LogGroup").inputs.retentionInDays, 365);
    assert.equal(one("aws:sns/topicSubscription:TopicSubscription").inputs.endpoint, PROD_OPERATOR_CONFIG.alarmEmail);
    const https = run.resources.find((r) => r.type === "aws:lb/listener:Listener" && r.inputs.protocol === "HTTPS");
    const validation = one("aws:acm/certificateValidation:CertificateValidation");
    assert.equal(https?.inputs.certificateArn, validation.state.certificateArn);
    assert.equal(run.outputs.apiUrl, `https://${PROD_OPERATOR_CONFIG.domainName}`);
    assert.deepEqual(plaintextOccurrences(TEST_API_KEY, run.resources), []);
  });

  it("reserves Lambda concurrency when set and the account's quota (mocked 1000) allows it", async () => {
    const run = await stackRun("prodReservedUpdate");
    const fn = run.resources.find((r) => r.type === "aws:lambda/function:Function")!;
    assert.equal(fn.inputs.reservedConcurrentExecutions, 50);
  });

  it("fails before creating the function when the account's quota is too small, naming the config key", async () => {
    // The component test checks the refusal itself; this one that the stack names its config key and runs the rest.
    const failed = await runStackProgram({
      ...STACK_MODES.prodReservedUpdate,
      preview: true,
      serviceQuotas: { "lambda/L-B99A9384": 10 },
    }).then(
      () => assert.fail("the program must fail"),
      (error: unknown) => error as StackRunError,
    );
    assert.ok(failed instanceof StackRunError, String(failed));
    assert.match(
      failed.message,
      /traced-onboarding:lambdaReservedConcurrency \(50\) cannot be reserved: this account's Lambda "Concurrent executions" quota \(Service Quotas lambda L-B99A9384\) is 10/,
    );
    assert.equal(failed.resources.filter((r) => r.type === "aws:lambda/function:Function").length, 0);
    assert.ok(
      failed.resources.some((r) => r.type === "aws:ecs/service:Service"),
      "the rest of the program ran",
    );
  });
});

describe("stack program with invalid config", function () {
  this.timeout(STACK_RUN_TEST_TIMEOUT_MS);
  // Two unrelated mistakes in one run: the program validates all of its config before creating anything, so one
  // run shows both messages (each rule is checked on its own in config.test.ts).
  let failed: StackRunError;

  before(async () => {
    failed = await runStackProgram({
      preview: false,
      config: {
        metricStreamFormat: "json",
        certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab",
      },
    }).then(
      () => assert.fail("the program must fail"),
      (error: unknown) => error as StackRunError,
    );
  });

  it("fails before creating anything", () => {
    assert.ok(failed instanceof StackRunError, String(failed));
    assert.deepEqual(failed.resources, [], "nothing is created");
  });

  it("metricStreamFormat json: Coralogix no longer ingests json (CloudWatch_Metrics_JSON was removed)", () => {
    assert.ok(failed.message.includes("ConfigError: Invalid stack config:\n"), failed.message);
    assert.ok(
      failed.message.includes(
        "\n  - traced-onboarding:metricStreamFormat json is no longer ingested by " +
          "Coralogix (it removed the CloudWatch_Metrics_JSON integration type); allowed: opentelemetry0.7; e.g. " +
          "pulumi config set metricStreamFormat opentelemetry0.7\n",
      ),
      failed.message,
    );
  });

  it("certificateArn without domainName, naming both keys", () => {
    assert.match(
      failed.message,
      /traced-onboarding:certificateArn needs traced-onboarding:domainName: .* e\.g\. pulumi config set domainName api\.example\.com/,
    );
  });
});

describe("stack program with every option (domain, canary, Fargate Spot)", function () {
  this.timeout(STACK_RUN_TEST_TIMEOUT_MS);
  const ZONE = EVERY_OPTION_CONFIG.hostedZoneId;
  let run: StackRun;
  const named = (type: string, name: string) => run.resources.find((r) => r.type === type && r.name === name)!;

  before(async () => {
    run = await stackRun("everyOptionUpdate");
  });

  it("registers the same resources in a preview with unknown outputs as in an update", async () => {
    const key = (r: RecordedResource) => `${r.type} ${r.name}`;
    const preview = await stackRun("everyOptionPreviewNew");
    assert.deepEqual(preview.resources.map(key).sort(), run.resources.map(key).sort());
  });

  it("exports https://<domainName> as apiUrl", () => {
    assert.equal(run.outputs.apiUrl, "https://api.acme.io");
  });

  it("issues a DNS-validated certificate in the zone and aliases the name to the load balancer", () => {
    assert.deepEqual(named("aws:acm/certificate:Certificate", "onboarding-api-domain-certificate").inputs, {
      domainName: "api.acme.io",
      validationMethod: "DNS",
    });
    const validationRecord = named("aws:route53/record:Record", "onboarding-api-domain-validation");
    assert.equal(validationRecord.inputs.zoneId, ZONE);
    assert.equal(validationRecord.inputs.type, "CNAME");
    const alias = named("aws:route53/record:Record", "onboarding-api-domain-alias").inputs;
    assert.deepEqual([alias.zoneId, alias.name, alias.type], [ZONE, "api.acme.io", "A"]);
    assert.equal(alias.aliases[0].name, named("aws:lb/loadBalancer:LoadBalancer", "onboarding-api-alb").state.dnsName);
  });

  it("creates the HTTPS listener after the certificate validation, and redirects HTTP to it", () => {
    const validation = named("aws:acm/certificateValidation:CertificateValidation", "onboarding-api-domain-validation");
    const https = named("aws:lb/listener:Listener", "onboarding-api-https");
    assert.ok(https.dependencies.includes(validation.urn));
    assert.equal(https.inputs.certificateArn, validation.state.certificateArn);
    assert.equal(named("aws:lb/listener:Listener", "onboarding-api-http").inputs.defaultActions[0].type, "redirect");
  });

  it("runs the canary against apiUrl, alarms on its success to the alarm topic, and exports its name", () => {
    const [canary] = run.resources.filter((r) => r.type === "aws:synthetics/canary:Canary");
    assert.equal(canary.inputs.name, "onboarding-dev");
    assert.deepEqual(canary.inputs.runConfig.environmentVariables, { API_URL: "https://api.acme.io" });
    assert.deepEqual(canary.inputs.schedule, { expression: "rate(5 minutes)" });
    assert.equal(run.outputs.canaryName, "onboarding-dev");
    const [topic] = run.resources.filter((r) => r.type === "aws:sns/topic:Topic");
    const alarm = run.resources.find((r) => r.name === "onboarding-canary-success")!;
    assert.deepEqual(alarm.inputs.alarmActions, [topic.state.arn]);
    assert.deepEqual(alarm.inputs.dimensions, { CanaryName: "onboarding-dev" });
  });

  it("runs the API on FARGATE_SPOT", () => {
    const service = run.resources.find((r) => r.type === "aws:ecs/service:Service")!;
    assert.deepEqual(service.inputs.capacityProviderStrategies, [{ capacityProvider: "FARGATE_SPOT", weight: 1 }]);
    assert.equal(service.inputs.launchType, undefined);
  });
});
