/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time by file and by function, so a missed target
 * can be traced to its cause. Usage: `tsx bench/tools/cpuprofile-summary.ts <file.cpuprofile> [top=15]`.
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  totalMs: number;
  byFile: { file: string; selfMs: number }[];
  byFunction: { fn: string; selfMs: number }[];
}

function shortUrl(url: string): string {
  if (!url) return "(native/gc/idle)";
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) return url.slice(nm + "node_modules/".length);
  return url.replace(/^file:\/\//, "").replace(/^.*\/work\/main\//, "");
}

export function summarise(profile: Profile, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
  }
  const files = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, ms] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url ? shortUrl(url) : `(${functionName || "anonymous"})`;
    files.set(file, (files.get(file) ?? 0) + ms);
    const fn = `${functionName || "(anonymous)"} ${file}${url ? `:${lineNumber + 1}` : ""}`;
    fns.set(fn, (fns.get(fn) ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return {
    totalMs: (profile.endTime - profile.startTime) / 1000,
    byFile: sorted(files).map(([file, selfMs]) => ({ file, selfMs: Math.round(selfMs * 10) / 10 })),
    byFunction: sorted(fns).map(([fn, selfMs]) => ({ fn, selfMs: Math.round(selfMs * 10) / 10 })),
  };
}

if (require.main === module) {
  const [file, topArg] = process.argv.slice(2);
  if (!file) {
    console.error("usage: tsx bench/tools/cpuprofile-summary.ts <file.cpuprofile> [top]");
    process.exit(2);
  }
  const s = summarise(JSON.parse(readFileSync(file, "utf8")) as Profile, Number(topArg ?? 15));
  console.log(`total ${Math.round(s.totalMs)} ms\n\nself time by file:`);
  for (const x of s.byFile) console.log(`  ${String(x.selfMs).padStart(8)} ms  ${x.file}`);
  console.log("\nself time by function:");
  for (const x of s.byFunction) console.log(`  ${String(x.selfMs).padStart(8)} ms  ${x.fn}`);
}
