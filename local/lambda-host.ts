/**
 * The local Lambda execution environment: a separate Node process that loads the function bundle once (the init
 * phase) and runs invocations sent by the event-source-mapping emulator over IPC.
 *
 * The function only sees what Lambda would give it: environment variables (`AWS_LAMBDA_FUNCTION_NAME`, `AWS_REGION`,
 * `OTEL_EXPORTER_OTLP_ENDPOINT`, …), the event and a Context. No local-only code is loaded into it.
 *
 * Run as a child: `node --require tsx/cjs local/lambda-host.ts <handler file> [export name]` with an IPC channel.
 * {@link startLambdaHost} (parent side) does that and returns an {@link Invoke} for the emulator.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { stopChild } from "./child-process";
import { createLambdaContext, type InvocationInfo, type Invoke } from "./event-source-mapping";

type ToHost = { type: "invoke"; id: number; event: SQSEvent; info: InvocationInfo };
type FromHost =
  | { type: "ready"; initDurationMs: number }
  | { type: "init-error"; error: string }
  | { type: "result"; id: number; response: SQSBatchResponse | null }
  | { type: "error"; id: number; error: { name: string; message: string } };

export interface LambdaHostOptions {
  /** The function bundle (e.g. dist/lambda/handler.js); `.ts` works too (tsx is preloaded). */
  readonly handlerFile: string;
  /** @default "handler" */
  readonly exportName?: string;
  /** The complete environment of the function process. */
  readonly env: NodeJS.ProcessEnv;
  /** Each line the function writes to stdout/stderr. */
  readonly onLog?: (line: string, stream: "stdout" | "stderr") => void;
  /** @default 15000 */
  readonly initTimeoutMs?: number;
}

export interface LambdaHost {
  readonly pid: number;
  /** False once the process has exited (crashed, killed or stopped). */
  readonly alive: boolean;
  readonly initDurationMs: number;
  readonly invoke: Invoke;
  /** SIGTERM (like Lambda's shutdown phase), then SIGKILL after `graceMs` (default 3000). */
  stop(graceMs?: number): Promise<void>;
}

/** Spawns the execution environment and resolves once the function module has loaded. */
export async function startLambdaHost(options: LambdaHostOptions): Promise<LambdaHost> {
  const child = spawn(
    process.execPath,
    [
      "--require",
      require.resolve("tsx/cjs"),
      __filename,
      path.resolve(options.handlerFile),
      options.exportName ?? "handler",
    ],
    { env: options.env, stdio: ["ignore", "pipe", "pipe", "ipc"] },
  );
  // A ChildProcess "error" event without a listener throws in the parent — the process that also holds the in-memory
  // SQS server in `npm start`. Send errors are handled per invocation below; anything else is logged.
  child.on("error", (error) =>
    options.onLog?.(`[local] Lambda environment pid ${child.pid}: ${error.message}`, "stderr"),
  );
  for (const stream of ["stdout", "stderr"] as const) {
    createInterface({ input: child[stream]! }).on("line", (line) => options.onLog?.(line, stream));
  }

  const pending = new Map<
    number,
    { resolve: (value: SQSBatchResponse | undefined) => void; reject: (e: Error) => void }
  >();
  let nextId = 1;
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  void exited.then((code) => {
    for (const { reject } of pending.values())
      reject(new Error(`Lambda host exited (code ${code}) during the invocation`));
    pending.clear();
  });

  const initDurationMs = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`Lambda host did not finish init within ${options.initTimeoutMs ?? 15000} ms`));
    }, options.initTimeoutMs ?? 15000);
    child.on("message", (message: FromHost) => {
      if (message.type === "ready") {
        clearTimeout(timer);
        resolve(message.initDurationMs);
      } else if (message.type === "init-error") {
        clearTimeout(timer);
        reject(new Error(`Lambda init failed: ${message.error}`));
      } else if (message.type === "result") {
        pending.get(message.id)?.resolve(message.response ?? undefined);
        pending.delete(message.id);
      } else if (message.type === "error") {
        const error = new Error(message.error.message);
        error.name = message.error.name;
        pending.get(message.id)?.reject(error);
        pending.delete(message.id);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`Lambda host exited with code ${code} before init completed`));
    });
  });

  let stopped: Promise<void> | undefined;
  void exited.then((code) => {
    if (!stopped)
      options.onLog?.(
        `[local] Lambda environment pid ${child.pid} exited (code ${code}); the next invocation gets a fresh one`,
        "stderr",
      );
  });
  return {
    pid: child.pid ?? -1,
    get alive() {
      return child.connected && child.exitCode === null && child.signalCode === null;
    },
    initDurationMs,
    invoke(event, info) {
      return new Promise((resolve, reject) => {
        if (!child.connected) {
          reject(new Error("Lambda host is not running"));
          return;
        }
        const id = nextId++;
        pending.set(id, { resolve, reject });
        const message: ToHost = { type: "invoke", id, event, info };
        child.send(message, (error) => {
          if (!error) return;
          // The environment died between the liveness check and the send (EPIPE, ERR_IPC_CHANNEL_CLOSED): the
          // invocation fails like a crashed environment, and the environment is put down for good so that the pool
          // replaces it.
          if (pending.delete(id)) {
            reject(new Error(`Lambda host exited during the invocation (send failed: ${error.message})`));
          }
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        });
      });
    },
    stop(graceMs = 3000) {
      stopped ??= stopChild(child, exited, graceMs);
      return stopped;
    },
  };
}

// ---------------------------------------------------------------- child side

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

async function runHost(handlerFile: string, exportName: string): Promise<void> {
  const send = (message: FromHost) => process.send?.(message);
  let handler: Handler;
  const started = performance.now();
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = require(handlerFile) as Record<string, unknown>;
    const candidate = loaded[exportName];
    if (typeof candidate !== "function") throw new Error(`${handlerFile} does not export a function "${exportName}"`);
    handler = candidate as Handler;
  } catch (error) {
    send({ type: "init-error", error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(1);
  }
  send({ type: "ready", initDurationMs: performance.now() - started });

  let inFlight = 0;
  let onIdle: (() => void) | undefined;
  process.on("message", (message: ToHost) => {
    if (message.type !== "invoke") return;
    inFlight += 1;
    void (async () => {
      try {
        const response = await handler(message.event, createLambdaContext(message.info));
        send({ type: "result", id: message.id, response: response ?? null });
      } catch (error) {
        const err = error instanceof Error ? error : new Error(String(error));
        console.error(
          JSON.stringify({ level: "error", message: "Invoke Error", errorType: err.name, errorMessage: err.message }),
        );
        send({ type: "error", id: message.id, error: { name: err.name, message: err.message } });
      } finally {
        inFlight -= 1;
        if (inFlight === 0) onIdle?.();
      }
    })();
  });

  // Ctrl-C in a terminal signals the whole process group. A real execution environment is shut down by its
  // runtime, not by the terminal: ignore SIGINT and wait for the parent's SIGTERM, so running invocations finish.
  process.on("SIGINT", () => {});
  // Shutdown phase: let running invocations finish, give the function's own SIGTERM listeners (if any) a moment
  // to flush, then exit. The parent escalates to SIGKILL after its grace period.
  process.once("SIGTERM", () => {
    const finish = () => {
      process.disconnect?.();
      setTimeout(() => process.exit(0), 300);
    };
    if (inFlight === 0) finish();
    else onIdle = finish;
  });
}

if (require.main === module) {
  const [handlerFile, exportName] = process.argv.slice(2);
  if (!handlerFile) {
    console.error("usage: lambda-host.ts <handler file> [export name]");
    process.exit(2);
  }
  void runHost(handlerFile, exportName ?? "handler");
}
