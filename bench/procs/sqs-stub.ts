/**
 * Loopback SQS stub (own process): speaks just enough of the SQS JSON protocol (AWS SDK v3) for the API —
 * `AmazonSQS.SendMessage` (MessageId + MD5OfMessageBody, which the SDK validates) and `GetQueueAttributes`.
 * It does no queueing, so API overhead is measured without a queue server dominating the CPU.
 */
import { createHash, randomUUID } from "node:crypto";
import * as http from "node:http";
import { serveIpc } from "./ipc";

let sent = 0;

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const target = String(req.headers["x-amz-target"] ?? "");
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>;
    } catch {
      // fall through: answered below as an unknown operation
    }
    let reply: unknown;
    switch (target) {
      case "AmazonSQS.SendMessage": {
        sent++;
        const messageBody = String(body.MessageBody ?? "");
        reply = {
          MessageId: randomUUID(),
          MD5OfMessageBody: createHash("md5").update(messageBody, "utf8").digest("hex"),
        };
        break;
      }
      case "AmazonSQS.GetQueueAttributes":
        reply = {
          Attributes: {
            QueueArn: "arn:aws:sqs:us-east-1:000000000000:bench-queue",
            ApproximateNumberOfMessages: "0",
          },
        };
        break;
      case "AmazonSQS.GetQueueUrl":
        reply = { QueueUrl: `http://127.0.0.1:${port()}/000000000000/bench-queue` };
        break;
      default:
        reply = {};
    }
    const payload = JSON.stringify(reply);
    res.writeHead(200, {
      "content-type": "application/x-amz-json-1.0",
      "content-length": Buffer.byteLength(payload),
      "x-amzn-requestid": randomUUID(),
    });
    res.end(payload);
  });
});
server.keepAliveTimeout = 60_000;

function port(): number {
  return (server.address() as { port: number }).port;
}

server.listen(0, "127.0.0.1", () => {
  process.send?.({
    ready: true,
    port: port(),
    endpoint: `http://127.0.0.1:${port()}`,
    queueUrl: `http://127.0.0.1:${port()}/000000000000/bench-queue`,
  });
});

serveIpc((m) => {
  if (m.cmd === "stats") return { sent };
  if (m.cmd === "reset") {
    sent = 0;
    return {};
  }
  throw new Error(`unknown command ${m.cmd}`);
});
