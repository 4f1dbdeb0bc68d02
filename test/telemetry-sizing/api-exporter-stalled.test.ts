/**
 * With a collector that accepts the connection and never answers (a hung sidecar), the API's export fails at its own
 * deadline, before the batch processor's export timeout: the processor then never abandons an export still in flight
 * to start another beside it (with equal 5 s limits it did, logging `Timeout` each time, and exports piled up behind
 * the stalled connection). The collector here is a real TCP listener that reads and never writes.
 */
import assert from "node:assert/strict";
import * as net from "node:net";
import { installDiagLogger } from "../../telemetry/diag";
import { createOtlpTraceExporter } from "../../telemetry/grpc-exporter";
import { createJsonLogger } from "../../telemetry/logger";
import { SERVICE_BATCH_DEFAULTS, createTracerProvider } from "../../telemetry/provider";
import { createServiceResource } from "../../telemetry/resource";

describe("the API's exporter against a stalled collector (issue #11)", function () {
  this.timeout(30_000);
  const sockets = new Set<net.Socket>();
  const stalled = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined); // reads (so the client's writes complete) and never answers
  });

  before(() => new Promise<void>((resolve) => stalled.listen(0, "127.0.0.1", resolve)));
  after(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => stalled.close(() => resolve()));
  });

  it("fails the export at its deadline, under the batch processor's timeout (no abandoned exports)", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createJsonLogger({
      service: "api",
      write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>),
    });
    installDiagLogger(logger, { OTEL_LOG_LEVEL: "warn" });
    const { port } = stalled.address() as net.AddressInfo;
    const exporter = createOtlpTraceExporter(
      { url: `http://127.0.0.1:${port}`, headers: {}, source: "otel-env" },
      { env: {} },
    );
    const provider = createTracerProvider({
      resource: createServiceResource({ defaultServiceName: "onboarding-api", cloudPlatform: "aws_ecs", env: {} }),
      exporter,
      batch: SERVICE_BATCH_DEFAULTS,
      env: {},
      logger,
    });
    provider.getTracer("api").startSpan("request").end();
    // First export after the 1 s schedule delay; both limits have passed 1 s + 5 s later.
    const failed = await new Promise<Record<string, unknown> | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 8000);
      const poll = setInterval(() => {
        const line = lines.find((l) => l.event === "telemetry.export_failed");
        if (!line) return;
        clearInterval(poll);
        clearTimeout(timer);
        resolve(line);
      }, 50);
    });
    await new Promise((resolve) => setTimeout(resolve, 1500)); // whatever the processor logs after it
    assert.ok(failed, `no export_failed logged: ${JSON.stringify(lines)}`);
    assert.match(String(failed.error_message), /DEADLINE_EXCEEDED/);
    assert.deepEqual(
      lines.filter((l) => l.event === "otel.error"),
      [],
      "the batch processor timed out an export still in flight",
    );
    await provider.shutdown().catch(() => undefined);
  });
});
