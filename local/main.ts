/**
 * `npm start`: the whole traced pipeline on 127.0.0.1 — API → SQS (fauxqs) → Lambda (emulated event source
 * mapping) → OTLP receiver — then a few sample onboarding requests, each trace printed as a tree. Stays up and prints
 * every new trace; Ctrl-C stops everything cleanly.
 *
 * Environment: PORT (API, 8000), TRACE_VIEW_PORT (16686), OTLP_PORT (4317), SQS_PORT (4566),
 * OTLP_BEARER_TOKEN (receiver requires `authorization: Bearer <token>`; the children get OTEL_EXPORTER_OTLP_HEADERS),
 * SAMPLE_REQUESTS (3), VERBOSE=1 (all child log lines, not only warnings/errors), TRACE_STORE_MAX_SPANS (50000).
 */
import { formatTrace } from "./trace-printer";
import { LOCAL_DEFAULTS, PORT_VARIABLES, PortInUseError, startLocalStack, type LocalStack } from "./stack";

function portFromEnv(variable: string, fallback: number): number {
  const raw = process.env[variable]?.trim();
  if (!raw) return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`${variable} must be a port number between 1 and 65535, got "${raw}"`);
  }
  return port;
}

class UsageError extends Error {}

/** A repeat of the stop signal within this window is the same Ctrl-C relayed by npm/tsx, not a second one. */
const SIGNAL_ECHO_MS = 1500;

const SAMPLE_CUSTOMERS = [
  { customer_id: "TEST-001", email: "ada@example.com", company_size: "small", name: "Ada Lovelace" },
  { customer_id: "TEST-002", email: "grace@example.com", company_size: "enterprise", name: "Grace Hopper" },
  { customer_id: "TEST-003", email: "alan@example.com", company_size: "medium", name: "Alan Turing" },
];

const color = process.stdout.isTTY === true;
const dim = (text: string) => (color ? `\x1b[2m${text}\x1b[0m` : text);
const bold = (text: string) => (color ? `\x1b[1m${text}\x1b[0m` : text);

/** Child log lines: warnings/errors always, everything with VERBOSE=1. */
function logLine(source: "api" | "lambda", line: string): void {
  let level = "info";
  try {
    const parsed = JSON.parse(line) as { level?: unknown };
    if (typeof parsed.level === "string") level = parsed.level.toLowerCase();
  } catch {
    level = "warn"; // non-JSON output (a stack trace, a runtime warning) is always worth seeing
  }
  if (process.env.VERBOSE === "1" || ["warn", "warning", "error", "fatal"].includes(level)) {
    // A stack trace through a minified bundle can be one enormous line.
    const shown = line.length > 400 ? `${line.slice(0, 400)}… (${line.length - 400} more characters)` : line;
    console.log(dim(`${source.padEnd(6)} | ${shown}`));
  }
}

async function main(): Promise<void> {
  const apiPort = portFromEnv(PORT_VARIABLES.api, 8000);
  const traceViewPort = portFromEnv(PORT_VARIABLES.traceView, 16686);
  const otlpPort = portFromEnv(PORT_VARIABLES.otlp, 4317);
  const sqsPort = portFromEnv(PORT_VARIABLES.sqs, 4566);
  const token = process.env.OTLP_BEARER_TOKEN?.trim() || undefined;
  const maxSpansRaw = process.env.TRACE_STORE_MAX_SPANS?.trim();
  const maxSpans = maxSpansRaw ? Number(maxSpansRaw) : undefined;
  if (maxSpans !== undefined && !(Number.isInteger(maxSpans) && maxSpans >= 100)) {
    throw new UsageError(`TRACE_STORE_MAX_SPANS must be a whole number ≥ 100, got "${maxSpansRaw}"`);
  }
  const samples = Math.min(Math.max(Number(process.env.SAMPLE_REQUESTS ?? 3) || 0, 0), SAMPLE_CUSTOMERS.length);

  console.log(bold("traced-onboarding local stack — starting (building bundles if needed)…"));
  const started = Date.now();
  const stack: LocalStack = await startLocalStack({
    apiPort,
    traceViewPort,
    otlpPort,
    sqsPort,
    build: "always",
    ...(token ? { otlpBearerToken: token } : {}),
    ...(maxSpans !== undefined ? { traceStore: { maxSpans } } : {}),
    onLog: (source, line) => logLine(source, line),
    onInvocation: (summary) => {
      if (summary.failed > 0) {
        console.log(
          dim(
            `lambda | invocation ${summary.awsRequestId}: ${summary.records} record(s), ${summary.failed} failed` +
              `${summary.error ? ` (${summary.error})` : " (reported in batchItemFailures)"} — redelivered after the ` +
              `visibility timeout, to the DLQ after ${LOCAL_DEFAULTS.maxReceiveCount} receives`,
          ),
        );
      }
    },
  });

  let stoppingSince: number | undefined;
  const shutdown = (signal: string) => {
    if (stoppingSince !== undefined) {
      // npm and tsx forward the terminal's Ctrl-C once more: only a later, deliberate second one forces the exit.
      if (Date.now() - stoppingSince < SIGNAL_ECHO_MS) return;
      console.log("second signal: exiting now");
      process.exit(1);
    }
    stoppingSince = Date.now();
    console.log(`\n${signal}: stopping (children flush their spans, ports close)…`);
    stack.stop().then(
      () => {
        console.log("stopped.");
        process.exit(0);
      },
      (error: unknown) => {
        console.error(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));

  let evictedOpen = 0;
  stack.traces.onTrace((trace) => {
    const stats = stack.traces.stats();
    if (stats.evictedOpen > evictedOpen) {
      evictedOpen = stats.evictedOpen;
      console.log(
        dim(
          `local  | trace store full (${stats.spans} spans): ${evictedOpen} unfinished trace(s) dropped so far, ` +
            `their late spans show up as partial traces — raise TRACE_STORE_MAX_SPANS`,
        ),
      );
    }
    if (trace.state === "batch") return; // shown as links under the record traces
    console.log(`\n${formatTrace(trace, { color, store: stack.traces })}`);
  });

  const row = (label: string, value: string, variable = "") =>
    `  ${label.padEnd(14)} ${value.padEnd(58)} ${variable ? dim(variable) : ""}`.trimEnd();
  console.log(
    [
      `ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      row("API", `${stack.apiUrl}  POST /onboard, GET /healthz`, "PORT"),
      row("trace view", `${stack.traceView?.url ?? "-"}  /api/traces, /api/traces/<id>`, "TRACE_VIEW_PORT"),
      row("OTLP/gRPC", `${stack.otlpEndpoint}${token ? "  (Bearer token required)" : ""}`, "OTLP_PORT"),
      row("SQS (fauxqs)", `${stack.sqsEndpoint}  queue ${stack.sqs.queueName}, DLQ ${stack.sqs.dlqName}`, "SQS_PORT"),
      row(
        "Lambda",
        `${LOCAL_DEFAULTS.functionName}: ${stack.lambdas.length} environment(s), pid ` +
          stack.lambdas.map((host) => `${host.pid} (init ${host.initDurationMs.toFixed(0)} ms)`).join(", "),
      ),
      row(
        "event source",
        `batch ${LOCAL_DEFAULTS.batchSize}, window ${LOCAL_DEFAULTS.maximumBatchingWindowMs} ms, ` +
          `timeout ${LOCAL_DEFAULTS.functionTimeoutMs / 1000} s, visibility ${stack.sqs.visibilityTimeoutSeconds} s, ` +
          `maxReceiveCount ${stack.sqs.maxReceiveCount}`,
      ),
    ].join("\n"),
  );

  if (samples > 0) console.log(bold(`\nsending ${samples} sample request(s)…`));
  for (const customer of SAMPLE_CUSTOMERS.slice(0, samples)) {
    const response = await stack.onboard(customer);
    console.log(`POST /onboard ${customer.customer_id} → ${response.status} ${JSON.stringify(response.body)}`);
    const traceId = response.body.trace_id;
    if (typeof traceId === "string") {
      await stack.traces
        .waitFor(traceId, 15_000, ["complete", "partial"])
        .catch((error: Error) => console.log(error.message));
    }
  }

  console.log(
    bold("\nwaiting for requests — try:\n") +
      `  curl -s -X POST ${stack.apiUrl}/onboard -H 'content-type: application/json' \\\n` +
      `    -d '{"customer_id":"TEST-004","email":"you@example.com","company_size":"small","name":"You"}'\n` +
      `  open ${stack.traceView?.url ?? ""}  ·  Ctrl-C to stop`,
  );
}

main().catch((error: unknown) => {
  if (error instanceof PortInUseError || error instanceof UsageError) {
    console.error(error.message);
  } else {
    console.error(`local stack failed to start: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(1);
});
