/**
 * A DynamoDB-protocol server for the local stack and the tests: dynalite (in memory, LevelDB's memdown), plus the
 * onboarding table created the way the stack creates it (key `request_id`, on demand; dynalite has no TTL, which the
 * code never relies on: it checks `expires_at` itself).
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import {
  CreateTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import type { AwsJsonCall } from "../lambda/src/aws-json";
import { createDynamoCall } from "../lambda/src/store";
import { TABLE_HASH_KEY } from "../packages/traced-components/src/contract/store-keys";

export interface LocalDynamoDb {
  readonly endpoint: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Local credentials every local client uses (dynalite checks the signature's shape, not the secret). */
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" } as const;

/** Starts dynalite on 127.0.0.1:`port` (0 = any free port). */
export async function startDynamoDb(port = 0): Promise<LocalDynamoDb> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require("dynalite") as (options: Record<string, unknown>) => Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${actual}`,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** A client for a local endpoint. */
export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: "us-east-1", credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
}

/** The consumer's SDK-free DynamoDB call (lambda/src/store.ts) to a local endpoint, configured as the Lambda is. */
export function localDynamoCall(endpoint: string): AwsJsonCall {
  return createDynamoCall({
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
  });
}

/** Creates the onboarding table (idempotent) and waits until it is ACTIVE. */
export async function createOnboardingTable(endpoint: string, tableName: string): Promise<void> {
  const client = localDynamoClient(endpoint);
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: TABLE_HASH_KEY, AttributeType: "S" }],
        KeySchema: [{ AttributeName: TABLE_HASH_KEY, KeyType: "HASH" }],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.2 }, { TableName: tableName });
  client.destroy();
}
