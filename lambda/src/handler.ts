/**
 * The Lambda entry (`CMD ["handler.handler"]`, bundled by scripts/build.ts to dist/lambda/handler.js): wiring only.
 * Importing it initialises this execution environment's telemetry and store (Lambda's init phase); the handler
 * itself is lambda/src/sqs-handler.ts, which tests and other entries import without those side effects.
 */
import { ONBOARDING_TABLE_NAME_ENV } from "../../packages/traced-components/src/contract/runtime-env";
import { envString } from "../../telemetry/env";
import { createInMemoryOnboardingStore, processOnboarding, type OnboardingStore } from "./onboarding";
import { createHandler, type SqsHandler } from "./sqs-handler";
import { createDynamoCall, createDynamoOnboardingStore } from "./store";
import { initLambdaTelemetry } from "./tracing";

const telemetry = initLambdaTelemetry();

/**
 * The store for this environment: the DynamoDB table named by `ONBOARDING_TABLE_NAME` (what the stack and the local
 * stack set), else an in-memory one (per environment only: duplicates across environments are not detected), for unit tests.
 */
function createStore(env: NodeJS.ProcessEnv = process.env): OnboardingStore {
  const tableName = envString(env, ONBOARDING_TABLE_NAME_ENV);
  if (tableName)
    return createDynamoOnboardingStore({ call: createDynamoCall(env), tableName, tracer: telemetry.tracer });
  return createInMemoryOnboardingStore();
}
const store = createStore();

/** Settles when the init phase's telemetry setup (secret read, exporter created) is done; never rejects. */
export const telemetryReady: Promise<void> = telemetry.ready;

/** The Lambda entrypoint. */
export const handler: SqsHandler = createHandler({
  tracer: telemetry.tracer,
  logger: telemetry.logger,
  flush: telemetry.flush,
  processMessage: (message, _record, ctx) => processOnboarding(message, store, ctx),
});
