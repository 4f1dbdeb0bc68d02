/** A real fauxqs SQS server in its own process, with one queue; `reset` drops messages between rounds. */
import { serveIpc } from "./ipc";

async function main(): Promise<void> {
  // fauxqs is ESM-only; Node 20.19+ can require(esm), and tsx/cjs turns this import into a require.
  const { startFauxqs } = await import("fauxqs");
  const server = await startFauxqs({ port: 0, logger: false });
  const { queueUrl } = server.createQueue("bench-queue");
  serveIpc(async (m) => {
    if (m.cmd === "reset") {
      server.reset();
      return {};
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
