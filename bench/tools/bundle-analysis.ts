/**
 * esbuild metafile analysis of the Lambda bundle: which input modules contribute the most output bytes.
 * Mirrors the options in scripts/build.ts (kept in sync by hand; scripts/build.ts does not export them).
 * Usage: `tsx bench/tools/bundle-analysis.ts [entry=lambda/src/handler.ts] [top=20]`.
 */
import { build } from "esbuild";
import * as path from "node:path";
import { BUNDLE_OPTIONS, bundleTargets } from "../../scripts/build";

const ROOT = path.resolve(__dirname, "..", "..");

export async function analyseBundle(entry = "lambda/src/handler.ts", top = 20) {
  const outdir = path.join(ROOT, "dist", "analysis");
  const target = bundleTargets(outdir).find((t) => t.entry === entry);
  const result = await build({
    ...BUNDLE_OPTIONS,
    external: target?.external ?? [],
    entryPoints: [path.join(ROOT, entry)],
    outfile: path.join(outdir, "out.js"),
    write: false,
    metafile: true,
  });
  const output = Object.values(result.metafile.outputs)[0];
  const byPackage = new Map<string, number>();
  const byModule: { module: string; bytes: number }[] = [];
  for (const [input, info] of Object.entries(output.inputs)) {
    byModule.push({ module: input, bytes: info.bytesInOutput });
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    const pkg = m ? m[1] : input.split("/").slice(0, 2).join("/");
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + info.bytesInOutput);
  }
  return {
    totalBytes: output.bytes,
    byPackage: [...byPackage.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([pkg, bytes]) => ({ pkg, bytes })),
    byModule: byModule.sort((a, b) => b.bytes - a.bytes).slice(0, top),
  };
}

if (require.main === module) {
  const [entry, topArg] = process.argv.slice(2);
  analyseBundle(entry, Number(topArg ?? 20)).then((a) => {
    console.log(`total ${a.totalBytes} bytes\n\nby package:`);
    for (const x of a.byPackage) console.log(`  ${String(x.bytes).padStart(8)}  ${x.pkg}`);
    console.log("\nby module:");
    for (const x of a.byModule) console.log(`  ${String(x.bytes).padStart(8)}  ${x.module}`);
  });
}
