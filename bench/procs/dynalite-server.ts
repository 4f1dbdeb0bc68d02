/** dynalite with the onboarding table (own process, so its CPU is not charged to the consumer being measured). */
import { createOnboardingTable, startDynamoDb } from "../../local/dynamodb";
import { BENCH_TABLE } from "../lib/services";
import { serveIpc } from "./ipc";

void (async () => {
  const db = await startDynamoDb();
  await createOnboardingTable(db.endpoint, BENCH_TABLE);
  process.send?.({ ready: true, port: db.port, endpoint: db.endpoint });
})();

serveIpc((m) => {
  throw new Error(`unknown command ${m.cmd}`);
});
