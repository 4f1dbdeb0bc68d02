/** Starting the bench's helper processes (SQS servers, OTLP receiver) and the real bundled API. */
import { tmpdir } from "node:os";
import * as path from "node:path";
import { startApiProcess } from "../../local/api-process";
import { API_SERVICE_NAME } from "../../packages/traced-components/src/contract/service-names";
import { serviceIdentityEnv } from "../../packages/traced-components/src/contract/resource-attributes-env";
import { HOST_ENV, PORT_ENV, QUEUE_URL_ENV } from "../../packages/traced-components/src/contract/runtime-env";
import { freePort } from "../../local/ports";
import { Child, REPO_ROOT, baseEnv, spawnNode } from "./proc";

const TSX = ["--require", "tsx/cjs"];

export interface Service {
  child: Child;
  endpoint: string;
  port: number;
  queueUrl?: string;
}

async function startProc(script: string): Promise<Service> {
  const child = spawnNode(path.join(REPO_ROOT, "bench", "procs", script), [], { nodeArgs: TSX });
  const ready = await child.waitForMessage<{ ready?: boolean; endpoint: string; port: number; queueUrl?: string }>(
    (m) => m?.ready === true,
    30000,
  );
  return { child, endpoint: ready.endpoint, port: ready.port, queueUrl: ready.queueUrl };
}

export const startSqsStub = () => startProc("sqs-stub.ts");
export const startSecretsStub = () => startProc("secrets-stub.ts");
export const startReceiver = () => startProc("otlp-receiver.ts");
export const startFauxqsServer = () => startProc("fauxqs-server.ts");
/** dynalite with the onboarding table named {@link BENCH_TABLE}. */
export const startDynalite = () => startProc("dynalite-server.ts");
export const BENCH_TABLE = "onboarding-bench";

export interface ReceiverCounts {
  spans: number;
  exports: number;
  byName: Record<string, number>;
  byKind: Record<string, number>;
}

export async function receiverCounts(receiver: Service): Promise<ReceiverCounts> {
  return (await receiver.child.request<{ counts: ReceiverCounts }>({ cmd: "stats" })).counts;
}

export interface ApiProcess {
  /** The API process: its pid (for CPU accounting), its last output, stop(). */
  child: Pick<Child, "pid" | "output" | "stop">;
  url: string;
  tracing: boolean;
}

export const DIST = {
  tracing: path.join(REPO_ROOT, "dist", "app", "tracing.js"),
  server: path.join(REPO_ROOT, "dist", "app", "server.js"),
  lambda: path.join(REPO_ROOT, "dist", "lambda", "handler.js"),
};

/** The API's environment on loopback: its port, the SQS side to publish to and the OTLP receiver to export to. */
export function apiEnv(
  port: number,
  sqs: Pick<Service, "endpoint" | "queueUrl">,
  otlpEndpoint: string,
  extra: Record<string, string | undefined> = {},
): NodeJS.ProcessEnv {
  return baseEnv({
    [PORT_ENV]: String(port),
    [HOST_ENV]: "127.0.0.1",
    [QUEUE_URL_ENV]: sqs.queueUrl,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint,
    ...extra,
  });
}

/** The identity the components give a service (packages/traced-components/src/traced-service-args.ts), for a bench run. */
export function benchServiceIdentityEnv(serviceName: string): Record<string, string> {
  return serviceIdentityEnv({
    serviceName,
    application: "customer-onboarding",
    version: "bench",
    environment: "bench",
  });
}

/**
 * The real bundled API exactly as production starts it: `node --require dist/app/tracing.js dist/app/server.js`.
 * Tracing off = `OTEL_SDK_DISABLED=true` (same binary, same preload).
 */
export async function startApi(options: {
  tracing: boolean;
  sqs: Service;
  otlpEndpoint: string;
  name: string;
}): Promise<ApiProcess> {
  const port = await freePort();
  const env = apiEnv(port, options.sqs, options.otlpEndpoint, {
    ...benchServiceIdentityEnv(API_SERVICE_NAME),
    OTEL_SDK_DISABLED: options.tracing ? undefined : "true",
  });
  const api = await startApiProcess({
    root: REPO_ROOT,
    env,
    port,
    logFile: path.join(tmpdir(), `bench-api-${options.name}-${process.pid}.log`),
    startTimeoutMs: 30000,
  });
  const child = {
    pid: api.pid,
    output: api.output,
    stop: (signal?: NodeJS.Signals, graceMs?: number) => api.stop({ signal, graceMs }),
  };
  return { child, url: api.url, tracing: options.tracing };
}
