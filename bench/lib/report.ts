/** Markdown rendering of results.json: metric | target | measured | stock anchor (stock OpenTelemetry, for scale). */
import type { BenchResults } from "../main";
import { exporterFaultsRows } from "../sections/exporter-faults";
import { sidecarOutageRows } from "../sections/api-sidecar-outage";

const fmt = (v: number | undefined, digits = 2): string =>
  v === undefined || !Number.isFinite(v) ? "n/a" : String(Math.round(v * 10 ** digits) / 10 ** digits);
const pct = (v: number | undefined): string =>
  v === undefined || !Number.isFinite(v) ? "n/a" : `${Math.round(v * 10000) / 100} %`;
const kb = (bytes: number) => `${Math.round(bytes / 102.4) / 10} KB`;
const mark = (ok: boolean | undefined) => (ok === undefined ? "" : ok ? " ✅" : " ❌");

export function renderMarkdown(r: BenchResults): string {
  const rows: string[][] = [];
  const { api, cold, store, flush, pipeline } = r.sections;
  if (api) {
    for (const [label, b] of [
      ["loopback SQS stub", api.stub],
      ["fauxqs SQS server", api.fauxqs],
    ] as const) {
      const s = b.summary;
      rows.push([
        `API req/s, tracing on ÷ off (${label})`,
        "≥ 0.93",
        `**${fmt(s.ratio, 3)}**${mark(s.ratio >= 0.93)} (${fmt(s.rpsOn, 0)} ÷ ${fmt(s.rpsOff, 0)} req/s; pairs ${s.pairRatios.join(", ")})`,
        "stock auto-instrumentation 0.43–0.46",
      ]);
      rows.push([
        `API latency p50 / p99, on vs off (${label})`,
        "—",
        `${s.p50OnMs} / ${s.p99OnMs} ms vs ${s.p50OffMs} / ${s.p99OffMs} ms at ${api.config.connections} connections`,
        "—",
      ]);
      rows.push([
        `API CPU per request, added by tracing (${label})`,
        "—",
        `+${fmt(s.addedCpuUsPerRequest, 0)} µs (${fmt(s.cpuUsPerRequestOn, 0)} vs ${fmt(s.cpuUsPerRequestOff, 0)} µs; ` +
          `CPU-bound capacity ratio off÷on ${fmt(s.cpuRatio, 3)}; the receiver process used ${fmt(s.receiverCpuUsPerRequest, 0)} µs/req more on the same cores)`,
        "",
      ]);
      rows.push([
        `API spans received ÷ expected in traced rounds (${label})`,
        "100 %",
        `${pct(s.spanCompleteness)}${mark(s.spanCompleteness >= 1)} (${s.spansReceived} / ${s.spansExpected} = 2 × SendMessage calls; tracing-off rounds exported ${s.spansFromUntracedRounds})`,
        "",
      ]);
    }
  }
  if (cold) {
    rows.push([
      "Lambda cold init above bare `node`",
      "≤ 50 ms",
      `**+${fmt(cold.addedMs, 1)} ms**${mark(cold.addedMs <= 50)} (median of ${cold.runs}: ${cold.handlerNodeMs} vs ${cold.bareNodeMs} ms; ready via ${cold.readiness}, secret fetched ${cold.secretFetches}×)`,
      "stock +1187 ms (unbundled)",
    ]);
    rows.push([
      "Lambda cold init, breakdown",
      "—",
      `in the child: require() ${fmt(cold.requireMs, 1)} ms, ready ${fmt(cold.readyMs, 1)} ms; without the secret (OTLP endpoint only, no key fetch): +${fmt(cold.withoutSecret.addedMs, 1)} ms above bare node (require ${fmt(cold.withoutSecret.requireMs, 1)} ms, ready ${fmt(cold.withoutSecret.readyMs, 1)} ms)`,
      "",
    ]);
    rows.push([
      "Lambda bundle size",
      "≤ 700 KB",
      `**${kb(cold.bundleBytes)}**${mark(cold.bundleBytes <= 700 * 1024)} (${kb(cold.bundleGzipBytes)} gzip)`,
      "",
    ]);
  }
  if (store) {
    const c = store.cold;
    const p = store.perRecord;
    rows.push([
      "Lambda cold init with the onboarding store (DynamoDB) vs without",
      "≤ 50 ms above bare `node`",
      `+${fmt(c.withStoreAddedMs, 1)} vs +${fmt(c.withoutStoreAddedMs, 1)} ms above bare node: the store adds ${fmt(c.storeMs, 1)} ms (medians of ${c.runs}, alternated; SDK-free signed calls)`,
      "`@aws-sdk/client-dynamodb` at init: ≈ +105 ms",
    ]);
    rows.push([
      "Powertools idempotency + DynamoDB persistence layer, cold init alone (bundled, SDK from node_modules)",
      "—",
      `+${fmt(c.powertoolsIdempotencyMs, 1)} ms above bare node (the hand-rolled conditional write: ${fmt(c.storeMs, 1)} ms); in the child: Powertools require + set-up ${fmt(c.inChild.powertoolsMs, 1)} ms, handler ready ${fmt(c.inChild.withStoreMs, 1)} ms with the store vs ${fmt(c.inChild.withoutStoreMs, 1)} ms without`,
      "",
    ]);
    rows.push([
      "Consumer time per record, DynamoDB store (dynalite) vs in-memory",
      "—",
      `p50 ${fmt(p.dynamo.p50Ms, 3)} vs ${fmt(p.inMemory.p50Ms, 3)} ms (+${fmt(p.addedP50Ms, 3)} ms), p99 ${fmt(p.dynamo.p99Ms, 3)} vs ${fmt(p.inMemory.p99Ms, 3)} ms; ${p.batches} batches of ${p.batchSize} each, alternated; last batch redelivered: ${Object.entries(
        p.outcomes,
      )
        .map(([k, v]) => `${v} ${k}`)
        .join(", ")}`,
      "",
    ]);
  }
  if (flush) {
    rows.push([
      `forceFlush p99, ${flush.spansPerFlush} spans → loopback receiver`,
      "≤ 10 ms",
      `**${fmt(flush.p99Ms)} ms**${mark(flush.p99Ms <= 10)} (p50 ${fmt(flush.p50Ms)} ms, max ${fmt(flush.maxMs)} ms, first ${fmt(flush.firstFlushMs)} ms; ${flush.invocations} invocations; ${flush.spansReceived}/${flush.spansEmitted} spans received)`,
      "—",
    ]);
    for (const d of flush.down) {
      rows.push([
        `Lambda handler duration, receiver down: ${d.scenario}`,
        `< timeout (${d.timeoutMs} ms)`,
        `${d.durationsMs.join(" / ")} ms${mark(d.withinTimeout)} (${d.records} records, failures ${d.batchItemFailures.join("/")})`,
        "",
      ]);
    }
  }
  if (pipeline) {
    const s = pipeline.sustained;
    rows.push([
      `Local pipeline, ${s.rate} req/s for ${s.seconds} s: spans received ÷ emitted`,
      "100 %",
      `**${pct(s.spanRatio)}**${mark(s.spanRatio >= 1)} (${s.spansReceived} / ${s.spansExpected})`,
      "—",
    ]);
    rows.push([
      `Local pipeline, ${s.rate} req/s: traces complete ÷ requests accepted`,
      "100 %",
      `**${pct(s.traceRatio)}**${mark(s.traceRatio >= 1)} (${s.tracesComplete} / ${s.accepted}; ${s.sent} sent)`,
      "",
    ]);
    const lastTried = pipeline.steps[pipeline.steps.length - 1]?.rate;
    const max =
      pipeline.maxRateAt100 === null
        ? "none"
        : pipeline.maxRateAt100 === lastTried
          ? `≥ ${pipeline.maxRateAt100} req/s (highest step tried)`
          : `${pipeline.maxRateAt100} req/s`;
    rows.push([
      "Local pipeline, highest rate still 100 % and keeping up (served ≥ 90 % of offered)",
      "100 % at the max sustained rate",
      `**${max}**; ${pipeline.steps[0]?.seconds ?? "?"} s steps (req/s: complete, p99): ${pipeline.steps
        .map(
          (x) =>
            `${x.rate}: ${pct(Math.min(x.traceRatio, x.spanRatio))}, ${fmt(x.latencyMs.p99, 0)} ms` +
            (x.accepted < x.sent || x.completedRate < 0.9 * x.rate
              ? ` (${x.accepted}/${x.sent} accepted, served only ${fmt(x.completedRate, 0)} req/s)`
              : ""),
        )
        .join("; ")}`,
      "—",
    ]);
  }
  rows.push(...exporterFaultsRows(r.sections["exporter-faults"]));
  if (r.sections.sidecar) rows.push(...sidecarOutageRows(r.sections.sidecar));
  const header = "| metric | target | measured | stock anchor |\n|---|---|---|---|";
  const body = rows.map((row) => `| ${row.join(" | ")} |`).join("\n");
  const m = r.machine;
  const errors = Object.entries(r.errors)
    .map(([k, v]) => `- **${k}** did not run: ${v.split("\n")[0]}`)
    .join("\n");
  return [
    `Measured by \`npm run bench\` (${r.mode} mode) on ${m.cpuModel}, ${m.cores} cores, Node ${m.node}, ${r.date}.`,
    "Ratios come from one run with tracing on/off alternated round by round; absolute numbers on a shared box are noise.",
    "",
    header,
    body,
    errors ? `\n${errors}` : "",
  ].join("\n");
}
