/**
 * Child-process plumbing for the bench: every measured thing (API, SQS server, OTLP receiver, load generator)
 * runs in its own process so the numbers are not polluted by the bench's own event loop.
 */
import { ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import * as path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
/** Linux USER_HZ: /proc/<pid>/stat reports CPU time in these ticks (100 on every Linux ABI we run on). */
const CLOCK_TICKS_PER_SECOND = 100;

/** Minimal env for children: PATH/HOME only, so a developer's AWS/OTEL variables never leak into a measurement. */
export function baseEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_ACCESS_KEY_ID: "bench",
    AWS_SECRET_ACCESS_KEY: "bench",
    AWS_REGION: "us-east-1",
    NODE_ENV: "production",
  };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

/** CPU time (user + system) consumed so far by a process, in microseconds, from /proc/<pid>/stat. */
export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Field 2 (comm) may contain spaces/parentheses: split after the last ')'. utime/stime are fields 14/15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1_000_000) / CLOCK_TICKS_PER_SECOND;
}

export interface Child<TMessage = unknown> {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly output: () => string;
  /** Sends a request over IPC and resolves with the first reply whose `id` matches. */
  request<T = TMessage>(message: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** Resolves with the first IPC message matching the predicate. */
  waitForMessage<T = TMessage>(predicate: (m: T) => boolean, timeoutMs?: number): Promise<T>;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

let nextRequestId = 1;

/**
 * Spawns `node [nodeArgs] script [args]` with an IPC channel. stdout/stderr are captured (last 64 KB), or written
 * to `logFile` — cheaper for a process under load (a file write instead of a pipe the bench must drain).
 */
export function spawnNode(
  script: string,
  args: string[] = [],
  options: { env?: NodeJS.ProcessEnv; nodeArgs?: string[]; ipc?: boolean; cwd?: string; logFile?: string } = {},
): Child {
  const logFd = options.logFile ? openSync(options.logFile, "w") : undefined;
  const outStdio = logFd ?? "pipe";
  const proc = spawn(process.execPath, [...(options.nodeArgs ?? []), script, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? baseEnv(),
    stdio: options.ipc === false ? ["ignore", outStdio, outStdio] : ["ignore", outStdio, outStdio, "ipc"],
  });
  if (logFd !== undefined) closeSync(logFd);
  let out = "";
  const append = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 65536) out = out.slice(-65536);
  };
  proc.stdout?.on("data", append);
  proc.stderr?.on("data", append);
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));

  const tail = (file: string) => {
    try {
      return readFileSync(file, "utf8").slice(-65536);
    } catch {
      return "";
    }
  };
  const output = () => (options.logFile ? tail(options.logFile) : out);
  const waitForMessage = <T>(predicate: (m: T) => boolean, timeoutMs = 15000): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (m: unknown) => {
        if (predicate(m as T)) {
          cleanup();
          resolve(m as T);
        }
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`${path.basename(script)} exited (${code}) before replying:\n${output().slice(-2000)}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${path.basename(script)}: no reply within ${timeoutMs} ms:\n${output().slice(-2000)}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        proc.off("message", onMessage);
        proc.off("exit", onExit);
      };
      proc.on("message", onMessage);
      proc.once("exit", onExit);
    });

  return {
    proc,
    pid: proc.pid ?? -1,
    output,
    waitForMessage,
    request<T>(message: Record<string, unknown>, timeoutMs?: number): Promise<T> {
      const id = nextRequestId++;
      const reply = waitForMessage<{ id?: number } & T>((m) => m?.id === id, timeoutMs);
      proc.send({ ...message, id });
      return reply;
    },
    async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 5000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs a process to completion and collects stdout/stderr. */
export function runToEnd(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, {
      cwd: options.cwd ?? REPO_ROOT,
      env: options.env ?? baseEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = options.timeoutMs
      ? setTimeout(() => {
          proc.kill("SIGKILL");
          reject(new Error(`${command} ${args.join(" ")} timed out after ${options.timeoutMs} ms`));
        }, options.timeoutMs)
      : undefined;
    proc.on("error", reject);
    proc.on("exit", (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `url` until it answers 2xx or the timeout passes. */
export async function waitForHttp(url: string, timeoutMs = 20000, isAlive?: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (isAlive && !isAlive()) throw new Error(`process serving ${url} exited`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return;
      lastError = new Error(`HTTP ${res.status}`);
    } catch (error) {
      lastError = error;
    }
    await sleep(100);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms: ${String(lastError)}`);
}
