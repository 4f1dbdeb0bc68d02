/**
 * Shares a deterministic, expensive computation (a stack run) between the processes of one test run: `npm test` runs
 * the test files in several mocha workers, and each would otherwise start its own child for the same stack mode.
 *
 * The first process to ask for a key claims it (an exclusive lock file holding its pid) and computes it; the others
 * wait for the result file it renames into place. Results are JSON. A failure is shared too, as the error's message
 * and data, so every process sees the same failure once. Without {@link RUN_CACHE_ENV} (e.g. `npm run test:file`)
 * nothing is shared: the caller computes.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** The directory shared by one test run's processes (set by test/global-fixtures.ts before the workers start). */
export const RUN_CACHE_ENV = "TRACED_RUN_CACHE_DIR";

const POLL_MS = 50;

/** What a failed computation leaves for the others: enough to rebuild the same error. */
export interface SharedFailure<D> {
  readonly message: string;
  readonly data: D;
}

type Entry<T, D> = { readonly ok: T } | { readonly failed: SharedFailure<D> };

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * `compute()`'s result for `key`, computed by one process of the test run and read by the rest. `failure(error)` says
 * what of an error is kept; `rebuild(failure)` turns it back into the error each waiting process throws.
 */
export async function sharedAcrossProcesses<T, D>(
  key: string,
  compute: () => Promise<T>,
  failure: (error: unknown) => SharedFailure<D>,
  rebuild: (failure: SharedFailure<D>) => Error,
  timeoutMs: number,
): Promise<T> {
  const dir = process.env[RUN_CACHE_ENV];
  if (!dir) return compute();
  const base = path.join(dir, createHash("sha256").update(key).digest("hex").slice(0, 32));
  const resultFile = `${base}.json`;
  const lockFile = `${base}.lock`;

  let claimed = false;
  try {
    fs.writeFileSync(lockFile, String(process.pid), { flag: "wx" });
    claimed = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }

  if (claimed) {
    let entry: Entry<T, D>;
    try {
      entry = { ok: await compute() };
    } catch (error) {
      entry = { failed: failure(error) };
    }
    const partial = `${base}.${process.pid}.tmp`;
    fs.writeFileSync(partial, JSON.stringify(entry));
    fs.renameSync(partial, resultFile); // atomic: a reader sees the whole file or none
    if ("ok" in entry) return entry.ok;
    throw rebuild(entry.failed);
  }

  const deadline = Date.now() + timeoutMs;
  let owner = 0; // read until the owner's write of its pid is visible, then kept
  for (;;) {
    if (fs.existsSync(resultFile)) {
      const entry = JSON.parse(fs.readFileSync(resultFile, "utf8")) as Entry<T, D>;
      if ("ok" in entry) return entry.ok;
      throw rebuild(entry.failed);
    }
    owner ||= Number(fs.readFileSync(lockFile, "utf8"));
    // The owner wrote the lock before computing; if it is gone without a result, nobody will write one.
    if (owner && !isAlive(owner) && !fs.existsSync(resultFile)) {
      throw new Error(`shared run ${path.basename(base)}: process ${owner} claimed it and exited without a result`);
    }
    if (Date.now() > deadline) throw new Error(`shared run ${path.basename(base)}: no result after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
