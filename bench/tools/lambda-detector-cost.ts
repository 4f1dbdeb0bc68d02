/**
 * Cold-init cost of `@opentelemetry/resource-detector-aws`'s `awsLambdaDetector` against reading the Lambda runtime's
 * variables by hand, in fresh `node` processes (medians, interleaved so machine load hits both sides alike):
 * - bundled: two esbuild bundles with the project's options (scripts/build.ts), both building a resource with
 *   `resourceFromAttributes`, one through the detector — what the Lambda ships;
 * - unbundled: `require()` of the package from node_modules after api/core/resources are loaded.
 * Reports wall and CPU (user + system) time; on a loaded machine wall time mostly measures waiting for a core.
 * Usage: `tsx bench/tools/lambda-detector-cost.ts [runs=20]`.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { build } from "esbuild";
import { BUNDLE_OPTIONS } from "../../scripts/build";
import { median } from "../lib/stats";

const ROOT = path.resolve(__dirname, "..", "..");
const LAMBDA_ENV = {
  AWS_EXECUTION_ENV: "AWS_Lambda_nodejs24.x",
  AWS_REGION: "eu-west-1",
  AWS_LAMBDA_FUNCTION_NAME: "f",
  AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "512",
  AWS_LAMBDA_LOG_GROUP_NAME: "/aws/lambda/f",
  AWS_LAMBDA_LOG_STREAM_NAME: "2026/12/06/[$LATEST]abc",
};

const BY_HAND = `const e = process.env;
const attributes = { "faas.name": e.AWS_LAMBDA_FUNCTION_NAME, "faas.version": e.AWS_LAMBDA_FUNCTION_VERSION,
  "faas.instance": e.AWS_LAMBDA_LOG_STREAM_NAME, "faas.max_memory": Number(e.AWS_LAMBDA_FUNCTION_MEMORY_SIZE) * 1048576 };`;
const ENTRIES = {
  "by hand": `import { resourceFromAttributes } from "@opentelemetry/resources";
${BY_HAND}
export const resource = resourceFromAttributes(attributes);`,
  awsLambdaDetector: `import { resourceFromAttributes } from "@opentelemetry/resources";
import { awsLambdaDetector } from "@opentelemetry/resource-detector-aws";
export const resource = resourceFromAttributes(awsLambdaDetector.detect().attributes ?? {});`,
};

/** Child program: times `load()` and prints "wallMs cpuMs". */
const timed = (load: string) => `const c = process.cpuUsage(); const t = process.hrtime.bigint();
const attributes = (() => { ${load} })();
const wall = Number(process.hrtime.bigint() - t) / 1e6; const u = process.cpuUsage(c);
if (attributes["faas.max_memory"] !== 536870912) throw new Error("wrong attributes: " + JSON.stringify(attributes));
process.stdout.write(wall + " " + (u.user + u.system) / 1000);`;

function runOnce(program: string): [number, number] {
  const child = spawnSync(process.execPath, ["-e", program], {
    cwd: ROOT,
    encoding: "utf8",
    env: { PATH: process.env.PATH, ...LAMBDA_ENV },
  });
  if (child.status !== 0) throw new Error(child.stderr);
  return child.stdout.split(" ").map(Number) as [number, number];
}

function measure(programs: Record<string, string>, runs: number): void {
  const samples = Object.fromEntries(
    Object.keys(programs).map((k) => [k, { wall: [] as number[], cpu: [] as number[] }]),
  );
  for (let i = 0; i < runs; i++) {
    for (const [name, program] of Object.entries(programs)) {
      const [wall, cpu] = runOnce(program);
      samples[name]!.wall.push(wall);
      samples[name]!.cpu.push(cpu);
    }
  }
  for (const [name, s] of Object.entries(samples)) {
    console.log(
      `  ${name.padEnd(18)} wall median ${median(s.wall).toFixed(2)} ms   cpu median ${median(s.cpu).toFixed(2)} ms`,
    );
  }
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 20);
  const dir = mkdtempSync(path.join(tmpdir(), "detector-cost-"));
  const bundled: Record<string, string> = {};
  for (const [name, source] of Object.entries(ENTRIES)) {
    const outfile = path.join(dir, `${name.replace(/\W/g, "")}.cjs`);
    await build({ ...BUNDLE_OPTIONS, stdin: { contents: source, resolveDir: ROOT, loader: "js" }, outfile });
    bundled[name] = timed(`return require(${JSON.stringify(outfile)}).resource.attributes;`);
  }
  console.log(`bundled (what the Lambda ships), ${runs} fresh processes each:`);
  measure(bundled, runs);
  const preload = `require("@opentelemetry/api"); require("@opentelemetry/core"); require("@opentelemetry/resources");`;
  console.log(`unbundled (require from node_modules after api/core/resources), ${runs} fresh processes each:`);
  measure(
    {
      "by hand": `${preload}${timed(`${BY_HAND} return attributes;`)}`,
      awsLambdaDetector: `${preload}${timed(`return require("@opentelemetry/resource-detector-aws").awsLambdaDetector.detect().attributes;`)}`,
    },
    runs,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
