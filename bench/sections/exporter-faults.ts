/**
 * 5. The Lambda exporter under faults, with the shipped telemetry in a child process:
 * - handler flush p99 with a black-holed collector after the first failure vs with a healthy one (goal: ≤ healthy +
 *   50 ms — the circuit breaker's probe budget, not the 2 s deadline);
 * - spans delivered ÷ emitted across a collector that goes away mid-run and comes back on the same port (goal 100 %);
 * - cold init (require + construct + first export to loopback, in a fresh `node`, esbuild-bundled like the Lambda)
 *   of the shipped node:http2 exporter vs the official gRPC and OTLP/HTTP (protobuf) exporters, above bare `node`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { build } from "esbuild";
import { LAMBDA_SERVICE_NAME } from "../../packages/traced-components/src/contract/service-names";
import { startOtlpReceiver, type OtlpReceiver } from "../../local/otlp-receiver";
import { BUNDLE_OPTIONS } from "../../scripts/build";
import type { Mode } from "../lib/config";
import { REPO_ROOT, baseEnv, sleep, spawnNode, type Child } from "../lib/proc";
import { median, percentile, round } from "../lib/stats";
import { timedNode } from "./cold";
import { startBlackhole } from "./flush";

export interface ExporterFaultsConfig {
  /** Invocations measured per collector state (after warm-up / after the first failure). */
  invocations: number;
  spansPerInvocation: number;
  /** Restart run: invocations before, during and after the outage, and the pause between invocations. */
  restart: { before: number; during: number; after: number; gapMillis: number };
  coldRuns: number;
}

export function exporterFaultsConfig(mode: Mode): ExporterFaultsConfig {
  return mode === "smoke"
    ? {
        invocations: 20,
        spansPerInvocation: 10,
        restart: { before: 5, during: 5, after: 5, gapMillis: 20 },
        coldRuns: 1,
      }
    : {
        invocations: 500,
        spansPerInvocation: 10,
        restart: { before: 100, during: 100, after: 100, gapMillis: 20 },
        coldRuns: 15,
      };
}

interface Latency {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface ColdInitVariant {
  exporter: "node:http2 (shipped)" | "official gRPC" | "official OTLP/HTTP protobuf";
  bundleBytes: number;
  /** Median wall time of the fresh process above bare `node`. */
  addedMs: number;
  /** Medians inside the child: require(), and require → first export answered. */
  requireMs: number;
  firstExportMs: number;
}

export interface ExporterFaultsResult {
  invocations: number;
  spansPerInvocation: number;
  healthy: Latency;
  blackhole: Latency & { firstFailureMs: number };
  /** blackhole p99 − healthy p99. */
  addedP99Ms: number;
  /** `delivered` counts distinct spans; `duplicates` the extra copies the collector received. */
  restart: {
    emitted: number;
    delivered: number;
    duplicates: number;
    ratio: number;
    outageMs: number;
    duringP99Ms: number;
  };
  cold: { runs: number; bareNodeMs: number; variants: ColdInitVariant[] };
}

const latency = (samples: number[]): Latency => ({
  p50Ms: round(median(samples), 2),
  p99Ms: round(percentile(samples, 99), 2),
  maxMs: round(Math.max(...samples), 2),
});

interface InvokeReply {
  samples: number[];
  emitted: number;
}

async function invocationsChild(endpoint: string, spansPerInvocation: number): Promise<Child> {
  const child = spawnNode(
    path.join(REPO_ROOT, "bench", "procs", "export-invocations-child.ts"),
    [String(spansPerInvocation)],
    {
      nodeArgs: ["--require", "tsx/cjs"],
      env: baseEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: LAMBDA_SERVICE_NAME }),
    },
  );
  await child.waitForMessage<{ ready?: boolean }>((m) => m?.ready === true, 30000);
  return child;
}

const invoke = (child: Child, count: number, gapMillis = 0): Promise<InvokeReply> =>
  child.request<InvokeReply>({ cmd: "invoke", count, gapMillis }, count * (gapMillis + 2500) + 30000);

/**
 * A gRPC receiver recording the ids of the spans it got (into `seen`, shared across a restart): a batch whose answer
 * was lost (a deadline hit while the server had already taken it) is sent again, so received ≠ delivered.
 */
async function countingReceiver(
  port = 0,
  seen = new Set<string>(),
): Promise<{ receiver: OtlpReceiver; seen: Set<string>; received: () => number }> {
  const receiver = await startOtlpReceiver({ port, keep: 1 });
  let received = 0;
  receiver.onSpans((spans) => {
    received += spans.length;
    for (const span of spans) seen.add(`${span.traceId}/${span.spanId}`);
  });
  return { receiver, seen, received: () => received };
}

async function measureLatency(cfg: ExporterFaultsConfig): Promise<Pick<ExporterFaultsResult, "healthy" | "blackhole">> {
  const { receiver } = await countingReceiver();
  let healthySamples: number[];
  const healthyChild = await invocationsChild(receiver.endpoint, cfg.spansPerInvocation);
  try {
    await invoke(healthyChild, 5); // warm-up: connection, JIT
    healthySamples = (await invoke(healthyChild, cfg.invocations)).samples;
  } finally {
    await healthyChild.stop();
    await receiver.close();
  }
  const hole = await startBlackhole();
  const holeChild = await invocationsChild(hole.endpoint, cfg.spansPerInvocation);
  try {
    const [firstFailureMs] = (await invoke(holeChild, 1)).samples;
    const samples = (await invoke(holeChild, cfg.invocations)).samples;
    return {
      healthy: latency(healthySamples),
      blackhole: { ...latency(samples), firstFailureMs: round(firstFailureMs, 1) },
    };
  } finally {
    await holeChild.stop();
    await hole.close();
  }
}

async function measureRestart(cfg: ExporterFaultsConfig): Promise<ExporterFaultsResult["restart"]> {
  const first = await countingReceiver();
  const port = first.receiver.port;
  const child = await invocationsChild(first.receiver.endpoint, cfg.spansPerInvocation);
  let second: Awaited<ReturnType<typeof countingReceiver>> | undefined;
  try {
    const { gapMillis } = cfg.restart;
    let emitted = (await invoke(child, cfg.restart.before, gapMillis)).emitted;
    await first.receiver.close();
    const down = performance.now();
    const during = await invoke(child, cfg.restart.during, gapMillis);
    second = await countingReceiver(port, first.seen);
    const outageMs = performance.now() - down;
    emitted = (await invoke(child, cfg.restart.after, gapMillis)).emitted;
    const delivered = first.seen.size;
    return {
      emitted,
      delivered,
      duplicates: first.received() + second.received() - delivered,
      ratio: delivered / emitted,
      outageMs: round(outageMs, 0),
      duringP99Ms: round(percentile(during.samples, 99), 2),
    };
  } finally {
    await child.stop();
    await second?.receiver.close();
  }
}

const COLD_SPAN = `{
  name: "cold", kind: 0, spanContext: () => ({ traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", traceFlags: 1 }),
  parentSpanContext: undefined, startTime: [1700000000, 0], endTime: [1700000000, 1000], duration: [0, 1000], ended: true,
  status: { code: 0 }, attributes: {}, links: [], events: [], droppedAttributesCount: 0, droppedEventsCount: 0, droppedLinksCount: 0,
  resource: { attributes: { "service.name": "cold" }, asyncAttributesPending: false, schemaUrl: undefined },
  instrumentationScope: { name: "cold" },
}`;

/** Entry program of each cold-init bundle: argv[2] is the endpoint; prints the in-process timings as JSON. */
function coldEntry(requireExporter: string, construct: string): string {
  return `
const t0 = performance.now();
${requireExporter}
const loaded = performance.now();
const exporter = ${construct};
exporter.export([${COLD_SPAN}], (result) => {
  process.stdout.write(JSON.stringify({ code: result.code, requireMs: loaded - t0, firstExportMs: performance.now() - t0, error: result.error && String(result.error) }) + "\\n");
  process.exit(result.code === 0 ? 0 : 1);
});
`;
}

const COLD_VARIANTS: { exporter: ColdInitVariant["exporter"]; source: string; http: boolean }[] = [
  {
    exporter: "node:http2 (shipped)",
    source: coldEntry(
      `const { Http2OtlpTraceExporter } = require("./telemetry/otlp-http2-exporter");`,
      `new Http2OtlpTraceExporter({ url: process.argv[2], headers: {}, source: "otel-env" }, { timeoutMillis: 5000 })`,
    ),
    http: false,
  },
  {
    exporter: "official gRPC",
    source: coldEntry(
      `const { OTLPTraceExporter } = require("@opentelemetry/exporter-trace-otlp-grpc");`,
      `new OTLPTraceExporter({ url: process.argv[2], timeoutMillis: 5000 })`,
    ),
    http: false,
  },
  {
    exporter: "official OTLP/HTTP protobuf",
    source: coldEntry(
      `const { OTLPTraceExporter } = require("@opentelemetry/exporter-trace-otlp-proto");`,
      `new OTLPTraceExporter({ url: process.argv[2] + "/v1/traces", timeoutMillis: 5000 })`,
    ),
    http: true,
  },
];

async function measureColdInit(cfg: ExporterFaultsConfig): Promise<ExporterFaultsResult["cold"]> {
  const dir = mkdtempSync(path.join(tmpdir(), "bench-exporter-cold-"));
  const { receiver } = await countingReceiver();
  // OTLP/HTTP: any 200 with an empty ExportTraceServiceResponse is a success.
  const http = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/x-protobuf" }).end());
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const httpEndpoint = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  try {
    const bundles = await Promise.all(
      COLD_VARIANTS.map(async (variant, i) => {
        const outfile = path.join(dir, `exporter-${i}.js`);
        const built = await build({
          ...BUNDLE_OPTIONS,
          stdin: { contents: variant.source, resolveDir: REPO_ROOT, loader: "ts", sourcefile: `cold-${i}.ts` },
          outfile,
          metafile: true,
        });
        const bytes = Object.values(built.metafile.outputs)[0]?.bytes ?? 0;
        return { ...variant, outfile, bytes, endpoint: variant.http ? httpEndpoint : receiver.endpoint };
      }),
    );
    for (const b of bundles) {
      const check = await timedNode([b.outfile, b.endpoint], baseEnv()); // untimed: page cache, and a clear error
      if (check.code !== 0) throw new Error(`${b.exporter} cold child failed: ${check.stdout}${check.stderr}`);
    }
    const bare: number[] = [];
    const runs = bundles.map(() => ({ wall: [] as number[], require: [] as number[], firstExport: [] as number[] }));
    for (let r = 0; r < cfg.coldRuns; r++) {
      bare.push((await timedNode(["-e", ""], baseEnv())).wallMs);
      // Rotate the order so no exporter always runs right after another's page-cache work.
      for (let k = 0; k < bundles.length; k++) {
        const i = (r + k) % bundles.length;
        const run = await timedNode([bundles[i].outfile, bundles[i].endpoint], baseEnv());
        const inner = JSON.parse(run.stdout.trim()) as { requireMs: number; firstExportMs: number };
        runs[i].wall.push(run.wallMs);
        runs[i].require.push(inner.requireMs);
        runs[i].firstExport.push(inner.firstExportMs);
      }
    }
    const bareNodeMs = median(bare);
    return {
      runs: cfg.coldRuns,
      bareNodeMs: round(bareNodeMs, 1),
      variants: bundles.map((b, i) => ({
        exporter: b.exporter,
        bundleBytes: b.bytes,
        addedMs: round(median(runs[i].wall) - bareNodeMs, 1),
        requireMs: round(median(runs[i].require), 1),
        firstExportMs: round(median(runs[i].firstExport), 1),
      })),
    };
  } finally {
    http.close();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchExporterFaults(mode: Mode, log: (s: string) => void): Promise<ExporterFaultsResult> {
  const cfg = exporterFaultsConfig(mode);
  const { healthy, blackhole } = await measureLatency(cfg);
  log(
    `  flush p99 healthy ${healthy.p99Ms} ms, black hole after the first failure ${blackhole.p99Ms} ms ` +
      `(first failure ${blackhole.firstFailureMs} ms)`,
  );
  const restart = await measureRestart(cfg);
  log(
    `  collector restart: ${restart.delivered}/${restart.emitted} distinct spans delivered, ` +
      `${restart.duplicates} duplicates (outage ${restart.outageMs} ms)`,
  );
  await sleep(100);
  const cold = await measureColdInit(cfg);
  for (const v of cold.variants) {
    log(`  cold init ${v.exporter}: +${v.addedMs} ms above bare node (${v.bundleBytes} B bundle)`);
  }
  return {
    invocations: cfg.invocations,
    spansPerInvocation: cfg.spansPerInvocation,
    healthy,
    blackhole,
    addedP99Ms: round(blackhole.p99Ms - healthy.p99Ms, 2),
    restart,
    cold,
  };
}

/** The section's rows in the bench table (metric | target | measured | anchor). */
export function exporterFaultsRows(r: ExporterFaultsResult | undefined): string[][] {
  if (!r) return [];
  const ok = (pass: boolean) => (pass ? " ✅" : " ❌");
  const signed = (ms: number) => `${ms >= 0 ? "+" : "−"}${Math.abs(ms)} ms`;
  const coldOf = (name: ColdInitVariant["exporter"]) => r.cold.variants.find((v) => v.exporter === name);
  return [
    [
      "Lambda flush p99, black-holed collector after the first failure, above healthy",
      "≤ +50 ms",
      `**${signed(r.addedP99Ms)}**${ok(r.addedP99Ms <= 50)} (p99 ${r.blackhole.p99Ms} vs ${r.healthy.p99Ms} ms, ` +
        `p50 ${r.blackhole.p50Ms} vs ${r.healthy.p50Ms} ms; ${r.invocations} invocations × ${r.spansPerInvocation} spans; ` +
        `the first failure took ${r.blackhole.firstFailureMs} ms)`,
      "before: every invocation ≈ 2000 ms",
    ],
    [
      "Lambda spans delivered ÷ emitted, collector restarted mid-run",
      "100 %",
      `**${Math.round(r.restart.ratio * 10000) / 100} %**${ok(r.restart.ratio >= 1)} ` +
        `(${r.restart.delivered} / ${r.restart.emitted} distinct; ${r.restart.duplicates} duplicates; ` +
        `outage ${r.restart.outageMs} ms, flush p99 during it ${r.restart.duringP99Ms} ms)`,
      "",
    ],
    [
      "Exporter cold init (bundled, up to the first export answered), above bare `node`",
      "≤ 50 ms",
      r.cold.variants
        .map(
          (v) =>
            `${v.exporter} **${signed(v.addedMs)}**${ok(v.addedMs <= 50)} (${Math.round(v.bundleBytes / 102.4) / 10} KB)`,
        )
        .join("; ") + ` — median of ${r.cold.runs}, bare node ${r.cold.bareNodeMs} ms`,
      `official gRPC − shipped: ${
        Math.round(
          ((coldOf("official gRPC")?.addedMs ?? NaN) - (coldOf("node:http2 (shipped)")?.addedMs ?? NaN)) * 10,
        ) / 10
      } ms`,
    ],
  ];
}
