/**
 * Loopback Secrets Manager stub (own process): answers `secretsmanager.GetSecretValue` (JSON protocol) with
 * SecretString `{"api_key":"bench-key"}`, the shape the runtime expects, and counts the calls.
 */
import { randomUUID } from "node:crypto";
import * as http from "node:http";
import { serveIpc } from "./ipc";

let calls = 0;

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const target = String(req.headers["x-amz-target"] ?? "");
    let status = 200;
    let reply: unknown;
    if (target === "secretsmanager.GetSecretValue") {
      calls++;
      let secretId = "bench-secret";
      try {
        secretId = String((JSON.parse(Buffer.concat(chunks).toString("utf8")) as { SecretId?: string }).SecretId);
      } catch {
        // keep the default
      }
      reply = {
        ARN: secretId,
        Name: "bench-secret",
        VersionId: randomUUID(),
        SecretString: JSON.stringify({ api_key: "bench-key" }),
        VersionStages: ["AWSCURRENT"],
        CreatedDate: Date.now() / 1000,
      };
    } else {
      status = 400;
      reply = { __type: "UnknownOperationException", message: `unsupported ${target}` };
    }
    const payload = JSON.stringify(reply);
    res.writeHead(status, {
      "content-type": "application/x-amz-json-1.1",
      "content-length": Buffer.byteLength(payload),
    });
    res.end(payload);
  });
});

server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as { port: number };
  process.send?.({ ready: true, port, endpoint: `http://127.0.0.1:${port}` });
});

serveIpc((m) => {
  if (m.cmd === "stats") return { calls };
  throw new Error(`unknown command ${m.cmd}`);
});
