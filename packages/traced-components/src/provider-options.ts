/**
 * What the plugin hosts (provider.ts): the packaged components under the provider name `traced`, so their schema
 * tokens are `traced:index:<Component>` (ComponentProvider.validateResourceType accepts only the `index` module) and
 * the generated SDKs are named after `traced`. Kept apart from provider.ts so tests can build a ComponentProvider
 * from the same options without starting a gRPC server.
 */
import * as path from "node:path";
import type { ComponentProviderOptions } from "@pulumi/pulumi/provider/experimental";
import { AlarmTopic } from "./alarm-topic";
import { CoralogixMetricStream } from "./metric-stream";
import { OnboardingTable } from "./onboarding-table";
import { TelemetrySecret } from "./telemetry-secret";
import { TracedQueue } from "./traced-queue";

export const PROVIDER_NAME = "traced";

export const providerOptions: ComponentProviderOptions = {
  name: PROVIDER_NAME,
  namespace: "traced-onboarding",
  // The analyzer reads package.json and tsconfig.json from here (@pulumi/pulumi provider/experimental/analyzer.js).
  dirname: path.resolve(__dirname, ".."),
  // TracedContainerLambda and TracedFargateService are not hosted yet: their args still take class instances
  // (TracedQueue, OnboardingTable), callbacks (`transform`) and unions (`alarms: false | …`, `natGateways`), which
  // the schema cannot carry (CHANGELOG.md, 0.2.0 "Not yet").
  components: [TracedQueue, TelemetrySecret, CoralogixMetricStream, AlarmTopic, OnboardingTable],
};
