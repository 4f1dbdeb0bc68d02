/**
 * `npm run bench` — tracing overhead, Lambda cold init, flush latency and local-pipeline completeness, measured as
 * ratios inside one run. `npm run bench -- --smoke` (or BENCH_SMOKE=1) runs every section tiny and writes
 * bench/results.local.json instead; `--only api,cold` runs a subset; `--out <file>` overrides the output path;
 * `--render [file]` only rewrites bench/results.md from bench/results.json (or the given file).
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Mode, configFor } from "./lib/config";
import { REPO_ROOT } from "./lib/proc";
import { renderMarkdown } from "./lib/report";
import { ApiResult, benchApi } from "./sections/api";
import { ColdResult, benchCold } from "./sections/cold";
import { FlushResult, benchFlush } from "./sections/flush";
import { PipelineResult, benchPipeline } from "./sections/pipeline";

export const SECTIONS = ["api", "cold", "flush", "pipeline"] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchResults {
  mode: Mode;
  date: string;
  machine: {
    cpuModel: string;
    cores: number;
    node: string;
    platform: string;
    loadAvgAtStart: number[];
    loadAvgAtEnd?: number[];
  };
  commit: string;
  durationSeconds: number;
  sections: { api?: ApiResult; cold?: ColdResult; flush?: FlushResult; pipeline?: PipelineResult };
  errors: Partial<Record<Section | "build", string>>;
}

function parseArgs(argv: string[]): { mode: Mode; only: Section[]; out?: string; md: boolean } {
  const smoke = argv.includes("--smoke") || process.env.BENCH_SMOKE === "1";
  const onlyArg = argv.find((_a, i) => argv[i - 1] === "--only") ?? argv.find((a) => a.startsWith("--only="))?.slice(7);
  const only = onlyArg
    ? (onlyArg.split(",").filter((s) => (SECTIONS as readonly string[]).includes(s)) as Section[])
    : [...SECTIONS];
  const out = argv.find((_a, i) => argv[i - 1] === "--out") ?? argv.find((a) => a.startsWith("--out="))?.slice(6);
  return { mode: smoke ? "smoke" : "full", only, out, md: !argv.includes("--no-md") };
}

function gitCommit(): string {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

export async function runBench(argv: string[]): Promise<BenchResults> {
  const args = parseArgs(argv);
  const cfg = configFor(args.mode);
  const started = Date.now();
  const log = (s: string) => console.log(s);
  const results: BenchResults = {
    mode: args.mode,
    date: new Date().toISOString(),
    machine: {
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      cores: os.cpus().length,
      node: process.version,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      loadAvgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
    },
    commit: gitCommit(),
    durationSeconds: 0,
    sections: {},
    errors: {},
  };
  log(`bench (${args.mode}) on ${results.machine.cpuModel} × ${results.machine.cores}, node ${process.version}`);

  try {
    // Always measure what the current source builds to.
    // Loaded lazily so a missing/broken build script is reported as a section error, not a crash.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const build = require("../scripts/build") as { buildBundles: () => Promise<unknown> };
    await build.buildBundles();
    log("built dist/ with scripts/build.ts buildBundles()");
  } catch (error) {
    results.errors.build = String((error as Error)?.stack ?? error);
    log(`build failed: ${String(error)}`);
  }

  const run = async <K extends Section>(name: K, fn: () => Promise<NonNullable<BenchResults["sections"][K]>>) => {
    if (!args.only.includes(name)) return;
    const t0 = Date.now();
    log(`[${name}]`);
    try {
      results.sections[name] = await fn();
    } catch (error) {
      results.errors[name] = String((error as Error)?.stack ?? error);
      log(`  ${name} failed: ${String((error as Error)?.message ?? error).slice(0, 2000)}`);
    }
    log(`  (${Math.round((Date.now() - t0) / 100) / 10} s)`);
  };

  await run("api", () => benchApi(cfg.api, log));
  await run("cold", () => benchCold(cfg.cold, log));
  await run("flush", () => benchFlush(cfg.flush, log));
  await run("pipeline", () => benchPipeline(cfg.pipeline, log));

  results.durationSeconds = Math.round((Date.now() - started) / 1000);
  results.machine.loadAvgAtEnd = os.loadavg().map((x) => Math.round(x * 100) / 100);
  const out = args.out ?? path.join(REPO_ROOT, "bench", args.mode === "full" ? "results.json" : "results.local.json");
  writeFileSync(out, JSON.stringify(results, null, 2) + "\n");
  const markdown = await prettierMarkdown(renderMarkdown(results), path.join(REPO_ROOT, "bench", "results.md"));
  console.log(`\n${markdown}\n`);
  if (args.mode === "full" && !args.out && args.md) {
    writeFileSync(path.join(REPO_ROOT, "bench", "results.md"), markdown + "\n");
  }
  log(`wrote ${path.relative(REPO_ROOT, out)} (${results.durationSeconds} s)`);
  return results;
}

/** Formats the table with the repo's prettier settings, so `prettier --check .` (npm run lint) accepts results.md. */
async function prettierMarkdown(markdown: string, filepath: string): Promise<string> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const prettier = require("prettier") as typeof import("prettier");
    const options = (await prettier.resolveConfig(filepath)) ?? {};
    return (await prettier.format(markdown, { ...options, filepath })).trimEnd();
  } catch {
    return markdown;
  }
}

/** `--render [results.json]`: rewrite bench/results.md from an existing results file (no measuring). */
async function render(file: string): Promise<void> {
  const results = JSON.parse(readFileSync(file, "utf8")) as BenchResults;
  const mdPath = path.join(REPO_ROOT, "bench", "results.md");
  const markdown = await prettierMarkdown(renderMarkdown(results), mdPath);
  writeFileSync(mdPath, markdown + "\n");
  console.log(markdown);
}

if (require.main === module && process.argv.includes("--render")) {
  const i = process.argv.indexOf("--render");
  const file = process.argv[i + 1] && !process.argv[i + 1].startsWith("--") ? process.argv[i + 1] : undefined;
  render(path.resolve(file ?? path.join(REPO_ROOT, "bench", "results.json"))).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else if (require.main === module) {
  runBench(process.argv.slice(2)).then(
    (results) => {
      // Every helper process is stopped by now; exit explicitly so a lingering gRPC/agent handle cannot hang npm.
      process.exit(Object.keys(results.errors).length > 0 ? 1 : 0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
