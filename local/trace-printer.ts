/**
 * Renders a trace as a tree for the terminal: service, span name, kind, duration and the attributes that tell the
 * story (HTTP route/status, messaging ids, batch sizes, errors). Links to spans in other traces (Lambda's batch span)
 * are shown under the span that carries them.
 */
import type { ReceivedSpan } from "./otlp-receiver";
import { durationMs, summarize, type StoredTrace, type TraceStore } from "./trace-store";

/** Attribute keys printed next to a span, in this order, when present. */
export const KEY_ATTRIBUTES = [
  "http.response.status_code",
  "messaging.message.id",
  "messaging.batch.message_count",
  "faas.coldstart",
  "onboarding.outcome",
  "error.type",
] as const;

export interface PrintOptions {
  /** ANSI colours. @default true when stdout is a TTY */
  readonly color?: boolean;
  /** Resolves span ids of other traces (for link annotations). */
  readonly store?: TraceStore;
  /** The trace view's base URL: the header then ends with the trace's deep link, `<viewUrl>/trace/<id>`. */
  readonly viewUrl?: string;
}

function colorizer(enabled: boolean) {
  const wrap = (code: string) => (text: string) => (enabled ? `\x1b[${code}m${text}\x1b[0m` : text);
  return { dim: wrap("2"), bold: wrap("1"), red: wrap("31"), green: wrap("32"), cyan: wrap("36"), yellow: wrap("33") };
}

function formatValue(value: unknown): string {
  if (typeof value === "string") return value.length > 60 ? `${value.slice(0, 57)}...` : value;
  return JSON.stringify(value);
}

export function formatTrace(trace: StoredTrace, options: PrintOptions = {}): string {
  const c = colorizer(options.color ?? process.stdout.isTTY === true);
  const summary = summarize(trace);
  const spans = [...trace.spans].sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, ReceivedSpan[]>();
  const roots: ReceivedSpan[] = [];
  for (const span of spans) {
    if (span.parentSpanId && ids.has(span.parentSpanId)) {
      const list = children.get(span.parentSpanId) ?? [];
      list.push(span);
      children.set(span.parentSpanId, list);
    } else {
      roots.push(span);
    }
  }

  const serviceWidth = Math.max(...spans.map((s) => s.serviceName.length));
  const stateLabel =
    summary.state === "complete"
      ? c.green("complete")
      : summary.state === "partial"
        ? c.yellow(`partial — ${describeMissing(trace.spans)}`)
        : summary.state;
  const again = trace.reports > 1 ? c.yellow(` (updated ×${trace.reports}: late spans)`) : "";
  const link = options.viewUrl ? `  ${c.cyan(`${options.viewUrl}/trace/${trace.traceId}`)}` : "";
  const lines = [
    `${c.bold(`trace ${trace.traceId}`)}  ${summary.spanCount} span${summary.spanCount === 1 ? "" : "s"}, ${summary.durationMs.toFixed(1)} ms, ${stateLabel}${again}${link}`,
  ];

  // Columns: service, kind, duration, then the tree of span names with their key attributes.
  const visit = (span: ReceivedSpan, prefix: string, last: boolean, depth: number) => {
    const branch = depth === 0 ? "" : last ? "└─ " : "├─ ";
    const attrs = KEY_ATTRIBUTES.filter((key) => span.attributes[key] !== undefined)
      .map((key) => `${key}=${formatValue(span.attributes[key])}`)
      .join(" ");
    const status =
      span.status.code === "ERROR" ? ` ${c.red(`ERROR${span.status.message ? `: ${span.status.message}` : ""}`)}` : "";
    const columns = `  ${c.cyan(span.serviceName.padEnd(serviceWidth))}  ${span.kind.padEnd(8)} ${`${durationMs(span).toFixed(1)} ms`.padStart(10)}  `;
    lines.push(`${columns}${prefix}${branch}${c.bold(span.name)}${status}${attrs ? `  ${c.dim(attrs)}` : ""}`);
    const childPrefix = prefix + (depth === 0 ? "" : last ? "   " : "│  ");
    const blank = " ".repeat(2 + serviceWidth + 2 + 8 + 1 + 10 + 2);
    for (const link of span.links) {
      const target = options.store?.get(link.traceId)?.spans.find((s) => s.spanId === link.spanId);
      const where = link.traceId === trace.traceId ? "this trace" : `trace ${link.traceId}`;
      const described = target
        ? `${target.serviceName} ${target.name} ${target.kind}${describeBatch(target)} in ${where}`
        : where;
      lines.push(`${blank}${childPrefix}${depth === 0 ? "" : "   "}${c.dim(`↔ link → ${described}`)}`);
    }
    const kids = children.get(span.spanId) ?? [];
    kids.forEach((kid, index) => visit(kid, childPrefix, index === kids.length - 1, depth + 1));
  };
  roots.forEach((root, index) => visit(root, "", index === roots.length - 1, 0));
  return lines.join("\n");
}

function describeBatch(span: ReceivedSpan): string {
  const count = span.attributes["messaging.batch.message_count"];
  const cold = span.attributes["faas.coldstart"];
  const parts = [count !== undefined ? `${String(count)} record(s)` : "", cold === true ? "cold start" : ""].filter(
    Boolean,
  );
  return parts.length > 0 ? ` (${parts.join(", ")})` : "";
}

function describeMissing(spans: readonly ReceivedSpan[]): string {
  const kinds = new Set(spans.map((s) => s.kind));
  const missing = (["SERVER", "PRODUCER", "CONSUMER"] as const).filter((k) => !kinds.has(k));
  return missing.length > 0 ? `no ${missing.join("/")} span` : "a PRODUCER span has no CONSUMER child";
}
