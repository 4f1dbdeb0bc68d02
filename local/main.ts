/**
 * `npm start`: the whole traced pipeline on 127.0.0.1 — API → SQS (fauxqs) → Lambda (emulated event source
 * mapping) → OTLP receiver — then a few sample onboarding requests, each trace printed as a tree. Stays up and prints
 * every new trace; Ctrl-C stops everything cleanly.
 *
 * Environment: PORT (API, 8000), TRACE_VIEW_PORT (16686), OTLP_PORT (4317), OTLP_HTTP_PORT (4318), SQS_PORT (4566),
 * OTLP_BEARER_TOKEN (receiver requires `authorization: Bearer <token>`; the children get OTEL_EXPORTER_OTLP_HEADERS),
 * OTLP_FORWARD_ENDPOINT (copy every span to this OTLP/gRPC endpoint) with OTLP_FORWARD_HEADERS (`key=value,…`),
 * TRACE_STORE_MAX_SPANS (50000), SAMPLE_REQUESTS (3), VERBOSE=1 (all child log lines, not only warnings/errors).
 */
import { watchDlq, type DlqWatcher } from "./dlq-watch";
import { parseForwardEndpoint } from "./otlp-forward";
import { formatTrace } from "./trace-printer";
import { DEFAULT_MAX_SPANS } from "./trace-store";
import {
  DEFAULT_PORTS,
  LOCAL_DEFAULTS,
  PORT_VARIABLES,
  PortInUseError,
  startLocalStack,
  type LocalStack,
} from "./stack";

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

/** An integer variable within [min, max]; anything else is a usage error (not silently the default). */
function integerFromEnv(variable: string, fallback: number, min: number, max: number): number {
  const raw = process.env[variable]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new UsageError(`${variable} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** `key=value,key2=value2` (values URL-encoded, as in OTEL_EXPORTER_OTLP_HEADERS). */
function headersFromEnv(variable: string): Record<string, string> | undefined {
  const raw = process.env[variable]?.trim();
  if (!raw) return undefined;
  const headers: Record<string, string> = {};
  for (const pair of raw.split(",")) {
    const at = pair.indexOf("=");
    if (at < 1) throw new UsageError(`${variable} must be key=value pairs separated by commas, got "${raw}"`);
    headers[pair.slice(0, at).trim().toLowerCase()] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return headers;
}

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
  const apiPort = portFromEnv(PORT_VARIABLES.api, DEFAULT_PORTS.api);
  const traceViewPort = portFromEnv(PORT_VARIABLES.traceView, DEFAULT_PORTS.traceView);
  const otlpPort = portFromEnv(PORT_VARIABLES.otlp, DEFAULT_PORTS.otlp);
  const otlpHttpPort = portFromEnv(PORT_VARIABLES.otlpHttp, DEFAULT_PORTS.otlpHttp);
  const sqsPort = portFromEnv(PORT_VARIABLES.sqs, DEFAULT_PORTS.sqs);
  const token = process.env.OTLP_BEARER_TOKEN?.trim() || undefined;
  const samples = integerFromEnv("SAMPLE_REQUESTS", 3, 0, SAMPLE_CUSTOMERS.length);
  const maxSpans = integerFromEnv("TRACE_STORE_MAX_SPANS", DEFAULT_MAX_SPANS, 1, 10_000_000);
  const forwardEndpoint = process.env.OTLP_FORWARD_ENDPOINT?.trim() || undefined;
  if (forwardEndpoint) {
    try {
      parseForwardEndpoint(forwardEndpoint);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  const forwardHeaders = headersFromEnv("OTLP_FORWARD_HEADERS");

  console.log(
    bold(
      "traced-onboarding local stack — building the API and Lambda bundles (esbuild → dist/app, dist/lambda), then " +
        "starting API, SQS, Lambda, OTLP receiver and trace view…",
    ),
  );
  const started = Date.now();
  // Filled in once the stack is up (the watcher needs it); invocations before that cannot have failed 5 times.
  const dlq: { watcher?: DlqWatcher } = {};
  const stack: LocalStack = await startLocalStack({
    apiPort,
    traceViewPort,
    otlpPort,
    otlpHttpPort,
    sqsPort,
    build: "always",
    traceStore: { maxSpans },
    ...(token ? { otlpBearerToken: token } : {}),
    ...(forwardEndpoint ? { forwardEndpoint } : {}),
    ...(forwardHeaders ? { forwardHeaders } : {}),
    onForwardError: (message) => console.log(dim(`otlp   | ${message}`)),
    onLog: (source, line) => logLine(source, line),
    onInvocation: (summary) => {
      dlq.watcher?.invocation(summary);
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
    dlq.watcher?.stop();
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
    console.log(
      `\n${formatTrace(trace, { color, store: stack.traces, ...(stack.traceView ? { viewUrl: stack.traceView.url } : {}) })}`,
    );
  });
  dlq.watcher = watchDlq({
    sqs: stack.sqs,
    maxReceiveCount: stack.sqs.maxReceiveCount,
    store: stack.traces,
    onMove: (move) => {
      const which = move.messages
        .map(
          (m) => `${m.messageId}${m.traceId && stack.traceView ? ` (${stack.traceView.url}/trace/${m.traceId})` : ""}`,
        )
        .join(", ");
      console.log(
        `dlq    | ${move.moved} message(s) moved to ${stack.sqs.dlqName} after ${stack.sqs.maxReceiveCount} failed ` +
          `receives${which ? `: ${which}` : ""}; ${move.waiting} waiting there — read them with ` +
          `aws --endpoint-url ${stack.sqsEndpoint} sqs receive-message --queue-url ${stack.dlqUrl}`,
      );
    },
  });

  const row = (label: string, value: string, variable = "") =>
    `  ${label.padEnd(14)} ${value.padEnd(58)} ${variable ? dim(variable) : ""}`.trimEnd();
  console.log(
    [
      `ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      row("API", `${stack.apiUrl}  POST /onboard, GET /onboard/<id>, GET /healthz`, "PORT"),
      row("trace UI", `${stack.traceView?.url ?? "-"}  search, /trace/<id>, Jaeger /api/…`, "TRACE_VIEW_PORT"),
      row("OTLP/gRPC", `${stack.otlpEndpoint}${token ? "  (Bearer token required)" : ""}`, "OTLP_PORT"),
      row("OTLP/HTTP", `${stack.otlpHttp?.endpoint ?? "-"}  POST /v1/traces (protobuf, JSON)`, "OTLP_HTTP_PORT"),
      ...(stack.forwarder
        ? [row("forwarding", `every span → ${stack.forwarder.endpoint}`, "OTLP_FORWARD_ENDPOINT")]
        : []),
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
  let lastRequestId: unknown;
  for (const customer of SAMPLE_CUSTOMERS.slice(0, samples)) {
    const response = await stack.onboard(customer);
    console.log(`POST /onboard ${customer.customer_id} → ${response.status} ${JSON.stringify(response.body)}`);
    const traceId = response.body.trace_id;
    if (typeof traceId === "string") {
      await stack.traces
        .waitFor(traceId, 15_000, ["complete", "partial"])
        .catch((error: Error) => console.log(error.message));
    }
    lastRequestId = response.body.request_id;
  }
  if (typeof lastRequestId === "string") {
    // The last sample's trace is complete, so the Lambda has recorded it: the status endpoint reads that record. Its
    // own trace (SERVER + GetItem) is printed before the prompt below.
    const statusPath = `/onboard/${lastRequestId}`;
    const printed = new Promise<void>((resolve) => {
      stack.traces.onTrace((trace) => {
        if (trace.spans.some((span) => span.attributes["url.path"] === statusPath)) resolve();
      });
      setTimeout(resolve, 15_000).unref();
    });
    const status = await fetch(`${stack.apiUrl}${statusPath}`);
    console.log(`\nGET ${statusPath} → ${status.status} ${await status.text()}`);
    await printed;
  }

  console.log(
    bold("\nwaiting for requests — try:\n") +
      `  curl -s -X POST ${stack.apiUrl}/onboard -H 'content-type: application/json' \\\n` +
      `    -H 'idempotency-key: TEST-004-signup' \\\n` +
      `    -d '{"customer_id":"TEST-004","email":"you@example.com","company_size":"small","name":"You"}'\n` +
      `  then its status (accepted, then processed): curl -s ${stack.apiUrl}/onboard/<request_id>\n` +
      `  a poison message (to the DLQ in ~35 s): npm run poison\n` +
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
