/**
 * Shared helpers for the runtime tests: build the bundles once per mocha run, start real fauxqs, spawn the API
 * bundle, convert SQS messages to Lambda records the way the event source mapping does.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import path from "node:path";
import type { Message } from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import { buildBundles, type BundleInfo } from "../../scripts/build";

export const REPO_ROOT = path.resolve(__dirname, "../..");
export const DIST = path.join(REPO_ROOT, "dist");
export const TEST_CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" } as const;
export const REGION = "us-east-1";

let bundles: Promise<BundleInfo[]> | undefined;
/** Builds dist/ once per test run (every bundle test exercises what `npm run build` produces). */
export function ensureBundles(): Promise<BundleInfo[]> {
  bundles ??= buildBundles();
  return bundles;
}

export interface Fauxqs {
  readonly address: string;
  createQueue(name: string): { queueUrl: string; queueArn: string; queueName: string };
  inspectQueue(name: string): { messages: { ready: unknown[]; delayed: unknown[]; inflight: unknown[] } } | undefined;
  stop(): Promise<void>;
}

/** Real SQS-protocol server on an ephemeral loopback port. fauxqs is ESM-only: load it with import(). */
export async function startFauxqs(): Promise<Fauxqs> {
  const { startFauxqs: start } = await import("fauxqs");
  return (await start({ port: 0, host: "127.0.0.1", logger: false })) as unknown as Fauxqs;
}

export function messageCount(sqs: Fauxqs, queue: string): number {
  const q = sqs.inspectQueue(queue);
  if (!q) throw new Error(`queue ${queue} does not exist`);
  return q.messages.ready.length + q.messages.delayed.length + q.messages.inflight.length;
}

/** A TCP server that accepts connections and never answers (a hung dependency). */
export async function startBlackhole(): Promise<{ port: number; connections(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    accepted++;
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  return {
    port,
    connections: () => accepted,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port with nothing listening (connection refused). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface JsonLine {
  [key: string]: unknown;
}

export interface ApiProcess {
  readonly baseUrl: string;
  readonly child: ChildProcess;
  readonly lines: JsonLine[];
  /** Sends SIGTERM and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

function collectJsonLines(stream: NodeJS.ReadableStream, into: JsonLine[], onLine?: (line: JsonLine) => void): void {
  let buffer = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const text = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        const parsed = JSON.parse(text) as JsonLine;
        into.push(parsed);
        onLine?.(parsed);
      } catch {
        // not a JSON line (e.g. a Node warning)
      }
    }
  });
}

/** Spawns `node --require dist/app/tracing.js dist/app/server.js` and waits for `server.listening`. */
export async function startApi(env: NodeJS.ProcessEnv): Promise<ApiProcess> {
  await ensureBundles();
  const child = spawn(
    process.execPath,
    ["--require", path.join(DIST, "app/tracing.js"), path.join(DIST, "app/server.js")],
    {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        PORT: "0",
        HOST: "127.0.0.1",
        AWS_REGION: REGION,
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const lines: JsonLine[] = [];
  let stderr = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (c: string) => (stderr += c));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`API did not start; stderr: ${stderr}`)), 10_000);
    collectJsonLines(child.stdout!, lines, (line) => {
      if (line.event === "server.listening") {
        clearTimeout(timer);
        resolve(line.port as number);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`API exited with ${code}; stdout: ${JSON.stringify(lines)} stderr: ${stderr}`));
    });
  });
  const exited = once(child, "exit").then(([code]) => code as number | null);
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    child,
    lines,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Polls until `check` returns a truthy value or the timeout passes. */
export async function waitFor<T>(check: () => T | undefined | false, timeoutMs = 5000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An SQS message as the Lambda event source mapping delivers it (lowercase attribute shape). */
export function toLambdaRecord(message: Message, queueArn: string): SQSRecord {
  const messageAttributes: SQSRecord["messageAttributes"] = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: value.DataType ?? "String",
      stringValue: value.StringValue,
      binaryValue: value.BinaryValue ? Buffer.from(value.BinaryValue).toString("base64") : undefined,
      stringListValues: [],
      binaryListValues: [],
    };
  }
  const attrs = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    body: message.Body ?? "",
    attributes: {
      ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? "1",
      SentTimestamp: attrs.SentTimestamp ?? String(Date.now()),
      SenderId: attrs.SenderId ?? "000000000000",
      ApproximateFirstReceiveTimestamp: attrs.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(attrs.AWSTraceHeader ? { AWSTraceHeader: attrs.AWSTraceHeader } : {}),
    },
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: REGION,
  };
}

/** A record with the given body/attributes (for hand-made bad records). */
export function makeRecord(
  overrides: Partial<SQSRecord> & { messageId: string },
  queueArn = "arn:aws:sqs:us-east-1:000000000000:onboarding",
): SQSRecord {
  return {
    receiptHandle: `rh-${overrides.messageId}`,
    body: "{}",
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: "0",
      SenderId: "000000000000",
      ApproximateFirstReceiveTimestamp: "0",
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: REGION,
    ...overrides,
  };
}

export function validMessageBody(requestId: string, customerId = "cust-1"): string {
  return JSON.stringify({
    customer_id: customerId,
    email: "ada@example.com",
    company_size: "small",
    name: "Ada",
    request_id: requestId,
    accepted_at: new Date().toISOString(),
  });
}

export const VALID_REQUEST = { customer_id: "cust-42", email: "ada@example.com", company_size: "medium", name: "Ada" };
