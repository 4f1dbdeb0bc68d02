/** Routes OpenTelemetry's internal diagnostics (export failures, dropped attributes) into the JSON log. */
import { diag, DiagLogLevel, type DiagLogger } from "@opentelemetry/api";
import type { Logger } from "./logger";

const DIAG_LEVELS: Record<string, DiagLogLevel> = {
  none: DiagLogLevel.NONE,
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
};

/** Installs `logger` as OTel's diag logger at `OTEL_LOG_LEVEL` (default `warn`; unknown values mean `warn`). */
export function installDiagLogger(logger: Logger, env: NodeJS.ProcessEnv = process.env): void {
  const emit =
    (level: "error" | "warn" | "info" | "debug") =>
    (message: string, ...args: unknown[]): void =>
      logger[level]("otel.diag", { message, ...(args.length ? { args: args.map(String) } : {}) });
  const diagLogger: DiagLogger = {
    error: emit("error"),
    warn: emit("warn"),
    info: emit("info"),
    debug: emit("debug"),
    verbose: emit("debug"),
  };
  const level = DIAG_LEVELS[(env.OTEL_LOG_LEVEL ?? "warn").trim().toLowerCase()] ?? DiagLogLevel.WARN;
  diag.setLogger(diagLogger, { logLevel: level, suppressOverrideMessage: true });
}
