/**
 * API entrypoint: read config once (fail fast), build the app, listen. SIGTERM/SIGINT: stop accepting, let
 * in-flight requests finish (bounded), flush spans (bounded), exit 0 — well inside ECS's 30 s before SIGKILL.
 */
import { trace } from "@opentelemetry/api";
import { API_SERVICE_NAME } from "../../packages/traced-components/src/contract/service-names";
import { createJsonLogger } from "../../telemetry/logger";
import { flushWithin } from "../../telemetry/provider";
import { createApp } from "./app";
import { readServerConfig, type ServerConfig } from "./config";
import { createHttpServer } from "./http-server";
import { createDynamoIdempotencyStore } from "./idempotency";
import { createSqsPublisher } from "./publisher";
import { createApiDynamoClient, createDynamoStatusReader } from "./status";

/** In-flight requests get this long after SIGTERM; then remaining connections are closed. */
const DRAIN_TIMEOUT_MS = 20_000;
/** Span flush budget at shutdown. */
const FLUSH_TIMEOUT_MS = 5_000;

function main(): void {
  const logger = createJsonLogger({ service: process.env.OTEL_SERVICE_NAME?.trim() || API_SERVICE_NAME });
  let config: ServerConfig;
  try {
    config = readServerConfig(process.env);
  } catch (error) {
    logger.error("server.config_invalid", { error });
    process.exit(1);
  }
  // The version belongs to the resource (service.version from OTEL_RESOURCE_ATTRIBUTES), not the tracer's scope.
  const tracer = trace.getTracer(config.serviceName);
  const publisher = createSqsPublisher({ queueUrl: config.queueUrl, tracer });
  const { tableName } = config;
  const dynamo = tableName ? createApiDynamoClient() : undefined;
  const app = createApp({
    publisher,
    statusReader: dynamo && tableName ? createDynamoStatusReader({ client: dynamo, tableName, tracer }) : undefined,
    idempotency: dynamo && tableName ? createDynamoIdempotencyStore({ client: dynamo, tableName, tracer }) : undefined,
    tracer,
    logger,
    incomingTraceContext: config.incomingTraceContext,
  });
  // Timeouts from HTTP_*_TIMEOUT_MS (app/src/http-server.ts): headers ≤ request, keep-alive above the ALB idle timeout.
  const server = createHttpServer(app.callback(), config.http);

  server.on("error", (error) => {
    logger.error("server.listen_failed", { error });
    process.exit(1);
  });
  server.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    logger.info("server.listening", {
      host: config.host,
      port,
      queue_url: config.queueUrl,
      incoming_trace_context: config.incomingTraceContext,
    });
  });

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info("server.shutdown_started", { signal });
    const drainTimer = setTimeout(() => server.closeAllConnections(), DRAIN_TIMEOUT_MS);
    drainTimer.unref();
    // Keep-alive connections become idle once their in-flight response is written: close them as that happens.
    const idleSweep = setInterval(() => server.closeIdleConnections(), 100);
    idleSweep.unref();
    server.close(() => {
      clearTimeout(drainTimer);
      clearInterval(idleSweep);
      publisher.close();
      dynamo?.destroy();
      const delegate = (trace.getTracerProvider() as { getDelegate?: () => unknown }).getDelegate?.() as
        { forceFlush?: () => Promise<void>; shutdown?: () => Promise<void> } | undefined;
      const flush = delegate?.shutdown
        ? flushWithin({ forceFlush: () => delegate.shutdown!() }, FLUSH_TIMEOUT_MS)
        : Promise.resolve("flushed" as const);
      void flush.then((outcome) => {
        logger.info("server.stopped", { signal, span_flush: outcome });
        process.exit(0);
      });
    });
    // Keep-alive connections without a request in flight are closed now; busy ones close after their response.
    server.closeIdleConnections();
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

main();
