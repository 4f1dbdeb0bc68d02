/**
 * Idempotent `POST /onboard`: a client that sends an `Idempotency-Key` can retry safely.
 *
 * The first request with a key records it with one conditional `PutItem` (`attribute_not_exists(request_id) OR
 * expires_at < :now`: only one request can claim a live key) under `idempotency#<sha256 of the key>`, as `pending`,
 * with the request_id it will send and a hash of its canonical body; after SQS took the message it becomes `sent`
 * with the response. A later request with the same key within 24 h:
 *
 * - same body, `sent`: the first response again (same `request_id`), nothing sent;
 * - same body, `pending` with a live lease (`claimed_at` younger than {@link IDEMPOTENCY_LEASE_MS}: a request is sending
 *   it right now): `in_use` (the API answers 409 with `Retry-After`), nothing sent — as Stripe does for a key "still
 *   being processed" (https://docs.stripe.com/api/idempotent_requests);
 * - same body, `pending` without a live lease (the first send failed or its outcome is unknown, and that request gave
 *   the lease back with {@link IdempotencyStore.release}; or it died mid-send and the lease ran out): the lease is taken
 *   over with one conditional `UpdateItem` (only one of several concurrent retries wins; the others see a live lease)
 *   and the request is sent again with the SAME `request_id`, so the consumer's conditional write keeps one record (a
 *   duplicate delivery is reported as `duplicate`);
 * - another body: `mismatch` (the API answers 422).
 *
 * The lease costs no extra call on the success path (it is written by the claim's `PutItem` and ends with the `sent`
 * update); only a failed send (the release) and a takeover write once more.
 *
 * DynamoDB's TTL deletes expired items only eventually (typically within two days, and "items that have expired and not
 * been deleted will still show up in reads"), so the expiry is checked here too, not left to TTL:
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html
 */
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import {
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type DynamoDBClient,
  type UpdateItemCommandInput,
} from "@aws-sdk/client-dynamodb";
import type { Context, Tracer } from "@opentelemetry/api";
import { tracedConditionalWrite, tracedDynamoCall } from "../../telemetry/dynamodb";
import { DEFAULT_SQS_TIMEOUTS } from "./publisher";
import type { OnboardRequest } from "../../contract/onboarding";
import {
  ACCEPTED_KEY_PREFIX,
  EXPIRES_AT_ATTRIBUTE,
  IDEMPOTENCY_KEY_PREFIX,
  TABLE_HASH_KEY,
} from "../../packages/traced-components/src/contract/store-keys";

export const IDEMPOTENCY_HEADER = "idempotency-key";
/** How long a key is remembered. */
export const IDEMPOTENCY_WINDOW_SECONDS = 24 * 60 * 60;
/**
 * How long the `accepted` note outlives the send: SQS's longest message retention (14 days). Past that the message can
 * no longer be on the queue, so "accepted, not processed yet" would no longer be true.
 */
export const ACCEPTED_NOTE_SECONDS = 14 * 24 * 60 * 60;

const CALL_TIMEOUT_MS = 2500;
/**
 * How long a `pending` claim holds its key against other requests. The holder claims (one write, capped at
 * `CALL_TIMEOUT_MS`), sends (capped at the publish timeout, `DEFAULT_SQS_TIMEOUTS.publishTimeoutMillis`, retries
 * included) and marks the key `sent` (another capped write); a lease shorter than that would let a second request
 * re-send while the first send may still succeed. 1 s more absorbs clock skew between API tasks (`claimed_at` is
 * written by one task and judged by another). A holder that fails gives the lease back at once, so this only delays a
 * retry after a holder died mid-send.
 */
export const IDEMPOTENCY_LEASE_MS = DEFAULT_SQS_TIMEOUTS.publishTimeoutMillis + 2 * CALL_TIMEOUT_MS + 1000;

/** 1–255 printable ASCII characters (space to tilde). */
const KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

/** The header's value, undefined without one; `{ problem }` when it is unusable (the API answers 400). */
export function readIdempotencyKey(req: IncomingMessage): { key?: string; problem?: string } {
  const values = req.headersDistinct[IDEMPOTENCY_HEADER];
  if (values === undefined) return {};
  if (values.length > 1) return { problem: "send one Idempotency-Key header, not several" };
  const key = values[0];
  if (!KEY_PATTERN.test(key)) return { problem: "must be 1 to 255 printable ASCII characters" };
  return { key };
}

/**
 * The body's identity for "same request": SHA-256 of the validated fields in a fixed order, so key order, whitespace
 * between tokens and the whitespace the validation trims do not make two equal requests differ.
 */
export function canonicalBodyHash(request: OnboardRequest): string {
  const canonical = JSON.stringify([request.customer_id, request.email, request.company_size, request.name]);
  return createHash("sha256").update(canonical).digest("hex");
}

/** What the API answered (202) for the key's request. */
export interface AcceptedResponse {
  readonly request_id: string;
  readonly customer_id: string;
  readonly trace_id: string;
}

export type Claim =
  | { readonly kind: "new" }
  | { readonly kind: "replay"; readonly response: AcceptedResponse }
  | { readonly kind: "resend"; readonly requestId: string; readonly acceptedAt: string }
  | { readonly kind: "mismatch" }
  /** Another request holds the key's lease (it is sending now): retry after `retryAfterSeconds`. */
  | { readonly kind: "in_use"; readonly retryAfterSeconds: number };

export interface ClaimRequest {
  readonly key: string;
  readonly bodyHash: string;
  /** What this request would send if the key is new; also names this request as the lease's holder. */
  readonly requestId: string;
  readonly customerId: string;
  readonly acceptedAt: string;
}

export interface IdempotencyStore {
  /**
   * Claims the key for this request (`new`, `resend`: this request now holds the lease), or says what the key's earlier
   * request became. Rejects when unreadable.
   */
  claim(request: ClaimRequest, parent: Context): Promise<Claim>;
  /**
   * The send of the lease holder `requestId` failed or its outcome is unknown: give the lease back (only if that request
   * still holds it), so a retry with the key re-sends at once instead of waiting out the lease. Rejects when the write
   * fails (the lease then simply expires).
   */
  release(key: string, requestId: string, parent: Context): Promise<void>;
  /** The key's request was taken by SQS: remember the response, and note the request as `accepted`. */
  complete(key: string, response: AcceptedResponse, parent: Context): Promise<void>;
}

export interface DynamoIdempotencyStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly tracer: Tracer;
  readonly now?: () => Date;
}

const itemKey = (key: string) => ({
  [TABLE_HASH_KEY]: { S: IDEMPOTENCY_KEY_PREFIX + createHash("sha256").update(key).digest("hex") },
});
/** The lease: when it was taken (epoch ms) and by which request (its `x-request-id`). */
const CLAIMED_AT = "claimed_at";
const CLAIMED_BY = "claimed_by";

export function createDynamoIdempotencyStore(options: DynamoIdempotencyStoreOptions): IdempotencyStore {
  const { client, tableName, tracer } = options;
  const nowMillis = () => (options.now ?? (() => new Date()))().getTime();
  const nowSeconds = () => Math.floor(nowMillis() / 1000);
  const signal = () => ({ abortSignal: AbortSignal.timeout(CALL_TIMEOUT_MS) });

  const put = (request: ClaimRequest, parent: Context) => {
    const nowMs = nowMillis();
    const now = Math.floor(nowMs / 1000);
    return tracedConditionalWrite(tracer, parent, "PutItem", tableName, () =>
      client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: {
            ...itemKey(request.key),
            state: { S: "pending" },
            first_request_id: { S: request.requestId },
            body_sha256: { S: request.bodyHash },
            customer_id: { S: request.customerId },
            accepted_at: { S: request.acceptedAt },
            [CLAIMED_AT]: { N: String(nowMs) },
            [CLAIMED_BY]: { S: request.requestId },
            [EXPIRES_AT_ATTRIBUTE]: { N: String(now + IDEMPOTENCY_WINDOW_SECONDS) },
          },
          ConditionExpression: "attribute_not_exists(#key) OR #expires < :now",
          ExpressionAttributeNames: { "#key": TABLE_HASH_KEY, "#expires": EXPIRES_AT_ATTRIBUTE },
          ExpressionAttributeValues: { ":now": { N: String(now) } },
        }),
        signal(),
      ),
    );
  };

  /** One conditional UpdateItem on the key's item; false when its condition did not hold. */
  const updateIf = (
    key: string,
    update: Pick<UpdateItemCommandInput, "UpdateExpression" | "ConditionExpression" | "ExpressionAttributeValues">,
    parent: Context,
  ): Promise<boolean> =>
    tracedConditionalWrite(tracer, parent, "UpdateItem", tableName, () =>
      client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: itemKey(key),
          ExpressionAttributeNames: { "#state": "state", "#claimed_at": CLAIMED_AT, "#claimed_by": CLAIMED_BY },
          ...update,
        }),
        signal(),
      ),
    );

  /**
   * Takes over the lease of a `pending` item whose lease is gone (released, or older than the lease); false when another
   * request took it first (or the item changed meanwhile).
   */
  const takeOver = (request: ClaimRequest, firstRequestId: string, parent: Context): Promise<boolean> => {
    const nowMs = nowMillis();
    return updateIf(
      request.key,
      {
        UpdateExpression: "SET #claimed_at = :now, #claimed_by = :me",
        ConditionExpression:
          "#state = :pending AND first_request_id = :first AND " +
          "(attribute_not_exists(#claimed_at) OR #claimed_at < :lapsed)",
        ExpressionAttributeValues: {
          ":now": { N: String(nowMs) },
          ":me": { S: request.requestId },
          ":pending": { S: "pending" },
          ":first": { S: firstRequestId },
          ":lapsed": { N: String(nowMs - IDEMPOTENCY_LEASE_MS) },
        },
      },
      parent,
    );
  };

  return {
    async claim(request, parent) {
      // Three rounds at most: the live item found by a failed put can expire before it is read (then the key is free
      // again), and a lost takeover is decided by reading the item again (now held, or sent).
      for (let attempt = 0; attempt < 3; attempt++) {
        if (await put(request, parent)) return { kind: "new" };
        const { Item: item } = await tracedDynamoCall(tracer, parent, "GetItem", tableName, () =>
          client.send(
            new GetItemCommand({ TableName: tableName, Key: itemKey(request.key), ConsistentRead: true }),
            signal(),
          ),
        );
        if (!item || Number(item[EXPIRES_AT_ATTRIBUTE]?.N ?? 0) < nowSeconds()) continue;
        if (item.body_sha256?.S !== request.bodyHash) return { kind: "mismatch" };
        const requestId = item.first_request_id?.S ?? "";
        if (item.state?.S === "sent") {
          return {
            kind: "replay",
            response: {
              request_id: requestId,
              customer_id: item.customer_id?.S ?? "",
              trace_id: item.trace_id?.S ?? "",
            },
          };
        }
        const claimedAt = Number(item[CLAIMED_AT]?.N ?? Number.NaN);
        const leaseLeft = claimedAt + IDEMPOTENCY_LEASE_MS - nowMillis();
        if (leaseLeft > 0) return { kind: "in_use", retryAfterSeconds: Math.max(1, Math.ceil(leaseLeft / 1000)) };
        if (await takeOver(request, requestId, parent)) {
          return { kind: "resend", requestId, acceptedAt: item.accepted_at?.S ?? "" };
        }
      }
      throw new Error("Idempotency-Key claim raced with its expiry or with other claims three times");
    },

    async release(key, requestId, parent) {
      // Only this request's own lease on a still-pending item: never one a later request took over. When the
      // condition fails it is not (or no longer) this request's lease: nothing to give back.
      await updateIf(
        key,
        {
          UpdateExpression: "REMOVE #claimed_at, #claimed_by",
          ConditionExpression: "#state = :pending AND #claimed_by = :me",
          ExpressionAttributeValues: { ":pending": { S: "pending" }, ":me": { S: requestId } },
        },
        parent,
      );
    },

    async complete(key, response, parent) {
      const now = nowSeconds();
      await Promise.all([
        tracedDynamoCall(tracer, parent, "UpdateItem", tableName, () =>
          client.send(
            new UpdateItemCommand({
              TableName: tableName,
              Key: itemKey(key),
              UpdateExpression: "SET #state = :sent, trace_id = :trace_id",
              // Never create the item (it would have no expiry) if TTL removed it meanwhile.
              ConditionExpression: "attribute_exists(#key)",
              ExpressionAttributeNames: { "#state": "state", "#key": TABLE_HASH_KEY },
              ExpressionAttributeValues: { ":sent": { S: "sent" }, ":trace_id": { S: response.trace_id } },
            }),
            signal(),
          ),
        ),
        tracedDynamoCall(tracer, parent, "PutItem", tableName, () =>
          client.send(
            new PutItemCommand({
              TableName: tableName,
              Item: {
                [TABLE_HASH_KEY]: { S: ACCEPTED_KEY_PREFIX + response.request_id },
                customer_id: { S: response.customer_id },
                [EXPIRES_AT_ATTRIBUTE]: { N: String(now + ACCEPTED_NOTE_SECONDS) },
              },
            }),
            signal(),
          ),
        ),
      ]);
    },
  };
}
