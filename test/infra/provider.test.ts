// The package as a multi-language Pulumi plugin, without the CLI: the schema `pulumi package add` would generate SDKs
// from (ComponentProvider.getSchema(), @pulumi/pulumi provider/experimental/provider.js, which analyzes the package's
// TypeScript from its package.json `exports` and tsconfig.json), and each component constructed the way the plugin's
// gRPC Construct does it (ComponentProvider.construct) under the recording mocks.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { installMocks, promiseOf, recorded, settleAll } from "../../harness/mocks";
import { PROVIDER_NAME } from "../../packages/traced-components/src/provider-options";
import { packageSchema, provider, type Schema, type SchemaProperty } from "./package-schema";

const PACKAGE = path.resolve(__dirname, "../../packages/traced-components");
const TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:alarms";
const SECRET = {
  arn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:coralogix-AbCdEf",
  keyArn: "arn:aws:kms:eu-west-1:123456789012:key/secret-key",
};
/** What both compute components require: where telemetry goes, how the service names itself, and its queue. */
const SERVICE_REQUIRED = [
  "applicationName",
  "coralogixDomain",
  "deploymentEnvironment",
  "queue",
  "secret",
  "serviceVersion",
];
/** The inputs both compute components share (TracedServiceArgs), as the schema types them. */
const SERVICE_INPUTS = {
  queue: "#/types/traced:index:QueueRef",
  table: "#/types/traced:index:TableRef",
  secret: "#/types/traced:index:TelemetrySecretRef",
  alarms: "#/types/traced:index:AlarmsArgs",
  image: "#/types/traced:index:PartialImageBuildArgs",
  imageUri: "string",
  applicationName: "string",
  logRetentionDays: "number",
};

/** The components the plugin hosts, and what the schema must say about each. */
const EXPECTED: Record<string, { required: string[]; outputs: string[]; inputs: Record<string, string> }> = {
  TracedQueue: {
    required: [],
    outputs: ["url", "arn", "name", "keyArn", "deadLetterUrl", "deadLetterArn", "deadLetterName", "queue"],
    inputs: {
      consumer: "#/types/traced:index:QueueConsumer",
      deadLetter: "#/types/traced:index:DeadLetterArgs",
      alarms: "#/types/traced:index:QueueAlarmsArgs",
      messageRetentionSeconds: "number",
    },
  },
  TelemetrySecret: { required: ["apiKey"], outputs: ["arn", "keyArn", "secret", "key"], inputs: { apiKey: "string" } },
  CoralogixMetricStream: {
    required: ["applicationName", "coralogixDomain", "secret"],
    outputs: ["deliveryStreamArn", "metricStreamName", "metricStream"],
    inputs: { secret: "#/types/traced:index:TelemetrySecretRef", namespaces: "array", format: "string" },
  },
  AlarmTopic: { required: [], outputs: ["topicArn", "topic", "key"], inputs: { email: "string" } },
  OnboardingTable: {
    required: [],
    outputs: ["name", "arn", "keyArn", "table"],
    inputs: { deletionProtection: "boolean" },
  },
  TracedContainerLambda: {
    required: SERVICE_REQUIRED,
    outputs: [
      "functionName",
      "functionArn",
      "imageUri",
      "function",
      "role",
      "eventSourceMapping",
      "logGroup",
      "alarms",
    ],
    inputs: { ...SERVICE_INPUTS, timeoutSeconds: "number", reservedConcurrency: "number" },
  },
  TracedFargateService: {
    required: SERVICE_REQUIRED,
    outputs: ["url", "domainName", "certificateArn", "clusterName", "serviceName", "loadBalancer", "service", "alarms"],
    inputs: {
      ...SERVICE_INPUTS,
      vpc: "#/types/traced:index:ExistingVpcArgs",
      cluster: "#/types/traced:index:ExistingClusterArgs",
      domain: "#/types/traced:index:ApiDomainArgs",
      natGateways: "string",
      loadBalancerIdleTimeoutSeconds: "number",
      fargateSpot: "boolean",
    },
  },
};

describe("the package as a Pulumi plugin (ComponentProvider, no CLI)", function () {
  // The analyzer type-checks the package with @pulumi/aws's declarations: tens of seconds on a loaded runner.
  this.timeout(240_000);
  let schema: Schema;

  before(async () => {
    schema = await packageSchema();
  });

  it("is the package `traced` at the package.json version", () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(PACKAGE, "package.json"), "utf8"));
    assert.equal(schema.name, PROVIDER_NAME);
    assert.equal(schema.version, manifest.version);
  });

  it("lists exactly the hosted components, each documented", () => {
    assert.deepEqual(
      Object.keys(schema.resources).sort(),
      Object.keys(EXPECTED)
        .map((name) => `traced:index:${name}`)
        .sort(),
    );
    for (const [token, resource] of Object.entries(schema.resources)) {
      assert.equal(resource.isComponent, true, token);
      assert.ok(resource.description && resource.description.length > 20, `${token} has a description`);
    }
  });

  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(`${name}: typed, documented inputs and outputs`, () => {
      const resource = schema.resources[`traced:index:${name}`]!;
      const inputs = resource.inputProperties ?? {};
      for (const [input, type] of Object.entries(expected.inputs)) {
        assert.equal(inputs[input]?.type ?? inputs[input]?.$ref, type, `${name}.${input}`);
      }
      for (const [input, property] of Object.entries(inputs)) {
        assert.ok(property.description, `${name}.${input} is documented`);
      }
      assert.deepEqual([...(resource.requiredInputs ?? [])].sort(), expected.required);
      for (const output of expected.outputs) assert.ok(resource.properties?.[output], `${name} outputs ${output}`);
    });
  }

  it("defines every referenced object type with documented properties", () => {
    const refs = new Set<string>();
    const collect = (property: SchemaProperty | undefined) => {
      if (property?.$ref?.startsWith("#/types/")) refs.add(property.$ref.slice("#/types/".length));
      if (property?.items) collect(property.items);
    };
    for (const resource of Object.values(schema.resources))
      for (const property of Object.values(resource.inputProperties ?? {})) collect(property);
    assert.ok(refs.size >= 4);
    for (const ref of refs) {
      const type = schema.types[ref];
      assert.ok(type?.properties, `${ref} is defined`);
      for (const [field, property] of Object.entries(type.properties))
        assert.ok(property.description, `${ref}.${field} is documented`);
    }
  });

  it("starts the plugin from package.json `main`: componentProviderHost over the same options", () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(PACKAGE, "package.json"), "utf8"));
    assert.equal(manifest.main, "provider.ts");
    assert.equal(
      manifest.exports["."],
      "./src/index.ts",
      "TypeScript users (and the analyzer) start from src/index.ts",
    );
    const entry = fs.readFileSync(path.join(PACKAGE, manifest.main), "utf8");
    assert.match(entry, /componentProviderHost\(providerOptions\)/);
    assert.deepEqual(parse(fs.readFileSync(path.join(PACKAGE, "PulumiPlugin.yaml"), "utf8")), { runtime: "nodejs" });
  });

  describe("construct, as the plugin's Construct RPC calls it", () => {
    beforeEach(() => installMocks());

    const ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
    /** What both compute components are constructed from: a queue and a table by ARN, as plain data. */
    const SERVICE = {
      coralogixDomain: "eu2",
      applicationName: "orders",
      serviceVersion: "1.0.0",
      deploymentEnvironment: "dev",
      secret: SECRET,
      queue: {
        arn: "arn:aws:sqs:eu-west-1:123456789012:orders",
        url: "https://sqs.eu-west-1.amazonaws.com/123456789012/orders",
        keyArn: "arn:aws:kms:eu-west-1:123456789012:key/orders-key",
      },
      table: {
        name: "orders",
        arn: "arn:aws:dynamodb:eu-west-1:123456789012:table/orders",
        keyArn: "arn:aws:kms:eu-west-1:123456789012:key/orders-table-key",
      },
      alarms: { topicArn: TOPIC_ARN },
    };
    /** What each component is constructed from: plain data, as another language's SDK would send it. */
    const INPUTS: Record<string, pulumi.Inputs> = {
      TracedQueue: {
        consumer: { timeoutSeconds: 30, batchingWindowSeconds: 1 },
        deadLetter: { maxReceiveCount: 3 },
        alarms: { topicArn: TOPIC_ARN },
      },
      TelemetrySecret: { apiKey: pulumi.secret("cxtp_provider_test_key") },
      CoralogixMetricStream: { coralogixDomain: "eu2", secret: SECRET, applicationName: "orders" },
      AlarmTopic: { email: "oncall@acme.io" },
      OnboardingTable: { deletionProtection: true },
      TracedContainerLambda: { ...SERVICE, imageUri: `${ECR}/consumer@sha256:${"ab".repeat(32)}` },
      TracedFargateService: {
        ...SERVICE,
        imageUri: `${ECR}/api@sha256:${"cd".repeat(32)}`,
        natGateways: "OnePerAz",
        loadBalancerIdleTimeoutSeconds: 120,
        domain: { domainName: "api.acme.io", certificateArn: `arn:aws:acm:eu-west-1:123456789012:certificate/abc` },
      },
    };

    for (const name of Object.keys(EXPECTED)) {
      it(`${name}: registers the component (same type token as from TypeScript) and its children`, async () => {
        const result = await provider.construct(name.toLowerCase(), `traced:index:${name}`, INPUTS[name]!, {});
        const urn = await promiseOf(result.urn as pulumi.Output<string>);
        // The class registers its own token, so a stack moving from the TypeScript import to the plugin keeps its
        // URNs (test/infra/urns.test.ts pins them).
        assert.match(urn, new RegExp(`::traced:aws:${name}::${name.toLowerCase()}$`));
        await settleAll();
        assert.ok(
          recorded.some((r) => r.parent === urn),
          `${name} has children`,
        );
        for (const output of EXPECTED[name]!.outputs) assert.ok(output in result.state, `${name} state has ${output}`);
      });
    }

    it("refuses a token of another package or module, and an unknown component", async () => {
      await assert.rejects(provider.construct("q", "other:index:TracedQueue", {}, {}), /Invalid package name other/);
      await assert.rejects(provider.construct("q", "traced:aws:TracedQueue", {}, {}), /Invalid module 'aws'/);
      await assert.rejects(provider.construct("f", "traced:index:Nope", {}, {}), /Component class not found/);
    });

    it("validates plain-data args like the TypeScript constructor (every problem, before any resource)", async () => {
      await assert.rejects(
        provider.construct("bad", "traced:index:TracedQueue", { deadLetter: { maxReceiveCount: 0 } }, {}),
        /deadLetter\.maxReceiveCount/,
      );
      assert.equal(recorded.filter((r) => r.type.startsWith("aws:")).length, 0);
    });

    it("refuses a NAT gateway strategy the Fargate service does not know, naming the allowed ones", async () => {
      const inputs = { ...INPUTS.TracedFargateService, natGateways: "Many" };
      await assert.rejects(
        provider.construct("bad", "traced:index:TracedFargateService", inputs, {}),
        /natGateways must be one of Single, OnePerAz \(got "Many"\)/,
      );
    });

    it("gives the Fargate service's plain outputs and the keep-alive rule to another language", async () => {
      const result = await provider.construct(
        "edge",
        "traced:index:TracedFargateService",
        INPUTS.TracedFargateService!,
        {},
      );
      assert.equal(await promiseOf(result.state.url as pulumi.Output<string>), "https://api.acme.io");
      assert.equal(await promiseOf(result.state.domainName as pulumi.Output<string>), "api.acme.io");
      await settleAll();
      const task = recorded.find((r) => r.type === "aws:ecs/taskDefinition:TaskDefinition" && r.name === "edge-task")!;
      const app = JSON.parse(task.inputs.containerDefinitions).find((c: { name: string }) => c.name === "app");
      const env = Object.fromEntries(app.environment.map((e: { name: string; value: string }) => [e.name, e.value]));
      assert.equal(env.HTTP_KEEP_ALIVE_TIMEOUT_MS, "125000", "5 s above loadBalancerIdleTimeoutSeconds 120");
      assert.equal(env.ONBOARDING_TABLE_NAME, "orders");
    });
  });
});
