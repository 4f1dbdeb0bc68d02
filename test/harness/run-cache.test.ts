// harness/run-cache.ts: the processes of one test run share each computation (a stack run), including its failure.
import * as assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { RUN_CACHE_ENV, sharedAcrossProcesses } from "../../harness/run-cache";

const CHILD = path.join(__dirname, "fixtures/shared-run.ts");

describe("harness/run-cache: one computation per test run, shared across processes", function () {
  this.timeout(60_000);
  let dir: string;
  let counter: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "run-cache-test-"));
    counter = path.join(dir, "computations.txt");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function askConcurrently(n: number, key: string, mode = "ok", cacheDir: string | null = dir) {
    const env = { ...process.env };
    delete env[RUN_CACHE_ENV];
    if (cacheDir) env[RUN_CACHE_ENV] = cacheDir;
    const outputs = await Promise.all(
      Array.from({ length: n }, () =>
        promisify(execFile)(process.execPath, ["--require", "tsx/cjs", CHILD, key, counter, mode], { env }),
      ),
    );
    return outputs.map(({ stdout }) => JSON.parse(stdout) as { computedBy?: number; error?: string });
  }
  const computations = () => fs.readFileSync(counter, "utf8").trim().split("\n").length;

  it("three processes asking at once: one computes, all three get its result", async () => {
    const results = await askConcurrently(3, "devUpdate");
    assert.equal(computations(), 1);
    assert.ok(results[0].computedBy);
    assert.deepEqual(results, [results[0], results[0], results[0]]);
  });

  it("a failure is shared too: computed once, every process throws the same error with its data", async () => {
    const results = await askConcurrently(3, "broken", "fail");
    assert.equal(computations(), 1);
    assert.match(results[0].error ?? "", /^run by \d+ failed \(kept: true\)$/);
    assert.deepEqual(results, [results[0], results[0], results[0]]);
  });

  it("different keys are computed separately", async () => {
    await askConcurrently(1, "a");
    await askConcurrently(1, "b");
    assert.equal(computations(), 2);
  });

  it("without the shared directory (one test file on its own) every process computes", async () => {
    const results = await askConcurrently(2, "devUpdate", "ok", null);
    assert.equal(computations(), 2);
    assert.notEqual(results[0].computedBy, results[1].computedBy);
  });

  it("a waiter does not wait forever for an owner that died without a result", async () => {
    const dead = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
    const deadPid = Number(dead.stdout.trim());
    // The lock a dead owner leaves: its pid, and no result.
    const previous = process.env[RUN_CACHE_ENV];
    process.env[RUN_CACHE_ENV] = dir;
    try {
      const lock = await lockFileFor("orphan", deadPid);
      await assert.rejects(
        sharedAcrossProcesses("orphan", async () => 2, failure, rebuild, 5_000),
        /process \d+ claimed it and exited without a result/,
      );
      assert.ok(fs.existsSync(lock));
    } finally {
      if (previous === undefined) delete process.env[RUN_CACHE_ENV];
      else process.env[RUN_CACHE_ENV] = previous;
    }
  });

  const failure = (error: unknown) => ({ message: (error as Error).message, data: undefined });
  const rebuild = ({ message }: { message: string }) => new Error(message);

  /** Finds the lock path the cache uses for `key` by letting it claim once, then hands the lock to `pid`. */
  async function lockFileFor(key: string, pid: number): Promise<string> {
    const before = new Set(fs.readdirSync(dir));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const owner = sharedAcrossProcesses(key, () => held.then(() => 0), failure, rebuild, 5_000);
    const lock = fs.readdirSync(dir).find((file) => !before.has(file) && file.endsWith(".lock"));
    assert.ok(lock, "the owner wrote a lock file");
    const lockPath = path.join(dir, lock);
    release();
    await owner;
    for (const file of fs.readdirSync(dir)) if (file.endsWith(".json")) fs.rmSync(path.join(dir, file));
    fs.writeFileSync(lockPath, String(pid));
    return lockPath;
  }
});
