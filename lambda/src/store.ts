/**
 * The durable onboarding store: one DynamoDB item per `request_id`, written once.
 *
 * The consumer records a request with one conditional `UpdateItem` keyed by `request_id`:
 * `attribute_not_exists(processed_at)` — the item is created (or, when the API already recorded the request as
 * `accepted`, completed) only if no attempt has processed it yet. A second delivery of the same message, to this
 * or any other execution environment, any number of times, fails the condition and is reported as `duplicate`; the
 * record keeps its first `processed_at`. A failed write (store unreachable, throttled) throws: that record fails alone
 * and SQS delivers it again.
 *
 * Hand-rolled on @aws-sdk/client-dynamodb (external to the bundle: the Lambda base image ships it) rather than
 * Powertools idempotency, whose in-progress/expiry bookkeeping the single conditional write does not need (numbers in
 * the README's "Onboarding store" section). Each call is a CLIENT span (`db.system.name=aws.dynamodb`).
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Context, Tracer } from "@opentelemetry/api";
import { tracedDynamoCall } from "../../telemetry/dynamodb";
import type { OnboardingRecord, OnboardingStore, RecordOutcome } from "./onboarding";

const isConditionFailed = (error: unknown): boolean =>
  (error as { name?: string } | undefined)?.name === "ConditionalCheckFailedException";

export interface DynamoOnboardingStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly tracer: Tracer;
}

/** The DynamoDB store (see the module comment). The SDK module is required lazily by the caller's client. */
export function createDynamoOnboardingStore(options: DynamoOnboardingStoreOptions): OnboardingStore {
  const { client, tableName, tracer } = options;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ddb = require("@aws-sdk/client-dynamodb") as typeof import("@aws-sdk/client-dynamodb");
  return {
    async record(record: OnboardingRecord, parent: Context): Promise<RecordOutcome> {
      try {
        await tracedDynamoCall(
          tracer,
          parent,
          "UpdateItem",
          tableName,
          () =>
            client.send(
              new ddb.UpdateItemCommand({
                TableName: tableName,
                Key: { request_id: { S: record.request_id } },
                UpdateExpression:
                  "SET #status = :processed, customer_id = :customer_id, email = :email, " +
                  "company_size = :company_size, #name = :name, accepted_at = :accepted_at, processed_at = :processed_at",
                ConditionExpression: "attribute_not_exists(processed_at)",
                ExpressionAttributeNames: { "#status": "status", "#name": "name" },
                ExpressionAttributeValues: {
                  ":processed": { S: "processed" },
                  ":customer_id": { S: record.customer_id },
                  ":email": { S: record.email },
                  ":company_size": { S: record.company_size },
                  ":name": { S: record.name },
                  ":accepted_at": { S: record.accepted_at },
                  ":processed_at": { S: record.processed_at },
                },
              }),
            ),
          isConditionFailed,
        );
        return "processed";
      } catch (error) {
        if (isConditionFailed(error)) return "duplicate";
        throw error;
      }
    },
  };
}

/** Client settings for the consumer: bounded attempts and timeouts, so an unreachable store fails a record fast. */
export function createDynamoClient(env: NodeJS.ProcessEnv = process.env): DynamoDBClient {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ddb = require("@aws-sdk/client-dynamodb") as typeof import("@aws-sdk/client-dynamodb");
  return new ddb.DynamoDBClient({
    region: env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || "us-east-1",
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 2000 },
  });
}
