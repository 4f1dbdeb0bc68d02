/**
 * The runtime-env contract (packages/traced-components/src/contract/runtime-env.ts) against what the components set
 * under Pulumi mocks, what the collector config reads, and what the local stack gives the same processes.
 */
import * as assert from "node:assert/strict";
import * as contract from "../../packages/traced-components/src/contract/runtime-env";
import {
  AWS_ONLY_ENV,
  PROJECT_ENV_NAMES,
  STANDARD_ENV_SET_BY_COMPONENTS,
} from "../../packages/traced-components/src/contract/runtime-env";
import { TracedContainerLambda } from "../../packages/traced-components/src/traced-container-lambda";
import { TracedFargateService } from "../../packages/traced-components/src/traced-fargate-service";
import { localApiEnv, localLambdaEnv, type LocalProcessInputs } from "../../local/stack";
import { resourceNamed, settleAll } from "../../harness/mocks";
import { tracedServiceArgs } from "./fixtures";

/** A table by reference, so both components set the optional ONBOARDING_TABLE_NAME too. */
const TABLE = {
  name: "onboarding-mock",
  arn: "arn:aws:dynamodb:eu-west-1:123456789012:table/onboarding-mock",
  keyArn: "arn:aws:kms:eu-west-1:123456789012:key/table-key",
};

interface ContainerDefinition {
  name: string;
  environment?: { name: string; value: string }[];
  secrets?: { name: string; valueFrom: string }[];
}

const KNOWN: ReadonlySet<string> = new Set<string>([...PROJECT_ENV_NAMES, ...STANDARD_ENV_SET_BY_COMPONENTS]);
const PROJECT: ReadonlySet<string> = new Set<string>(PROJECT_ENV_NAMES);

const sorted = (names: Iterable<string>) => [...names].sort();

/** The local stack's children environments, without the user's own OTEL_* (baseEnv passes them through). */
function localEnvironments(): { api: Record<string, string>; lambda: Record<string, string> } {
  const saved = Object.entries(process.env).filter(([key]) => key.startsWith("OTEL_"));
  for (const [key] of saved) delete process.env[key];
  try {
    const inputs: LocalProcessInputs = {
      region: "eu-west-1",
      tableName: "onboarding",
      dynamodbEndpoint: "http://127.0.0.1:4569",
      otlpEndpoint: "http://127.0.0.1:4317",
    };
    return {
      api: localApiEnv({
        ...inputs,
        queueUrl: "http://127.0.0.1:4566/000000000000/onboarding",
        sqsEndpoint: "http://127.0.0.1:4566",
        port: 8000,
      }),
      lambda: localLambdaEnv({ ...inputs, handlerFile: "/repo/dist/lambda/handler.js", exportName: "handler" }),
    };
  } finally {
    for (const [key, value] of saved) process.env[key] = value;
  }
}

describe("runtime-env contract", () => {
  let app: ContainerDefinition;
  let collector: ContainerDefinition;
  let lambda: Record<string, unknown>;
  const namesOf = (container: ContainerDefinition) => [
    ...(container.environment ?? []).map((e) => e.name),
    ...(container.secrets ?? []).map((s) => s.name),
  ];

  before(async () => {
    const args = tracedServiceArgs("eu2", { timeoutSeconds: 30, batchingWindowSeconds: 1 });
    new TracedFargateService("api", { ...args, table: TABLE });
    new TracedContainerLambda("consumer", { ...args, table: TABLE });
    await settleAll();
    const containers: ContainerDefinition[] = JSON.parse(
      resourceNamed("aws:ecs/taskDefinition:TaskDefinition", "api-task").inputs.containerDefinitions,
    );
    app = containers.find((c) => c.name === "app")!;
    collector = containers.find((c) => c.name === "otel-collector")!;
    lambda = resourceNamed("aws:lambda/function:Function", "consumer").inputs.environment.variables;
  });

  it("names every variable once, each exported constant listed, the standard ones apart", () => {
    const constants = Object.entries(contract as Record<string, unknown>)
      .filter((entry): entry is [string, string] => entry[0].endsWith("_ENV") && typeof entry[1] === "string")
      .map(([, value]) => value);
    assert.deepEqual(sorted(constants), sorted(PROJECT_ENV_NAMES));
    assert.equal(new Set(PROJECT_ENV_NAMES).size, PROJECT_ENV_NAMES.length, "no variable named twice");
    for (const name of PROJECT_ENV_NAMES) assert.doesNotMatch(name, /^(OTEL|AWS)_/, `${name}: a standard name`);
    for (const name of STANDARD_ENV_SET_BY_COMPONENTS)
      assert.match(name, /^(OTEL|AWS)_/, `${name}: not a standard name`);
  });

  it("the components set no variable the contract does not name", () => {
    const set = [...namesOf(app), ...namesOf(collector), ...Object.keys(lambda)];
    assert.ok(set.includes(contract.ONBOARDING_TABLE_NAME_ENV), "the fixture exercises the optional table variable");
    assert.deepEqual(
      set.filter((name) => !KNOWN.has(name)),
      [],
      "add each new variable to packages/traced-components/src/contract/runtime-env.ts",
    );
  });

  it("the collector config reads only variables its container is given", () => {
    const config = collector.environment!.find((e) => e.name === contract.AOT_CONFIG_CONTENT_ENV)!.value;
    const read = [...config.matchAll(/\$\{env:([A-Za-z0-9_]+)\}/g)].map((m) => m[1]!);
    assert.ok(read.length > 0, "the config reads its settings from the environment");
    const given = new Set(namesOf(collector));
    assert.deepEqual(
      read.filter((name) => !given.has(name) || !PROJECT.has(name)),
      [],
      "every ${env:…} in collector/config.yaml is a contract variable the collector container gets",
    );
  });

  it("lists as AWS-only only what a component sets and the local stack does not", () => {
    const local = localEnvironments();
    const deployed = new Set([...namesOf(app), ...Object.keys(lambda)]);
    for (const name of Object.keys(AWS_ONLY_ENV)) {
      assert.ok(deployed.has(name), `${name} is listed in AWS_ONLY_ENV but no component sets it on the API or Lambda`);
      assert.ok(!(name in local.api) && !(name in local.lambda), `${name} is in AWS_ONLY_ENV but set locally`);
    }
  });

  for (const [process, deployedNames] of [
    ["API (TracedFargateService's app container)", () => namesOf(app)],
    ["Lambda (TracedContainerLambda)", () => Object.keys(lambda)],
  ] as const) {
    it(`the local stack gives the ${process} the variables the component gives it in AWS`, () => {
      const local = localEnvironments()[process.startsWith("API") ? "api" : "lambda"];
      const deployed = deployedNames();
      assert.deepEqual(
        sorted(deployed.filter((name) => !(name in local) && !(name in AWS_ONLY_ENV))),
        [],
        "set them in local/stack.ts (or list them in AWS_ONLY_ENV, with the reason)",
      );
      // The other way: the local stack invents no project variable the component does not set.
      assert.deepEqual(
        sorted(Object.keys(local).filter((name) => PROJECT.has(name) && !deployed.includes(name))),
        [],
        "the local stack sets a project variable the deployed process does not get",
      );
    });
  }
});
