/**
 * The status endpoint's read side: `GET /onboard/{request_id}` looks the request up in the onboarding table (one
 * `GetItem`, a CLIENT span under the SERVER span). `processed` once the consumer recorded it (lambda/src/store.ts);
 * `accepted` when the API itself recorded the request; undefined when the table has no such item.
 */
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import type { Context, Tracer } from "@opentelemetry/api";
import { tracedDynamoCall } from "../../telemetry/dynamodb";

export type OnboardingStatus =
  | { readonly status: "processed"; readonly customer_id: string; readonly processed_at: string }
  | { readonly status: "accepted"; readonly customer_id: string };

export interface StatusReader {
  /** The request's status, or undefined when unknown; rejects when the table cannot be read. */
  get(requestId: string, parent: Context): Promise<OnboardingStatus | undefined>;
}

/** Request ids the API hands out (`randomUUID`); anything else is a 400, never a table read. */
export const REQUEST_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface DynamoStatusReaderOptions {
  readonly tableName: string;
  readonly tracer: Tracer;
  readonly client?: DynamoDBClient;
}

export function createDynamoStatusReader(options: DynamoStatusReaderOptions): StatusReader & { close(): void } {
  const { tableName, tracer } = options;
  const client =
    options.client ??
    new DynamoDBClient({
      region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1",
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 1000, requestTimeout: 1500 },
    });
  return {
    async get(requestId, parent) {
      const output = await tracedDynamoCall(tracer, parent, "GetItem", tableName, () =>
        client.send(
          new GetItemCommand({
            TableName: tableName,
            Key: { request_id: { S: requestId } },
            ProjectionExpression: "#status, customer_id, processed_at",
            ExpressionAttributeNames: { "#status": "status" },
          }),
          { abortSignal: AbortSignal.timeout(2500) },
        ),
      );
      const item = output.Item;
      if (!item) return undefined;
      const customerId = item.customer_id?.S ?? "";
      if (item.processed_at?.S) {
        return { status: "processed", customer_id: customerId, processed_at: item.processed_at.S };
      }
      return item.status?.S === "accepted" ? { status: "accepted", customer_id: customerId } : undefined;
    },
    close() {
      client.destroy();
    },
  };
}
