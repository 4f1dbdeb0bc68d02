/**
 * The whole stack program (Pulumi.yaml `main`) run under the shared mocks with Pulumi.dev.yaml config, as a preview
 * and as an update, judged by every rule. The report is printed; the test fails with it when any rule fails.
 */
import { STACK_RUN_TEST_TIMEOUT_MS, TEST_API_KEY } from "../../harness/run-program";
import { EVERY_OPTION_CONFIG } from "../../harness/stack-modes";
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { evaluate, evaluateRule, formatReport, type RuleResult } from "../../policy/evaluate";
import { findReferenced, isUnknown, rules } from "../../policy/rules";
import { containersOf } from "../../policy/rules/ecs";
import { repositoryOf } from "../../policy/rules/images";
import { sameResourcesInPreviewAndUpdate } from "../../policy/rules/program";
import { runStack, STACK } from "../../policy/stack-run";
import type { Runs } from "../../policy/evaluate";

describe("the stack against every policy rule (program under mocks)", function () {
  this.timeout(STACK_RUN_TEST_TIMEOUT_MS);
  let runs: Runs;
  let results: RuleResult[];

  before(async () => {
    runs = await runStack();
    results = evaluate(runs);
    console.log(formatReport(results, `Policy report for stack "${STACK}" (${runs.update.length} resources)`));
  });

  it("registers resources in both modes", () => {
    assert.ok(runs.update.length > 0, "the update run registered nothing");
    assert.ok(runs.preview.length > 0, "the preview run registered nothing");
  });

  it("registers every kind of resource the rules are about", () => {
    const types = new Set(runs.update.map((r) => r.type));
    const expected = [
      "aws:sqs/queue:Queue",
      "aws:sqs/queuePolicy:QueuePolicy",
      "aws:lambda/function:Function",
      "aws:lambda/eventSourceMapping:EventSourceMapping",
      "aws:ecs/taskDefinition:TaskDefinition",
      "aws:ecs/service:Service",
      "aws:secretsmanager/secret:Secret",
      "aws:secretsmanager/secretVersion:SecretVersion",
      "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
      "aws:cloudwatch/metricStream:MetricStream",
      "aws:ecr/repository:Repository",
      "aws:lb/loadBalancer:LoadBalancer",
      "aws:cloudwatch/logGroup:LogGroup",
      "docker-build:index:Image",
    ];
    assert.deepEqual(
      expected.filter((t) => !types.has(t)),
      [],
    );
    assert.ok(
      runs.update.some((r) => r.type === "aws:s3/bucket:Bucket" || r.type === "aws:s3/bucketV2:BucketV2"),
      "no S3 bucket",
    );
  });

  it("stores the configured Coralogix key in the secret version, where the leak rule looks for it", () => {
    const versions = runs.update.filter((r) => r.type === "aws:secretsmanager/secretVersion:SecretVersion");
    assert.ok(versions.some((v) => String(v.props.secretString).includes(TEST_API_KEY)));
  });

  it("reports every rule", () => {
    assert.deepEqual(
      results.map((r) => r.rule.id),
      rules.map((r) => r.id),
    );
  });

  it("passes every rule", () => {
    const failed = results.filter((r) => r.status === "fail");
    assert.equal(failed.length, 0, `\n${formatReport(failed)}`);
  });

  it("relates resources the way the cross-resource rules need (so they judge something, not nothing)", () => {
    const of = (type: string) => runs.update.filter((r) => r.type === type);
    const mappings = of("aws:lambda/eventSourceMapping:EventSourceMapping");
    assert.ok(mappings.length > 0);
    for (const m of mappings) {
      assert.ok(findReferenced(of("aws:sqs/queue:Queue"), m.props.eventSourceArn), `${m.name}: queue not found`);
      assert.ok(findReferenced(of("aws:lambda/function:Function"), m.props.functionName), `${m.name}: function`);
    }
    for (const s of of("aws:cloudwatch/metricStream:MetricStream")) {
      const firehoses = of("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream");
      assert.ok(findReferenced(firehoses, s.props.firehoseArn), `${s.name}: Firehose not found`);
    }
    const images = of("docker-build:index:Image").map((i) => repositoryOf(String((i.props.tags as string[])[0])));
    const used = [
      ...of("aws:lambda/function:Function").map((f) => f.props.imageUri),
      ...of("aws:ecs/taskDefinition:TaskDefinition").flatMap((t) => containersOf(t.props).map((c) => c.image)),
    ].map((ref) => repositoryOf(String(ref)));
    assert.deepEqual(
      images.filter((repo) => !used.includes(repo)),
      [],
      "an image built in the stack is run by nothing the platform rule can see",
    );
  });

  it("previews like the engine: computed outputs (ARNs, URLs) are unknown in the preview run, known in the update", () => {
    const queues = (r: Runs["update"]) => r.filter((x) => x.type === "aws:sqs/queuePolicy:QueuePolicy");
    assert.ok(queues(runs.preview).length > 0);
    assert.ok(
      queues(runs.preview).every((p) => isUnknown(p.inputs.queueUrl)),
      "preview resolved a queue URL",
    );
    assert.ok(
      queues(runs.update).every((p) => !isUnknown(p.inputs.queueUrl)),
      "update left a queue URL unknown",
    );
  });
});

describe("the stack with every option (domain, canary, Fargate Spot) against every policy rule", function () {
  this.timeout(STACK_RUN_TEST_TIMEOUT_MS);

  it("passes every rule: the canary's bucket is private and KMS-encrypted, its role uses * only where IAM requires", async () => {
    const runs = await runStack(undefined, EVERY_OPTION_CONFIG);
    assert.ok(runs.update.some((r) => r.type === "aws:synthetics/canary:Canary"));
    const failed = evaluate(runs).filter((r) => r.status === "fail");
    assert.equal(failed.length, 0, `\n${formatReport(failed)}`);
  });
});

describe("the stack run catches a program that creates a resource inside .apply()", function () {
  this.timeout(STACK_RUN_TEST_TIMEOUT_MS);

  it("reports the hidden resource by URN: absent from the preview, present in the update", async () => {
    const bad = await runStack(path.join(__dirname, "programs", "resource-in-apply"));
    const result = evaluateRule(sameResourcesInPreviewAndUpdate, bad);
    assert.equal(result.status, "fail");
    assert.deepEqual(result.violations, [
      {
        urn: "urn:pulumi:dev::traced-onboarding::aws:sqs/queuePolicy:QueuePolicy::hidden-in-apply",
        message: "registered in update but not in preview (created inside an apply?).",
      },
    ]);
  });
});
