/**
 * The status endpoint's read side: `GET /onboard/{request_id}` looks the request up in the onboarding table (one
 * `GetItem` per lookup, CLIENT spans under the SERVER span): `processed` once the consumer recorded it
 * (lambda/src/store.ts); else `accepted` when the API itself noted sending it (`accepted#<id>`, written for requests
 * with an Idempotency-Key: app/src/idempotency.ts); undefined when neither exists.
 */
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import type { Context, Tracer } from "@opentelemetry/api";
import { tracedDynamoCall } from "../../telemetry/dynamodb";
import {
  ACCEPTED_KEY_PREFIX,
  EXPIRES_AT_ATTRIBUTE,
  TABLE_HASH_KEY,
} from "../../packages/traced-components/src/contract/store-keys";

export type OnboardingStatus =
  | { readonly status: "processed"; readonly customer_id: string; readonly processed_at: string }
  | { readonly status: "accepted"; readonly customer_id: string };

export interface StatusReader {
  /** The request's status, or undefined when unknown; rejects when the table cannot be read. */
  get(requestId: string, parent: Context): Promise<OnboardingStatus | undefined>;
}

/** Request ids the API hands out (`randomUUID`); anything else is a 400, never a table read. */
export const REQUEST_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The API's one DynamoDB client (status reads and idempotency records): the SDK is fine in a long-running task, with
 * bounded attempts and timeouts so an unreachable table is a fast 503. Credentials: the default chain (task role).
 */
export function createApiDynamoClient(env: NodeJS.ProcessEnv = process.env): DynamoDBClient {
  return new DynamoDBClient({
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1",
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 1500 },
  });
}

export interface DynamoStatusReaderOptions {
  readonly tableName: string;
  readonly tracer: Tracer;
  readonly client: DynamoDBClient;
  readonly now?: () => Date;
}

export function createDynamoStatusReader(options: DynamoStatusReaderOptions): StatusReader {
  const { client, tableName, tracer } = options;
  const now = options.now ?? (() => new Date());
  const getItem = (key: string, attributes: string, parent: Context) =>
    tracedDynamoCall(tracer, parent, "GetItem", tableName, () =>
      client.send(
        new GetItemCommand({
          TableName: tableName,
          Key: { [TABLE_HASH_KEY]: { S: key } },
          ProjectionExpression: attributes,
        }),
        { abortSignal: AbortSignal.timeout(2500) },
      ),
    ).then((output) => output.Item);
  return {
    async get(requestId, parent) {
      const item = await getItem(requestId, "customer_id, processed_at", parent);
      if (item?.processed_at?.S) {
        return { status: "processed", customer_id: item.customer_id?.S ?? "", processed_at: item.processed_at.S };
      }
      const note = await getItem(ACCEPTED_KEY_PREFIX + requestId, `customer_id, ${EXPIRES_AT_ATTRIBUTE}`, parent);
      // TTL deletes expired items eventually, not at once: an expired note is no note.
      if (!note || Number(note[EXPIRES_AT_ATTRIBUTE]?.N ?? 0) * 1000 < now().getTime()) return undefined;
      return { status: "accepted", customer_id: note.customer_id?.S ?? "" };
    },
  };
}
