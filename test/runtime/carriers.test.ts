import assert from "node:assert/strict";
import { ROOT_CONTEXT, trace, TraceFlags } from "@opentelemetry/api";
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
