/** A real fauxqs SQS server in its own process, with one queue; `reset` drops messages between rounds. */
import { serveIpc } from "./ipc";

async function main(): Promise<void> {
  // fauxqs is ESM-only; Node 20.19+ can require(esm), and tsx/cjs turns this import into a require.
  const { startFauxqs } = await import("fauxqs");
  const server = await startFauxqs({ port: 0, host: "127.0.0.1", logger: false, defaultRegion: "us-east-1" });
  const { queueUrl } = server.createQueue("bench-queue");
  serveIpc(async (m) => {
    if (m.cmd === "reset") {
      server.reset();
      return {};
    }
    if (m.cmd === "stats") {
      const q = server.inspectQueue("bench-queue");
      return {
        sent: (q?.messages.ready.length ?? 0) + (q?.messages.delayed.length ?? 0) + (q?.messages.inflight.length ?? 0),
      };
    }
    if (m.cmd === "stop") {
      await server.stop();
      return {};
    }
    throw new Error(`unknown command ${m.cmd}`);
  });
  process.send?.({ ready: true, port: server.port, endpoint: server.address, queueUrl });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
