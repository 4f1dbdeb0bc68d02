/**
 * 3. Flush: p50/p99 of the end-of-invocation flush of 10 spans to a loopback OTLP receiver (shipped telemetry code),
 * and the bundled handler's duration when the receiver is down (closed port, blackhole, slow) versus its timeout.
 */
import * as grpc from "@grpc/grpc-js";
import * as net from "node:net";
import * as path from "node:path";
import { LAMBDA_SERVICE_NAME } from "../../packages/traced-components/src/contract/service-names";
import { BenchConfig } from "../lib/config";
import { freePort } from "../../local/ports";
import { REPO_ROOT, baseEnv, spawnNode } from "../lib/proc";
import { DIST, receiverCounts, startReceiver } from "../lib/services";
import { median, percentile, round } from "../lib/stats";

const TRACE_EXPORT_PATH = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

export interface DownScenario {
  scenario: "closed-port" | "blackhole" | "slow-receiver" | "blackhole-1s-timeout";
  description: string;
  timeoutMs: number;
  records: number;
  durationsMs: number[];
  maxMs: number;
  withinTimeout: boolean;
  /** Records reported failed (must be 0: telemetry trouble never fails business records). */
  batchItemFailures: number[];
}

export interface FlushResult {
  invocations: number;
  spansPerFlush: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  firstFlushMs: number;
  outcomes: Record<string, number>;
  spansEmitted: number;
  spansReceived: number;
  down: DownScenario[];
}

/** Accepts TCP connections and never sends a byte: a collector that is "up" but blackholed. */
export async function startBlackhole(): Promise<{ endpoint: string; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A real gRPC server whose Export never answers within the test (holds each call for 60 s). */
async function startSlowReceiver(): Promise<{ endpoint: string; close: () => Promise<void> }> {
  const server = new grpc.Server();
  const timers = new Set<NodeJS.Timeout>();
  server.addService(
    {
      Export: {
        path: TRACE_EXPORT_PATH,
        requestStream: false,
        responseStream: false,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: () => Buffer.alloc(0),
        responseDeserialize: (b: Buffer) => b,
      },
    },
    {
      Export: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const t = setTimeout(() => callback(null, Buffer.alloc(0)), 60000);
        timers.add(t);
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      server.forceShutdown();
    },
  };
}

async function runHandlerDown(
  scenario: DownScenario["scenario"],
  description: string,
  endpoint: string,
  cfg: BenchConfig["flush"],
): Promise<DownScenario> {
  const timeoutMs = scenario === "blackhole-1s-timeout" ? 1000 : cfg.downTimeoutMs;
  const invocations = cfg.downInvocations;
  const child = spawnNode(
    path.join(REPO_ROOT, "bench", "procs", "handler-down.ts"),
    [JSON.stringify({ handlerPath: DIST.lambda, records: cfg.downRecords, timeoutMs, invocations })],
    {
      nodeArgs: ["--require", "tsx/cjs"],
      env: baseEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_SERVICE_NAME: LAMBDA_SERVICE_NAME,
        AWS_LAMBDA_FUNCTION_NAME: "onboarding-consumer-bench",
      }),
    },
  );
  try {
    const reply = await child.waitForMessage<{ done: boolean; durations: number[]; failures: number[] }>(
      (m) => m?.done === true,
      invocations * timeoutMs + 30000,
    );
    const maxMs = Math.max(...reply.durations);
    return {
      scenario,
      description,
      timeoutMs,
      records: cfg.downRecords,
      durationsMs: reply.durations.map((x) => round(x, 1)),
      maxMs: round(maxMs, 1),
      withinTimeout: maxMs < timeoutMs,
      batchItemFailures: reply.failures,
    };
  } finally {
    await child.stop("SIGKILL");
  }
}

export async function benchFlush(cfg: BenchConfig["flush"], log: (s: string) => void): Promise<FlushResult> {
  const receiver = await startReceiver();
  let result: Omit<FlushResult, "down">;
  try {
    const warmup = 5;
    const child = spawnNode(
      path.join(REPO_ROOT, "bench", "procs", "flush-child.ts"),
      [String(cfg.invocations), String(cfg.spansPerFlush), String(warmup)],
      {
        nodeArgs: ["--require", "tsx/cjs"],
        env: baseEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_SERVICE_NAME: LAMBDA_SERVICE_NAME }),
      },
    );
    const reply = await child.waitForMessage<{
      done: boolean;
      samples: number[];
      outcomes: Record<string, number>;
      firstFlushMs: number;
      spansEmitted: number;
    }>((m) => m?.done === true, 120000);
    await child.stop();
    const counts = await receiverCounts(receiver);
    result = {
      invocations: reply.samples.length,
      spansPerFlush: cfg.spansPerFlush,
      p50Ms: round(median(reply.samples), 2),
      p99Ms: round(percentile(reply.samples, 99), 2),
      maxMs: round(Math.max(...reply.samples), 2),
      firstFlushMs: round(reply.firstFlushMs, 2),
      outcomes: reply.outcomes,
      spansEmitted: reply.spansEmitted,
      spansReceived: counts.spans,
    };
    log(
      `  flush: ${result.invocations}× ${cfg.spansPerFlush} spans p50 ${result.p50Ms} ms p99 ${result.p99Ms} ms ` +
        `(first ${result.firstFlushMs} ms; received ${result.spansReceived}/${result.spansEmitted})`,
    );
  } finally {
    await receiver.child.stop();
  }

  const down: DownScenario[] = [];
  const closedPort = await freePort();
  down.push(
    await runHandlerDown("closed-port", "nothing listens (ECONNREFUSED)", `http://127.0.0.1:${closedPort}`, cfg),
  );
  const blackhole = await startBlackhole();
  try {
    down.push(await runHandlerDown("blackhole", "TCP accepted, no byte ever sent", blackhole.endpoint, cfg));
    down.push(
      await runHandlerDown(
        "blackhole-1s-timeout",
        "blackhole, function with 1 s left: the flush deadline must shrink with the remaining time",
        blackhole.endpoint,
        cfg,
      ),
    );
  } finally {
    await blackhole.close();
  }
  const slow = await startSlowReceiver();
  try {
    down.push(await runHandlerDown("slow-receiver", "gRPC Export held for 60 s", slow.endpoint, cfg));
  } finally {
    await slow.close();
  }
  for (const d of down) {
    log(`  handler with receiver down (${d.scenario}): ${d.durationsMs.join(", ")} ms vs timeout ${d.timeoutMs} ms`);
  }
  return { ...result, down };
}
