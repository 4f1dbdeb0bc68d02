/**
 * The bundled API started as production starts it — `node --require dist/app/tracing.js dist/app/server.js` — for
 * the local stack, the runtime tests and the bench alike, so all three run the same command and wait for it the same
 * way: ready once GET /healthz answers 200, failed when it exits first.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { createInterface } from "node:readline";
import { stopChild } from "./child-process";

export interface ApiProcessOptions {
  /** The directory holding dist/app (the repository root). */
  readonly root: string;
  /** The API's whole environment (nothing is inherited). */
  readonly env: NodeJS.ProcessEnv;
  /** The port it listens on (its PORT). */
  readonly port: number;
  /** Each line it writes, as it writes it (not with `logFile`). */
  readonly onLine?: (line: string, stream: "stdout" | "stderr") => void;
  /**
   * Write its output to this file instead of pipes: a process under load then never waits on a parent draining them
   * (the bench measures it).
   */
  readonly logFile?: string;
  /** How long it may take to answer GET /healthz. @default 15 s */
  readonly startTimeoutMs?: number;
}

export interface ApiProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Resolves with the exit code once it has exited. */
  readonly exited: Promise<number | null>;
  /** Its last lines of output (stdout and stderr, or the end of `logFile`). */
  output(): string;
  /** Whether {@link stop} was called (so an exit is not news). */
  readonly stopping: boolean;
  /** `signal`, then SIGKILL if it has not exited within `graceMs`; resolves with the exit code. */
  stop(options?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<number | null>;
}

/** Starts the API and resolves once GET /healthz answers 200; rejects with its last output when it exits first. */
export async function startApiProcess(options: ApiProcessOptions): Promise<ApiProcess> {
  const logFd = options.logFile ? openSync(options.logFile, "w") : undefined;
  const output = logFd ?? "pipe";
  const child = spawn(
    process.execPath,
    ["--require", path.join(options.root, "dist/app/tracing.js"), path.join(options.root, "dist/app/server.js")],
    { cwd: options.root, env: { ...options.env, PORT: String(options.port) }, stdio: ["ignore", output, output] },
  );
  if (logFd !== undefined) closeSync(logFd); // the child holds its own copy
  const tail: string[] = [];
  for (const stream of ["stdout", "stderr"] as const) {
    const input = child[stream];
    if (!input) continue;
    createInterface({ input }).on("line", (line) => {
      tail.push(line.length > 400 ? `${line.slice(0, 400)}…` : line);
      if (tail.length > 20) tail.shift();
      options.onLine?.(line, stream);
    });
  }
  const lastOutput = () =>
    options.logFile ? readFileSync(options.logFile, "utf8").split("\n").slice(-20).join("\n") : tail.join("\n");
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      exitCode = code;
      resolve(code);
    }),
  );
  // After the exit, once its output has been read to the end.
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  let stopping = false;
  const stop = async ({ signal = "SIGTERM", graceMs = 5000 }: { signal?: NodeJS.Signals; graceMs?: number } = {}) => {
    stopping = true;
    await stopChild(child, exited, graceMs, signal);
    return exited;
  };

  const url = `http://127.0.0.1:${options.port}`;
  const timeoutMs = options.startTimeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exitCode !== undefined) {
      await closed;
      throw new Error(`The API exited with code ${exitCode} during startup:\n${lastOutput()}`);
    }
    if (await healthy(url)) break;
    if (Date.now() > deadline) {
      await stop({ graceMs: 1000 });
      throw new Error(
        `The API did not answer GET /healthz on port ${options.port} within ${timeoutMs} ms:\n${lastOutput()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    child,
    pid: child.pid ?? -1,
    url,
    exited,
    output: lastOutput,
    get stopping() {
      return stopping;
    },
    stop,
  };
}

function healthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`${url}/healthz`, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
  });
}
