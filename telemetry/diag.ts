/** Routes OpenTelemetry's internal diagnostics (export failures, dropped attributes) into the JSON log. */
import { diag, DiagLogLevel, type DiagLogger } from "@opentelemetry/api";
import { setGlobalErrorHandler, type ErrorHandler } from "@opentelemetry/core";
import { envString } from "./env";
import type { Logger } from "./logger";
import { alreadyReported } from "./span-loss";

const DIAG_LEVELS: Record<string, DiagLogLevel> = {
  none: DiagLogLevel.NONE,
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
};

/**
 * The BatchSpanProcessor's own notice of queue-full drops (sdk-trace `BatchSpanProcessorBase._addToBuffer`), written
 * once a later span fits again. telemetry/span-loss.ts already counts and logs every one of those drops.
 */
const QUEUE_FULL_NOTICE = /^(Dropped \d+ spans because maxQueueSize reached|maxQueueSize reached, dropping spans)$/;

/** Installs `logger` as OTel's diag logger at `OTEL_LOG_LEVEL` (default `warn`; unknown values mean `warn`). */
export function installDiagLogger(logger: Logger, env: NodeJS.ProcessEnv = process.env): void {
  const emit =
    (level: "error" | "warn" | "info" | "debug") =>
    (message: string, ...args: unknown[]): void => {
      if (QUEUE_FULL_NOTICE.test(message)) return;
      logger[level]("otel.diag", { message, ...(args.length ? { args: args.map(String) } : {}) });
    };
  const diagLogger: DiagLogger = {
    error: emit("error"),
    warn: emit("warn"),
    info: emit("info"),
    debug: emit("debug"),
    verbose: emit("debug"),
  };
  const level = DIAG_LEVELS[envString(env, "OTEL_LOG_LEVEL")?.toLowerCase() ?? "warn"] ?? DiagLogLevel.WARN;
  diag.setLogger(diagLogger, { logLevel: level, suppressOverrideMessage: true });
  setGlobalErrorHandler(rateLimitedErrorHandler(logger));
}

/**
 * OTel's global error handler, which the BatchSpanProcessor calls with every failed export. The SDK's default
 * (core `loggingErrorHandler`) writes each one as a `diag.error` of the whole flattened error, stack included — with
 * the collector down, several stack traces a second. Here an export failure already reported by telemetry/span-loss.ts
 * (once per failure streak, then counts) is not logged again, and any other error is logged by message, at most once
 * per message per `intervalMillis`, with how often it repeated in between.
 */
export function rateLimitedErrorHandler(logger: Logger, intervalMillis = 10_000): ErrorHandler {
  const seen = new Map<string, { at: number; repeated: number }>();
  return (error) => {
    if (alreadyReported(error)) return;
    const message = error instanceof Error ? error.message : typeof error === "string" ? error : JSON.stringify(error);
    const now = performance.now();
    const last = seen.get(message);
    if (last && now - last.at < intervalMillis) {
      last.repeated++;
      return;
    }
    if (seen.size >= 100) seen.clear(); // bounded: distinct messages are few; a flood of unique ones resets
    seen.set(message, { at: now, repeated: 0 });
    logger.error("otel.error", { message, ...(last?.repeated ? { repeated: last.repeated } : {}) });
  };
}
