/**
 * The deployer's and previewer's IAM policies (deploy/iam) against what the stack really does: the stack program
 * runs (the shared modes of harness/stack-modes.ts) with Pulumi.dev.yaml, with every dev option (domain, canary,
 * Fargate Spot), and as production, previewed and with reserved concurrency (so the Service Quotas invoke runs), and
 * every registered type and invoked data source must have an entry in deploy/iam/permissions.ts whose actions the
 * policy files allow, on a scope that contains the resource's real ARN.
 */
import * as assert from "node:assert/strict";
import {
  MANAGED_POLICY_MAX_CHARS,
  policyFilesOnDisk,
  policySize,
  policyText,
  renderPolicyFiles,
  type PolicyDocument,
} from "../../deploy/iam/generate";
import { IMPLICIT_INVOKES, INVOKE_PERMISSIONS, RESOURCE_PERMISSIONS } from "../../deploy/iam/permissions";
import type { RecordedResource } from "../../harness/mocks";
import { STACK_RUN_TEST_TIMEOUT_MS, type StackRun } from "../../harness/run-program";
import { stackRun } from "../../harness/stack-modes";

/** IAM's wildcard match: `*` any run of characters (":" and "/" too), `?` one character; actions ignore case. */
function iamMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`, ignoreCase ? "i" : "").test(value);
}

/** Whether one of `documents` allows `action` on `resource` (conditions are not evaluated). */
function allows(documents: readonly PolicyDocument[], action: string, resource: string): boolean {
  return documents.some((doc) =>
    doc.Statement.some(
      (s) => s.Action.some((a) => iamMatch(a, action, true)) && s.Resource.some((r) => iamMatch(r, resource)),
    ),
  );
}

/** Type tokens and invoke tokens of the runs that deploy/iam/permissions.ts has no entry for. */
function uncoveredTokens(runs: readonly Pick<StackRun, "resources" | "invokes">[]): string[] {
  const types = new Set(
    runs.flatMap((r) => r.resources.map((x) => x.type)).filter((t) => !/^(traced|pulumi):/.test(t)),
  );
  const invokes = new Set(runs.flatMap((r) => r.invokes));
  return [
    ...[...types].filter((t) => !(t in RESOURCE_PERMISSIONS)).map((t) => `resource ${t}`),
    ...[...invokes].filter((t) => !(t in INVOKE_PERMISSIONS)).map((t) => `invoke ${t}`),
  ].sort();
}

/** The physical name AWS would see: the mocks' `<logical>-mock` as Pulumi auto-names it, `<logical>-<7 hex>`. */
const realistic = (r: RecordedResource) => ({
  name: String(r.state.name ?? r.name).replace(/-mock$/, "-0a1b2c3"),
  inputs: JSON.parse(JSON.stringify(r.inputs).replace(/-mock\b/g, "-0a1b2c3")),
  state: r.state,
});

const loaded = (mode: "deployer" | "previewer"): PolicyDocument[] =>
  [...policyFilesOnDisk(mode).values()].map((t) => JSON.parse(t) as PolicyDocument);

describe("deployer and previewer IAM policies (deploy/iam)", function () {
  this.timeout(STACK_RUN_TEST_TIMEOUT_MS);
  let runs: StackRun[];
  const deployer = loaded("deployer");
  const previewer = loaded("previewer");

  before(async () => {
    // Spot is refused in production, so the dev stack brings it (with the domain and the canary).
    runs = await Promise.all(
      (["devUpdate", "everyOptionUpdate", "prodPreview", "prodReservedUpdate"] as const).map(stackRun),
    );
  });

  it("exercises the option-dependent types and invokes (domain, canary, Spot, Service Quotas)", () => {
    const types = new Set(runs.flatMap((r) => r.resources.map((x) => x.type)));
    for (const t of [
      "aws:acm/certificate:Certificate",
      "aws:route53/record:Record",
      "aws:synthetics/canary:Canary",
      "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
      "docker-build:index:Image",
    ]) {
      assert.ok(types.has(t), t);
    }
    const invokes = new Set(runs.flatMap((r) => r.invokes));
    assert.ok(invokes.has("aws:servicequotas/getServiceQuota:getServiceQuota"));
    assert.ok(invokes.has("aws:ecr/getAuthorizationToken:getAuthorizationToken"));
  });

  it("has a permission entry for every registered resource type and every invoked data source", () => {
    assert.deepEqual(uncoveredTokens(runs), []);
  });

  it("reports a type or invoke without an entry (so a new resource type fails here)", () => {
    const fake = {
      resources: [{ type: "aws:rds/instance:Instance" } as RecordedResource],
      invokes: ["aws:route53/getZone:getZone"],
    };
    assert.deepEqual(uncoveredTokens([fake]), [
      "invoke aws:route53/getZone:getZone",
      "resource aws:rds/instance:Instance",
    ]);
  });

  it("lets the deployer do every listed action on each entry's scope, and the previewer every read", () => {
    const missing: string[] = [];
    const check = (who: string, docs: PolicyDocument[], actions: readonly string[], scope: readonly string[]) => {
      for (const action of actions) {
        const service = action.split(":")[0];
        const own = scope.filter((r) => r === "*" || r.startsWith(`arn:aws:${service}:`));
        for (const resource of own.length > 0 ? own : ["*"]) {
          if (!allows(docs, action, resource)) missing.push(`${who}: ${action} on ${resource}`);
        }
      }
    };
    for (const [token, p] of Object.entries(RESOURCE_PERMISSIONS)) {
      check(`deployer ${token}`, deployer, [...p.deploy, ...p.read], p.resources);
      check(`previewer ${token}`, previewer, p.read, p.resources);
    }
    for (const [token, p] of Object.entries(INVOKE_PERMISSIONS)) {
      check(`deployer ${token}`, deployer, p.actions, p.resources);
      check(`previewer ${token}`, previewer, p.actions, p.resources);
    }
    assert.deepEqual(missing, []);
  });

  it("scopes each resource to names the stack gives: every recorded resource's ARN is inside its entry's scope", () => {
    const outside: string[] = [];
    for (const run of runs) {
      for (const r of run.resources) {
        const permission = RESOURCE_PERMISSIONS[r.type];
        if (!permission?.arn) continue;
        const arn = permission.arn(realistic(r));
        const service = arn.split(":")[2];
        const actions = [...permission.deploy, ...permission.read].filter((a) => a.startsWith(`${service}:`));
        for (const action of actions) {
          if (!allows(deployer, action, arn)) outside.push(`${r.type} ${r.name}: ${action} on ${arn}`);
        }
      }
    }
    assert.deepEqual([...new Set(outside)], []);
  });

  it("keeps Resource * to the entries that say why, and only there", () => {
    for (const [token, p] of Object.entries(RESOURCE_PERMISSIONS)) {
      assert.equal(p.resources.includes("*"), p.unscoped !== undefined, token);
      if (!p.resources.includes("*")) assert.ok(p.arn, `${token}: a scoped entry computes its ARN for the scope test`);
    }
  });

  it("gives the previewer read-only actions", () => {
    const actions = previewer.flatMap((d) => d.Statement.flatMap((s) => s.Action));
    const writes = actions.filter(
      (a) => !/^[\w-]+:(Get|Describe|List|BatchGet)/.test(a) && a !== "ecr:GetAuthorizationToken",
    );
    assert.deepEqual(writes, []);
    assert.ok(actions.includes("servicequotas:GetServiceQuota"), "preview runs the quota check too");
    assert.ok(!actions.includes("secretsmanager:GetSecretValue"), "a preview never reads the Coralogix key");
  });

  it("passes roles only to the services that use them", () => {
    const pass = deployer.flatMap((d) => d.Statement).filter((s) => s.Action.includes("iam:PassRole"));
    assert.equal(pass.length, 1);
    assert.ok(pass[0].Condition?.StringEquals?.["iam:PassedToService"]?.includes("ecs-tasks.amazonaws.com"));
    assert.ok(pass[0].Resource.every((r) => /^arn:aws:iam::\*:role\/(onboarding|metrics)\*$/.test(r)));
  });

  it("stores the generated policies (npm run iam:policies), each within the 6,144-character managed-policy quota", () => {
    for (const mode of ["deployer", "previewer"] as const) {
      const expected = renderPolicyFiles(mode);
      const onDisk = policyFilesOnDisk(mode);
      assert.deepEqual([...onDisk.keys()], [...expected.keys()], `${mode}: run npm run iam:policies`);
      for (const [file, doc] of expected) {
        assert.equal(onDisk.get(file), policyText(doc), `${file} is stale: run npm run iam:policies`);
        assert.ok(policySize(doc) <= MANAGED_POLICY_MAX_CHARS, `${file}: ${policySize(doc)} characters`);
      }
    }
  });

  it("lists the invokes no mocked run can record (inside awsx) among the entries", () => {
    for (const token of IMPLICIT_INVOKES) assert.ok(token in INVOKE_PERMISSIONS, token);
  });
});
