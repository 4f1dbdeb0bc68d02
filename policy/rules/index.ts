/** Every rule of the stack, in report order: security first, then deploy readiness. */
import { collectorRules } from "./collector";
import { ecsRules } from "./ecs";
import { iamRules } from "./iam";
import { imageRules } from "./images";
import type { Rule } from "./model";
import { platformRules } from "./platform";
import { programRules } from "./program";
import { secretRules } from "./secrets";
import { sqsRules } from "./sqs";
import { telemetryRules } from "./telemetry";

const all: readonly Rule[] = [
  ...sqsRules,
  ...iamRules,
  ...ecsRules,
  ...collectorRules,
  ...secretRules,
  ...imageRules,
  ...telemetryRules,
  ...platformRules,
  ...programRules,
];

export const rules: readonly Rule[] = [
  ...all.filter((r) => r.category === "security"),
  ...all.filter((r) => r.category === "deploy"),
];

export * from "./model";
