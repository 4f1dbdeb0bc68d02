/**
 * The whole pipeline on loopback, reusable by `npm start` (local/main.ts), tests and the bench:
 *
 * ```
 * POST /onboard → API process (dist/app/server.js, tracing preloaded) ──SendMessage──▶ fauxqs (in-process, + DLQ)
 *                                                                                        │ event-source-mapping emulator
 *                                                                                        ▼ (in-process, IPC invoke)
 *                                                            Lambda host process (dist/lambda/handler.js)
 * both processes ──OTLP/gRPC (OTEL_EXPORTER_OTLP_ENDPOINT)──▶ OTLP receiver → trace store → printer / trace view
 * ```
 *
 * The API and the function are configured only through environment variables (the names in
 * packages/traced-components/src/contract/runtime-env.ts, as the components set them: {@link localApiEnv},
 * {@link localLambdaEnv}); nothing local-only is loaded into them.
 */
import { existsSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import type { SQSClient } from "@aws-sdk/client-sqs";
import {
  startEventSourceMapping,
  type EventSourceMapping,
  type ExecutionEnvironments,
  type InvocationSummary,
} from "./event-source-mapping";
import { DEFAULT_MAX_RECEIVE_COUNT, minimumVisibilityTimeout } from "../packages/traced-components/src/delivery-rules";
import { LAMBDA_SERVICE_NAME } from "../packages/traced-components/src/contract/service-names";
import {
  HOST_ENV,
  ONBOARDING_TABLE_NAME_ENV,
  PORT_ENV,
  QUEUE_URL_ENV,
} from "../packages/traced-components/src/contract/runtime-env";
import { startApiProcess } from "./api-process";
import { freePort } from "./ports";
import { startLambdaHost, type LambdaHost } from "./lambda-host";
import { forwardReceiver, type OtlpForwarder } from "./otlp-forward";
import { startOtlpHttpReceiver, type OtlpHttpReceiver } from "./otlp-http";
import { startOtlpReceiver, type OtlpReceiver } from "./otlp-receiver";
import { createOnboardingTable, startDynamoDb } from "./dynamodb";
import { LOCAL_AWS_CREDENTIALS, startLocalSqs, type LocalSqs } from "./sqs";
import { TraceStore, type TraceStoreOptions } from "./trace-store";
import { startTraceView, type TraceView } from "./trace-view";

export const REPO_ROOT = path.resolve(__dirname, "..");

const FUNCTION_TIMEOUT_MS = 1000;
const BATCHING_WINDOW_MS = 100;
/**
 * Lambda's Init phase limit (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html): a cold
 * start has its own 10 s, separate from the function timeout.
 */
const INIT_TIMEOUT_MS = 10_000;

/**
 * Local defaults, under the deployed stack's delivery rules (packages/traced-components/src/delivery-rules.ts): visibility
 * ≥ 6 × function timeout + batching window, the same maxReceiveCount. The function timeout is short (1 s; the
 * handler takes milliseconds here) so a failed record comes back within seconds and a poison one reaches the DLQ
 * in about half a minute.
 */
export const LOCAL_DEFAULTS = {
  region: "us-east-1",
  queueName: "onboarding",
  visibilityTimeoutSeconds: Math.ceil(
    minimumVisibilityTimeout({
      timeoutSeconds: FUNCTION_TIMEOUT_MS / 1000,
      batchingWindowSeconds: BATCHING_WINDOW_MS / 1000,
    }),
  ),
  maxReceiveCount: DEFAULT_MAX_RECEIVE_COUNT,
  batchSize: 10,
  maximumBatchingWindowMs: BATCHING_WINDOW_MS,
  functionTimeoutMs: FUNCTION_TIMEOUT_MS,
  concurrency: 2,
  initTimeoutMs: INIT_TIMEOUT_MS,
  functionName: LAMBDA_SERVICE_NAME,
} as const;

/** Which env var moves which port (for the port-in-use message). */
export const PORT_VARIABLES = {
  api: "PORT",
  traceView: "TRACE_VIEW_PORT",
  otlp: "OTLP_PORT",
  otlpHttp: "OTLP_HTTP_PORT",
  sqs: "SQS_PORT",
} as const;

/** `npm start`'s default ports; a busy-port message never suggests one of them for another service. */
export const DEFAULT_PORTS = { api: 8000, traceView: 16686, otlp: 4317, otlpHttp: 4318, sqs: 4566 } as const;

/** The next port after `port` that is none of `avoid` (the stack's other ports). */
export function suggestPort(port: number, avoid: readonly number[]): number {
  let next = port + 1;
  while (avoid.includes(next) || next > 65535) next = next > 65535 ? 1024 : next + 1;
  return next;
}

export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly variable: string,
    readonly what: string,
    /** Ports the suggestion must not be (the stack's other ports, OTLP's 4317/4318…). */
    avoid: readonly number[] = Object.values(DEFAULT_PORTS),
  ) {
    super(
      `Port ${port} (${what}) is already in use — set ${variable} to another port, e.g. ${variable}=${suggestPort(port, avoid)}.`,
    );
    this.name = "PortInUseError";
  }
}

export interface LocalStackOptions {
  /** API port; 0 = ephemeral. @default 0 */
  readonly apiPort?: number;
  /** Trace view port; 0 = ephemeral, false = no view. @default false */
  readonly traceViewPort?: number | false;
  /** OTLP receiver port; 0 = ephemeral. @default 0 */
  readonly otlpPort?: number;
  /** OTLP/HTTP receiver port (`POST /v1/traces`, protobuf or JSON); 0 = ephemeral, false = none. @default 0 */
  readonly otlpHttpPort?: number | false;
  /**
   * Copy every received export to this OTLP/gRPC endpoint (a collector, a Jaeger): `http://host:4317` or
   * `https://…`. Failures are reported through `onForwardError`, never to the children.
   */
  readonly forwardEndpoint?: string;
  readonly forwardHeaders?: Record<string, string>;
  readonly onForwardError?: (message: string) => void;
  /** fauxqs port; 0 = ephemeral. @default 0 */
  readonly sqsPort?: number;
  /**
   * false: start no receiver — the children export to a closed loopback port (the "collector down" case).
   * @default true
   */
  readonly receiver?: boolean;
  /** Receiver requires `authorization: Bearer <key>`; the children get it via OTEL_EXPORTER_OTLP_HEADERS. */
  readonly otlpBearerToken?: string;
  /** Build dist/ with scripts/build.ts `buildBundles()` first: "always", "if-missing" or "never". @default "if-missing" */
  readonly build?: "always" | "if-missing" | "never";
  /** @default repository root */
  readonly rootDir?: string;
  /** Function module and export. @default "<root>/dist/lambda/handler.js", "handler" */
  readonly lambdaHandlerFile?: string;
  readonly lambdaExportName?: string;
  readonly queueName?: string;
  readonly visibilityTimeoutSeconds?: number;
  readonly maxReceiveCount?: number;
  readonly batchSize?: number;
  readonly maximumBatchingWindowMs?: number;
  readonly functionTimeoutMs?: number;
  /** Concurrent pollers/invocations = Lambda execution environments (processes). @default 2 */
  readonly concurrency?: number;
  readonly region?: string;
  /** Extra environment for the API / the function (e.g. OTEL_* tuning); applied last. */
  readonly apiEnv?: Record<string, string>;
  readonly lambdaEnv?: Record<string, string>;
  /** The DynamoDB-protocol server's port (0 = any free port) and the onboarding table's name. */
  readonly dynamodbPort?: number;
  readonly tableName?: string;
  /** Child output, one line at a time. Default: discarded. */
  readonly onLog?: (source: "api" | "lambda", line: string, stream: "stdout" | "stderr") => void;
  readonly onInvocation?: (summary: InvocationSummary) => void;
  readonly traceStore?: TraceStoreOptions;
}

export interface LocalStack {
  /** `http://127.0.0.1:<port>` of the API. */
  readonly apiUrl: string;
  readonly apiPort: number;
  readonly apiPid: number;
  /** undefined when started with `receiver: false`. */
  readonly receiver: OtlpReceiver | undefined;
  /** The endpoint the children export to. */
  readonly otlpEndpoint: string;
  /** OTLP/HTTP beside the gRPC receiver (undefined with `receiver: false` or `otlpHttpPort: false`). */
  readonly otlpHttp: OtlpHttpReceiver | undefined;
  /** Set when `forwardEndpoint` is. */
  readonly forwarder: OtlpForwarder | undefined;
  readonly traces: TraceStore;
  readonly traceView: TraceView | undefined;
  readonly sqs: LocalSqs;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly sqsEndpoint: string;
  /** The DynamoDB-protocol server (dynalite) holding the onboarding table. */
  readonly dynamodbEndpoint: string;
  readonly tableName: string;
  /** The Lambda execution environments (one process per concurrent invocation). */
  readonly lambdas: readonly LambdaHost[];
  readonly eventSourceMapping: EventSourceMapping;
  /** Environments the children were started with. */
  readonly env: { readonly api: Record<string, string>; readonly lambda: Record<string, string> };
  /** POST /onboard with a JSON body; resolves with the status and parsed body. */
  onboard(body: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  /**
   * Stops everything: the emulator (finishing running invocations), SIGTERM to both children (they flush, then exit;
   * SIGKILL after 5 s), then the receiver, trace view and SQS server. Idempotent.
   */
  stop(): Promise<void>;
}

/** Starts the stack; on failure everything already started is stopped again before the error is thrown. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const root = options.rootDir ?? REPO_ROOT;
  const region = options.region ?? LOCAL_DEFAULTS.region;
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  let stopped: Promise<void> | undefined;
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // keep stopping the rest
      }
    }
  };

  try {
    await assertPortsFree([
      [options.apiPort ?? 0, PORT_VARIABLES.api, "onboarding API"],
      [options.traceViewPort === false ? 0 : (options.traceViewPort ?? 0), PORT_VARIABLES.traceView, "trace view"],
      [options.otlpPort ?? 0, PORT_VARIABLES.otlp, "OTLP receiver"],
      [options.otlpHttpPort === false ? 0 : (options.otlpHttpPort ?? 0), PORT_VARIABLES.otlpHttp, "OTLP/HTTP receiver"],
      [options.sqsPort ?? 0, PORT_VARIABLES.sqs, "SQS server"],
    ]);
    await ensureBundles(root, options.build ?? "if-missing");

    const traces = new TraceStore(options.traceStore);
    cleanups.push(() => traces.close());

    let receiver: OtlpReceiver | undefined;
    let otlpEndpoint: string;
    if (options.receiver === false) {
      otlpEndpoint = `http://127.0.0.1:${await freePort()}`; // nothing listens there
    } else {
      receiver = await startOtlpReceiver({
        port: options.otlpPort ?? 0,
        ...(options.otlpBearerToken !== undefined ? { requiredBearerToken: options.otlpBearerToken } : {}),
      });
      cleanups.push(() => receiver?.close());
      receiver.onSpans((spans) => traces.add(spans));
      otlpEndpoint = receiver.endpoint;
    }

    let otlpHttp: OtlpHttpReceiver | undefined;
    if (receiver && options.otlpHttpPort !== false) {
      otlpHttp = await startOtlpHttpReceiver({ receiver, port: options.otlpHttpPort ?? 0 });
      cleanups.push(() => otlpHttp?.close());
    }
    let forwarder: OtlpForwarder | undefined;
    if (receiver && options.forwardEndpoint) {
      forwarder = forwardReceiver(receiver, {
        endpoint: options.forwardEndpoint,
        ...(options.forwardHeaders ? { headers: options.forwardHeaders } : {}),
        ...(options.onForwardError ? { onError: options.onForwardError } : {}),
      });
      // Closed after the children flushed (cleanups run in reverse), so their last spans are forwarded too.
      cleanups.push(() => forwarder?.close());
    }

    const traceView =
      options.traceViewPort === false || options.traceViewPort === undefined
        ? undefined
        : await startTraceView({ store: traces, port: options.traceViewPort });
    if (traceView) cleanups.push(() => traceView.close());

    const sqs = await startLocalSqs({
      port: options.sqsPort ?? 0,
      region,
      queueName: options.queueName ?? LOCAL_DEFAULTS.queueName,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? LOCAL_DEFAULTS.visibilityTimeoutSeconds,
      maxReceiveCount: options.maxReceiveCount ?? LOCAL_DEFAULTS.maxReceiveCount,
    });
    cleanups.push(() => sqs.stop());

    // The onboarding table on a DynamoDB-protocol server (dynalite, in memory), as the stack creates it.
    const dynamodb = await startDynamoDb(options.dynamodbPort ?? 0);
    cleanups.push(() => dynamodb.close());
    const tableName = options.tableName ?? "onboarding";
    await createOnboardingTable(dynamodb.endpoint, tableName);
    const processInputs: LocalProcessInputs = {
      region,
      tableName,
      dynamodbEndpoint: dynamodb.endpoint,
      otlpEndpoint,
      ...(options.otlpBearerToken !== undefined ? { otlpBearerToken: options.otlpBearerToken } : {}),
    };

    const handlerFile = options.lambdaHandlerFile ?? path.join(root, "dist/lambda/handler.js");
    const lambdaEnv = localLambdaEnv({
      ...processInputs,
      handlerFile,
      exportName: options.lambdaExportName ?? "handler",
      extra: options.lambdaEnv,
    });
    // One execution environment per concurrent invocation, as Lambda does (an environment runs one invocation at a
    // time); each is its own process with its own cold start.
    const concurrency = options.concurrency ?? LOCAL_DEFAULTS.concurrency;
    let environments = 0;
    const startEnvironment = () => {
      environments += 1;
      return startLambdaHost({
        handlerFile,
        exportName: options.lambdaExportName ?? "handler",
        env: { ...lambdaEnv, AWS_LAMBDA_LOG_STREAM_NAME: `local/[$LATEST]environment-${environments}` },
        initTimeoutMs: LOCAL_DEFAULTS.initTimeoutMs,
        onLog: (line, stream) => options.onLog?.("lambda", line, stream),
      });
    };
    // Every environment ever started, so stop() reaches replacements too.
    const lambdas: LambdaHost[] = [];
    cleanups.push(() => Promise.all(lambdas.map((host) => host.stop(5000))));
    const settled = await Promise.allSettled(Array.from({ length: concurrency }, startEnvironment));
    for (const result of settled) if (result.status === "fulfilled") lambdas.push(result.value);
    const failedStart = settled.find((result): result is PromiseRejectedResult => result.status === "rejected");
    if (failedStart) throw failedStart.reason;
    const pool = environmentPool(lambdas, async () => {
      const host = await startEnvironment();
      lambdas.push(host);
      return host;
    });

    const apiPort = options.apiPort || (await freePort());
    const apiEnv = localApiEnv({
      ...processInputs,
      queueUrl: sqs.queueUrl,
      sqsEndpoint: sqs.endpoint,
      port: apiPort,
      extra: options.apiEnv,
    });
    const api = await startApiProcess({
      root,
      env: apiEnv,
      port: apiPort,
      onLine: (line, stream) => options.onLog?.("api", line, stream),
    });
    void api.exited.then((code) => {
      // Ctrl-C reaches the API too (same process group): it drains and exits 0 on its own SIGINT, as in production.
      if (!api.stopping && stopped === undefined)
        options.onLog?.(
          "api",
          `[local] the API process exited unexpectedly (code ${code}); restart npm start`,
          "stderr",
        );
    });
    cleanups.push(() => api.stop({ graceMs: 5000 }));

    const sqsClient: SQSClient = sqs.createClient();
    cleanups.push(() => sqsClient.destroy());
    const eventSourceMapping = startEventSourceMapping({
      sqs: sqsClient,
      queueUrl: sqs.queueUrl,
      queueArn: sqs.queueArn,
      region,
      invoke: pool,
      functionName: LOCAL_DEFAULTS.functionName,
      batchSize: options.batchSize ?? LOCAL_DEFAULTS.batchSize,
      maximumBatchingWindowMs: options.maximumBatchingWindowMs ?? LOCAL_DEFAULTS.maximumBatchingWindowMs,
      functionTimeoutMs: options.functionTimeoutMs ?? LOCAL_DEFAULTS.functionTimeoutMs,
      concurrency,
      ...(options.onInvocation ? { onInvocation: options.onInvocation } : {}),
    });
    // Stop polling before the function host goes away (cleanups run in reverse order).
    cleanups.push(() => eventSourceMapping.stop());

    const apiUrl = `http://127.0.0.1:${apiPort}`;
    return {
      apiUrl,
      apiPort,
      apiPid: api.pid,
      receiver,
      otlpEndpoint,
      otlpHttp,
      forwarder,
      traces,
      traceView,
      sqs,
      queueUrl: sqs.queueUrl,
      dlqUrl: sqs.dlqUrl,
      sqsEndpoint: sqs.endpoint,
      dynamodbEndpoint: dynamodb.endpoint,
      tableName,
      lambdas,
      eventSourceMapping,
      env: { api: apiEnv, lambda: lambdaEnv },
      onboard: (body) => postJson(`${apiUrl}/onboard`, body),
      stop() {
        stopped ??= cleanup();
        return stopped;
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/**
 * Lends each invocation an idle environment; waits when all are busy (e.g. one still running after a timeout).
 * An environment whose process died (a crash in the function) is replaced by a fresh one, with its own cold start —
 * as Lambda does. Waiting and the cold start happen before the function timeout starts (see event-source-mapping.ts).
 */
function environmentPool(initial: readonly LambdaHost[], replace: () => Promise<LambdaHost>): ExecutionEnvironments {
  const idle = [...initial];
  const waiting: ((host: LambdaHost) => void)[] = [];
  const release = (host: LambdaHost) => {
    const next = waiting.shift();
    if (next) next(host);
    else idle.push(host);
  };
  return {
    async acquire() {
      let host = idle.pop() ?? (await new Promise<LambdaHost>((resolve) => waiting.push(resolve)));
      let initDurationMs: number | undefined;
      if (!host.alive) {
        const coldStart = Date.now();
        try {
          host = await replace();
        } catch (error) {
          release(host); // still dead: the next invocation tries again
          throw error;
        }
        initDurationMs = Date.now() - coldStart;
      }
      const leased = host;
      let released = false;
      return {
        invoke: leased.invoke,
        ...(initDurationMs !== undefined ? { initDurationMs } : {}),
        release() {
          if (released) return;
          released = true;
          release(leased);
        },
      };
    },
  };
}

/** What the local stack knows when it starts a child: its stand-ins for what the stack's resources are in AWS. */
export interface LocalProcessInputs {
  readonly region: string;
  readonly tableName: string;
  /** The DynamoDB-protocol server (dynalite). */
  readonly dynamodbEndpoint: string;
  /** Where the children export (the OTLP receiver). */
  readonly otlpEndpoint: string;
  /** Sent as `authorization: Bearer <token>` through OTEL_EXPORTER_OTLP_HEADERS. */
  readonly otlpBearerToken?: string;
}

function sharedEnv(inputs: LocalProcessInputs) {
  return {
    dynamodb: { [ONBOARDING_TABLE_NAME_ENV]: inputs.tableName, AWS_ENDPOINT_URL_DYNAMODB: inputs.dynamodbEndpoint },
    otlp: {
      OTEL_EXPORTER_OTLP_ENDPOINT: inputs.otlpEndpoint,
      ...(inputs.otlpBearerToken !== undefined
        ? { OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${encodeURIComponent(inputs.otlpBearerToken)}` }
        : {}),
    },
    aws: {
      AWS_REGION: inputs.region,
      AWS_DEFAULT_REGION: inputs.region,
      AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey,
    },
  };
}

/**
 * The function's environment: what TracedContainerLambda gives it (runtime-env.ts; AWS_ONLY_ENV lists what it does
 * not), plus what Lambda's runtime provides, `extra` last. The log stream is per execution environment.
 */
export function localLambdaEnv(
  inputs: LocalProcessInputs & {
    readonly handlerFile: string;
    readonly exportName: string;
    readonly extra?: Record<string, string> | undefined;
  },
): Record<string, string> {
  const shared = sharedEnv(inputs);
  const functionName = LOCAL_DEFAULTS.functionName;
  return {
    ...baseEnv(),
    ...shared.aws,
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "512",
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: "local/[$LATEST]local",
    AWS_EXECUTION_ENV: "AWS_Lambda_nodejs24.x",
    LAMBDA_TASK_ROOT: path.dirname(inputs.handlerFile),
    _HANDLER: `${path.basename(inputs.handlerFile, path.extname(inputs.handlerFile))}.${inputs.exportName}`,
    ...shared.dynamodb,
    ...shared.otlp,
    ...inputs.extra,
  };
}

/** The API's environment: what TracedFargateService gives its app container (less AWS_ONLY_ENV), `extra` last. */
export function localApiEnv(
  inputs: LocalProcessInputs & {
    readonly queueUrl: string;
    readonly sqsEndpoint: string;
    readonly port: number;
    readonly extra?: Record<string, string> | undefined;
  },
): Record<string, string> {
  const shared = sharedEnv(inputs);
  return {
    ...baseEnv(),
    ...shared.aws,
    [QUEUE_URL_ENV]: inputs.queueUrl,
    AWS_ENDPOINT_URL_SQS: inputs.sqsEndpoint,
    ...shared.dynamodb,
    [PORT_ENV]: String(inputs.port),
    [HOST_ENV]: "127.0.0.1",
    // Standard BatchSpanProcessor delay (default 5 s): short, so a trace shows up right after the request.
    OTEL_BSP_SCHEDULE_DELAY: "200",
    ...shared.otlp,
    ...inputs.extra,
  };
}

/** What every child inherits: PATH/HOME/locale plus the user's own OTEL_* settings (ours override them). */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (["PATH", "HOME", "LANG", "TZ", "TMPDIR", "SYSTEMROOT"].includes(key) || key.startsWith("OTEL_"))
      env[key] = value;
  }
  return env;
}

async function ensureBundles(root: string, mode: "always" | "if-missing" | "never"): Promise<void> {
  const bundles = ["dist/app/tracing.js", "dist/app/server.js", "dist/lambda/handler.js"].map((file) =>
    path.join(root, file),
  );
  if (mode === "never" || (mode === "if-missing" && bundles.every((file) => existsSync(file)))) return;
  const buildScript = path.join(root, "scripts/build.ts");
  if (!existsSync(buildScript)) throw new Error(`${buildScript} is missing: cannot build the bundles`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { buildBundles } = require(buildScript) as { buildBundles: () => Promise<unknown> };
  await buildBundles();
}

/** POST JSON without keep-alive (nothing lingers after the stack stops). */
export function postJson(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const payload = typeof body === "string" ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: "POST",
        agent: false,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: Record<string, unknown>;
          try {
            parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            parsed = { raw: text };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** Throws {@link PortInUseError} for the first fixed port that cannot be bound on 127.0.0.1. */
async function assertPortsFree(ports: [number, string, string][]): Promise<void> {
  for (const [port, variable, what] of ports) {
    if (!port) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (!free) {
      throw new PortInUseError(port, variable, what, [...Object.values(DEFAULT_PORTS), ...ports.map(([p]) => p)]);
    }
  }
}
