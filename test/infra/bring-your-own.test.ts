// Bring your own parts: an existing VPC and ECS cluster for the Fargate service, a prebuilt digest-pinned
// image for either container component, and a queue that is not a TracedQueue for the Lambda. Without them the
// components create everything as before (test/infra/urns.test.ts pins that).
import * as assert from "node:assert/strict";
import {
  TracedContainerLambda,
  TracedFargateService,
  validateTracedContainerLambdaArgs,
  validateTracedFargateServiceArgs,
} from "@traced-onboarding/components";
import {
  grantsOf,
  inlinePolicyOfRole,
  installMocks,
  promiseOf,
  recorded,
  resourcesOfType,
  settleAll,
} from "../../harness/mocks";
import { fakeSecret, serviceIdentityArgs } from "./fixtures";

const DIGEST = "a".repeat(64);
const PREBUILT = `210987654321.dkr.ecr.eu-west-1.amazonaws.com/orders@sha256:${DIGEST}`;
const FOREIGN_QUEUE = {
  arn: "arn:aws:sqs:eu-west-1:123456789012:legacy-orders",
  url: "https://sqs.eu-west-1.amazonaws.com/123456789012/legacy-orders",
  keyArn: "arn:aws:kms:eu-west-1:123456789012:key/legacy-orders-key",
};
const VPC = {
  vpcId: "vpc-0123456789abcdef0",
  publicSubnetIds: ["subnet-public-a", "subnet-public-b"],
  privateSubnetIds: ["subnet-private-a", "subnet-private-b"],
};
const CLUSTER = { arn: "arn:aws:ecs:eu-west-1:123456789012:cluster/shared", name: "shared" };

const baseArgs = () => ({ ...serviceIdentityArgs("eu2"), secret: fakeSecret(), queue: FOREIGN_QUEUE });
/** The same without the secret, as the pure validators take them. */
const validationArgs = () => ({ ...serviceIdentityArgs("eu2"), queue: FOREIGN_QUEUE });
const types = () => new Set(recorded.map((r) => r.type));

describe("bring your own: a prebuilt image (imageUri)", () => {
  beforeEach(() => installMocks());

  it("refuses a tag or a malformed digest, and image together with imageUri, naming the fix", () => {
    for (const imageUri of ["orders:latest", "orders@sha256:abc", `orders:1.0@sha256:${"A".repeat(64)}`]) {
      const [problem] = validateTracedContainerLambdaArgs({ ...validationArgs(), imageUri });
      assert.match(
        problem!,
        new RegExp(`^imageUri "${imageUri.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}" is not pinned`),
      );
      assert.match(problem!, /<repository>@sha256:<64 hex digits>/);
    }
    assert.deepEqual(
      validateTracedFargateServiceArgs({ ...validationArgs(), imageUri: PREBUILT, image: { platform: "x" } }),
      ["pass either image (built and pushed here) or imageUri (prebuilt), not both."],
    );
    assert.throws(
      () => new TracedContainerLambda("consumer", { ...baseArgs(), imageUri: "orders:latest" }),
      /Invalid TracedContainerLambda "consumer":\n {2}- imageUri "orders:latest" is not pinned by digest/,
    );
    assert.equal(recorded.length, 0);
  });

  it("runs the Lambda on it: no repository, no build, no repository policy", async () => {
    const consumer = new TracedContainerLambda("consumer", { ...baseArgs(), imageUri: PREBUILT });
    await settleAll();
    const fn = resourcesOfType("aws:lambda/function:Function")[0]!;
    assert.equal(fn.inputs.imageUri, PREBUILT);
    assert.equal(await promiseOf(consumer.imageUri), PREBUILT);
    assert.equal(consumer.repository, undefined);
    for (const type of [
      "aws:ecr/repository:Repository",
      "docker-build:index:Image",
      "aws:ecr/repositoryPolicy:RepositoryPolicy",
    ])
      assert.ok(!types().has(type), `no ${type}`);
  });

  it("runs the Fargate app container on it, the execution role pulling from that ECR repository only", async () => {
    const api = new TracedFargateService("api", { ...baseArgs(), imageUri: PREBUILT });
    await settleAll();
    const task = resourcesOfType("aws:ecs/taskDefinition:TaskDefinition")[0]!;
    const app = JSON.parse(task.inputs.containerDefinitions).find((c: { name: string }) => c.name === "app");
    assert.equal(app.image, PREBUILT);
    assert.equal(api.repository, undefined);
    assert.ok(!types().has("aws:ecr/repository:Repository") && !types().has("docker-build:index:Image"));
    const grants = grantsOf(inlinePolicyOfRole("api-execution-role"));
    assert.deepEqual(grants.PullOwnImage?.resources, ["arn:aws:ecr:eu-west-1:210987654321:repository/orders"]);
  });

  it("grants no ECR pull for an image in another registry", async () => {
    new TracedFargateService("api", { ...baseArgs(), imageUri: `ghcr.io/acme/orders@sha256:${DIGEST}` });
    await settleAll();
    const grants = grantsOf(inlinePolicyOfRole("api-execution-role"));
    assert.equal(grants.PullOwnImage, undefined);
    assert.equal(grants.EcrLogin, undefined);
  });
});

describe("bring your own: a queue that is not a TracedQueue", () => {
  beforeEach(() => installMocks());

  it("consumes it by ARN and decrypts with its key, nothing else", async () => {
    new TracedContainerLambda("consumer", { ...baseArgs(), imageUri: PREBUILT });
    await settleAll();
    const mapping = resourcesOfType("aws:lambda/eventSourceMapping:EventSourceMapping")[0]!;
    assert.equal(mapping.inputs.eventSourceArn, FOREIGN_QUEUE.arn);
    const grants = grantsOf(inlinePolicyOfRole("consumer-role"));
    assert.deepEqual(grants.ConsumeQueue?.resources, [FOREIGN_QUEUE.arn]);
    assert.deepEqual(grants.DecryptFromQueue?.resources, [FOREIGN_QUEUE.keyArn]);
    assert.ok(!types().has("aws:sqs/queue:Queue"), "creates no queue");
  });

  it("checks its visibility timeout only when given", () => {
    assert.deepEqual(validateTracedContainerLambdaArgs(validationArgs()), []);
    assert.match(
      validateTracedContainerLambdaArgs({
        ...baseArgs(),
        queue: { ...FOREIGN_QUEUE, visibilityTimeoutSeconds: 30 },
      })[0]!,
      /^the queue's visibility timeout \(30 s\) must be at least/,
    );
  });

  it("lets the API send to it by URL", async () => {
    new TracedFargateService("api", { ...baseArgs(), imageUri: PREBUILT });
    await settleAll();
    const task = resourcesOfType("aws:ecs/taskDefinition:TaskDefinition")[0]!;
    const app = JSON.parse(task.inputs.containerDefinitions).find((c: { name: string }) => c.name === "app");
    const env = Object.fromEntries(app.environment.map((e: { name: string; value: string }) => [e.name, e.value]));
    assert.equal(env.QUEUE_URL, FOREIGN_QUEUE.url);
    assert.deepEqual(grantsOf(inlinePolicyOfRole("api-task-role")).SendToQueue?.resources, [FOREIGN_QUEUE.arn]);
  });
});

describe("bring your own: an existing VPC and ECS cluster", () => {
  beforeEach(() => installMocks());

  it("puts the ALB in the public subnets and the tasks in the private ones, in your cluster, creating neither", async () => {
    const api = new TracedFargateService("api", { ...baseArgs(), vpc: VPC, cluster: CLUSTER, imageUri: PREBUILT });
    await settleAll();
    assert.ok(!types().has("awsx:ec2:Vpc"), "no VPC");
    assert.ok(!types().has("aws:ecs/cluster:Cluster"), "no cluster");
    assert.deepEqual(resourcesOfType("aws:lb/loadBalancer:LoadBalancer")[0]!.inputs.subnets, VPC.publicSubnetIds);
    const service = resourcesOfType("aws:ecs/service:Service")[0]!;
    assert.equal(service.inputs.cluster, CLUSTER.arn);
    assert.deepEqual(service.inputs.networkConfiguration.subnets, VPC.privateSubnetIds);
    for (const sg of resourcesOfType("aws:ec2/securityGroup:SecurityGroup")) assert.equal(sg.inputs.vpcId, VPC.vpcId);
    assert.equal(resourcesOfType("aws:lb/targetGroup:TargetGroup")[0]!.inputs.vpcId, VPC.vpcId);
    assert.equal(await promiseOf(api.clusterName), CLUSTER.name);
    assert.equal(api.vpc, undefined);
    assert.equal(api.cluster, undefined);
  });

  it("refuses what does not fit an existing VPC or cluster, every problem at once", () => {
    assert.deepEqual(
      validateTracedFargateServiceArgs({
        ...validationArgs(),
        vpc: { ...VPC, publicSubnetIds: ["subnet-public-a"], privateSubnetIds: [] },
        natGateways: "OnePerAz",
        cluster: CLUSTER,
        fargateSpot: true,
      }),
      [
        "natGateways applies only to the VPC this component creates; with vpc, your VPC's routing decides.",
        "vpc.publicSubnetIds needs subnets in at least two availability zones (an ALB requires two).",
        "vpc.privateSubnetIds needs at least one subnet for the tasks.",
        "fargateSpot needs the cluster this component creates; with cluster, associate FARGATE_SPOT with your " +
          "cluster yourself and set the service's capacity provider strategy with opts.transforms.",
      ],
    );
  });
});
