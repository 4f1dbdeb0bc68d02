/**
 * 5. The onboarding store's cost, side by side in one run:
 * - cold init of dist/lambda/handler.js with `ONBOARDING_TABLE_NAME` (the DynamoDB store) and without (in-memory),
 *   alternated with a bare `node`, medians (the same child program as the cold section);
 * - the alternative the issue asked to weigh: Powertools idempotency (`makeIdempotent` over its
 *   `DynamoDBPersistenceLayer`), bundled the way scripts/build.ts bundles the Lambda (`@aws-sdk/*` external, loaded
 *   from node_modules as from the base image), required and set up in a fresh `node` — its cost above bare node;
 * - per-record processing in the consumer (createHandler, real tracer into memory): batches of 10 valid records through
 *   the in-memory store vs the DynamoDB store against dynalite in its own process, alternated batch by batch.
 */
import { rmSync } from "node:fs";
import * as path from "node:path";
import type { Tracer } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import type { Context as LambdaContext, SQSRecord } from "aws-lambda";
import { createHandler } from "../../lambda/src/sqs-handler";
import { createInMemoryOnboardingStore, processOnboarding, type OnboardingStore } from "../../lambda/src/onboarding";
import { createDynamoOnboardingStore } from "../../lambda/src/store";
import { localDynamoCall } from "../../local/dynamodb";
import { LAMBDA_SERVICE_NAME } from "../../packages/traced-components/src/contract/service-names";
import { ONBOARDING_TABLE_NAME_ENV } from "../../packages/traced-components/src/contract/runtime-env";
import { createJsonLogger } from "../../telemetry/logger";
import { BenchConfig } from "../lib/config";
import { REPO_ROOT, baseEnv } from "../lib/proc";
import { BENCH_TABLE, DIST, startDynalite } from "../lib/services";
import { median, percentile, round } from "../lib/stats";
import { coldChildSource, timedNode } from "./cold";
import { isInvocationSpan } from "../../telemetry/semconv";

export interface StoreResult {
  cold: {
    runs: number;
    bareNodeMs: number;
    withStoreAddedMs: number;
    withoutStoreAddedMs: number;
    storeMs: number;
    /** Powertools idempotency + its DynamoDB persistence layer alone, bundled, above bare node. */
    powertoolsIdempotencyMs: number;
    /**
     * Inside the child (no process start-up, less noise on a busy box): require → ready of the handler with and
     * without the store, and require + set-up of the Powertools bundle. Medians.
     */
    inChild: { withStoreMs: number; withoutStoreMs: number; storeMs: number; powertoolsMs: number };
  };
  perRecord: {
    batches: number;
    batchSize: number;
    inMemory: { p50Ms: number; p99Ms: number };
    dynamo: { p50Ms: number; p99Ms: number };
    addedP50Ms: number;
    outcomes: Record<string, number>;
  };
}

const BATCH = 10;

/** Powertools idempotency set up as a handler would, bundled like the Lambda (`@aws-sdk/*` external). */
async function bundlePowertools(): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require("esbuild") as typeof import("esbuild");
  // Inside the repository, so the external `@aws-sdk/*` resolve from its node_modules (as from the base image's).
  const outfile = path.join(REPO_ROOT, "dist", "bench", `powertools-idempotency-${process.pid}.js`);
  await esbuild.build({
    stdin: {
      contents: `
const { makeIdempotent, IdempotencyConfig } = require("@aws-lambda-powertools/idempotency");
const { DynamoDBPersistenceLayer } = require("@aws-lambda-powertools/idempotency/dynamodb");
const persistenceStore = new DynamoDBPersistenceLayer({ tableName: "onboarding" });
exports.handler = makeIdempotent(async (record) => record, { persistenceStore, config: new IdempotencyConfig({}) });`,
      resolveDir: REPO_ROOT,
      loader: "js",
    },
    bundle: true,
    platform: "node",
    target: "node24",
    format: "cjs",
    minify: true,
    external: ["@aws-sdk/*"],
    outfile,
    logLevel: "silent",
  });
  return outfile;
}

function consumer(store: OnboardingStore, tracer: Tracer) {
  return createHandler({
    tracer,
    logger: createJsonLogger({ service: "bench", write: () => undefined }),
    flush: async () => "flushed",
    processMessage: (m, _r, ctx) => processOnboarding(m, store, ctx),
  });
}

let sequence = 0;
/** A batch of new requests (fresh request ids), as the event source mapping delivers them. */
function batch(): SQSRecord[] {
  return Array.from({ length: BATCH }, () => {
    const n = ++sequence;
    return {
      messageId: `bench-${n}`,
      receiptHandle: `rh-${n}`,
      body: JSON.stringify({
        customer_id: `BENCH-${n}`,
        email: `bench${n}@example.com`,
        company_size: "medium",
        name: `Bench ${n}`,
        request_id: `bench-request-${process.pid}-${Date.now()}-${n}`,
        accepted_at: new Date().toISOString(),
      }),
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: "0",
        SenderId: "bench",
        ApproximateFirstReceiveTimestamp: "0",
      },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:onboarding",
      awsRegion: "us-east-1",
    };
  });
}

export async function benchStore(cfg: BenchConfig["store"], log: (s: string) => void): Promise<StoreResult> {
  const dynalite = await startDynalite();
  const powertools = await bundlePowertools();
  try {
    // Cold init: the store's only init work is building its signer; no call is made before the first record.
    const common = { AWS_LAMBDA_FUNCTION_NAME: "onboarding-consumer-bench", OTEL_SERVICE_NAME: LAMBDA_SERVICE_NAME };
    const withStore = baseEnv({
      ...common,
      [ONBOARDING_TABLE_NAME_ENV]: BENCH_TABLE,
      AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
    });
    const withoutStore = baseEnv(common);
    const child = coldChildSource(DIST.lambda);
    const run = async (args: string[], env: NodeJS.ProcessEnv) => {
      const r = await timedNode(args, env);
      if (r.code !== 0) throw new Error(`cold child failed (${r.code}): ${r.stderr.slice(-1500)}`);
      const line = r.stdout.trim().split("\n").pop();
      return { wallMs: r.wallMs, readyMs: line ? (JSON.parse(line) as { readyMs: number }).readyMs : 0 };
    };
    const powertoolsChild =
      `const t0 = performance.now(); require(${JSON.stringify(powertools)}); ` +
      `process.stdout.write(JSON.stringify({ readyMs: performance.now() - t0 }) + "\\n");`;
    await run(["-e", child], withStore); // page cache
    const variants = {
      bare: () => run(["-e", ""], withoutStore),
      with: () => run(["-e", child], withStore),
      without: () => run(["-e", child], withoutStore),
      powertools: () => run(["-e", powertoolsChild], withoutStore),
    };
    const names = Object.keys(variants) as (keyof typeof variants)[];
    const samples = { bare: [] as number[], with: [] as number[], without: [] as number[], powertools: [] as number[] };
    const inChild = { bare: [] as number[], with: [] as number[], without: [] as number[], powertools: [] as number[] };
    await variants.powertools(); // page cache, and a clear error if it cannot load
    for (let i = 0; i < cfg.coldRuns; i++) {
      for (let j = 0; j < names.length; j++) {
        const which = names[(i + j) % names.length];
        const sample = await variants[which]();
        samples[which].push(sample.wallMs);
        inChild[which].push(sample.readyMs);
      }
    }
    const bare = median(samples.bare);
    const cold = {
      runs: cfg.coldRuns,
      bareNodeMs: round(bare, 1),
      withStoreAddedMs: round(median(samples.with) - bare, 1),
      withoutStoreAddedMs: round(median(samples.without) - bare, 1),
      storeMs: round(median(samples.with) - median(samples.without), 1),
      powertoolsIdempotencyMs: round(median(samples.powertools) - bare, 1),
      inChild: {
        withStoreMs: round(median(inChild.with), 1),
        withoutStoreMs: round(median(inChild.without), 1),
        storeMs: round(median(inChild.with) - median(inChild.without), 1),
        powertoolsMs: round(median(inChild.powertools), 1),
      },
    };
    log(
      `  store cold: +${cold.withStoreAddedMs} ms with the DynamoDB store, +${cold.withoutStoreAddedMs} ms without ` +
        `(store ${cold.storeMs} ms; bare ${cold.bareNodeMs} ms, ${cfg.coldRuns} runs each); Powertools idempotency ` +
        `alone +${cold.powertoolsIdempotencyMs} ms; in the child: ready ${cold.inChild.withStoreMs} vs ` +
        `${cold.inChild.withoutStoreMs} ms, Powertools ${cold.inChild.powertoolsMs} ms`,
    );

    // Per record: the same handler over the two stores, batch by batch.
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const tracer = provider.getTracer("bench") as Tracer;
    const handlers = {
      inMemory: consumer(createInMemoryOnboardingStore(), tracer),
      dynamo: consumer(
        createDynamoOnboardingStore({ call: localDynamoCall(dynalite.endpoint), tableName: BENCH_TABLE, tracer }),
        tracer,
      ),
    };
    const context = { awsRequestId: "bench", getRemainingTimeInMillis: () => 60_000 } as unknown as LambdaContext;
    const perRecord: Record<keyof typeof handlers, number[]> = { inMemory: [], dynamo: [] };
    let lastDynamoBatch: SQSRecord[] = [];
    for (let i = 0; i < cfg.warmupBatches + cfg.batches; i++) {
      for (const which of i % 2 === 0 ? (["inMemory", "dynamo"] as const) : (["dynamo", "inMemory"] as const)) {
        const records = batch();
        const t0 = performance.now();
        const result = await handlers[which]({ Records: records }, context);
        const elapsed = performance.now() - t0;
        if (result.batchItemFailures.length > 0) throw new Error(`${which}: ${result.batchItemFailures.length} failed`);
        if (which === "dynamo") lastDynamoBatch = records;
        if (i >= cfg.warmupBatches) perRecord[which].push(elapsed / BATCH);
      }
      exporter.reset();
    }
    // The last batch delivered again through the DynamoDB store: all duplicates, none failed.
    const outcomes: Record<string, number> = {};
    const again = await handlers.dynamo({ Records: lastDynamoBatch }, context);
    // Record spans only: the invocation's span is also `process <queue>`, told apart by its batch count.
    const recordSpans = exporter
      .getFinishedSpans()
      .filter((s) => s.name.startsWith("process ") && !isInvocationSpan(s.attributes));
    for (const span of recordSpans) {
      const outcome = String(span.attributes["onboarding.outcome"] ?? "failed");
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    if (again.batchItemFailures.length > 0) throw new Error("redelivery failed");
    const stats = (xs: number[]) => ({ p50Ms: round(median(xs), 3), p99Ms: round(percentile(xs, 99), 3) });
    const result: StoreResult = {
      cold,
      perRecord: {
        batches: cfg.batches,
        batchSize: BATCH,
        inMemory: stats(perRecord.inMemory),
        dynamo: stats(perRecord.dynamo),
        addedP50Ms: round(median(perRecord.dynamo) - median(perRecord.inMemory), 3),
        outcomes,
      },
    };
    log(
      `  store per record: in-memory p50 ${result.perRecord.inMemory.p50Ms} ms, DynamoDB (dynalite) p50 ` +
        `${result.perRecord.dynamo.p50Ms} ms / p99 ${result.perRecord.dynamo.p99Ms} ms; redelivery ${JSON.stringify(outcomes)}`,
    );
    return result;
  } finally {
    rmSync(powertools, { force: true });
    await dynalite.child.stop();
  }
}
