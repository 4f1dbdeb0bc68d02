import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { imageTag } from "../../packages/traced-components/src/container-image";
import { checkFargateSize } from "../../packages/traced-components/src/fargate-sizes";
import {
  checkRollout,
  FARGATE_DEFAULTS,
  TracedFargateService,
  validateTracedFargateServiceArgs,
} from "../../packages/traced-components/src/traced-fargate-service";
import { SECRET_ARN, SECRET_READ_GRANTS, serviceIdentityArgs, TOPIC_ARN, tracedServiceArgs } from "./fixtures";
import {
  grantsOf,
  inlinePolicyOfRole,
  promiseOf,
  resourceNamed,
  onRegisterResource,
  resourcesOfType,
  settleAll,
} from "../../harness/mocks";

/** The collector config the package ships (found from the package, never the working directory). */
const PACKAGED_COLLECTOR_CONFIG = path.resolve(__dirname, "../../packages/traced-components/collector/config.yaml");

const REPO_URL = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api-repo-mock";
const baseArgs = serviceIdentityArgs("us2");

/** Records each resource's customTimeouts option (the mocks keep inputs and dependencies, not options). */
function captureCustomTimeouts(): Map<string, { create: string; update: string; delete: string }> {
  const out = new Map<string, { create: string; update: string; delete: string }>();
  onRegisterResource((req) => {
    const timeouts = req.getCustomtimeouts();
    if (timeouts) {
      out.set(req.getName(), {
        create: timeouts.getCreate(),
        update: timeouts.getUpdate(),
        delete: timeouts.getDelete(),
      });
    }
  });
  return out;
}

describe("Fargate task sizes", () => {
  it("accepts Fargate's pairs", () => {
    assert.deepEqual(checkFargateSize(256, 512), []);
    assert.deepEqual(checkFargateSize(1024, 8192), []);
    assert.deepEqual(checkFargateSize(16384, 122880), []);
  });

  it("rejects an unsupported CPU, listing the supported values", () => {
    assert.deepEqual(checkFargateSize(300, 512), [
      "Unsupported CPU: 300. The supported values for CPU are 256, 512, 1024, 2048, 4096, 8192, 16384.",
    ]);
  });

  it("rejects memory not allowed for the CPU, listing the allowed memory", () => {
    assert.deepEqual(checkFargateSize(256, 4096), [
      "Unsupported memory: 4096 MiB for 256 CPU units. The supported values for memory with 256 CPU are 512, 1024, 2048.",
    ]);
  });
});

describe("TracedFargateService validation", () => {
  it("accepts the defaults", () => {
    assert.deepEqual(validateTracedFargateServiceArgs(baseArgs), []);
  });

  it("finds the default collector config from any working directory (Pulumi may run the program elsewhere)", () => {
    const cwd = process.cwd();
    try {
      process.chdir(os.tmpdir());
      assert.deepEqual(validateTracedFargateServiceArgs(baseArgs), []);
    } finally {
      process.chdir(cwd);
    }
  });

  it("collects every problem and throws them together", () => {
    const args = tracedServiceArgs("us2");
    assert.throws(
      () =>
        new TracedFargateService("api", {
          ...args,
          cpu: 512,
          memory: 512,
          containerPort: 4317,
          collectorConfigPath: "missing/config.yaml",
        }),
      {
        message:
          'Invalid TracedFargateService "api":\n' +
          "  - Unsupported memory: 512 MiB for 512 CPU units. The supported values for memory with 512 CPU are " +
          "1024, 2048, 3072, 4096.\n" +
          "  - containerPort 4317 is used by the collector sidecar; use another, e.g. 8000.\n" +
          `  - collectorConfigPath "missing/config.yaml" does not exist (resolved from the project directory ` +
          `${process.cwd()}); pass an absolute path or one relative to the project directory.`,
      },
    );
    assert.equal(resourcesOfType("aws:ecs/service:Service").length, 0);
  });

  it("refuses an unknown NAT gateway strategy and an idle timeout the ALB does not accept, naming both", () => {
    assert.deepEqual(
      validateTracedFargateServiceArgs({ ...baseArgs, natGateways: "Many", loadBalancerIdleTimeoutSeconds: 0 }),
      [
        'natGateways must be one of Single, OnePerAz (got "Many").',
        "loadBalancerIdleTimeoutSeconds must be an integer from 1 to 4000 (got 0).",
      ],
    );
    assert.deepEqual(validateTracedFargateServiceArgs({ ...baseArgs, natGateways: "OnePerAz" }), []);
  });
});

describe("TracedFargateService", () => {
  let containers: any[];
  let timeouts: ReturnType<typeof captureCustomTimeouts>;
  const container = (name: string) => containers.find((c) => c.name === name);

  before(async () => {
    const args = tracedServiceArgs("us2");
    timeouts = captureCustomTimeouts();
    new TracedFargateService("api", {
      ...args,
      cpu: 512,
      memory: 1024,
      desiredCount: 3,
      logRetentionDays: 90,
      alarms: { topicArn: TOPIC_ARN },
    });
    await settleAll();
    containers = JSON.parse(
      resourceNamed("aws:ecs/taskDefinition:TaskDefinition", "api-task").inputs.containerDefinitions,
    );
  });

  it("runs an ARM64 Fargate task of the validated size with separate task and execution roles", () => {
    const task = resourceNamed("aws:ecs/taskDefinition:TaskDefinition", "api-task").inputs;
    assert.equal(task.cpu, "512");
    assert.equal(task.memory, "1024");
    assert.deepEqual(task.runtimePlatform, { cpuArchitecture: "ARM64", operatingSystemFamily: "LINUX" });
    assert.deepEqual(task.requiresCompatibilities, ["FARGATE"]);
    assert.equal(task.networkMode, "awsvpc");
    assert.equal(task.taskRoleArn, "arn:aws:iam:eu-west-1:123456789012:api-task-role-mock");
    assert.equal(task.executionRoleArn, "arn:aws:iam:eu-west-1:123456789012:api-execution-role-mock");
  });

  it("builds app/Dockerfile for exactly linux/arm64, tags it by its inputs' hash and runs it by digest", () => {
    const image = resourceNamed("docker-build:index:Image", "api-image").inputs;
    assert.deepEqual(image.context, { location: "." });
    assert.deepEqual(image.dockerfile, { location: "app/Dockerfile" });
    assert.deepEqual(image.platforms, ["linux/arm64"]);
    assert.deepEqual(image.exports, [{ registry: { ociMediaTypes: false } }]);
    assert.deepEqual(image.tags, [`${REPO_URL}:${imageTag(FARGATE_DEFAULTS.image)}`]);
    assert.equal(container("app").image, `${REPO_URL}@sha256:${"ab".repeat(32)}`);
    assert.equal(resourceNamed("aws:ecr/repository:Repository", "api-repo").inputs.imageTagMutability, "IMMUTABLE");
  });

  it("runs the app non-root on a read-only root filesystem, after the collector is healthy", () => {
    const app = container("app");
    assert.equal(app.user, "1000:1000");
    assert.equal(app.readonlyRootFilesystem, true);
    assert.deepEqual(app.dependsOn, [{ containerName: "otel-collector", condition: "HEALTHY" }]);
    assert.deepEqual(app.portMappings, [{ containerPort: 8000, protocol: "tcp" }]);
    assert.deepEqual(app.mountPoints, [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }]);
  });

  it("gives the app the contract's environment, with no secrets", () => {
    const env = Object.fromEntries(container("app").environment.map((e: any) => [e.name, e.value]));
    assert.deepEqual(env, {
      QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/orders-mock",
      PORT: "8000",
      HOST: "0.0.0.0",
      AWS_REGION: "eu-west-1",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4317",
      INCOMING_TRACE_CONTEXT: "new-trace-with-link",
      HTTP_KEEP_ALIVE_TIMEOUT_MS: "65000",
      OTEL_SERVICE_NAME: "onboarding-api",
      OTEL_RESOURCE_ATTRIBUTES:
        "service.namespace=customer-onboarding,service.version=1.2.3,deployment.environment.name=dev," +
        "cx.application.name=customer-onboarding,cx.subsystem.name=onboarding-api",
    });
    assert.equal(container("app").secrets, undefined);
  });

  it("runs the ADOT collector with the repo's config file, the key from Secrets Manager and a working health check", () => {
    const collector = container("otel-collector");
    assert.equal(collector.image, "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3");
    assert.equal(collector.essential, true);
    // aws-otel-collector v0.43.3 cmd/awscollector/Dockerfile: USERNAME=aoc, USER_UID=4317 (group too).
    assert.equal(collector.user, "4317:4317");
    assert.equal(collector.readonlyRootFilesystem, true);
    assert.deepEqual(collector.healthCheck.command, ["CMD", "/healthcheck"]);
    assert.deepEqual(collector.secrets, [{ name: "CORALOGIX_API_KEY", valueFrom: `${SECRET_ARN}:api_key::` }]);
    const env = Object.fromEntries(collector.environment.map((e: any) => [e.name, e.value]));
    assert.equal(env.AOT_CONFIG_CONTENT, fs.readFileSync(PACKAGED_COLLECTOR_CONFIG, "utf8"));
    assert.equal(env.CORALOGIX_DOMAIN, "us2.coralogix.com");
    assert.equal(env.CX_SUBSYSTEM_NAME, "onboarding-api");
    assert.ok(!("CORALOGIX_API_KEY" in env));
  });

  it("keeps the collector config free of secrets and wired to the health check the ECS check queries", () => {
    const config = fs.readFileSync(PACKAGED_COLLECTOR_CONFIG, "utf8");
    assert.match(config, /health_check:\n\s+endpoint: 127\.0\.0\.1:13133/);
    assert.match(config, /Authorization: Bearer \$\{env:CORALOGIX_API_KEY\}/);
    assert.match(config, /endpoint: ingress\.\$\{env:CORALOGIX_DOMAIN\}:443/);
    assert.match(config, /extensions: \[health_check\]/);
  });

  it("logs both containers to their own log groups with retention", () => {
    for (const [name, group] of [
      ["app", "api-app-logs-mock"],
      ["otel-collector", "api-collector-logs-mock"],
    ]) {
      assert.equal(container(name).logConfiguration.options["awslogs-group"], group);
    }
    assert.equal(resourceNamed("aws:cloudwatch/logGroup:LogGroup", "api-app-logs").inputs.retentionInDays, 90);
    assert.equal(resourceNamed("aws:cloudwatch/logGroup:LogGroup", "api-collector-logs").inputs.retentionInDays, 90);
  });

  it("has a task role that can only send to its queue, read its attributes for /readyz, and use its key", () => {
    // The exact policy: /readyz (app/src/publisher.ts) calls GetQueueAttributes on the queue, nothing else.
    const policies = resourcesOfType("aws:iam/rolePolicy:RolePolicy").filter((p) => p.name === "api-task-role-policy");
    assert.equal(policies.length, 1);
    assert.deepEqual(JSON.parse(policies[0].inputs.policy), {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Sid: "SendToQueue",
          Action: ["sqs:SendMessage", "sqs:GetQueueAttributes"],
          Resource: "arn:aws:sqs:eu-west-1:123456789012:orders-mock",
        },
        {
          Effect: "Allow",
          Sid: "EncryptForQueue",
          Action: ["kms:GenerateDataKey", "kms:Decrypt"],
          Resource: "arn:aws:kms:eu-west-1:123456789012:key/key-orders-key",
        },
      ],
    });
    assert.equal(policies[0].inputs.role, "api-task-role-mock");
  });

  it("has an execution role that only pulls its image, writes its logs and reads its secret", () => {
    assert.deepEqual(grantsOf(inlinePolicyOfRole("api-execution-role")), {
      EcrLogin: { effect: "Allow", actions: ["ecr:GetAuthorizationToken"], resources: ["*"] },
      PullOwnImage: {
        effect: "Allow",
        actions: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        resources: ["arn:aws:ecr:eu-west-1:123456789012:api-repo-mock"],
      },
      WriteOwnLogs: {
        effect: "Allow",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [
          "arn:aws:cloudwatch:eu-west-1:123456789012:api-app-logs-mock:*",
          "arn:aws:cloudwatch:eu-west-1:123456789012:api-collector-logs-mock:*",
        ],
      },
      ...SECRET_READ_GRANTS,
    });
    for (const role of ["api-execution-role", "api-task-role"]) {
      const trust = JSON.parse(resourceNamed("aws:iam/role:Role", role).inputs.assumeRolePolicy).Statement[0];
      assert.deepEqual(trust.Principal, { Service: "ecs-tasks.amazonaws.com" });
    }
  });

  it("runs the service in private subnets without public IPs, with a rolling-back circuit breaker", () => {
    const service = resourceNamed("aws:ecs/service:Service", "api-service");
    assert.deepEqual(service.inputs.networkConfiguration, {
      subnets: ["subnet-private-a", "subnet-private-b"],
      securityGroups: ["api-task-sg-id"],
      assignPublicIp: false,
    });
    assert.deepEqual(service.inputs.deploymentCircuitBreaker, { enable: true, rollback: true });
    assert.equal(service.inputs.desiredCount, 3);
    assert.equal(service.inputs.launchType, "FARGATE");
    assert.deepEqual(service.inputs.loadBalancers, [
      { targetGroupArn: "arn:aws:lb:eu-west-1:123456789012:api-tg-mock", containerName: "app", containerPort: 8000 },
    ]);
    assert.ok(service.dependencies.includes(resourceNamed("aws:lb/listener:Listener", "api-http").urn));
  });

  it("creates the task definition and the service after both roles' inline policies", () => {
    const execution = resourceNamed("aws:iam/rolePolicy:RolePolicy", "api-execution-role-policy").urn;
    const task = resourceNamed("aws:iam/rolePolicy:RolePolicy", "api-task-role-policy").urn;
    for (const [type, name] of [
      ["aws:ecs/taskDefinition:TaskDefinition", "api-task"],
      ["aws:ecs/service:Service", "api-service"],
    ]) {
      const deps = resourceNamed(type, name).dependencies;
      assert.ok(deps.includes(execution), `${name} depends on the execution role's policy`);
      assert.ok(deps.includes(task), `${name} depends on the task role's policy`);
    }
  });

  it("makes pulumi up wait for a steady state, within 30 minutes, keeping the rolling-back circuit breaker", () => {
    const service = resourceNamed("aws:ecs/service:Service", "api-service").inputs;
    assert.equal(service.waitForSteadyState, true);
    assert.deepEqual(service.deploymentCircuitBreaker, { enable: true, rollback: true });
    assert.deepEqual(timeouts.get("api-service"), { create: "30m", update: "30m", delete: "" });
  });

  it("fails the update when the circuit breaker rolled the service back to the previous task definition", async () => {
    const done = "arn:aws:ecs:eu-west-1:123456789012:task-definition/api:7";
    assert.equal(await (checkRollout(pulumi.output(done), pulumi.output(done)) as any).promise(), done);
    const rolledBack = checkRollout(pulumi.output(done), pulumi.output(done.replace(":7", ":8")));
    await assert.rejects((rolledBack as any).promise(), (error: Error) => {
      assert.ok(pulumi.RunError.isInstance(error), "a RunError: Pulumi prints it without a stack trace");
      assert.match(
        error.message,
        /^The ECS deployment of \S+task-definition\/api:8 failed and was rolled back: the service still runs \S+api:7\./,
      );
      return true;
    });
  });

  it("puts a public ALB that drops invalid headers in front, health-checking /healthz", () => {
    const alb = resourceNamed("aws:lb/loadBalancer:LoadBalancer", "api-alb").inputs;
    assert.equal(alb.internal, false);
    assert.equal(alb.idleTimeout, 60); // the app keeps idle connections 5 s longer (HTTP_KEEP_ALIVE_TIMEOUT_MS)
    assert.equal(alb.dropInvalidHeaderFields, true);
    assert.deepEqual(alb.subnets, ["subnet-public-a", "subnet-public-b"]);
    const tg = resourceNamed("aws:lb/targetGroup:TargetGroup", "api-tg").inputs;
    assert.equal(tg.targetType, "ip");
    assert.equal(tg.healthCheck.path, "/healthz");
    const cluster = resourceNamed("aws:ecs/cluster:Cluster", "api-cluster").inputs;
    assert.deepEqual(cluster.settings, [{ name: "containerInsights", value: "enabled" }]);
  });

  it("lets the tasks accept traffic only from the load balancer", () => {
    const ingress = resourcesOfType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    const toTasks = ingress.filter((r) => r.inputs.securityGroupId === "api-task-sg-id");
    assert.deepEqual(
      toTasks.map((r) => [r.inputs.referencedSecurityGroupId, r.inputs.fromPort, r.inputs.cidrIpv4]),
      [["api-alb-sg-id", 8000, undefined]],
    );
  });

  it("alarms on target 5xx and unhealthy targets", () => {
    for (const name of ["api-5xx", "api-unhealthy-targets"]) {
      const alarm = resourceNamed("aws:cloudwatch/metricAlarm:MetricAlarm", name).inputs;
      assert.equal(alarm.namespace, "AWS/ApplicationELB");
      assert.deepEqual(alarm.alarmActions, [TOPIC_ARN]);
    }
  });

  it("serves HTTPS on its domain, redirects HTTP there, and opens 443 only then", async () => {
    const args = tracedServiceArgs("us2");
    const certificateArn = "arn:aws:acm:eu-west-1:123456789012:certificate/abc";
    const api = new TracedFargateService("tls", { ...args, domain: { domainName: "api.acme.io", certificateArn } });
    await settleAll();
    const https = resourceNamed("aws:lb/listener:Listener", "tls-https").inputs;
    assert.equal(https.certificateArn, certificateArn);
    assert.equal(https.protocol, "HTTPS");
    const http = resourceNamed("aws:lb/listener:Listener", "tls-http").inputs;
    assert.deepEqual(http.defaultActions[0].redirect, { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" });
    // The URL is the certificate's name, never the load balancer's (no certificate can match *.elb.amazonaws.com).
    assert.equal(await promiseOf(api.url), "https://api.acme.io");
    // Plain outputs (no ApiDomain instance), so another language's SDK reads them too.
    assert.equal(await promiseOf(api.domainName!), "api.acme.io");
    assert.equal(await promiseOf(api.certificateArn!), certificateArn);
    const ports = resourcesOfType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
      .filter((r) => r.name.startsWith("tls-alb-in-"))
      .map((r) => r.inputs.fromPort);
    assert.deepEqual(ports, [80, 443]);
  });

  it("serves plain HTTP on the load balancer's name without a domain", async () => {
    const api = new TracedFargateService("plain", tracedServiceArgs("us2"));
    await settleAll();
    assert.match(await promiseOf(api.url), /^http:\/\/plain-alb-mock\.eu-west-1\.elb\.amazonaws\.com$/);
    assert.equal(api.domainName, undefined);
    assert.equal(api.certificateArn, undefined);
    assert.deepEqual(
      resourcesOfType("aws:lb/listener:Listener").map((l) => [l.name, l.inputs.protocol]),
      [["plain-http", "HTTP"]],
    );
  });

  it("rejects an invalid domain with the component's other problems", () => {
    const args = tracedServiceArgs("us2");
    assert.throws(() => new TracedFargateService("bad", { ...args, domain: { domainName: "API.example.com." } }), {
      message:
        'Invalid TracedFargateService "bad":\n' +
        "  - domain.domainName must be a fully qualified domain name in lower case without a trailing dot or " +
        'wildcard, e.g. "api.example.com" (got "API.example.com.").\n' +
        '  - domain.domainName "API.example.com." needs hostedZoneId (a DNS-validated certificate is issued in ' +
        "that zone) or certificateArn (an existing certificate for that name), e.g. hostedZoneId: " +
        '"Z0123456789ABCDEFGHIJ".',
    });
  });
});

describe("TracedFargateService on Fargate Spot", () => {
  before(async () => {
    new TracedFargateService("spot", { ...tracedServiceArgs("us2"), fargateSpot: true });
    await settleAll();
  });

  it("associates FARGATE and FARGATE_SPOT with the cluster, Spot by default", () => {
    const providers = resourceNamed(
      "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
      "spot-capacity-providers",
    );
    assert.deepEqual(providers.inputs, {
      clusterName: "spot-cluster-mock",
      capacityProviders: ["FARGATE", "FARGATE_SPOT"],
      defaultCapacityProviderStrategies: [{ capacityProvider: "FARGATE_SPOT", weight: 1 }],
    });
  });

  it("runs the service on FARGATE_SPOT (no launch type), after the providers are associated, redeploying on change", () => {
    const service = resourceNamed("aws:ecs/service:Service", "spot-service");
    assert.deepEqual(service.inputs.capacityProviderStrategies, [{ capacityProvider: "FARGATE_SPOT", weight: 1 }]);
    assert.equal(service.inputs.launchType, undefined);
    assert.equal(service.inputs.forceNewDeployment, true);
    const providers = resourceNamed(
      "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
      "spot-capacity-providers",
    );
    assert.ok(service.dependencies.includes(providers.urn), "the service waits for the capacity providers");
    // Still ARM64: FARGATE_SPOT runs ARM64 Linux tasks on platform version 1.4.0+ (ECS API reference).
    const task = resourceNamed("aws:ecs/taskDefinition:TaskDefinition", "spot-task");
    assert.equal(task.inputs.runtimePlatform.cpuArchitecture, "ARM64");
  });

  it("keeps the on-demand launch type and no capacity providers by default", async () => {
    new TracedFargateService("ondemand", tracedServiceArgs("us2"));
    await settleAll();
    const service = resourceNamed("aws:ecs/service:Service", "ondemand-service");
    assert.equal(service.inputs.launchType, "FARGATE");
    assert.equal(service.inputs.capacityProviderStrategies, undefined);
    assert.deepEqual(resourcesOfType("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders"), []);
  });
});

describe("TracedFargateService keep-alive follows the ALB idle timeout", () => {
  it("loadBalancerIdleTimeoutSeconds 120 gives the app HTTP_KEEP_ALIVE_TIMEOUT_MS 125000", async () => {
    new TracedFargateService("edge", { ...tracedServiceArgs("us2"), loadBalancerIdleTimeoutSeconds: 120 });
    await settleAll();
    assert.equal(resourceNamed("aws:lb/loadBalancer:LoadBalancer", "edge-alb").inputs.idleTimeout, 120);
    const containers = JSON.parse(
      resourceNamed("aws:ecs/taskDefinition:TaskDefinition", "edge-task").inputs.containerDefinitions,
    );
    const app = containers.find((c: { name: string }) => c.name === "app");
    const env = Object.fromEntries(app.environment.map((e: { name: string; value: string }) => [e.name, e.value]));
    assert.equal(env.HTTP_KEEP_ALIVE_TIMEOUT_MS, "125000");
    assert.equal(env.INCOMING_TRACE_CONTEXT, "new-trace-with-link");
  });
});
