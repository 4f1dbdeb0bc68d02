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
import { ExporterFaultsResult, benchExporterFaults } from "./sections/exporter-faults";
import { StoreResult, benchStore } from "./sections/store";
import { FlushResult, benchFlush } from "./sections/flush";
import { PipelineResult, benchPipeline } from "./sections/pipeline";
import { SidecarOutageResult, benchSidecarOutage } from "./sections/api-sidecar-outage";

export const SECTIONS = ["api", "cold", "store", "flush", "pipeline", "exporter-faults", "sidecar"] as const;
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
  sections: {
    api?: ApiResult;
    cold?: ColdResult;
    store?: StoreResult;
    flush?: FlushResult;
    pipeline?: PipelineResult;
    "exporter-faults"?: ExporterFaultsResult;
    sidecar?: SidecarOutageResult;
  };
  errors: Partial<Record<Section | "build", string>>;
}

export const USAGE = `usage: npm run bench -- [options]

Measures tracing overhead (api), Lambda cold init (cold), the onboarding store's cost (store), flush latency
(flush), local pipeline completeness (pipeline), the Lambda exporter under collector faults (exporter-faults) and
the API with its collector sidecar down or stalled (sidecar). A full run of every section writes bench/results.json
and bench/results.md, the committed results; any other run writes bench/results.local.json (or --out) and leaves
the committed files alone.

options:
  --smoke               every section tiny (also BENCH_SMOKE=1)
  --only <a,b>          run only these sections: ${SECTIONS.join(", ")}
  --out <file>          write the results JSON here
  --no-md               do not rewrite bench/results.md
  --render [file]       only re-render bench/results.md from bench/results.json (or file); measures nothing
  -h, --help            this text
`;

export class BenchUsageError extends Error {}

export function parseArgs(argv: string[]): {
  mode: Mode;
  only: Section[];
  out?: string;
  md: boolean;
  partial: boolean;
} {
  const known = new Set(["--smoke", "--no-md", "--only", "--out"]);
  let onlyArg: string | undefined;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] =
      arg.startsWith("--") && arg.includes("=")
        ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
        : [arg, undefined];
    if (!known.has(flag)) throw new BenchUsageError(`unknown argument "${arg}"`);
    if (flag === "--only" || flag === "--out") {
      const value = inline ?? argv[++i];
      if (!value || value.startsWith("--")) throw new BenchUsageError(`${flag} needs a value`);
      if (flag === "--only") onlyArg = value;
      else out = value;
    }
  }
  const smoke = argv.includes("--smoke") || process.env.BENCH_SMOKE === "1";
  let only: Section[] = [...SECTIONS];
  if (onlyArg !== undefined) {
    const names = onlyArg
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = names.filter((s) => !(SECTIONS as readonly string[]).includes(s));
    if (unknown.length > 0 || names.length === 0) {
      throw new BenchUsageError(
        `unknown section(s) "${unknown.join(",") || onlyArg}" — sections: ${SECTIONS.join(", ")}`,
      );
    }
    only = names as Section[];
  }
  const partial = only.length < SECTIONS.length;
  return { mode: smoke ? "smoke" : "full", only, ...(out ? { out } : {}), md: !argv.includes("--no-md"), partial };
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
  await run("store", () => benchStore(cfg.store, log));
  await run("flush", () => benchFlush(cfg.flush, log));
  await run("pipeline", () => benchPipeline(cfg.pipeline, log));
  await run("exporter-faults", () => benchExporterFaults(args.mode, log));
  await run("sidecar", () => benchSidecarOutage(args.mode, log));

  results.durationSeconds = Math.round((Date.now() - started) / 1000);
  results.machine.loadAvgAtEnd = os.loadavg().map((x) => Math.round(x * 100) / 100);
  // Only a full run of every section may replace the committed results.
  const committed = args.mode === "full" && !args.partial;
  const out = args.out ?? path.join(REPO_ROOT, "bench", committed ? "results.json" : "results.local.json");
  writeFileSync(out, JSON.stringify(results, null, 2) + "\n");
  const markdown = await prettierMarkdown(renderMarkdown(results), path.join(REPO_ROOT, "bench", "results.md"));
  console.log(`\n${markdown}\n`);
  if (committed && !args.out && args.md) {
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

if (require.main === module && (process.argv.includes("--help") || process.argv.includes("-h"))) {
  console.log(USAGE);
} else if (require.main === module && process.argv.includes("--render")) {
  const i = process.argv.indexOf("--render");
  const file = process.argv[i + 1] && !process.argv[i + 1].startsWith("--") ? process.argv[i + 1] : undefined;
  render(path.resolve(file ?? path.join(REPO_ROOT, "bench", "results.json"))).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else if (require.main === module) {
  try {
    parseArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    console.error(`npm run bench: ${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
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
