/**
 * CLIENT spans for DynamoDB calls, shared by the consumer's write (lambda/src/store.ts), the API's status read
 * (app/src/status.ts) and its Idempotency-Key writes (app/src/idempotency.ts): database semconv (`db.system.name=aws.dynamodb`, `db.operation.name`, `db.collection.name`)
 * plus the AWS SDK convention `aws.dynamodb.table_names`.
 */
import { SpanKind, SpanStatusCode, type Context, type Tracer } from "@opentelemetry/api";
import { ATTR_ERROR_TYPE } from "@opentelemetry/semantic-conventions";

/** Span attributes for one DynamoDB call (database semconv; `aws.dynamodb.table_names` from the AWS SDK conventions). */
export function dynamoSpanAttributes(operation: string, tableName: string): Record<string, string | string[]> {
  return {
    "db.system.name": "aws.dynamodb",
    "db.operation.name": operation,
    "db.collection.name": tableName,
    "aws.dynamodb.table_names": [tableName],
    "rpc.system": "aws-api",
    "rpc.service": "DynamoDB",
    "rpc.method": operation,
  };
}

/** Runs one DynamoDB call inside a CLIENT span `<operation> <table>`; `expected` errors end the span unset. */
export async function tracedDynamoCall<T>(
  tracer: Tracer,
  parent: Context,
  operation: string,
  tableName: string,
  call: () => Promise<T>,
  expected: (error: unknown) => boolean = () => false,
): Promise<T> {
  const span = tracer.startSpan(
    `${operation} ${tableName}`,
    { kind: SpanKind.CLIENT, attributes: dynamoSpanAttributes(operation, tableName) },
    parent,
  );
  try {
    return await call();
  } catch (error) {
    const errorType = (error as { name?: string } | undefined)?.name ?? "Error";
    span.setAttribute(ATTR_ERROR_TYPE, errorType);
    if (!expected(error)) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: `${operation} failed: ${errorType}` });
    }
    throw error;
  } finally {
    span.end();
  }
}

/** DynamoDB's answer when a write's `ConditionExpression` does not hold: an expected outcome, not an error. */
export function isConditionFailed(error: unknown): boolean {
  return (error as { name?: string } | undefined)?.name === "ConditionalCheckFailedException";
}

/**
 * One conditional write inside a CLIENT span: true when DynamoDB applied it, false when its condition did not hold
 * (the span stays unset); any other error is thrown.
 */
export async function tracedConditionalWrite(
  tracer: Tracer,
  parent: Context,
  operation: string,
  tableName: string,
  call: () => Promise<unknown>,
): Promise<boolean> {
  try {
    await tracedDynamoCall(tracer, parent, operation, tableName, call, isConditionFailed);
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
}
