import assert from "node:assert/strict";
import { diag, ROOT_CONTEXT, trace, TraceFlags } from "@opentelemetry/api";
import { W3CTraceContextPropagator, TraceState } from "@opentelemetry/core";
import fc from "fast-check";
import {
  MAX_MESSAGE_ATTRIBUTES,
  lambdaMessageAttributeGetter,
  skippedAttributeCount,
  sqsMessageAttributeSetter,
  type LambdaMessageAttributes,
  type SqsMessageAttributes,
} from "../../telemetry/sqs-carriers";

const propagator = new W3CTraceContextPropagator();
const spanContext = {
  traceId: "0af7651916cd43dd8448eb211c80319c",
  spanId: "b7ad6b7169203331",
  traceFlags: TraceFlags.SAMPLED,
  traceState: new TraceState("vendor=value"),
};
const ctx = trace.setSpanContext(ROOT_CONTEXT, spanContext);

function existing(n: number): SqsMessageAttributes {
  const out: SqsMessageAttributes = {};
  for (let i = 0; i < n; i++) out[`attr${i}`] = { DataType: "String", StringValue: `v${i}` };
  return out;
}

describe("runtime: SQS carriers", () => {
  it("injects traceparent and tracestate as String attributes", () => {
    const carrier: SqsMessageAttributes = {};
    propagator.inject(ctx, carrier, sqsMessageAttributeSetter);
    assert.deepEqual(carrier, {
      traceparent: { DataType: "String", StringValue: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
      tracestate: { DataType: "String", StringValue: "vendor=value" },
    });
  });

  it("with 9 existing attributes keeps traceparent, skips tracestate and counts it", () => {
    const carrier = existing(9);
    const before = skippedAttributeCount();
    propagator.inject(ctx, carrier, sqsMessageAttributeSetter);
    assert.equal(Object.keys(carrier).length, 10);
    assert.ok(carrier.traceparent);
    assert.equal(carrier.tracestate, undefined);
    assert.equal(skippedAttributeCount(), before + 1);
  });

  it("overwrites an existing key without taking a new slot", () => {
    const carrier = existing(9);
    carrier.traceparent = { DataType: "String", StringValue: "stale" };
    propagator.inject(ctx, carrier, sqsMessageAttributeSetter);
    assert.equal(Object.keys(carrier).length, 10);
    assert.equal(carrier.traceparent.StringValue, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  });

  it("property: 0–10 existing attributes → never more than 10, never throws, existing ones untouched", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX_MESSAGE_ATTRIBUTES }),
        fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ maxLength: 60 })), {
          maxLength: 5,
        }),
        (n, extra) => {
          const carrier = existing(n);
          const snapshot = JSON.parse(JSON.stringify(carrier)) as SqsMessageAttributes;
          propagator.inject(ctx, carrier, sqsMessageAttributeSetter);
          for (const [k, v] of extra) sqsMessageAttributeSetter.set(carrier, k, v);
          assert.ok(Object.keys(carrier).length <= MAX_MESSAGE_ATTRIBUTES);
          for (const [k, v] of Object.entries(snapshot)) {
            if (!extra.some(([ek]) => ek === k)) assert.deepEqual(carrier[k], v);
          }
          // Whenever there was room, the context went in and reads back.
          if (n < MAX_MESSAGE_ATTRIBUTES) assert.ok(carrier.traceparent);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("with 10 existing attributes: traceparent and tracestate skipped, carrier untouched, counted and warned via diag", () => {
    // A fresh copy of the module, so its process-lifetime counter starts at 0 whatever ran before: the warning is
    // rate-limited (the 1st skip, then every 1000th) and this test must see exactly when it fires.
    const modulePath = require.resolve("../../telemetry/sqs-carriers");
    const cached = require.cache[modulePath];
    delete require.cache[modulePath];
    const fresh = require("../../telemetry/sqs-carriers") as typeof import("../../telemetry/sqs-carriers");
    if (cached) require.cache[modulePath] = cached;
    assert.notEqual(fresh.sqsMessageAttributeSetter, sqsMessageAttributeSetter, "a fresh module instance");
    assert.equal(fresh.skippedAttributeCount(), 0);

    const warnings: string[] = [];
    const originalWarn = diag.warn;
    diag.warn = (message: string, ...args: unknown[]) => {
      warnings.push([message, ...args].map(String).join(" "));
    };
    try {
      const carrier = existing(MAX_MESSAGE_ATTRIBUTES);
      const snapshot = JSON.parse(JSON.stringify(carrier)) as SqsMessageAttributes;
      assert.doesNotThrow(() => propagator.inject(ctx, carrier, fresh.sqsMessageAttributeSetter));
      assert.deepEqual(carrier, snapshot, "no field added, none replaced");
      assert.equal(fresh.skippedAttributeCount(), 2, "traceparent and tracestate both counted");
      assert.equal(warnings.length, 1, `one warning for the first skip: ${JSON.stringify(warnings)}`);
      assert.match(warnings[0]!, /already has 10 attributes/);
      assert.match(warnings[0]!, /"traceparent" not injected/);
      assert.match(warnings[0]!, /skipped 1 so far/);

      // Rate-limited, not silenced: the 1000th skip warns again, with the running count.
      for (let i = 0; i < 499; i++)
        propagator.inject(ctx, existing(MAX_MESSAGE_ATTRIBUTES), fresh.sqsMessageAttributeSetter);
      assert.equal(fresh.skippedAttributeCount(), 1000);
      assert.equal(warnings.length, 2, `warnings: ${JSON.stringify(warnings)}`);
      assert.match(warnings[1]!, /skipped 1000 so far/);
    } finally {
      diag.warn = originalWarn;
    }
  });

  it("round-trips through Lambda's lowercase record shape", () => {
    const sent: SqsMessageAttributes = {};
    propagator.inject(ctx, sent, sqsMessageAttributeSetter);
    const received: LambdaMessageAttributes = {};
    for (const [k, v] of Object.entries(sent)) received[k] = { dataType: v.DataType!, stringValue: v.StringValue };
    const extracted = trace.getSpanContext(propagator.extract(ROOT_CONTEXT, received, lambdaMessageAttributeGetter));
    assert.equal(extracted?.traceId, spanContext.traceId);
    assert.equal(extracted?.spanId, spanContext.spanId);
    assert.equal(extracted?.isRemote, true);
    assert.equal(extracted?.traceState?.get("vendor"), "value");
  });

  it("getter ignores Binary and Number attributes and odd shapes", () => {
    const attrs = {
      traceparent: { dataType: "Binary", binaryValue: "AAEC" },
      tracestate: { dataType: "Number", stringValue: "42" },
    } as LambdaMessageAttributes;
    assert.equal(lambdaMessageAttributeGetter.get(attrs, "traceparent"), undefined);
    assert.equal(lambdaMessageAttributeGetter.get(attrs, "tracestate"), undefined);
    assert.equal(lambdaMessageAttributeGetter.get(undefined, "traceparent"), undefined);
    assert.equal(
      lambdaMessageAttributeGetter.get({ Traceparent: { dataType: "String", stringValue: "x" } }, "traceparent"),
      "x",
    );
    assert.deepEqual(lambdaMessageAttributeGetter.keys(attrs), ["traceparent", "tracestate"]);
  });
});
