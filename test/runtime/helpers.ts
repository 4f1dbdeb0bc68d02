/**
 * Shared helpers for the runtime tests: build the bundles once per mocha run, start real fauxqs, start the API
 * bundle, hand-made Lambda records.
 */
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import path from "node:path";
import type { SQSRecord } from "aws-lambda";
import { startApiProcess } from "../../local/api-process";
import { freePort } from "../../local/ports";
import { sharedAcrossProcesses } from "../../harness/run-cache";
import { buildBundles, type BundleInfo } from "../../scripts/build";

export const REPO_ROOT = path.resolve(__dirname, "../..");
export const DIST = path.join(REPO_ROOT, "dist");
export const TEST_CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" } as const;
export const REGION = "us-east-1";

let bundles: Promise<BundleInfo[]> | undefined;
/**
 * Builds dist/ once per test run (every bundle test exercises what `npm run build` produces): one worker builds, the
 * others wait for it (harness/run-cache.ts), so no process runs a bundle another is rewriting. Every test that starts
 * the local stack or `npm start` calls this first.
 */
export function ensureBundles(): Promise<BundleInfo[]> {
  bundles ??= sharedAcrossProcesses(
    "bundles in dist/",
    () => buildBundles(),
    (error) => ({ message: (error as Error).message, data: undefined }),
    ({ message }) => new Error(message),
    120_000,
  );
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
  /** Every JSON line it has logged so far (stdout and stderr). */
  readonly lines: JsonLine[];
  /** Sends `signal` (SIGTERM) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts the API bundle (local/api-process.ts, as `npm start` does) on a free loopback port with test AWS settings. */
export async function startApi(env: NodeJS.ProcessEnv): Promise<ApiProcess> {
  await ensureBundles();
  const lines: JsonLine[] = [];
  const api = await startApiProcess({
    root: REPO_ROOT,
    port: await freePort(),
    env: {
      PATH: process.env.PATH,
      HOST: "127.0.0.1",
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      ...env,
    },
    onLine: (text) => {
      try {
        lines.push(JSON.parse(text) as JsonLine);
      } catch {
        // not a JSON line (e.g. a Node warning)
      }
    },
  });
  return {
    baseUrl: api.url,
    child: api.child,
    lines,
    // Shutdown is what these tests watch: a slow drain must show as a failed assertion, not be cut short here.
    stop: (signal = "SIGTERM") => api.stop({ signal, graceMs: 60_000 }),
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
