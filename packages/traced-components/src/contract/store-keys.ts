/**
 * How the onboarding table's items are keyed (partition key `request_id`), shared by the API, the consumer's table
 * grants (onboarding-table.ts) and the tests. Pure constants: the Pulumi program imports it.
 *
 * - `<uuid>`: the consumer's record of a processed request (lambda/src/store.ts). Only the consumer writes it.
 * - `idempotency#<sha256 of the Idempotency-Key>`: the API's record of a request sent with that key (app/src/idempotency.ts).
 * - `accepted#<uuid>`: the API's note that it sent the request to the queue, for the status endpoint's `accepted`.
 *
 * The API writes only the two prefixed kinds, and its role is limited to them with `dynamodb:LeadingKeys`, so it can
 * never overwrite or fake a processed record.
 */

/** The table's partition key (a string). */
export const TABLE_HASH_KEY = "request_id";
export const IDEMPOTENCY_KEY_PREFIX = "idempotency#";
export const ACCEPTED_KEY_PREFIX = "accepted#";
/** The TTL attribute (epoch seconds) of the API's items; the consumer's records have none and never expire. */
export const EXPIRES_AT_ATTRIBUTE = "expires_at";
