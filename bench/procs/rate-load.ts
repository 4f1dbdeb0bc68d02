/**
 * Open-loop, fixed-rate load for the pipeline section: POST /onboard at `rate` req/s for `seconds`, each with a
 * distinct customer, recording the status and the `trace_id` of every accepted request (what the pipeline check
 * needs and autocannon does not return).
 */
import * as http from "node:http";

interface Args {
  url: string;
  rate: number;
  seconds: number;
  offset: number;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as Args;
  const target = new URL(`${args.url}/onboard`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const statuses: Record<string, number> = {};
  const traceIds: string[] = [];
  const latencies: number[] = [];
  let sent = 0;
  let inFlight = 0;
  const total = Math.round(args.rate * args.seconds);

  const fire = (n: number) => {
    const body = JSON.stringify({
      customer_id: `PIPE-${n}`,
      email: `pipe${n}@example.com`,
      company_size: "small",
      name: `Pipeline Customer ${n}`,
    });
    const t0 = performance.now();
    inFlight++;
    const req = http.request(
      target,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        timeout: 10000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          inFlight--;
          latencies.push(performance.now() - t0);
          const key = String(res.statusCode);
          statuses[key] = (statuses[key] ?? 0) + 1;
          if (res.statusCode && res.statusCode < 300) {
            try {
              const traceId = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { trace_id?: string }).trace_id;
              if (traceId) traceIds.push(traceId);
            } catch {
              statuses.badJson = (statuses.badJson ?? 0) + 1;
            }
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => {
      inFlight--;
      const key = `error:${(e as NodeJS.ErrnoException).code ?? e.message}`;
      statuses[key] = (statuses[key] ?? 0) + 1;
    });
    req.end(body);
  };

  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * args.rate) + 1);
      while (sent < due) fire(args.offset + sent++);
      if (sent >= total) resolve();
      else setTimeout(tick, 2);
    };
    tick();
  });
  const sendSeconds = (performance.now() - start) / 1000;
  const waitUntil = Date.now() + 15000;
  while (inFlight > 0 && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 20));
  const completedSeconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies.length ? latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] : NaN;
  process.send?.({
    done: true,
    sent,
    sendSeconds,
    completedSeconds,
    accepted: traceIds.length,
    statuses,
    traceIds,
    latencyMs: { p50: pct(50), p99: pct(99) },
  });
  agent.destroy();
  setTimeout(() => process.exit(0), 50);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
