/**
 * A mocha fixture for tests of the API against the onboarding table: dynalite with the table created the stack's way,
 * an SDK client on it, and the HTTP servers the test starts — all closed after the suite.
 */
import type { Server } from "node:http";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createOnboardingTable, localDynamoClient, startDynamoDb, type LocalDynamoDb } from "../../local/dynamodb";

export interface OnboardingTableFixture {
  /** The DynamoDB-protocol server (set once the suite's `before` ran). */
  readonly db: LocalDynamoDb;
  readonly client: DynamoDBClient;
  /** Servers to close after the suite. */
  readonly servers: Server[];
}

/** Call inside a `describe`: registers the suite's `before`/`after` hooks. */
export function useOnboardingTable(tableName: string): OnboardingTableFixture {
  let db: LocalDynamoDb | undefined;
  let client: DynamoDBClient | undefined;
  const servers: Server[] = [];
  before(async () => {
    db = await startDynamoDb();
    await createOnboardingTable(db.endpoint, tableName);
    client = localDynamoClient(db.endpoint);
  });
  after(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
    client?.destroy();
    await db?.close();
  });
  return {
    get db() {
      if (!db) throw new Error("the onboarding table fixture is used before its before() hook ran");
      return db;
    },
    get client() {
      if (!client) throw new Error("the onboarding table fixture is used before its before() hook ran");
      return client;
    },
    servers,
  };
}
