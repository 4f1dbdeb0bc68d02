/**
 * Mocha global fixtures (run once, in mocha's main process, before the parallel workers start): one directory where
 * the workers share their stack runs (harness/run-cache.ts), removed at the end, and Node's compile cache for every
 * process the suite starts.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { RUN_CACHE_ENV } from "../harness/run-cache";

let dir: string | undefined;

export function mochaGlobalSetup(): void {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "traced-test-runs-"));
  // The workers are forked after this and inherit the environment.
  process.env[RUN_CACHE_ENV] = dir;
  // The suite starts dozens of Node processes (workers, stack runs, local stacks) that compile the same large modules
  // (the providers' SDKs above all); V8's code cache, keyed by each file's content, saves about a fifth of a stack
  // run's CPU even on a cold cache. Kept between runs, beside npm's other caches; a developer's own setting wins.
  process.env.NODE_COMPILE_CACHE ??= path.resolve(__dirname, "../node_modules/.cache/node-compile-cache");
}

export function mochaGlobalTeardown(): void {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

// Under c8 (`npm test`) each worker writes its V8 coverage as it exits. Mocha's worker pool asks a worker to exit and
// sends it SIGTERM 1 s later (workerpool's default workerTerminateTimeout), but writing the coverage of a worker that
// has loaded the providers' SDKs takes longer, and a killed worker's coverage is lost. A SIGTERM listener keeps the
// worker alive until its own exit has written the file.
if (process.env.MOCHA_WORKER_ID !== undefined && process.env.NODE_V8_COVERAGE) process.on("SIGTERM", () => undefined);
