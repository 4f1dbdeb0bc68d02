/**
 * The `traced-onboarding` policy pack: `pulumi preview --policy-pack policy` (or `pulumi up --policy-pack policy`)
 * enforces every rule in policy/rules as a mandatory policy. The rules themselves live in policy/rules and are
 * tested by test/policy; this file only hands them to the policy engine (constructing a PolicyPack starts its
 * gRPC server, so tests never import this module).
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("traced-onboarding", {
  description: "Stack-wide security and deploy-readiness rules of traced-onboarding.",
  enforcementLevel: "mandatory",
  policies,
});
