/**
 * `POST /onboard` with an `Idempotency-Key`, against dynalite: the header is validated (400 naming it); the same key
 * and body within 24 h answer the first response and send nothing; another body is 422; without the header nothing
 * changes; an unreadable store is a 503 that sends nothing. The API writes only its own prefixed items. A key whose
 * request is still being sent (its lease is live) is a 409 with Retry-After that sends nothing; a failed send gives the
 * lease back, and an expired lease is taken over by exactly one retry.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { PutItemCommand, ScanCommand, UpdateItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SpanKind, type Tracer } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { createApp } from "../../app/src/app";
import { canonicalBodyHash, createDynamoIdempotencyStore, IDEMPOTENCY_LEASE_MS } from "../../app/src/idempotency";
import type { OnboardingMessage } from "../../contract/onboarding";
import type { OnboardRequest } from "../../contract/onboarding";
import type { Publisher } from "../../app/src/publisher";
import { DEFAULT_SQS_TIMEOUTS } from "../../app/src/publisher";
import { ACCEPTED_KEY_PREFIX, IDEMPOTENCY_KEY_PREFIX } from "../../packages/traced-components/src/contract/store-keys";
import { localDynamoClient } from "../../local/dynamodb";
import { createJsonLogger } from "../../telemetry/logger";
import { closedPort, VALID_REQUEST } from "./helpers";
import { failingPublisher, recordingPublisher } from "./fakes";
import { useOnboardingTable } from "./onboarding-table-fixture";

const TABLE = "onboarding-idempotency";

describe("runtime: POST /onboard with an Idempotency-Key (dynalite)", function () {
  this.timeout(30_000);
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer("idempotency-test") as Tracer;
  const logger = createJsonLogger({ service: "test", write: () => undefined });
  const table = useOnboardingTable(TABLE);

  async function serve(publisher: Publisher, options: { now?: () => Date; client?: DynamoDBClient } = {}) {
    const idempotency = createDynamoIdempotencyStore({
      client: options.client ?? table.client,
      tableName: TABLE,
      tracer,
      now: options.now,
    });
    const server = createServer(createApp({ publisher, idempotency, tracer, logger }).callback());
    table.servers.push(server);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const post = (base: string, body: unknown, key?: string) =>
    fetch(`${base}/onboard`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(key === undefined ? {} : { "idempotency-key": key }) },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  /** A POST with raw header lines (fetch refuses some of the values under test). */
  const rawPost = (base: string, headers: [string, string][]) =>
    new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const body = JSON.stringify(VALID_REQUEST);
      const req = request(`${base}/onboard`, { method: "POST" }, (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString("latin1")));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }),
        );
      });
      req.on("error", reject);
      req.setHeader("content-type", "application/json");
      req.setHeader("content-length", String(Buffer.byteLength(body)));
      const grouped = new Map<string, string[]>();
      for (const [name, value] of headers) grouped.set(name, [...(grouped.get(name) ?? []), value]);
      for (const [name, values] of grouped) req.setHeader(name, values.length === 1 ? values[0] : values);
      req.end(body);
    });
  /** A publisher whose sends wait until `open()` (a SendMessage in flight). */
  const gatedPublisher = () => {
    const { publisher: ok, published } = recordingPublisher();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const publisher: Publisher = {
      ...ok,
      publish: async (message: OnboardingMessage) => {
        published.push(message);
        await gate;
        return { messageId: `m-${published.length}` };
      },
    };
    return { publisher, published, open };
  };
  /**
   * Writes the key's item as a request that claimed it and never finished would have left it; `legacy`: as an item
   * written before the API recorded the customer, accepted_at and a lease.
   */
  const writePending = (
    key: string,
    requestId: string,
    { claimedAtMs, nowMs = Date.now(), legacy = false }: { claimedAtMs?: number; nowMs?: number; legacy?: boolean },
  ) =>
    table.client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: {
          request_id: { S: IDEMPOTENCY_KEY_PREFIX + createHash("sha256").update(key).digest("hex") },
          state: { S: "pending" },
          first_request_id: { S: requestId },
          body_sha256: { S: canonicalBodyHash(VALID_REQUEST as OnboardRequest) },
          ...(legacy
            ? {}
            : {
                customer_id: { S: VALID_REQUEST.customer_id },
                accepted_at: { S: new Date(nowMs - 60_000).toISOString() },
              }),
          ...(claimedAtMs === undefined
            ? {}
            : { claimed_at: { N: String(claimedAtMs) }, claimed_by: { S: "0f0e0d0c-0b0a-4900-8000-000000000000" } }),
          expires_at: { N: String(Math.floor(nowMs / 1000) + 3600) },
        },
      }),
    );
  const waitUntil = async (check: () => boolean) => {
    for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(check(), "condition never held");
  };
  const apiItems = async () =>
    ((await table.client.send(new ScanCommand({ TableName: TABLE }))).Items ?? []).map((i) => i.request_id.S!);

  it("a bad Idempotency-Key → 400 naming the header, nothing sent", async () => {
    const { publisher, published } = recordingPublisher();
    const base = await serve(publisher);
    const cases: [string, [string, string][]][] = [
      ["empty", [["idempotency-key", ""]]],
      ["256 characters", [["idempotency-key", "k".repeat(256)]]],
      ["a TAB", [["idempotency-key", "a\tb"]]],
      ["non-ASCII", [["idempotency-key", "clé"]]],
      [
        "two headers",
        [
          ["idempotency-key", "a"],
          ["idempotency-key", "b"],
        ],
      ],
    ];
    for (const [what, headers] of cases) {
      const res = await rawPost(base, headers);
      assert.equal(res.status, 400, what);
      assert.equal(res.body.error, "invalid_idempotency_key", what);
      assert.deepEqual(
        (res.body.fields as { field: string }[]).map((f) => f.field),
        ["idempotency-key"],
        what,
      );
    }
    assert.equal(published.length, 0);
    assert.equal((await rawPost(base, [["idempotency-key", "k".repeat(255)]])).status, 202, "255 is fine");
    assert.equal((await rawPost(base, [["idempotency-key", " ~!x"]])).status, 202, "printable ASCII is fine");
  });

  it("same key, same body (any key order or spacing) → the first response, one message; the API writes only its prefixed items", async () => {
    const { publisher, published } = recordingPublisher();
    const base = await serve(publisher);
    const first = await post(base, VALID_REQUEST, "order-7");
    assert.equal(first.status, 202);
    const firstBody = (await first.json()) as Record<string, string>;
    const reordered = `{ "name": "  Ada ", "company_size":"medium","email":"ada@example.com","customer_id":"cust-42" }`;
    for (const body of [VALID_REQUEST, reordered]) {
      const again = await post(base, body, "order-7");
      assert.equal(again.status, 202);
      assert.equal(again.headers.get("idempotent-replayed"), "true");
      assert.deepEqual(await again.json(), firstBody, "the first response: same request_id and trace_id");
    }
    assert.equal(published.length, 1, "no second message");
    assert.equal(published[0].request_id, firstBody.request_id);
    const items = await apiItems();
    assert.ok(items.includes(ACCEPTED_KEY_PREFIX + firstBody.request_id));
    assert.ok(items.every((k) => k.startsWith(IDEMPOTENCY_KEY_PREFIX) || k.startsWith(ACCEPTED_KEY_PREFIX)));
    assert.ok(!items.some((k) => k.includes("order-7")), "the key itself is not stored (only its hash)");
  });

  it("same key, another body → 422 idempotency_key_reused naming the header, nothing sent", async () => {
    const { publisher, published } = recordingPublisher();
    const base = await serve(publisher);
    assert.equal((await post(base, VALID_REQUEST, "reuse-1")).status, 202);
    const res = await post(base, { ...VALID_REQUEST, name: "Grace" }, "reuse-1");
    assert.equal(res.status, 422);
    const body = (await res.json()) as { error: string; message: string; fields: { field: string }[] };
    assert.equal(body.error, "idempotency_key_reused");
    assert.match(body.message, /different request body/);
    assert.deepEqual(
      body.fields.map((f) => f.field),
      ["idempotency-key"],
    );
    assert.equal(published.length, 1);
  });

  it("without the header nothing changes: each POST is its own request", async () => {
    const { publisher, published } = recordingPublisher();
    const base = await serve(publisher);
    const a = (await (await post(base, VALID_REQUEST)).json()) as { request_id: string };
    const b = (await (await post(base, VALID_REQUEST)).json()) as { request_id: string };
    assert.notEqual(a.request_id, b.request_id);
    assert.equal(published.length, 2);
  });

  it("a key is remembered 24 h: after that the same key is a new request", async () => {
    const { publisher, published } = recordingPublisher();
    let clock = Date.parse("2026-01-01T00:00:00Z");
    const base = await serve(publisher, { now: () => new Date(clock) });
    const first = (await (await post(base, VALID_REQUEST, "day-1")).json()) as { request_id: string };
    clock += 24 * 3600 * 1000 - 1000;
    const within = (await (await post(base, VALID_REQUEST, "day-1")).json()) as { request_id: string };
    assert.equal(within.request_id, first.request_id);
    clock += 2000;
    const after = (await (await post(base, { ...VALID_REQUEST, name: "Other" }, "day-1")).json()) as {
      request_id: string;
    };
    assert.notEqual(after.request_id, first.request_id, "an expired key is free, even for another body");
    assert.equal(published.length, 2);
  });

  it("a send that failed → 503 saying it may have been accepted; the retry with the key re-sends the SAME request_id", async () => {
    // SQS took the message, but the API gave up waiting.
    const { publisher, published, heal } = failingPublisher({ takenAnyway: true });
    const base = await serve(publisher);
    const unsure = await post(base, VALID_REQUEST, "retry-me");
    assert.equal(unsure.status, 503);
    const body = (await unsure.json()) as { error: string; message: string; retry_with_same_idempotency_key: boolean };
    assert.equal(body.error, "queue_unavailable");
    assert.match(body.message, /may have been accepted.*same Idempotency-Key/);
    assert.equal(body.retry_with_same_idempotency_key, true);

    heal();
    const retried = await post(base, VALID_REQUEST, "retry-me");
    assert.equal(retried.status, 202);
    const { request_id: requestId } = (await retried.json()) as { request_id: string };
    assert.deepEqual(
      published.map((m) => m.request_id),
      [requestId, requestId],
      "the retry carries the first attempt's request_id (and accepted_at)",
    );
    assert.equal(published[1].accepted_at, published[0].accepted_at);
    // Once sent, the key replays instead of sending again.
    assert.equal((await post(base, VALID_REQUEST, "retry-me")).headers.get("idempotent-replayed"), "true");
    assert.equal(published.length, 2);
  });

  it("a pending key whose first accepted_at is unreadable is re-sent with a valid accepted_at (not a 500)", async () => {
    const { publisher, published } = recordingPublisher();
    const base = await serve(publisher);
    const key = "legacy-1";
    const requestId = "6f1c2b9e-8a51-4f0e-9a8c-3d2e1f0a9b7c";
    await writePending(key, requestId, { legacy: true });
    const res = await post(base, VALID_REQUEST, key);
    assert.equal(res.status, 202);
    assert.equal(((await res.json()) as { request_id: string }).request_id, requestId);
    assert.ok(!Number.isNaN(Date.parse(published[0].accepted_at)), published[0].accepted_at);
  });

  it("the store unreachable → 503 store_unavailable, nothing sent", async () => {
    const { publisher, published } = recordingPublisher();
    const down = localDynamoClient(`http://127.0.0.1:${await closedPort()}`);
    const base = await serve(publisher, { client: down });
    const res = await post(base, VALID_REQUEST, "down-1");
    assert.equal(res.status, 503);
    const body = (await res.json()) as { error: string; message: string };
    assert.equal(body.error, "store_unavailable");
    assert.match(body.message, /nothing was sent.*same Idempotency-Key/);
    assert.equal(published.length, 0);
    assert.equal((await post(base, VALID_REQUEST)).status, 202, "without the header the store is not needed");
    down.destroy();
  });

  it("the lease is the publish timeout plus a margin (claim write, sent write, clock skew)", () => {
    assert.equal(IDEMPOTENCY_LEASE_MS, DEFAULT_SQS_TIMEOUTS.publishTimeoutMillis + 2 * 2500 + 1000);
  });

  it("a pending key whose holder is still sending → 409 idempotency_key_in_use with Retry-After, nothing sent; once its lease ran out (the holder died) → re-sent with the SAME request_id", async () => {
    const { publisher, published } = recordingPublisher();
    let clock = Date.parse("2026-03-01T12:00:00Z");
    const base = await serve(publisher, { now: () => new Date(clock) });
    const requestId = "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d";
    await writePending("died-1", requestId, { claimedAtMs: clock - 1000, nowMs: clock });
    const held = await post(base, VALID_REQUEST, "died-1");
    assert.equal(held.status, 409);
    assert.equal(held.headers.get("retry-after"), String(Math.ceil((IDEMPOTENCY_LEASE_MS - 1000) / 1000)));
    const body = (await held.json()) as { error: string; fields: { field: string }[]; request_id: string };
    assert.equal(body.error, "idempotency_key_in_use");
    assert.deepEqual(
      body.fields.map((f) => f.field),
      ["idempotency-key"],
    );
    assert.notEqual(body.request_id, requestId, "the 409's own request id");
    // Another body is still a mismatch, lease or not.
    assert.equal((await post(base, { ...VALID_REQUEST, name: "Grace" }, "died-1")).status, 422);
    assert.equal(published.length, 0);

    clock += IDEMPOTENCY_LEASE_MS - 1000 - 500; // 0.5 s left: Retry-After rounds up
    const later = await post(base, VALID_REQUEST, "died-1");
    assert.equal(later.status, 409);
    assert.equal(later.headers.get("retry-after"), "1");

    clock += 501; // the lease ran out
    const resent = await post(base, VALID_REQUEST, "died-1");
    assert.equal(resent.status, 202);
    assert.equal(((await resent.json()) as { request_id: string }).request_id, requestId);
    assert.deepEqual(
      published.map((m) => m.request_id),
      [requestId],
    );
    assert.equal((await post(base, VALID_REQUEST, "died-1")).headers.get("idempotent-replayed"), "true");
    assert.equal(published.length, 1);
  });

  /**
   * Two requests with one key at once against a publisher that holds every send: waits until one was sent and the
   * other answered (or both sent), lets the sends through, and returns the statuses in the order they were answered.
   */
  async function raceTwo(base: string, key: string, published: readonly unknown[], open: () => void) {
    const answered: number[] = [];
    const requests = [post(base, VALID_REQUEST, key), post(base, VALID_REQUEST, key)].map((p) =>
      p.then((res) => {
        answered.push(res.status);
        return res;
      }),
    );
    await waitUntil(() => (published.length >= 1 && answered.length >= 1) || published.length >= 2);
    await new Promise((r) => setTimeout(r, 100));
    const sentWhileHeld = published.length;
    open();
    const responses = await Promise.all(requests);
    return { answered, sentWhileHeld, responses };
  }

  it("a pending key with an expired lease, two concurrent retries → one takes the lease over and sends, the other 409", async () => {
    const { publisher, published, open } = gatedPublisher();
    const base = await serve(publisher);
    const requestId = "2c3d4e5f-6071-4b8c-9d0e-1f2a3b4c5d6e";
    await writePending("died-2", requestId, { claimedAtMs: Date.now() - IDEMPOTENCY_LEASE_MS - 1000 });
    const { answered, sentWhileHeld, responses } = await raceTwo(base, "died-2", published, open);
    assert.equal(sentWhileHeld, 1, "one takeover sends");
    assert.deepEqual(answered, [409, 202]);
    assert.ok(Number(responses.find((r) => r.status === 409)!.headers.get("retry-after")) >= 1);
    const accepted = (await responses.find((r) => r.status === 202)!.json()) as { request_id: string };
    assert.equal(accepted.request_id, requestId);
    assert.deepEqual(
      published.map((m) => m.request_id),
      [requestId],
    );
  });

  it("two concurrent first requests with one key while the first send is in flight → one send, one 202, one 409", async () => {
    const { publisher, published, open } = gatedPublisher();
    const base = await serve(publisher);
    const { answered, sentWhileHeld } = await raceTwo(base, "twice-1", published, open);
    assert.equal(sentWhileHeld, 1);
    assert.deepEqual(answered, [409, 202]);
    assert.equal(published.length, 1);
  });

  it("a failed send whose lease release fails too → the retry is a 409 until the lease runs out, then re-sends the SAME request_id", async () => {
    const { publisher, published, heal, isFailing } = failingPublisher({ takenAnyway: false });
    // The table refuses UpdateItem (the release) while the publisher fails.
    const flaky = {
      send: (command: unknown, options?: unknown) =>
        isFailing() && command instanceof UpdateItemCommand
          ? Promise.reject(Object.assign(new Error("throttled"), { name: "ThrottlingException" }))
          : (table.client.send as (c: unknown, o?: unknown) => Promise<unknown>)(command, options),
    } as unknown as DynamoDBClient;
    let clock = Date.now();
    const base = await serve(publisher, { client: flaky, now: () => new Date(clock) });
    assert.equal((await post(base, VALID_REQUEST, "unreleased-1")).status, 503);
    heal();
    const early = await post(base, VALID_REQUEST, "unreleased-1");
    assert.equal(early.status, 409, "the lease was not given back");
    assert.ok(Number(early.headers.get("retry-after")) >= 1);
    clock += IDEMPOTENCY_LEASE_MS + 1;
    const retried = await post(base, VALID_REQUEST, "unreleased-1");
    assert.equal(retried.status, 202);
    assert.equal(published.length, 1);
  });

  it("DynamoDB calls: none without the header; a keyed first request that is sent: PutItem, then UpdateItem + PutItem (no lease call)", async () => {
    const { publisher } = recordingPublisher();
    const base = await serve(publisher);
    const dynamoSpans = () =>
      exporter
        .getFinishedSpans()
        .filter((s) => s.kind === SpanKind.CLIENT && s.name.endsWith(` ${TABLE}`))
        .map((s) => s.name.split(" ")[0]);
    exporter.reset();
    assert.equal((await post(base, VALID_REQUEST)).status, 202);
    assert.deepEqual(dynamoSpans(), []);
    assert.equal((await post(base, VALID_REQUEST, "calls-1")).status, 202);
    assert.deepEqual(dynamoSpans().sort(), ["PutItem", "PutItem", "UpdateItem"]);
  });

  it("canonicalBodyHash: equal for equal validated requests, different when any field differs", () => {
    const base: OnboardRequest = { customer_id: "c", email: "a@b.co", company_size: "small", name: "n" };
    assert.equal(canonicalBodyHash(base), canonicalBodyHash({ ...base }));
    for (const field of ["customer_id", "email", "name"] as const) {
      assert.notEqual(canonicalBodyHash(base), canonicalBodyHash({ ...base, [field]: `${base[field]}x` }), field);
    }
    assert.notEqual(canonicalBodyHash(base), canonicalBodyHash({ ...base, company_size: "large" }));
  });
});
