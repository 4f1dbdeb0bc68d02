/** In-process stand-ins shared by the API and consumer tests: a recording publisher, the Lambda's telemetry. */
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import type { OnboardingMessage } from "../../contract/onboarding";
import { PublishError, type Publisher } from "../../app/src/publisher";
import { createJsonLogger } from "../../telemetry/logger";
import { createTracerProvider } from "../../telemetry/provider";
import { createServiceResource } from "../../telemetry/resource";

/** A publisher that keeps every message it is given and always succeeds. */
export function recordingPublisher(): { publisher: Publisher; published: OnboardingMessage[] } {
  const published: OnboardingMessage[] = [];
  const publisher: Publisher = {
    publish: async (message) => {
      published.push(message);
      return { messageId: `m-${published.length}` };
    },
    ready: async () => true,
    close: () => undefined,
  };
  return { publisher, published };
}

/**
 * A recording publisher whose sends fail (an aborted SendMessage: the outcome unknown to the API) until `heal()`.
 * `takenAnyway`: SQS took each failed message although the API gave up waiting (it is recorded as published).
 */
export function failingPublisher(options: { takenAnyway: boolean }) {
  const { publisher: ok, published } = recordingPublisher();
  let failing = true;
  const publisher: Publisher = {
    ...ok,
    publish: async (message, parent) => {
      if (failing) {
        if (options.takenAnyway) published.push(message);
        throw new PublishError("SQS SendMessage failed: aborted", "AbortError");
      }
      return ok.publish(message, parent);
    },
  };
  return { publisher, published, heal: () => (failing = false), isFailing: () => failing };
}

/** One Lambda environment's telemetry: a provider over an in-memory exporter and a logger that keeps its lines. */
export function lambdaTelemetry() {
  const exporter = new InMemorySpanExporter();
  const provider = createTracerProvider({
    resource: createServiceResource({ defaultServiceName: "onboarding-lambda", cloudPlatform: "aws_lambda", env: {} }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const logs: Record<string, unknown>[] = [];
  const logger = createJsonLogger({ service: "t", write: (l) => logs.push(JSON.parse(l) as Record<string, unknown>) });
  return { exporter, provider, logs, logger };
}
