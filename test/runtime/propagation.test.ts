/**
 * `OTEL_PROPAGATORS` (telemetry/propagation.ts) and the places that use it: the API's incoming context, the SQS
 * message attributes (10 at most) and the Lambda's record context.
 */
import assert from "node:assert/strict";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { ROOT_CONTEXT, TraceFlags, diag, propagation, trace, type Context, type DiagLogger } from "@opentelemetry/api";
import type { SQSRecord } from "aws-lambda";
import { serverSpanParent } from "../../app/src/incoming-context";
import { createSqsClient } from "../../app/src/publisher";
import { extractRecordContext } from "../../lambda/src/sqs-handler";
import { DEFAULT_PROPAGATORS, resolvePropagation } from "../../telemetry/propagation";
import {
  MAX_MESSAGE_ATTRIBUTES,
  skippedAttributeCount,
  sqsMessageAttributeSetter,
  type SqsMessageAttributes,
} from "../../telemetry/sqs-carriers";
import { REGION, TEST_CREDENTIALS, makeRecord, startFauxqs, validMessageBody, type Fauxqs } from "./helpers";

const TRACE = "0af7651916cd43dd8448eb211c80319c";
const SPAN = "b7ad6b7169203331";

/** A context with a sampled span context and two baggage entries. */
function contextWithBaggage(): Context {
  const withSpan = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.SAMPLED });
  return propagation.setBaggage(
    withSpan,
    propagation.createBaggage({ tenant: { value: "acme" }, plan: { value: "gold" } }),
  );
}

const baggageOf = (ctx: Context) =>
  Object.fromEntries((propagation.getBaggage(ctx)?.getAllEntries() ?? []).map(([k, e]) => [k, e.value]));

/** Collects diag warnings while `fn` runs. */
function warningsDuring(fn: () => void): string[] {
  const warnings: string[] = [];
  const noop = () => undefined;
  const logger: DiagLogger = { error: noop, info: noop, debug: noop, verbose: noop, warn: (m) => warnings.push(m) };
  diag.setLogger(logger, { suppressOverrideMessage: true });
  try {
    fn();
  } finally {
    diag.disable();
  }
  return warnings;
}

function existing(n: number): SqsMessageAttributes {
  const out: SqsMessageAttributes = {};
  for (let i = 0; i < n; i++) out[`attr${i}`] = { DataType: "String", StringValue: `v${i}` };
  return out;
}

function recordWith(attributes: Record<string, string>, awsTraceHeader?: string): SQSRecord {
  const messageAttributes = Object.fromEntries(
    Object.entries(attributes).map(([k, v]) => [
      k,
      { dataType: "String", stringValue: v, stringListValues: [], binaryListValues: [] },
    ]),
  );
  const record = makeRecord({ messageId: "m", body: validMessageBody("req-p"), messageAttributes });
  if (awsTraceHeader) record.attributes = { ...record.attributes, AWSTraceHeader: awsTraceHeader };
  return record;
}

describe("runtime: OTEL_PROPAGATORS", () => {
  describe("resolvePropagation", () => {
    it("unset or blank → tracecontext,baggage (the spec's default)", () => {
      assert.equal(DEFAULT_PROPAGATORS, "tracecontext,baggage");
      for (const env of [{}, { OTEL_PROPAGATORS: "  " }]) {
        const resolved = resolvePropagation(env);
        assert.deepEqual(resolved.names, ["tracecontext", "baggage"]);
        assert.deepEqual(resolved.propagator.fields(), ["traceparent", "tracestate", "baggage"]);
      }
    });

    it("values are trimmed, lowercased and deduplicated, in the given order", () => {
      assert.deepEqual(resolvePropagation({ OTEL_PROPAGATORS: " XRay , tracecontext,xray" }).names, [
        "xray",
        "tracecontext",
      ]);
    });

    it("none (alone or in a list) → no propagator: nothing injected", () => {
      for (const value of ["none", "tracecontext,none"]) {
        const resolved = resolvePropagation({ OTEL_PROPAGATORS: value });
        assert.deepEqual(resolved.names, []);
        const carrier: Record<string, string> = {};
        resolved.propagator.inject(contextWithBaggage(), carrier, { set: (c, k, v) => (c[k] = v) });
        assert.deepEqual(carrier, {});
      }
    });

    it("unknown or uninstalled names → one diag warning naming them; the rest still apply", () => {
      let names: readonly string[] = [];
      const warnings = warningsDuring(() => {
        names = resolvePropagation({ OTEL_PROPAGATORS: "b3,tracecontext,nope" }).names;
      });
      assert.deepEqual(names, ["tracecontext"]);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /"b3", "nope"/);
      assert.match(warnings[0]!, /supported: tracecontext, baggage, xray, none/);
    });

    it("xray injects x-amzn-trace-id", () => {
      const carrier: Record<string, string> = {};
      resolvePropagation({ OTEL_PROPAGATORS: "xray" }).propagator.inject(contextWithBaggage(), carrier, {
        set: (c, k, v) => (c[k] = v),
      });
      assert.deepEqual(Object.keys(carrier), ["x-amzn-trace-id"]);
      assert.match(carrier["x-amzn-trace-id"]!, /^Root=1-0af76519-16cd43dd8448eb211c80319c;Parent=b7ad6b7169203331/);
    });
  });

  describe("API incoming context", () => {
    const headers = { traceparent: `00-${TRACE}-${SPAN}-00`, baggage: "tenant=acme" };
    const defaults = resolvePropagation({}).propagator;

    it("new-trace-with-link: the caller's baggage is dropped with its parentage (a public edge)", () => {
      const { parent, links } = serverSpanParent(headers, "new-trace-with-link", defaults);
      assert.equal(parent, ROOT_CONTEXT);
      assert.equal(links?.[0]?.context.traceId, TRACE);
    });

    it("honour and honour-always-sample keep the caller's baggage", () => {
      for (const mode of ["honour", "honour-always-sample"] as const) {
        const { parent } = serverSpanParent(headers, mode, defaults);
        assert.deepEqual(baggageOf(parent), { tenant: "acme" }, mode);
        assert.equal(trace.getSpanContext(parent)?.traceId, TRACE, mode);
      }
      const forced = serverSpanParent(headers, "honour-always-sample", defaults).parent;
      assert.equal(trace.getSpanContext(forced)?.traceFlags, TraceFlags.SAMPLED);
    });

    it("with OTEL_PROPAGATORS=xray the caller's X-Amzn-Trace-Id is the context (traceparent ignored)", () => {
      const xrayHeaders = {
        "x-amzn-trace-id": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
      };
      const xray = resolvePropagation({ OTEL_PROPAGATORS: "xray" }).propagator;
      const { parent } = serverSpanParent({ ...headers, ...xrayHeaders }, "honour", xray);
      assert.equal(trace.getSpanContext(parent)?.traceId, "5759e988bd862e3fe1be46a994272793");
    });
  });

  describe("Lambda record context", () => {
    it("default: trace context and baggage from the message attributes", () => {
      const ctx = extractRecordContext(
        recordWith({ traceparent: `00-${TRACE}-${SPAN}-01`, baggage: "tenant=acme,plan=gold" }),
        resolvePropagation({}),
      );
      assert.equal(trace.getSpanContext(ctx)?.spanId, SPAN);
      assert.deepEqual(baggageOf(ctx), { tenant: "acme", plan: "gold" });
    });

    it("baggage without a trace context survives the AWSTraceHeader fallback", () => {
      const ctx = extractRecordContext(
        recordWith(
          { baggage: "tenant=acme" },
          "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        ),
        resolvePropagation({}),
      );
      assert.equal(trace.getSpanContext(ctx)?.spanId, "53995c3f42cd8ad8");
      assert.deepEqual(baggageOf(ctx), { tenant: "acme" });
    });

    it("none: neither the attributes nor AWSTraceHeader are read (a new root)", () => {
      const ctx = extractRecordContext(
        recordWith(
          { traceparent: `00-${TRACE}-${SPAN}-01` },
          "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        ),
        resolvePropagation({ OTEL_PROPAGATORS: "none" }),
      );
      assert.equal(trace.getSpanContext(ctx), undefined);
    });
  });

  describe("SQS's 10 message attributes", function () {
    let sqs: Fauxqs;
    let client: SQSClient;
    let queueUrl: string;
    before(async () => {
      sqs = await startFauxqs();
      queueUrl = sqs.createQueue("propagation-limit").queueUrl;
      client = createSqsClient({ region: REGION, credentials: TEST_CREDENTIALS, endpoint: sqs.address });
    });
    after(async () => {
      client?.destroy();
      await sqs?.stop();
    });

    const inject = (userAttributes: number): SqsMessageAttributes => {
      const carrier = existing(userAttributes);
      resolvePropagation({}).propagator.inject(contextWithBaggage(), carrier, sqsMessageAttributeSetter);
      return carrier;
    };

    // fauxqs does not enforce the limit (AWS does: sqs-carriers.ts), so these check the count and that SQS takes it.
    it("7 user attributes + traceparent + baggage fit: SQS accepts all 9", async () => {
      const carrier = inject(7);
      assert.deepEqual(Object.keys(carrier).slice(7), ["traceparent", "baggage"]);
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "{}", MessageAttributes: carrier }));
    });

    it("9 user attributes: traceparent takes the last slot, baggage is skipped (warned), and SQS accepts the 10", async () => {
      let carrier: SqsMessageAttributes = {};
      const before = skippedAttributeCount(); // process-wide: other tests may have skipped fields already
      const warnings = warningsDuring(() => {
        carrier = inject(9);
      });
      const after = skippedAttributeCount();
      assert.equal(after, before + 1, "the skipped field is counted");
      assert.equal(Object.keys(carrier).length, MAX_MESSAGE_ATTRIBUTES);
      assert.ok(carrier.traceparent);
      assert.equal(carrier.baggage, undefined);
      // Warned the first time and every 1000th (sqs-carriers.ts), so a hot path cannot flood the log.
      const warned = warnings.some((w) => w.includes('propagation field "baggage" not injected'));
      assert.equal(warned, after === 1 || after % 1000 === 0);
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "{}", MessageAttributes: carrier }));
    });
  });
});
