/**
 * The policy pack adapter: every resource and stack rule becomes one mandatory policy that reports what the rule
 * finds; values unknown during a preview are skipped rather than failing the policy. (policy/index.ts itself
 * constructs a PolicyPack, which starts the policy gRPC server, so it is not imported here.)
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import type {
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { rulesTable } from "../../policy/evaluate";
import { plainProps, policies, toPolicies } from "../../policy/policies";
import { rules, UNKNOWN } from "../../policy/rules";
import { goodStack, withPatch } from "./fixtures";

const ROOT = path.resolve(__dirname, "../..");

/** The SDK's own proxy for props during a preview (exported at runtime; its typings are stripped). */
const { unknownCheckingProxy } = require("@pulumi/policy/proxy") as { unknownCheckingProxy: <T>(value: T) => T };

type Reported = { message: string; urn?: string }[];

function validateResource(policy: ResourceValidationPolicy, type: string, props: Record<string, unknown>): Reported {
  const reported: Reported = [];
  const args = {
    type,
    props: unknownCheckingProxy(props),
    urn: `urn:x::${type}::r`,
    name: "r",
  } as ResourceValidationArgs;
  const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
  for (const v of validations) void v?.(args, (message, urn) => reported.push({ message, urn }));
  return reported;
}

function validateStack(policy: StackValidationPolicy, resources: ReturnType<typeof goodStack>): Reported {
  const reported: Reported = [];
  const args = {
    resources: resources.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: unknownCheckingProxy(r.props) })),
  } as unknown as StackValidationArgs & { resources: PolicyResource[] };
  void policy.validateStack(args, (message, urn) => reported.push({ message, urn }));
  return reported;
}

const byName = (name: string) => policies.find((p) => p.name === name);

describe("policy pack", () => {
  it("maps every resource and stack rule to one mandatory policy with its severity", () => {
    const expected = rules.filter((r) => r.kind !== "program");
    assert.deepEqual(
      policies.map((p) => p.name),
      expected.map((r) => r.id),
    );
    for (const rule of expected) {
      const policy = byName(rule.id)!;
      assert.equal(policy.enforcementLevel, "mandatory");
      assert.equal(policy.severity, rule.severity);
      assert.equal(policy.description, rule.description);
      assert.equal("validateStack" in policy, rule.kind === "stack", rule.id);
    }
  });

  it("leaves program rules out (a pack sees one run, never a preview and an update together)", () => {
    const program = rules.filter((r) => r.kind === "program").map((r) => r.id);
    assert.ok(program.length > 0);
    assert.equal(toPolicies(rules.filter((r) => r.kind === "program")).length, 0);
  });

  it("reports a resource rule's violations and stays quiet on a good resource", () => {
    const policy = byName("sqs-encrypted-with-cmk") as ResourceValidationPolicy;
    assert.deepEqual(validateResource(policy, "aws:sqs/queue:Queue", { kmsMasterKeyId: "arn:aws:kms:x:1:key/1" }), []);
    const reported = validateResource(policy, "aws:sqs/queue:Queue", {});
    assert.equal(reported.length, 1);
    assert.match(reported[0]!.message, /kmsMasterKeyId is not set/);
    assert.deepEqual(validateResource(policy, "aws:sns/topic:Topic", {}), [], "other types are not judged");
  });

  it("reports a stack rule's violations with the offending URN", () => {
    const policy = byName("lambda-queue-dlq-and-visibility") as StackValidationPolicy;
    assert.deepEqual(validateStack(policy, goodStack()), []);
    const bad = withPatch(goodStack(), "aws:sqs/queue:Queue", "orders", () => ({ visibilityTimeoutSeconds: 60 }));
    const reported = validateStack(policy, bad);
    assert.equal(reported.length, 1);
    assert.equal(reported[0]!.urn, "urn:pulumi:test::traced-onboarding::aws:sqs/queue:Queue::orders");
  });

  it("reads through the SDK's unknown-checking proxy, so preview unknowns are skipped instead of throwing", () => {
    const proxied = unknownCheckingProxy({ kmsMasterKeyId: UNKNOWN });
    assert.throws(() => (proxied as Record<string, unknown>).kmsMasterKeyId);
    assert.equal(plainProps(proxied).kmsMasterKeyId, UNKNOWN);
    const policy = byName("sqs-encrypted-with-cmk") as ResourceValidationPolicy;
    assert.deepEqual(validateResource(policy, "aws:sqs/queue:Queue", { kmsMasterKeyId: UNKNOWN }), []);
    const stackPolicy = byName("coralogix-key-only-in-secret-version") as StackValidationPolicy;
    const preview = withPatch(goodStack(), "aws:lambda/function:Function", "consumer", () => ({ imageUri: UNKNOWN }));
    assert.deepEqual(validateStack(stackPolicy, preview), []);
  });

  it("is a loadable nodejs policy pack: PulumiPolicy.yaml, and a package.json with a version and main", () => {
    const yaml = fs.readFileSync(path.join(ROOT, "policy/PulumiPolicy.yaml"), "utf8");
    assert.match(yaml, /^runtime: nodejs$/m);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "policy/package.json"), "utf8")) as Record<string, unknown>;
    assert.match(String(pkg.version), /^\d+\.\d+\.\d+/);
    assert.equal(pkg.main, "index.ts");
    const index = fs.readFileSync(path.join(ROOT, "policy/index.ts"), "utf8");
    assert.match(index, /new PolicyPack\("traced-onboarding", \{[\s\S]*enforcementLevel: "mandatory",[\s\S]*policies,/);
  });

  it("documents every rule in policy/README.md (regenerate: npx tsx policy/report.ts --rules-table)", () => {
    const readme = fs.readFileSync(path.join(ROOT, "policy/README.md"), "utf8");
    const m = /<!-- rules-table:start[^>]*-->([\s\S]*?)<!-- rules-table:end -->/.exec(readme);
    assert.ok(m, "policy/README.md has no rules-table markers");
    // Prettier pads table cells; compare cell contents only.
    const normalise = (table: string) =>
      table
        .trim()
        .split("\n")
        .map((line) =>
          line
            .split("|")
            .map((cell) => cell.trim().replace(/^-+$/, "---"))
            .join("|"),
        );
    assert.deepEqual(normalise(m[1]!), normalise(rulesTable()));
  });
});
