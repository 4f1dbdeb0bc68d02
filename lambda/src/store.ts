/**
 * The durable onboarding store: one DynamoDB item per `request_id`, written once.
 *
 * The consumer records a request with one conditional `UpdateItem` keyed by `request_id`:
 * `attribute_not_exists(processed_at)` — the item is created only if no attempt has processed it yet. A second delivery
 * of the same message, to this or any other execution environment, any number of times, fails the condition
 * (`ConditionalCheckFailedException`, HTTP 400: the write changed nothing) and is reported as `duplicate`; the record
 * keeps its first `processed_at`. Any other failure (unreachable, throttled, 5xx) throws: that record fails alone and
 * SQS delivers it again — no in-process retry, the redelivery is the retry and the batch's time stays bounded.
 *
 * Hand-rolled rather than Powertools idempotency, whose in-progress/expiry bookkeeping the single conditional write
 * does not need, and without the SDK client: `@aws-sdk/client-dynamodb` alone cost ≈ +105 ms of cold init, so the
 * call is one signed JSON-protocol POST (aws-json.ts). Each call is a CLIENT span (`db.system.name=aws.dynamodb`).
 */
import type { Context, Tracer } from "@opentelemetry/api";
import { tracedConditionalWrite } from "../../telemetry/dynamodb";
import { ONBOARDING_TABLE_NAME_ENV } from "../../packages/traced-components/src/contract/runtime-env";
import { createAwsJsonClient, credentialsFromEnv, regionFromEnv, type AwsJsonCall } from "./aws-json";
import type { OnboardingRecord, OnboardingStore, RecordOutcome } from "./onboarding";

const DYNAMODB = { signingName: "dynamodb", targetPrefix: "DynamoDB_20120810", jsonVersion: "1.0" } as const;

export interface DynamoOnboardingStoreOptions {
  /** A DynamoDB JSON-protocol call ({@link createDynamoCall}). */
  readonly call: AwsJsonCall;
  readonly tableName: string;
  readonly tracer: Tracer;
}

/** The DynamoDB store (see the module comment). */
export function createDynamoOnboardingStore(options: DynamoOnboardingStoreOptions): OnboardingStore {
  const { call, tableName, tracer } = options;
  return {
    async record(record: OnboardingRecord, parent: Context): Promise<RecordOutcome> {
      const applied = await tracedConditionalWrite(tracer, parent, "UpdateItem", tableName, () =>
        call("UpdateItem", {
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
      );
      return applied ? "processed" : "duplicate";
    },
  };
}

/**
 * DynamoDB calls for the consumer, signed with the function's env credentials (always there in Lambda), endpoint from
 * `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL` (the local stack), keep-alive, 2 s per call so an unreachable store
 * fails a record fast. Throws when there are no env credentials: the store cannot work, and init should say why.
 */
export function createDynamoCall(env: NodeJS.ProcessEnv = process.env): AwsJsonCall {
  const credentials = credentialsFromEnv(env);
  if (!credentials) {
    throw new Error(
      `${ONBOARDING_TABLE_NAME_ENV} is set but AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not: the store signs with the function's env credentials`,
    );
  }
  return createAwsJsonClient(DYNAMODB, {
    region: regionFromEnv(env),
    credentials,
    endpoint: env.AWS_ENDPOINT_URL_DYNAMODB?.trim() || env.AWS_ENDPOINT_URL?.trim() || undefined,
    timeoutMillis: 2000,
    keepAlive: true,
  });
}
