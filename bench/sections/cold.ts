/**
 * 2. Lambda cold init: a fresh `node` process loading dist/lambda/handler.js up to "ready" minus a bare `node -e ""`
 * process, alternated, median of N runs each. The secret fetch is served by a loopback Secrets Manager stub.
 */
import { spawn } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { LAMBDA_SERVICE_NAME } from "../../packages/traced-components/src/contract/service-names";
import {
  CORALOGIX_DOMAIN_ENV,
  CORALOGIX_SECRET_ARN_ENV,
} from "../../packages/traced-components/src/contract/runtime-env";
import { BenchConfig } from "../lib/config";
import { baseEnv } from "../lib/proc";
import { DIST, Service, benchServiceIdentityEnv, startReceiver, startSecretsStub } from "../lib/services";
import { median, round } from "../lib/stats";

/**
 * Child program (passed with `node -e`, so it has the same shape as the bare baseline): require the bundle, then
 * wait for readiness. Readiness = the handler's exported readiness promise if it has one, otherwise one invocation
 * with an empty batch (provider, exporter and secret are all initialised by then).
 */
export function coldChildSource(handlerPath: string): string {
  return `
const t0 = performance.now();
const m = require(${JSON.stringify(handlerPath)});
const loaded = performance.now();
const readyExport = ["ready", "initialized", "telemetryReady", "init"].find((k) => m[k] !== undefined);
let via;
let p;
if (readyExport && typeof m[readyExport].then === "function") { via = "export:" + readyExport; p = m[readyExport]; }
else if (readyExport && typeof m[readyExport] === "function") { via = "export:" + readyExport + "()"; p = m[readyExport](); }
else {
  via = "empty-invocation";
  const end = Date.now() + 30000;
  p = m.handler({ Records: [] }, { getRemainingTimeInMillis: () => end - Date.now(), functionName: "bench",
    awsRequestId: "cold-0", invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:bench" });
}
Promise.resolve(p).then(() => {
  const ready = performance.now();
  process.stdout.write(JSON.stringify({ via, requireMs: loaded - t0, readyMs: ready - t0, sinceOriginMs: ready }) + "\\n");
  process.exit(0);
}, (e) => { console.error(e); process.exit(1); });
`;
}

export interface RunResult {
  wallMs: number;
  stdout: string;
  stderr: string;
  code: number | null;
}

export function timedNode(args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const proc = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    proc.on("error", reject);
    proc.on("exit", (code) => resolve({ wallMs: performance.now() - start, stdout, stderr, code }));
  });
}

export interface ColdResult {
  runs: number;
  readiness: string;
  bareNodeMs: number;
  handlerNodeMs: number;
  addedMs: number;
  /** Inside the child: require() of the bundle, and require → ready, medians. */
  requireMs: number;
  readyMs: number;
  secretFetches: number;
  /** The same handler with only OTEL_EXPORTER_OTLP_ENDPOINT (no secret → no Secrets Manager client loaded). */
  withoutSecret: { handlerNodeMs: number; addedMs: number; requireMs: number; readyMs: number };
  bundleBytes: number;
  bundleGzipBytes: number;
  appBundles: { file: string; bytes: number; gzipBytes: number }[];
  samples: { bareMs: number[]; handlerMs: number[]; withoutSecretMs: number[] };
}

export function bundleSize(file: string): { bytes: number; gzipBytes: number } {
  return { bytes: statSync(file).size, gzipBytes: gzipSync(readFileSync(file), { level: 9 }).length };
}

export async function benchCold(cfg: BenchConfig["cold"], log: (s: string) => void): Promise<ColdResult> {
  const secrets: Service = await startSecretsStub();
  // The exporter needs somewhere to point that is not the internet; the Coralogix path (secret ARN + domain) is the
  // production one, so it is exercised, and the endpoint override keeps the (lazy) gRPC channel on loopback.
  const receiver = await startReceiver();
  const env = baseEnv({
    AWS_LAMBDA_FUNCTION_NAME: "onboarding-consumer-bench",
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    [CORALOGIX_SECRET_ARN_ENV]: "arn:aws:secretsmanager:us-east-1:000000000000:secret:bench-telemetry",
    [CORALOGIX_DOMAIN_ENV]: "us2",
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    ...benchServiceIdentityEnv(LAMBDA_SERVICE_NAME),
  });
  // Same, without the secret (OTLP endpoint only: how the local stack and tests run it) — shows the Secrets
  // Manager client's share of the cold init.
  const noSecretEnv = { ...env };
  delete noSecretEnv[CORALOGIX_SECRET_ARN_ENV];
  delete noSecretEnv[CORALOGIX_DOMAIN_ENV];
  delete noSecretEnv.AWS_ENDPOINT_URL_SECRETS_MANAGER;
  const bareEnv = baseEnv();
  const childSource = coldChildSource(DIST.lambda);
  try {
    // One untimed run each: page cache, and a clear error if the bundle cannot reach ready.
    const probe = await timedNode(["-e", childSource], env);
    if (probe.code !== 0) throw new Error(`handler cold child failed (${probe.code}): ${probe.stderr.slice(-1500)}`);
    await timedNode(["-e", ""], bareEnv);
    const bare: number[] = [];
    const handler: number[] = [];
    const noSecret: number[] = [];
    const inner: { via: string; requireMs: number; readyMs: number }[] = [];
    const innerNoSecret: { via: string; requireMs: number; readyMs: number }[] = [];
    const handlerRun = async (runEnv: NodeJS.ProcessEnv) => {
      const run = await timedNode(["-e", childSource], runEnv);
      if (run.code !== 0) throw new Error(`handler cold child failed (${run.code}): ${run.stderr.slice(-1500)}`);
      return { wallMs: run.wallMs, inner: JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}") };
    };
    const orders: ("bare" | "handler" | "noSecret")[][] = [
      ["bare", "handler", "noSecret"],
      ["handler", "noSecret", "bare"],
      ["noSecret", "bare", "handler"],
    ];
    for (let i = 0; i < cfg.runs; i++) {
      for (const which of orders[i % orders.length]) {
        if (which === "bare") {
          bare.push((await timedNode(["-e", ""], bareEnv)).wallMs);
        } else if (which === "handler") {
          const run = await handlerRun(env);
          handler.push(run.wallMs);
          inner.push(run.inner);
        } else {
          const run = await handlerRun(noSecretEnv);
          noSecret.push(run.wallMs);
          innerNoSecret.push(run.inner);
        }
      }
    }
    const secretFetches = (await secrets.child.request<{ calls: number }>({ cmd: "stats" })).calls;
    const bundle = bundleSize(DIST.lambda);
    const result: ColdResult = {
      runs: cfg.runs,
      readiness: inner[0]?.via ?? "unknown",
      bareNodeMs: round(median(bare), 1),
      handlerNodeMs: round(median(handler), 1),
      addedMs: round(median(handler) - median(bare), 1),
      requireMs: round(median(inner.map((x) => x.requireMs)), 1),
      readyMs: round(median(inner.map((x) => x.readyMs)), 1),
      secretFetches,
      withoutSecret: {
        handlerNodeMs: round(median(noSecret), 1),
        addedMs: round(median(noSecret) - median(bare), 1),
        requireMs: round(median(innerNoSecret.map((x) => x.requireMs)), 1),
        readyMs: round(median(innerNoSecret.map((x) => x.readyMs)), 1),
      },
      bundleBytes: bundle.bytes,
      bundleGzipBytes: bundle.gzipBytes,
      appBundles: [DIST.tracing, DIST.server].map((file) => ({
        file: file.slice(file.indexOf("dist")),
        ...bundleSize(file),
      })),
      samples: {
        bareMs: bare.map((x) => round(x, 1)),
        handlerMs: handler.map((x) => round(x, 1)),
        withoutSecretMs: noSecret.map((x) => round(x, 1)),
      },
    };
    log(
      `  cold: bare ${result.bareNodeMs} ms, handler ${result.handlerNodeMs} ms → +${result.addedMs} ms ` +
        `(require ${result.requireMs} ms, ready ${result.readyMs} ms via ${result.readiness}; secret fetches ${secretFetches}); ` +
        `without secret +${result.withoutSecret.addedMs} ms`,
    );
    return result;
  } finally {
    await Promise.all([secrets.child.stop(), receiver.child.stop()]);
  }
}
