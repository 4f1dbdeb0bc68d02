/**
 * Lambda execution environments dying or starting at awkward moments: a host that dies between the liveness check
 * and the IPC send, and a replacement whose cold start is slower than the function timeout.
 */
import assert from "node:assert/strict";
import childProcess, { type ChildProcess } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { startLambdaHost, type LambdaHost } from "../../local/lambda-host";
import { startLocalStack, type LocalStack } from "../../local/stack";
import { EMPTY, waitFor } from "./helpers";
import { ensureBundles } from "../runtime/helpers";

const CRASH_HANDLER = path.join(__dirname, "fixtures/crash-handler.ts");

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Blocks (the event loop does not run, so the parent has not noticed anything yet) until `pid` has exited and the
 * kernel has closed its IPC socket. /proc shows the process dead (no open files, or a zombie) slightly before all of
 * its threads have let go of the socket, hence the extra moment.
 */
function waitUntilDeadSync(pid: number): void {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    let openFiles: number;
    try {
      openFiles = readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      break; // reaped, a zombie without a file table, or no procfs
    }
    if (openFiles === 0) break;
    sleepSync(2);
  }
  sleepSync(250);
}

/**
 * The race, injected: every IPC child spawned while installed gets a `send` that — once armed — SIGKILLs the child
 * and waits until it is dead before really sending. The parent's event loop has not run in between, so the child
 * still looks alive and connected: exactly a host dying between the liveness check and the send.
 */
function injectDeathBeforeSend() {
  const originalSpawn = childProcess.spawn;
  const state = { armed: false, killed: [] as number[] };
  (childProcess as { spawn: unknown }).spawn = (...args: unknown[]) => {
    const child = (originalSpawn as (...a: unknown[]) => ChildProcess)(...args);
    const send = child.send?.bind(child);
    if (send) {
      child.send = ((...sendArgs: Parameters<ChildProcess["send"]>) => {
        if (state.armed && child.pid !== undefined) {
          state.armed = false;
          process.kill(child.pid, "SIGKILL");
          waitUntilDeadSync(child.pid);
          state.killed.push(child.pid);
        }
        return send(...sendArgs);
      }) as ChildProcess["send"];
    }
    return child;
  };
  return {
    state,
    restore: () => {
      (childProcess as { spawn: unknown }).spawn = originalSpawn;
    },
  };
}

const record = (body: string) => ({
  messageId: "m-1",
  receiptHandle: "r",
  body,
  attributes: {
    ApproximateReceiveCount: "1",
    SentTimestamp: "0",
    SenderId: "0",
    ApproximateFirstReceiveTimestamp: "0",
  },
  messageAttributes: {},
  md5OfBody: "",
  eventSource: "aws:sqs",
  eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:q",
  awsRegion: "us-east-1",
});

const info = () => ({
  awsRequestId: "req-1",
  deadlineMs: Date.now() + 5000,
  functionName: "f",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:f",
  memoryLimitInMB: "512",
  logGroupName: "/aws/lambda/f",
  logStreamName: "local",
});

describe("local Lambda environments", function () {
  this.timeout(60_000);
  // dist/ is built once per test run, by whichever worker asks first; the local stack and npm start then run it.
  before(() => ensureBundles());

  describe("a host that dies between the liveness check and the send", () => {
    let injection: ReturnType<typeof injectDeathBeforeSend>;
    let host: LambdaHost | undefined;
    before(() => (injection = injectDeathBeforeSend()));
    after(async () => {
      injection.restore();
      await host?.stop();
    });

    it("fails the invocation like a crashed environment instead of throwing in the parent", async () => {
      host = await startLambdaHost({ handlerFile: CRASH_HANDLER, env: { PATH: process.env.PATH ?? "" } });
      assert.equal(host.alive, true);
      injection.state.armed = true;
      await assert.rejects(host.invoke({ Records: [record("fine")] }, info()), /Lambda host exited/);
      assert.deepEqual(injection.state.killed, [host.pid]);
      await waitFor(() => !host!.alive, 5000, "the host to be reported dead");
    });
  });

  describe("in the stack: a host killed at the moment of the send", () => {
    let injection: ReturnType<typeof injectDeathBeforeSend>;
    let stack: LocalStack | undefined;
    before(async () => {
      injection = injectDeathBeforeSend();
      stack = await startLocalStack({
        build: "if-missing",
        lambdaHandlerFile: CRASH_HANDLER,
        concurrency: 1,
        visibilityTimeoutSeconds: 1,
        maxReceiveCount: 3,
        maximumBatchingWindowMs: 0,
      });
    });
    after(async () => {
      injection.restore();
      await stack?.stop();
    });

    it("keeps the stack (and its in-memory queue) up; the record is retried and processed by a fresh environment", async () => {
      const sqs = stack!.sqs.createClient();
      try {
        injection.state.armed = true;
        const { MessageId } = await sqs.send(
          new SendMessageCommand({ QueueUrl: stack!.queueUrl, MessageBody: "fine" }),
        );
        await waitFor(
          () => stack!.eventSourceMapping.invocations.some((i) => i.messageIds.includes(MessageId!) && i.succeeded),
          30_000,
          "the record processed after the failed send",
        );
      } finally {
        sqs.destroy();
      }
      const [first, ...rest] = stack!.eventSourceMapping.invocations;
      assert.equal(injection.state.killed.length, 1);
      assert.match(first!.error ?? "", /Lambda host exited/);
      assert.equal(first!.failed, 1, "the whole batch is left for redelivery");
      assert.deepEqual(
        rest.map((i) => [i.succeeded, i.error]),
        [[1, undefined]],
      );
      assert.equal(stack!.lambdas.length, 2, "the dead environment was replaced");
      await waitFor(async () => (await stack!.sqs.count("main")).inflight === 0, 5000, "the record deleted");
      assert.deepEqual(await stack!.sqs.count("main"), EMPTY);
    });
  });

  describe("in the stack: a replacement whose cold start is longer than the function timeout", () => {
    let stack: LocalStack | undefined;
    before(async () => {
      stack = await startLocalStack({
        build: "if-missing",
        lambdaHandlerFile: CRASH_HANDLER,
        lambdaEnv: { FIXTURE_INIT_DELAY_MS: "1500" },
        concurrency: 1,
        functionTimeoutMs: 1000,
        visibilityTimeoutSeconds: 1,
        maxReceiveCount: 1,
        maximumBatchingWindowMs: 0,
      });
    });
    after(async () => stack?.stop());

    it("does not charge the Init phase to the function timeout", async () => {
      const sqs = stack!.sqs.createClient();
      let fineId: string | undefined;
      try {
        await sqs.send(new SendMessageCommand({ QueueUrl: stack!.queueUrl, MessageBody: "crash" }));
        await waitFor(() => stack!.eventSourceMapping.invocations.length >= 1, 20_000, "the crashing invocation");
        fineId = (await sqs.send(new SendMessageCommand({ QueueUrl: stack!.queueUrl, MessageBody: "fine" }))).MessageId;
        await waitFor(
          () => stack!.eventSourceMapping.invocations.some((i) => i.messageIds.includes(fineId!)),
          30_000,
          "the next record's invocation",
        );
      } finally {
        sqs.destroy();
      }
      const invocations = stack!.eventSourceMapping.invocations;
      assert.match(invocations[0]!.error ?? "", /exited/, "the crash");
      const fine = invocations.find((i) => i.messageIds.includes(fineId!))!;
      assert.equal(fine.error, undefined, "the first delivery after the crash succeeds on the replacement");
      assert.equal(fine.succeeded, 1);
      assert.ok((fine.initDurationMs ?? 0) >= 1500, `a cold start was reported (${fine.initDurationMs} ms)`);
      assert.ok(fine.durationMs < 1000, `the handler's own time (${fine.durationMs} ms) is what the timeout covers`);
      assert.deepEqual(
        invocations.filter((i) => /timed out/.test(i.error ?? "")).map((i) => i.error),
        [],
      );
    });
  });
});
