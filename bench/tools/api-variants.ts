/**
 * Where does the API's tracing CPU go? Runs the bundled API in several variants side by side (same SQS stub and
 * OTLP receiver, alternated rounds) and prints API CPU µs per request and req/s for each:
 *   off            OTEL_SDK_DISABLED=true
 *   on             as shipped
 *   on-no-als      as shipped, but the AsyncLocalStorageContextManager replaced by a pass-through one
 *                  (found with this tool: on Node 20/22 ALS cost ~85 µs/request, so the API dropped it in f71a2e2;
 *                  on Node 24, with AsyncContextFrame, it registers it again and `on` and `on-no-als` should
 *                  match — a regression check)
 *   on-bsp         as shipped, with larger export batches (OTEL_BSP_MAX_EXPORT_BATCH_SIZE=2048, OTEL_BSP_SCHEDULE_DELAY=1000)
 *   base-off/base-on  the same bundles from another build (`API_VARIANTS_BASE_DIST=<dir with app/tracing.js,
 *                  app/server.js>`, e.g. a copy of dist/ taken before a change), for A/B of code changes
 * `API_VARIANTS=off,on,...` picks variants (default: off,on,on-no-als, plus base-* when a base dist is given).
 * Usage: `tsx bench/tools/api-variants.ts [rounds=8] [seconds=3]`.
 */
import { tmpdir } from "node:os";
import * as path from "node:path";
import { freePort } from "../../local/ports";
import { REPO_ROOT, processCpuMicros, sleep, spawnNode, waitForHttp } from "../lib/proc";
import { DIST, apiEnv, startReceiver, startSqsStub } from "../lib/services";
import { median } from "../lib/stats";
import { autocannon } from "../sections/api";

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 8);
  const seconds = Number(process.argv[3] ?? 3);
  const [receiver, stub] = await Promise.all([startReceiver(), startSqsStub()]);
  const noAls = path.join(REPO_ROOT, "bench", "tools", "preload-no-context-manager.cjs");
  const baseDist = process.env.API_VARIANTS_BASE_DIST;
  const base = baseDist
    ? { tracing: path.join(baseDist, "app", "tracing.js"), server: path.join(baseDist, "app", "server.js") }
    : undefined;
  type Variant = { name: string; env: Record<string, string>; preload: string[]; dist?: typeof base };
  const all: Variant[] = [
    { name: "off", env: { OTEL_SDK_DISABLED: "true" }, preload: [] },
    { name: "on", env: {}, preload: [] },
    { name: "on-no-als", env: {}, preload: ["--require", noAls] },
    {
      name: "on-bsp",
      env: { OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "2048", OTEL_BSP_SCHEDULE_DELAY: "1000" },
      preload: [],
    },
    ...(base
      ? [
          { name: "base-off", env: { OTEL_SDK_DISABLED: "true" }, preload: [], dist: base },
          { name: "base-on", env: {}, preload: [], dist: base },
        ]
      : []),
  ];
  const wanted = (process.env.API_VARIANTS ?? `off,on,on-no-als${base ? ",base-off,base-on" : ""}`).split(",");
  const variants = all.filter((v) => wanted.includes(v.name));
  const apis = await Promise.all(
    variants.map(async (v) => {
      const port = await freePort();
      const dist = v.dist ?? DIST;
      const child = spawnNode(dist.server, [], {
        ipc: false,
        logFile: path.join(tmpdir(), `bench-variant-${v.name}.log`),
        nodeArgs: ["--require", dist.tracing, ...v.preload],
        env: apiEnv(port, stub, receiver.endpoint, v.env),
      });
      const url = `http://127.0.0.1:${port}`;
      await waitForHttp(`${url}/healthz`);
      await autocannon(url, 16, 2);
      return { ...v, child, url, cpu: [] as number[], rps: [] as number[] };
    }),
  );
  await sleep(1500);
  for (let r = 0; r < rounds; r++) {
    for (const api of r % 2 ? [...apis].reverse() : apis) {
      const before = processCpuMicros(api.child.pid);
      const load = await autocannon(api.url, 16, seconds);
      api.cpu.push((processCpuMicros(api.child.pid) - before) / load.requests);
      api.rps.push(load.rps);
      await sleep(800);
    }
  }
  const off = apis[0];
  for (const api of apis) {
    console.log(
      `${api.name.padEnd(10)} CPU ${Math.round(median(api.cpu))} µs/req (+${Math.round(median(api.cpu) - median(off.cpu))}), ` +
        `${Math.round(median(api.rps))} req/s (÷ off ${(median(api.rps) / median(off.rps)).toFixed(3)})`,
    );
  }
  await Promise.all([...apis.map((a) => a.child.stop()), receiver.child.stop(), stub.child.stop()]);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
