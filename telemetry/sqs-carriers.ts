/**
 * SQS carriers for the propagation fields of `OTEL_PROPAGATORS` (telemetry/propagation.ts: W3C `traceparent`,
 * `tracestate` and `baggage` by default), as small typed singletons (the shape of opentelemetry-js-contrib
 * `instrumentation-aws-sdk/src/services/MessageAttributes.ts`, without the auto-instrumentation).
 *
 * - {@link sqsMessageAttributeSetter} writes into `SendMessage` `MessageAttributes` (`{ DataType, StringValue }`).
 * - {@link lambdaMessageAttributeGetter} reads Lambda's lowercase record shape (`messageAttributes[k].stringValue`).
 */
import { diag, type TextMapGetter, type TextMapSetter } from "@opentelemetry/api";

/**
 * SQS accepts at most 10 message attributes per message; one more and `SendMessage` fails.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html#sqs-message-attributes
 */
export const MAX_MESSAGE_ATTRIBUTES = 10;

/** `SendMessage` attribute value (structurally compatible with `@aws-sdk/client-sqs` `MessageAttributeValue`). */
export interface SqsMessageAttributeValue {
  DataType: string | undefined;
  StringValue?: string;
  BinaryValue?: Uint8Array;
}
export type SqsMessageAttributes = Record<string, SqsMessageAttributeValue>;

/** Lambda SQS record attribute (structurally compatible with `aws-lambda` `SQSMessageAttribute`). */
export interface LambdaMessageAttribute {
  dataType: string;
  stringValue?: string;
  binaryValue?: string;
}
export type LambdaMessageAttributes = Record<string, LambdaMessageAttribute>;

let skipped = 0;

/** How many propagation fields were skipped because the message already had 10 attributes (process lifetime). */
export function skippedAttributeCount(): number {
  return skipped;
}

/**
 * Writes propagation fields as String attributes, in the order the propagators inject them (`traceparent` first, so
 * the trace survives when only one slot is left; then `tracestate`, then `baggage`). Never exceeds {@link MAX_MESSAGE_ATTRIBUTES} and never throws:
 * when there is no room the field is skipped, counted and reported through `diag.warn` (the first time and then
 * every 1000th, so a hot path cannot flood the log). Existing keys are overwritten in place (no extra slot).
 */
export const sqsMessageAttributeSetter: TextMapSetter<SqsMessageAttributes> = {
  set(carrier, key, value) {
    if (carrier == null || typeof carrier !== "object") return;
    if (!Object.prototype.hasOwnProperty.call(carrier, key) && Object.keys(carrier).length >= MAX_MESSAGE_ATTRIBUTES) {
      skipped++;
      if (skipped === 1 || skipped % 1000 === 0) {
        diag.warn(
          `SQS message already has ${MAX_MESSAGE_ATTRIBUTES} attributes; propagation field "${key}" not injected ` +
            `(skipped ${skipped} so far)`,
        );
      }
      return;
    }
    carrier[key] = { DataType: "String", StringValue: value };
  },
};

function stringAttribute(attribute: LambdaMessageAttribute | undefined): string | undefined {
  if (attribute == null || typeof attribute !== "object") return undefined;
  // Binary and Number attributes are never trace context (Number also carries `stringValue`).
  const type = attribute.dataType;
  if (type !== "String" && !(typeof type === "string" && type.startsWith("String."))) return undefined;
  return typeof attribute.stringValue === "string" ? attribute.stringValue : undefined;
}

/** Reads String attributes from a Lambda SQS record; Binary/Number attributes and odd shapes read as absent. */
export const lambdaMessageAttributeGetter: TextMapGetter<LambdaMessageAttributes | undefined> = {
  get(carrier, key) {
    if (carrier == null || typeof carrier !== "object") return undefined;
    const direct = stringAttribute(carrier[key]);
    if (direct !== undefined) return direct;
    // Attribute names are case-sensitive in SQS; accept a producer that wrote `Traceparent` (or `x-amzn-trace-id`
    // for the X-Ray propagator's `X-Amzn-Trace-Id`).
    const lower = key.toLowerCase();
    for (const name of Object.keys(carrier)) {
      if (name.toLowerCase() === lower) return stringAttribute(carrier[name]);
    }
    return undefined;
  },
  keys(carrier) {
    return carrier == null || typeof carrier !== "object" ? [] : Object.keys(carrier);
  },
};
