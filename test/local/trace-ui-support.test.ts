/**
 * The smaller pieces around the trace UI: span-bounded retention, the deep link in the terminal tree, the busy-port
 * suggestion, the DLQ line, `npm run poison` and `npm start`'s environment checks.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { watchDlq, type DlqMove } from "../../local/dlq-watch";
import type { ReceivedSpan } from "../../local/otlp-receiver";
import { startLocalSqs, type LocalSqs } from "../../local/sqs";
import { DEFAULT_PORTS, PortInUseError, REPO_ROOT, suggestPort } from "../../local/stack";
import { formatTrace } from "../../local/trace-printer";
import { TraceStore } from "../../local/trace-store";
import { POISON_BODY, sendPoison } from "../../scripts/poison";
import { waitFor } from "./helpers";

function serverSpan(traceId: string, spanId: string): ReceivedSpan {
  return {
    traceId,
    spanId,
    name: "POST /onboard",
    kind: "SERVER",
    serviceName: "onboarding-api",
    resource: {},
    attributes: { "http.response.status_code": 400 },
    links: [],
    status: { code: "UNSET" },
    startTimeUnixNano: "1700000000000000000",
    endTimeUnixNano: "1700000000002000000",
  };
}

describe("trace UI support", () => {
  it("keeps at most maxSpans spans, dropping the oldest traces whole", () => {
    const store = new TraceStore({ maxSpans: 5 });
    try {
      const ids = ["1", "2", "3"].map((d) => d.repeat(32));
      store.add([serverSpan(ids[0]!, "a".repeat(16)), serverSpan(ids[0]!, "b".repeat(16))]);
      store.add([serverSpan(ids[1]!, "c".repeat(16)), serverSpan(ids[1]!, "d".repeat(16))]);
      assert.equal(store.spanCount, 4);
      store.add([serverSpan(ids[2]!, "e".repeat(16)), serverSpan(ids[2]!, "f".repeat(16))]);
      assert.equal(store.get(ids[0]!), undefined, "the oldest trace went, whole");
      assert.equal(store.get(ids[1]!)?.spans.length, 2);
      assert.equal(store.get(ids[2]!)?.spans.length, 2);
      assert.equal(store.spanCount, 4);
      assert.equal(new TraceStore().close(), undefined);
    } finally {
      store.close();
    }
  });

  it("prints the trace's deep link next to it in the terminal tree", () => {
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const trace = {
      traceId,
      spans: [serverSpan(traceId, "a".repeat(16))],
      state: "complete" as const,
      reports: 1,
      firstSeenMs: 0,
      lastSpanMs: 0,
    };
    const header = formatTrace(trace, { color: false, viewUrl: "http://127.0.0.1:16686" }).split("\n")[0]!;
    assert.match(
      header,
      new RegExp(`^trace ${traceId} {2}1 span, 2\\.0 ms, complete {2}http://127\\.0\\.0\\.1:16686/trace/${traceId}$`),
    );
    assert.doesNotMatch(formatTrace(trace, { color: false }), /http:/);
  });

  it("never suggests another service's port (4318 is OTLP/HTTP) when a port is busy", () => {
    const message = new PortInUseError(4317, "OTLP_PORT", "OTLP receiver").message;
    assert.equal(
      message,
      "Port 4317 (OTLP receiver) is already in use — set OTLP_PORT to another port, e.g. OTLP_PORT=4319.",
    );
    assert.match(new PortInUseError(8000, "PORT", "onboarding API").message, /PORT=8001\.$/);
    assert.equal(suggestPort(4316, Object.values(DEFAULT_PORTS)), 4319);
    assert.equal(suggestPort(9000, [9001, 9002]), 9003);
    assert.equal(suggestPort(65535, []), 1024);
  });

  describe("poison messages and the DLQ line", () => {
    let sqs: LocalSqs;
    before(async () => {
      sqs = await startLocalSqs({ visibilityTimeoutSeconds: 1, maxReceiveCount: 2 });
    });
    after(async () => sqs?.stop());

    it("npm run poison puts a traced poison message on the queue", async () => {
      const { messageId, traceId, queueUrl } = await sendPoison({ sqsEndpoint: sqs.endpoint });
      assert.equal(queueUrl, sqs.queueUrl);
      assert.match(traceId, /^[0-9a-f]{32}$/);
      const client = sqs.createClient();
      try {
        const received = await client.send(
          new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl, MessageAttributeNames: ["All"], VisibilityTimeout: 0 }),
        );
        const message = received.Messages?.[0];
        assert.equal(message?.MessageId, messageId);
        assert.equal(message?.Body, POISON_BODY);
        assert.match(
          message?.MessageAttributes?.traceparent?.StringValue ?? "",
          new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`),
        );
      } finally {
        client.destroy();
      }
    });

    it("reports each move to the DLQ once, naming the message and its trace", async () => {
      const store = new TraceStore();
      const moves: DlqMove[] = [];
      const watcher = watchDlq({ sqs, maxReceiveCount: 2, store, onMove: (move) => moves.push(move), intervalMs: 50 });
      const client = sqs.createClient();
      try {
        await watcher.check(); // baseline
        const traceId = "7".repeat(32);
        store.add([
          {
            ...serverSpan(traceId, "a".repeat(16)),
            name: "process onboarding",
            kind: "CONSUMER",
            attributes: { "messaging.message.id": "msg-1" },
          },
        ]);
        const failure = {
          awsRequestId: "r",
          records: 1,
          failedMessageIds: ["msg-1"],
          succeeded: 0,
          failed: 1,
        } as never;
        watcher.invocation(failure);
        watcher.invocation(failure);
        await client.send(new SendMessageCommand({ QueueUrl: sqs.dlqUrl, MessageBody: "moved" }));
        await waitFor(() => moves.length === 1, 5000, "the DLQ line");
        assert.deepEqual(moves[0], { moved: 1, waiting: 1, messages: [{ messageId: "msg-1", traceId }] });
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.equal(moves.length, 1, "reported once");
      } finally {
        watcher.stop();
        store.close();
        client.destroy();
      }
    });
  });

  function runMain(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "local/main.ts")], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stderr })));
  }

  for (const [variable, value, message] of [
    ["SAMPLE_REQUESTS", "abc", /^SAMPLE_REQUESTS must be a whole number from 0 to 3, got "abc"$/],
    ["SAMPLE_REQUESTS", "7", /SAMPLE_REQUESTS must be a whole number from 0 to 3, got "7"/],
    ["TRACE_STORE_MAX_SPANS", "-1", /TRACE_STORE_MAX_SPANS must be a whole number/],
    ["OTLP_FORWARD_ENDPOINT", "ftp://collector:4317", /OTLP_FORWARD_ENDPOINT must be http:\/\/ or https:\/\//],
  ] as const) {
    it(`npm start: ${variable}=${value} is a one-line usage error (exit 1)`, async function () {
      this.timeout(30_000);
      const { code, stderr } = await runMain({ [variable]: value });
      assert.equal(code, 1);
      assert.match(stderr.trim(), message);
      assert.equal(stderr.trim().split("\n").length, 1, stderr);
    });
  }
});
