/**
 * Runs the bundled Lambda handler (dist/lambda/handler.js) against whatever OTEL_EXPORTER_OTLP_ENDPOINT points at
 * (a closed port, a blackhole, a slow receiver) and reports each invocation's duration against the function timeout
 * the fake context advertises.
 */
import { randomBytes, randomUUID } from "node:crypto";

interface Args {
  handlerPath: string;
  records: number;
  timeoutMs: number;
  invocations: number;
}

function sqsRecord(i: number) {
  const traceId = randomBytes(16).toString("hex");
  const spanId = randomBytes(8).toString("hex");
  const messageId = randomUUID();
  return {
    messageId,
    receiptHandle: `bench-${messageId}`,
    body: JSON.stringify({
      customer_id: `BENCH-${String(i).padStart(3, "0")}`,
      email: `bench${i}@example.com`,
      company_size: "medium",
      name: `Bench Customer ${i}`,
      request_id: randomUUID(),
      accepted_at: new Date().toISOString(),
    }),
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: String(Date.now()),
      SenderId: "AIDABENCH",
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {
      traceparent: {
        stringValue: `00-${traceId}-${spanId}-01`,
        stringListValues: [],
        binaryListValues: [],
        dataType: "String",
      },
    },
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:bench-queue",
    awsRegion: "us-east-1",
  };
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as Args;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(args.handlerPath) as {
    handler: (event: unknown, context: unknown) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;
  };
  const durations: number[] = [];
  const failures: number[] = [];
  for (let n = 0; n < args.invocations; n++) {
    const start = Date.now();
    const context = {
      functionName: "onboarding-consumer-bench",
      functionVersion: "$LATEST",
      invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:onboarding-consumer-bench",
      memoryLimitInMB: "512",
      awsRequestId: randomUUID(),
      logGroupName: "/aws/lambda/bench",
      logStreamName: "bench",
      callbackWaitsForEmptyEventLoop: false,
      getRemainingTimeInMillis: () => Math.max(0, start + args.timeoutMs - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    const event = { Records: Array.from({ length: args.records }, (_, i) => sqsRecord(i + 1)) };
    const t0 = performance.now();
    const response = await mod.handler(event, context);
    durations.push(performance.now() - t0);
    failures.push(response?.batchItemFailures?.length ?? -1);
  }
  process.send?.({ done: true, durations, failures });
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
