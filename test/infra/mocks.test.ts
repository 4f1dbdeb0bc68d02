/**
 * The mocks themselves: tests that rely on them must be able to fail, so the mock must refuse what it does not know
 * and a preview must be able to look like the engine's.
 */
import * as assert from "node:assert/strict";
import * as aws from "@pulumi/aws";
import { installMocks, isKnown, promiseOf, resourceNamed, settleAll } from "../../harness/mocks";

describe("infra test mocks", () => {
  it("reject an invoke without a handler, naming it", async () => {
    installMocks();
    await assert.rejects(
      aws.ec2.getAmi({ owners: ["amazon"], mostRecent: true }),
      /unmocked invoke aws:ec2\/getAmi:getAmi: add a handler in harness\/mocks\.ts/,
    );
  });

  it("mock what AWS computes, in update and (by default) in preview", async () => {
    for (const preview of [false, true]) {
      installMocks({ preview });
      const queue = new aws.sqs.Queue("q", { visibilityTimeoutSeconds: 60 });
      assert.equal(await promiseOf(queue.arn), "arn:aws:sqs:eu-west-1:123456789012:q-mock");
    }
  });

  it("leave computed outputs and ids unknown in an engine-like preview, inputs known", async () => {
    installMocks({ preview: true, unknownComputedOutputs: true });
    const queue = new aws.sqs.Queue("q", { visibilityTimeoutSeconds: 60 });
    await settleAll();
    assert.equal(await isKnown(queue.arn), false);
    assert.equal(await isKnown(queue.id), false);
    assert.equal(await promiseOf(queue.visibilityTimeoutSeconds), 60);
    assert.equal(resourceNamed("aws:sqs/queue:Queue", "q").state.arn, undefined);
  });

  it("give a pushed docker-build image a digest, and a ref of its tag plus that digest", async () => {
    installMocks();
    const { Image } = await import("@pulumi/docker-build");
    const image = new Image("img", { tags: ["registry.example/app:src-1"], push: true, context: { location: "." } });
    assert.equal(await promiseOf(image.digest), `sha256:${"ab".repeat(32)}`);
    assert.equal(await promiseOf(image.ref), `registry.example/app:src-1@sha256:${"ab".repeat(32)}`);
  });
});
