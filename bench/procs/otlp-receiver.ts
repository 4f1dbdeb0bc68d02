/**
 * The project's own loopback OTLP/gRPC receiver (local/otlp-receiver.ts) in its own process, keeping only counts
 * (spans by name/kind/service, Export calls, distinct traces) so a long run does not grow its memory.
 */
import { startOtlpReceiver } from "../../local/otlp-receiver";
import { serveIpc } from "./ipc";

interface Counts {
  spans: number;
  exports: number;
  byName: Record<string, number>;
  byKind: Record<string, number>;
}

function emptyCounts(): Counts {
  return { spans: 0, exports: 0, byName: {}, byKind: {} };
}

async function main(): Promise<void> {
  const receiver = await startOtlpReceiver({ port: 0 });
  let counts = emptyCounts();
  receiver.onSpans((spans) => {
    counts.exports++;
    counts.spans += spans.length;
    for (const span of spans) {
      counts.byName[span.name] = (counts.byName[span.name] ?? 0) + 1;
      counts.byKind[span.kind] = (counts.byKind[span.kind] ?? 0) + 1;
    }
    // Counts are all the bench needs; drop the decoded spans.
    receiver.spans.length = 0;
    receiver.requests.length = 0;
  });
  serveIpc(async (m) => {
    if (m.cmd === "stats") return { counts };
    if (m.cmd === "reset") {
      counts = emptyCounts();
      return {};
    }
    if (m.cmd === "close") {
      await receiver.close();
      return {};
    }
    throw new Error(`unknown command ${m.cmd}`);
  });
  process.send?.({ ready: true, port: receiver.port, endpoint: receiver.endpoint });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
