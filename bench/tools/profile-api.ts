/**
 * CPU profile of the traced API under load, to find where tracing overhead goes. Builds *unminified* copies of the
 * app bundles (same esbuild options as scripts/build.ts minus minification, so function names survive) into a temp
 * dir, runs the API with `--cpu-prof` against the loopback SQS stub and OTLP receiver, drives it with autocannon,
 * then prints self time by bundle file and by function.
 *
 * Usage: `tsx bench/tools/profile-api.ts [on|off] [seconds=8]`; `PROFILE_JSON=<file>` also writes self time per
 * request by package/file as JSON (diff an `on` and an `off` run to see where tracing's CPU goes).
 */
import { build } from "esbuild";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { autocannon } from "../sections/api";
import { freePort } from "../../local/ports";
import { REPO_ROOT, spawnNode, waitForHttp } from "../lib/proc";
import { apiEnv, startReceiver, startSqsStub } from "../lib/services";
import { summarise } from "./cpuprofile-summary";

async function main(): Promise<void> {
  const tracing = (process.argv[2] ?? "on") !== "off";
  const seconds = Number(process.argv[3] ?? 8);
  const dir = mkdtempSync(path.join(tmpdir(), "bench-prof-"));
  for (const [entry, out] of [
    ["app/src/tracing.ts", "tracing.js"],
    ["app/src/server.ts", "server.js"],
  ]) {
    await build({
      bundle: true,
      platform: "node",
      target: "node24",
      format: "cjs",
      minify: false,
      keepNames: true,
      mainFields: ["module", "main"],
      logLevel: "warning",
      entryPoints: [path.join(REPO_ROOT, entry)],
      outfile: path.join(dir, out),
    });
  }
  const [receiver, stub] = await Promise.all([startReceiver(), startSqsStub()]);
  const port = await freePort();
  const api = spawnNode(path.join(dir, "server.js"), [], {
    ipc: false,
    nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${dir}`, "--require", path.join(dir, "tracing.js")],
    logFile: path.join(dir, "api.log"),
    env: apiEnv(port, stub, receiver.endpoint, { OTEL_SDK_DISABLED: tracing ? undefined : "true" }),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/healthz`);
  const warm = await autocannon(url, 16, 2);
  const load = await autocannon(url, 16, seconds);
  const requests = warm.requests + load.requests;
  await api.stop("SIGTERM", 15000);
  await Promise.all([receiver.child.stop(), stub.child.stop()]);
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) throw new Error(`no profile written in ${dir}`);
  const summary = summarise(JSON.parse(readFileSync(path.join(dir, file), "utf8")), 30);
  console.log(`tracing ${tracing ? "on" : "off"}: ${Math.round(load.rps)} req/s, profile ${path.join(dir, file)}`);
  console.log(`total ${Math.round(summary.totalMs)} ms\n\nself time by file:`);
  for (const x of summary.byFile) console.log(`  ${String(x.selfMs).padStart(8)} ms  ${x.file.replace(dir, "<tmp>")}`);
  console.log("\nself time by function:");
  for (const x of summary.byFunction)
    console.log(`  ${String(x.selfMs).padStart(8)} ms  ${x.fn.replace(dir, "<tmp>")}`);
  const byModule = selfTimeByBundledModule(JSON.parse(readFileSync(path.join(dir, file), "utf8")), dir);
  if (process.env.PROFILE_JSON) {
    const all = summarise(JSON.parse(readFileSync(path.join(dir, file), "utf8")), 1000);
    const perRequest: Record<string, number> = {};
    for (const [k, ms] of byModule) perRequest[k] = (ms * 1000) / requests;
    for (const x of all.byFile) if (!x.file.includes(dir)) perRequest[x.file] = (x.selfMs * 1000) / requests;
    writeFileSync(process.env.PROFILE_JSON, JSON.stringify({ tracing, requests, usPerRequest: perRequest }, null, 2));
  }
  console.log("\nself time by bundled module (package):");
  for (const [pkg, ms] of byModule.slice(0, 25)) console.log(`  ${String(ms).padStart(8)} ms  ${pkg}`);
}

/** esbuild's unminified output marks each module with a `// <path>` line: map profile lines back to packages. */
function selfTimeByBundledModule(profile: ProfileJson, dir: string): [string, number][] {
  const markers = new Map<string, { line: number; module: string }[]>();
  for (const name of ["server.js", "tracing.js"]) {
    const lines = readFileSync(path.join(dir, name), "utf8").split("\n");
    const list: { line: number; module: string }[] = [];
    lines.forEach((text, i) => {
      const m = /^\/\/ ((?:node_modules\/)?\S+\.(?:js|ts|cjs|mjs|json))$/.exec(text);
      if (m) list.push({ line: i, module: m[1] });
    });
    markers.set(name, list);
  }
  const packageOf = (module: string) => {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(module);
    return m ? m[1] : module;
  };
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000);
  }
  const totals = new Map<string, number>();
  for (const node of profile.nodes) {
    const ms = self.get(node.id);
    if (!ms) continue;
    const name = path.basename(node.callFrame.url);
    const list = markers.get(name);
    if (!list || !node.callFrame.url.includes(dir)) continue;
    let lo = 0;
    let hi = list.length - 1;
    let found = "(bundle prelude)";
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].line <= node.callFrame.lineNumber) {
        found = list[mid].module;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const key = `${name}: ${packageOf(found)}`;
    totals.set(key, (totals.get(key) ?? 0) + ms);
  }
  return [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round(v * 10) / 10]);
}

interface ProfileJson {
  nodes: { id: number; callFrame: { url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
