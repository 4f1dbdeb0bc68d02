/**
 * 1. API overhead: the real bundled API with tracing on vs off (OTEL_SDK_DISABLED=true), alternated round by round,
 * against a real fauxqs server and against a loopback SQS stub, load from autocannon in its own process.
 */
import * as path from "node:path";
import { BenchConfig, onboardBody } from "../lib/config";
import { REPO_ROOT, baseEnv, processCpuMicros, runToEnd, sleep } from "../lib/proc";
import {
  ApiProcess,
  Service,
  receiverCounts,
  startApi,
  startFauxqsServer,
  startReceiver,
  startSqsStub,
} from "../lib/services";
import { median, round } from "../lib/stats";
import { SERVICE_BATCH_DEFAULTS } from "../../telemetry/provider";

const AUTOCANNON = path.join(REPO_ROOT, "node_modules", "autocannon", "autocannon.js");

export interface LoadResult {
  durationS: number;
  requests: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  rps: number;
  latencyMs: { p50: number; p99: number; avg: number };
}

interface AutocannonJson {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  "2xx": number;
  latency: { p50: number; p99: number; average: number };
  requests: { total: number };
}

/** One fixed-connection autocannon run against POST /onboard, in its own process. */
export async function autocannon(url: string, connections: number, seconds: number): Promise<LoadResult> {
  const args = [
    AUTOCANNON,
    "-j",
    "-n",
    "-c",
    String(connections),
    "-d",
    String(seconds),
    "-m",
    "POST",
    "-H",
    "content-type=application/json",
    "-b",
    onboardBody(1),
    `${url}/onboard`,
  ];
  const { code, stdout, stderr } = await runToEnd(process.execPath, args, {
    env: baseEnv(),
    timeoutMs: seconds * 1000 + 30000,
  });
  const line = stdout.trim().split("\n").pop() ?? "";
  if (code !== 0 || !line.startsWith("{")) throw new Error(`autocannon failed (${code}): ${stderr.slice(-1000)}`);
  const r = JSON.parse(line) as AutocannonJson;
  return {
    durationS: r.duration,
    requests: r.requests.total,
    ok2xx: r["2xx"],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    rps: r["2xx"] / r.duration,
    latencyMs: { p50: r.latency.p50, p99: r.latency.p99, avg: round(r.latency.average) },
  };
}

export interface ApiRound extends LoadResult {
  round: number;
  tracing: boolean;
  cpuUsPerRequest: number;
  spansReceived?: number;
  spansExpected?: number;
  spansByName?: Record<string, number>;
  /** SendMessage calls the SQS side received during the round. */
  messagesSent: number;
  /** CPU the loopback OTLP receiver (a separate process on the same cores) spent per request during the round. */
  receiverCpuUsPerRequest: number;
}

export interface ApiBackendResult {
  backend: "stub" | "fauxqs";
  rounds: ApiRound[];
  summary: {
    rpsOn: number;
    rpsOff: number;
    ratio: number;
    /** Per-round-pair on÷off ratios (each pair ran back to back). */
    pairRatios: number[];
    p50OnMs: number;
    p50OffMs: number;
    p99OnMs: number;
    p99OffMs: number;
    cpuUsPerRequestOn: number;
    cpuUsPerRequestOff: number;
    addedCpuUsPerRequest: number;
    /** API CPU per request off ÷ on: the throughput ratio if the API alone were CPU-bound on its own core. */
    cpuRatio: number;
    /** The receiver's CPU per request in traced rounds: it shares the 2 cores with the API while measuring. */
    receiverCpuUsPerRequest: number;
    spansReceived: number;
    spansExpected: number;
    spanCompleteness: number;
    non2xx: number;
    /** Spans received while the tracing-off API was under load: must be 0. */
    spansFromUntracedRounds: number;
  };
}

/** The API's batch processor export interval: every wait for spans below is a multiple of it. */
const EXPORT_DELAY_MS = SERVICE_BATCH_DEFAULTS.scheduledDelayMillis;

/** Spans the receiver got for a round: traced rounds wait for SERVER + PRODUCER per message; untraced must get 0. */
async function collectSpans(
  tracing: boolean,
  sent: number,
  receiver: Service,
  cfg: BenchConfig["api"],
): Promise<Pick<ApiRound, "spansReceived" | "spansExpected" | "spansByName">> {
  if (!tracing) {
    // Tracing off must really be off: nothing may reach the receiver (checked after more than one export delay).
    await sleep(EXPORT_DELAY_MS + 200);
    return { spansReceived: (await receiverCounts(receiver)).spans };
  }
  // Wait for the batch processor to drain (this also keeps a traced round's export tail out of the next round).
  const expected = 2 * sent;
  const deadline = Date.now() + cfg.drainTimeoutMs;
  let counts = await receiverCounts(receiver);
  let lastChange = Date.now();
  while (counts.spans < expected && Date.now() < deadline) {
    await sleep(200);
    const next = await receiverCounts(receiver);
    if (next.spans !== counts.spans) lastChange = Date.now();
    counts = next;
    // Nothing new for three export delays: the rest was dropped.
    if (Date.now() - lastChange > 3 * EXPORT_DELAY_MS) break;
  }
  return { spansReceived: counts.spans, spansExpected: expected, spansByName: counts.byName };
}

async function measureRound(
  api: ApiProcess,
  backend: Service,
  receiver: Service,
  cfg: BenchConfig["api"],
  roundNo: number,
): Promise<ApiRound> {
  await backend.child.request({ cmd: "reset" });
  await receiver.child.request({ cmd: "reset" });
  const cpuBefore = processCpuMicros(api.child.pid);
  const receiverCpuBefore = processCpuMicros(receiver.child.pid);
  const load = await autocannon(api.url, cfg.connections, cfg.roundSeconds);
  // Server-side truth: messages the SQS side received (autocannon does not count requests still in flight at the
  // end of its duration, but the API served them and traced them).
  await sleep(200);
  const { sent } = await backend.child.request<{ sent: number }>({ cmd: "stats" });
  const spans = await collectSpans(api.tracing, sent, receiver, cfg);
  // CPU is read after the drain, so a traced round is charged for exporting its last batch too.
  const perRequest = (micros: number) => (load.requests > 0 ? micros / load.requests : Number.NaN);
  return {
    round: roundNo,
    tracing: api.tracing,
    ...load,
    messagesSent: sent,
    ...spans,
    cpuUsPerRequest: perRequest(processCpuMicros(api.child.pid) - cpuBefore),
    receiverCpuUsPerRequest: perRequest(processCpuMicros(receiver.child.pid) - receiverCpuBefore),
  };
}

async function benchBackend(
  backendName: "stub" | "fauxqs",
  backend: Service,
  receiver: Service,
  cfg: BenchConfig["api"],
  log: (s: string) => void,
): Promise<ApiBackendResult> {
  const on = await startApi({
    tracing: true,
    sqs: backend,
    otlpEndpoint: receiver.endpoint,
    name: `${backendName}-on`,
  });
  const off = await startApi({
    tracing: false,
    sqs: backend,
    otlpEndpoint: receiver.endpoint,
    name: `${backendName}-off`,
  });
  try {
    // Warm both (JIT, SDK connection pools, gRPC channel) before anything counts.
    for (const api of [on, off]) {
      const warm = await autocannon(api.url, cfg.connections, cfg.warmupSeconds);
      if (warm.ok2xx === 0) {
        throw new Error(
          `API (${api.tracing ? "tracing on" : "off"}) answered no 2xx during warm-up ` +
            `(non2xx=${warm.non2xx}, errors=${warm.errors}):\n${api.child.output().slice(-1500)}`,
        );
      }
    }
    // Let warm-up spans drain before anything counts.
    await sleep(2 * EXPORT_DELAY_MS + 500);
    const rounds: ApiRound[] = [];
    for (let r = 0; r < cfg.rounds; r++) {
      // ABBA ordering: on,off then off,on — cancels drift (thermal, neighbours) across the run.
      const order = r % 2 === 0 ? [on, off] : [off, on];
      for (const api of order) {
        const result = await measureRound(api, backend, receiver, cfg, r);
        rounds.push(result);
        log(
          `  api/${backendName} round ${r} tracing=${api.tracing ? "on " : "off"} ${round(result.rps, 0)} req/s ` +
            `p50=${result.latencyMs.p50}ms p99=${result.latencyMs.p99}ms cpu=${round(result.cpuUsPerRequest, 0)}µs/req` +
            (result.spansExpected !== undefined ? ` spans=${result.spansReceived}/${result.spansExpected}` : ""),
        );
      }
    }
    const onRounds = rounds.filter((x) => x.tracing);
    const offRounds = rounds.filter((x) => !x.tracing);
    const pairRatios = onRounds.map((x, i) => x.rps / offRounds[i].rps);
    const spansReceived = onRounds.reduce((a, x) => a + (x.spansReceived ?? 0), 0);
    const spansExpected = onRounds.reduce((a, x) => a + (x.spansExpected ?? 0), 0);
    const rpsOn = median(onRounds.map((x) => x.rps));
    const rpsOff = median(offRounds.map((x) => x.rps));
    const cpuOn = median(onRounds.map((x) => x.cpuUsPerRequest));
    const cpuOff = median(offRounds.map((x) => x.cpuUsPerRequest));
    return {
      backend: backendName,
      rounds,
      summary: {
        rpsOn: round(rpsOn, 1),
        rpsOff: round(rpsOff, 1),
        ratio: round(rpsOn / rpsOff, 3),
        pairRatios: pairRatios.map((x) => round(x, 3)),
        p50OnMs: median(onRounds.map((x) => x.latencyMs.p50)),
        p50OffMs: median(offRounds.map((x) => x.latencyMs.p50)),
        p99OnMs: median(onRounds.map((x) => x.latencyMs.p99)),
        p99OffMs: median(offRounds.map((x) => x.latencyMs.p99)),
        cpuUsPerRequestOn: round(cpuOn, 0),
        cpuUsPerRequestOff: round(cpuOff, 0),
        addedCpuUsPerRequest: round(cpuOn - cpuOff, 0),
        cpuRatio: round(cpuOff / cpuOn, 3),
        receiverCpuUsPerRequest: round(median(onRounds.map((x) => x.receiverCpuUsPerRequest)), 0),
        spansReceived,
        spansExpected,
        spanCompleteness: spansExpected > 0 ? round(spansReceived / spansExpected, 4) : Number.NaN,
        non2xx: rounds.reduce((a, x) => a + x.non2xx, 0),
        spansFromUntracedRounds: offRounds.reduce((a, x) => a + (x.spansReceived ?? 0), 0),
      },
    };
  } finally {
    await Promise.all([on.child.stop(), off.child.stop()]);
  }
}

export interface ApiResult {
  config: BenchConfig["api"];
  stub: ApiBackendResult;
  fauxqs: ApiBackendResult;
}

export async function benchApi(cfg: BenchConfig["api"], log: (s: string) => void): Promise<ApiResult> {
  const [receiver, stub, fauxqs] = await Promise.all([startReceiver(), startSqsStub(), startFauxqsServer()]);
  try {
    const stubResult = await benchBackend("stub", stub, receiver, cfg, log);
    const fauxqsResult = await benchBackend("fauxqs", fauxqs, receiver, cfg, log);
    return { config: cfg, stub: stubResult, fauxqs: fauxqsResult };
  } finally {
    await Promise.all([receiver.child.stop(), stub.child.stop(), fauxqs.child.stop()]);
  }
}
