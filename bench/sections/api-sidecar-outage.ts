/**
 * The API while its collector sidecar is down or stalled: does tracing hurt requests when export fails?
 * The real bundled API (tracing on) exports through a TCP proxy in this process to the bench's OTLP receiver; the
 * proxy plays the sidecar's failure for `faultSeconds`:
 *
 * - `down`: the port refuses connections and open ones are cut (a crashed sidecar), then it listens again;
 * - `stalled`: connections stay open and new ones are accepted, but no byte moves either way (a sidecar that hangs:
 *   every export waits for its deadline), then everything buffered flows again.
 *
 * - `none`: the control, nothing happens — what the same load alone does to p99 and RSS on this machine.
 *
 * Measured per scenario with the same closed-loop load as the api section: p99 during the fault ÷ p99 of the
 * baseline just before (goal ≤ 1.2), the API's peak RSS during fault + recovery minus its peak RSS during the
 * baseline (goal ≤ +50 MB), how long after the fault spans reach the receiver again, and how many log lines the
 * outage cost (telemetry.* and otel.* events in the API's log).
 */
import { readFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Mode } from "../lib/config";
import { sleep } from "../lib/proc";
import { receiverCounts, startApi, startReceiver, startSqsStub, type Service } from "../lib/services";
import { round } from "../lib/stats";
import { autocannon, type LoadResult } from "./api";

export const SIDECAR_OUTAGE_CONFIG = {
  full: { connections: 16, warmupSeconds: 5, baselineSeconds: 15, faultSeconds: 30, recoverySeconds: 10 },
  smoke: { connections: 4, warmupSeconds: 0.5, baselineSeconds: 1, faultSeconds: 2, recoverySeconds: 2 },
} as const;

/** `none` is the control: the same phases with the sidecar up, for what load alone does to p99 and RSS. */
type Fault = "none" | "down" | "stalled";

export interface SidecarScenarioResult {
  fault: Fault;
  baseline: LoadResult;
  during: LoadResult;
  recovery: LoadResult;
  p99Ratio: number;
  rssBaselineMb: number;
  rssPeakMb: number;
  rssAddedMb: number;
  /** From the end of the fault to the first span at the receiver; null if none arrived during the recovery phase. */
  recoveryMs: number | null;
  /** telemetry.* / otel.* lines the API logged over the whole scenario, by event. */
  telemetryLogLines: Record<string, number>;
}

export interface SidecarOutageResult {
  config: (typeof SIDECAR_OUTAGE_CONFIG)[Mode];
  scenarios: SidecarScenarioResult[];
}

/** A loopback TCP proxy that can refuse (down), hold every byte (stalled) or forward (up). */
class FaultProxy {
  private server: net.Server | undefined;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private stalled = false;
  port = 0;

  constructor(private readonly target: number) {}

  async listen(port = 0): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target, "127.0.0.1");
      const pair: [net.Socket, net.Socket] = [client, upstream];
      this.pairs.add(pair);
      const drop = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on("error", drop).on("close", drop);
      upstream.on("error", drop).on("close", drop);
      if (this.stalled) this.hold(pair);
      else this.forward(pair);
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const pair of this.pairs) for (const socket of pair) socket.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  stall(): void {
    this.stalled = true;
    for (const pair of this.pairs) this.hold(pair);
  }

  resume(): void {
    this.stalled = false;
    for (const pair of this.pairs) this.forward(pair);
  }

  private forward([a, b]: [net.Socket, net.Socket]): void {
    a.pipe(b);
    b.pipe(a);
  }

  /** Unpiped as well as paused: a pipe resumes its source whenever the destination drains. */
  private hold([a, b]: [net.Socket, net.Socket]): void {
    a.unpipe(b);
    b.unpipe(a);
    a.pause();
    b.pause();
  }
}

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

async function scenario(
  fault: Fault,
  cfg: SidecarOutageResult["config"],
  receiver: Service,
  sqs: Service,
): Promise<SidecarScenarioResult> {
  const proxy = new FaultProxy(receiver.port);
  await proxy.listen();
  const name = `sidecar-${fault}`;
  const api = await startApi({ tracing: true, sqs, otlpEndpoint: `http://127.0.0.1:${proxy.port}`, name });
  const logFile = path.join(tmpdir(), `bench-api-${name}-${process.pid}.log`);
  try {
    await autocannon(api.url, cfg.connections, cfg.warmupSeconds);
    // Peak against peak: under load the heap saw-tooths with GC, so one reading after the baseline would be noise.
    let rssPeakMb = 0;
    const sampler = setInterval(() => (rssPeakMb = Math.max(rssPeakMb, rssMb(api.child.pid))), 250);
    const baseline = await autocannon(api.url, cfg.connections, cfg.baselineSeconds);
    const rssBaselineMb = Math.max(rssPeakMb, rssMb(api.child.pid));
    rssPeakMb = 0;

    if (fault === "down") await proxy.down();
    else if (fault === "stalled") proxy.stall();
    const during = await autocannon(api.url, cfg.connections, cfg.faultSeconds);
    await receiver.child.request({ cmd: "reset" });
    if (fault === "down") await proxy.listen(proxy.port);
    else if (fault === "stalled") proxy.resume();
    const back = performance.now();
    let recoveryMs: number | null = null;
    const watch = (async () => {
      while (performance.now() - back < cfg.recoverySeconds * 1000 + 2000) {
        if ((await receiverCounts(receiver)).spans > 0) return (recoveryMs = Math.round(performance.now() - back));
        await sleep(50);
      }
      return null;
    })();
    const recovery = await autocannon(api.url, cfg.connections, cfg.recoverySeconds);
    await watch;
    clearInterval(sampler);

    const telemetryLogLines: Record<string, number> = {};
    for (const line of readFileSync(logFile, "utf8").split("\n")) {
      const event = /"event":"((?:telemetry|otel)\.[^"]+)"/.exec(line)?.[1];
      if (event) telemetryLogLines[event] = (telemetryLogLines[event] ?? 0) + 1;
    }
    return {
      fault,
      baseline,
      during,
      recovery,
      p99Ratio: round(during.latencyMs.p99 / baseline.latencyMs.p99, 3),
      rssBaselineMb: round(rssBaselineMb, 1),
      rssPeakMb: round(rssPeakMb, 1),
      rssAddedMb: round(Math.max(0, rssPeakMb - rssBaselineMb), 1),
      recoveryMs,
      telemetryLogLines,
    };
  } finally {
    await api.child.stop();
    await proxy.down();
  }
}

export async function benchSidecarOutage(mode: Mode, log: (s: string) => void): Promise<SidecarOutageResult> {
  const cfg = SIDECAR_OUTAGE_CONFIG[mode];
  const [receiver, sqs] = await Promise.all([startReceiver(), startSqsStub()]);
  try {
    const scenarios: SidecarScenarioResult[] = [];
    for (const fault of ["none", "down", "stalled"] as const) {
      const s = await scenario(fault, cfg, receiver, sqs);
      scenarios.push(s);
      log(
        `  sidecar ${fault} ${cfg.faultSeconds}s: p99 ${s.during.latencyMs.p99} vs ${s.baseline.latencyMs.p99} ms ` +
          `(×${s.p99Ratio}), ${round(s.during.rps, 0)} vs ${round(s.baseline.rps, 0)} req/s, ` +
          `RSS +${s.rssAddedMb} MB, spans again after ${s.recoveryMs ?? "—"} ms, ` +
          `log lines ${JSON.stringify(s.telemetryLogLines)}`,
      );
    }
    return { config: cfg, scenarios };
  } finally {
    await Promise.all([receiver.child.stop(), sqs.child.stop()]);
  }
}

/** The section's rows in bench/results.md (bench/lib/report.ts). */
export function sidecarOutageRows(r: SidecarOutageResult): string[][] {
  const mark = (ok: boolean) => (ok ? " ✅" : " ❌");
  const control = r.scenarios.find((s) => s.fault === "none");
  const controlNote = control
    ? ` (control, sidecar up throughout: ×${control.p99Ratio}, RSS +${control.rssAddedMb} MB)`
    : "";
  return r.scenarios
    .filter((s) => s !== control)
    .flatMap((s) => [
      [
        `API p99 with its sidecar ${s.fault} for ${r.config.faultSeconds} s ÷ baseline`,
        "≤ 1.2",
        `**${s.p99Ratio}**${mark(s.p99Ratio <= 1.2)} (${s.during.latencyMs.p99} vs ${s.baseline.latencyMs.p99} ms; ` +
          `${Math.round(s.during.rps)} vs ${Math.round(s.baseline.rps)} req/s at ${r.config.connections} connections)${controlNote}`,
        "",
      ],
      [
        `API RSS with its sidecar ${s.fault}, peak − baseline`,
        "≤ +50 MB",
        `**+${s.rssAddedMb} MB**${mark(s.rssAddedMb <= 50)} (${s.rssBaselineMb} → ${s.rssPeakMb} MB); spans again ` +
          `${s.recoveryMs ?? "n/a"} ms after the sidecar came back; log lines: ${
            Object.entries(s.telemetryLogLines)
              .map(([k, v]) => `${k} ${v}`)
              .join(", ") || "none"
          }`,
        "",
      ],
    ]);
}
