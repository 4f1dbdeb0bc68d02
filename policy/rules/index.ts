/** Every rule of the stack, in report order: security first, then deploy readiness. */
import { containerRules } from "./containers";
import { iamRules } from "./iam";
import { imageRules } from "./images";
import type { Rule } from "./model";
import { platformRules } from "./platform";
import { programRules } from "./program";
import { sqsRules } from "./sqs";
import { telemetryRules } from "./telemetry";

const all: readonly Rule[] = [
  ...sqsRules,
  ...iamRules,
  ...containerRules,
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
