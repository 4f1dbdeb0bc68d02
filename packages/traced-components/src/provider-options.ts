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
import { TracedContainerLambda } from "./traced-container-lambda";
import { TracedFargateService } from "./traced-fargate-service";
import { TracedQueue } from "./traced-queue";

export const PROVIDER_NAME = "traced";

export const providerOptions: ComponentProviderOptions = {
  name: PROVIDER_NAME,
  namespace: "traced-onboarding",
  // The analyzer reads package.json and tsconfig.json from here (@pulumi/pulumi provider/experimental/analyzer.js).
  dirname: path.resolve(__dirname, ".."),
  // PipelineDashboard, ApiCanary and ApiDomain stay TypeScript-only (CHANGELOG.md, "Not yet").
  components: [
    TracedQueue,
    TelemetrySecret,
    CoralogixMetricStream,
    AlarmTopic,
    OnboardingTable,
    TracedContainerLambda,
    TracedFargateService,
  ],
};
