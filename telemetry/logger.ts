/**
 * A deliberately small JSON logger: one line per event, with `trace_id` / `span_id` / `trace_flags` of the given (or active)
 * context, so a log line in CloudWatch/Coralogix leads to its trace. Built for the request hot path: one object,
 * one `JSON.stringify`, one write; no formatting libraries, no async hooks. A failing write never throws.
 */
import { context as otelContext, trace, type Context } from "@opentelemetry/api";
import { LOG_LEVEL_ENV } from "../packages/traced-components/src/contract/runtime-env";
import { envString } from "./env";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(event: string, fields?: LogFields, ctx?: Context): void;
  info(event: string, fields?: LogFields, ctx?: Context): void;
  warn(event: string, fields?: LogFields, ctx?: Context): void;
  error(event: string, fields?: LogFields, ctx?: Context): void;
}

export interface JsonLoggerOptions {
  /** Written as `service` on every line. */
  readonly service: string;
  /** Minimum level; defaults to `LOG_LEVEL` or `info`. */
  readonly level?: LogLevel;
  /** Line sink (without trailing newline handling: it receives the full line incl. `\n`). Defaults to stdout. */
  readonly write?: (line: string) => void;
}

function toLevel(value: string | undefined): LogLevel | undefined {
  const v = value?.toLowerCase();
  return v === "debug" || v === "info" || v === "warn" || v === "error" ? v : undefined;
}

/** How many `cause`s deep an error is written (a cycle or a long chain stops there). */
const MAX_CAUSE_DEPTH = 3;

/** An error as a log field: its type, message and stack, and its `cause` chain (errors keep why they happened). */
function serialiseError(error: Error, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = { type: error.name, message: error.message, stack: error.stack };
  const cause = (error as { cause?: unknown }).cause;
  if (cause !== undefined && depth < MAX_CAUSE_DEPTH) {
    out.cause = cause instanceof Error ? serialiseError(cause, depth + 1) : cause;
  }
  return out;
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return serialiseError(value);
  if (typeof value === "bigint") return value.toString();
  return value;
}

const defaultWrite = (line: string): void => {
  process.stdout.write(line);
};

export function createJsonLogger(options: JsonLoggerOptions): Logger {
  const min = LEVELS[options.level ?? toLevel(envString(process.env, LOG_LEVEL_ENV)) ?? "info"];
  const write = options.write ?? defaultWrite;
  const service = options.service;

  const log = (level: LogLevel, event: string, fields: LogFields | undefined, ctx: Context | undefined): void => {
    if (LEVELS[level] < min) return;
    try {
      const spanContext = trace.getSpanContext(ctx ?? otelContext.active());
      const record: Record<string, unknown> = {
        time: new Date().toISOString(),
        level,
        service,
        event,
      };
      if (spanContext && spanContext.traceId !== "00000000000000000000000000000000") {
        record.trace_id = spanContext.traceId;
        record.span_id = spanContext.spanId;
        // OTel "trace context in non-OTLP log formats": the flags as two hex digits ("01" = sampled).
        record.trace_flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, "0");
      }
      if (fields) {
        for (const key in fields) {
          if (!(key in record)) record[key] = fields[key];
        }
      }
      write(JSON.stringify(record, replacer) + "\n");
    } catch {
      // Logging must never break the caller (closed stdout, circular fields, ...).
    }
  };

  return {
    debug: (event, fields, ctx) => log("debug", event, fields, ctx),
    info: (event, fields, ctx) => log("info", event, fields, ctx),
    warn: (event, fields, ctx) => log("warn", event, fields, ctx),
    error: (event, fields, ctx) => log("error", event, fields, ctx),
  };
}
