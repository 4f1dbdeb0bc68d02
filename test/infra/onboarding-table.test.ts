/**
 * OnboardingTable: on demand, point-in-time recovery, its own customer-managed key (usable only via DynamoDB),
 * deletion protection in production, TTL on `expires_at`; the consumer may put/update/get its items, the API get them
 * and write only its own prefixed items (`dynamodb:LeadingKeys`).
 */
import * as assert from "node:assert/strict";
import {
  OnboardingTable,
  tableApiStatements,
  tableRecordStatements,
} from "../../packages/traced-components/src/onboarding-table";
import { TracedContainerLambda } from "../../packages/traced-components/src/traced-container-lambda";
import { grantsOf, inlinePolicyOfRole, MOCK_ACCOUNT, resourceNamed, settleAll } from "../../harness/mocks";
import { STACK_RUN_TEST_TIMEOUT_MS, type StackRun } from "../../harness/run-program";
import { stackRun } from "../../harness/stack-modes";
import { SECRET_READ_GRANTS, tracedServiceArgs } from "./fixtures";

const TABLE_ARN = `arn:aws:dynamodb:eu-west-1:${MOCK_ACCOUNT}:customers-mock`;
const TABLE_KEY_ARN = `arn:aws:kms:eu-west-1:${MOCK_ACCOUNT}:key/key-customers-key`;

describe("OnboardingTable", () => {
  before(async () => {
    const args = tracedServiceArgs("eu2", { timeoutSeconds: 30, batchingWindowSeconds: 1 });
    const table = new OnboardingTable("customers");
    new TracedContainerLambda("consumer", { ...args, table });
    await settleAll();
  });

  it("is on demand, keyed by request_id, with point-in-time recovery", () => {
    const table = resourceNamed("aws:dynamodb/table:Table", "customers").inputs;
    assert.equal(table.billingMode, "PAY_PER_REQUEST");
    assert.equal(table.hashKey, "request_id");
    assert.deepEqual(table.attributes, [{ name: "request_id", type: "S" }]);
    assert.deepEqual(table.pointInTimeRecovery, { enabled: true });
    assert.equal(table.deletionProtectionEnabled, false, "off by default (dev stacks can be torn down)");
    assert.deepEqual(table.ttl, { attributeName: "expires_at", enabled: true }, "the API's idempotency items expire");
  });

  it("is encrypted with its own rotating customer-managed key, usable by the account only through DynamoDB", () => {
    const table = resourceNamed("aws:dynamodb/table:Table", "customers").inputs;
    assert.deepEqual(table.serverSideEncryption, { enabled: true, kmsKeyArn: TABLE_KEY_ARN });
    const key = resourceNamed("aws:kms/key:Key", "customers-key").inputs;
    assert.equal(key.enableKeyRotation, true);
    const use = JSON.parse(key.policy).Statement.find((s: any) => s.Sid === "AccountUsesThroughServices");
    assert.deepEqual(use.Condition.StringEquals["kms:ViaService"], "dynamodb.eu-west-1.amazonaws.com");
  });

  it("the consumer may put, update and get items of this table only (and use its key); nothing more", () => {
    const grants = grantsOf(inlinePolicyOfRole("consumer-role"));
    assert.deepEqual(grants.RecordOnboarding, {
      effect: "Allow",
      actions: ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem"],
      resources: [TABLE_ARN],
    });
    assert.deepEqual(grants.UseOnboardingTableKey, {
      effect: "Allow",
      actions: ["kms:Decrypt", "kms:GenerateDataKey"],
      resources: [TABLE_KEY_ARN],
    });
    assert.deepEqual(
      Object.keys(grants).sort(),
      [
        "ConsumeQueue",
        "DecryptFromQueue",
        ...Object.keys(SECRET_READ_GRANTS),
        "RecordOnboarding",
        "UseOnboardingTableKey",
        "WriteOwnLogs",
      ].sort(),
    );
    const fn = resourceNamed("aws:lambda/function:Function", "consumer").inputs;
    assert.equal(fn.environment.variables.ONBOARDING_TABLE_NAME, "customers-mock");
  });
});

describe("a table that is not an OnboardingTable (TableRef: name, ARN, key ARN)", () => {
  const ref = {
    name: "shared-onboarding",
    arn: `arn:aws:dynamodb:eu-west-1:${MOCK_ACCOUNT}:table/shared-onboarding`,
    keyArn: `arn:aws:kms:eu-west-1:${MOCK_ACCOUNT}:key/shared-table-key`,
  };

  it("gets the same grants as an OnboardingTable, scoped to its ARN and key", () => {
    for (const statements of [tableRecordStatements(ref), tableApiStatements(ref)]) {
      const resources = statements.map((s) => s.resources);
      assert.deepEqual(resources.at(-1), [ref.keyArn], "the last statement uses the table's key");
      for (const r of resources.slice(0, -1)) assert.deepEqual(r, [ref.arn]);
    }
    assert.deepEqual(
      tableApiStatements(ref).map((s) => s.sid),
      ["ReadOnboarding", "RecordApiItems", "UseOnboardingTableKey"],
    );
  });

  it("is recorded in by the consumer by name, with grants on that table only", async () => {
    const args = tracedServiceArgs("eu2", { timeoutSeconds: 30, batchingWindowSeconds: 1 });
    new TracedContainerLambda("byo-table", { ...args, table: ref });
    await settleAll();
    const grants = grantsOf(inlinePolicyOfRole("byo-table-role"));
    assert.deepEqual(grants.RecordOnboarding?.resources, [ref.arn]);
    assert.deepEqual(grants.UseOnboardingTableKey?.resources, [ref.keyArn]);
    const fn = resourceNamed("aws:lambda/function:Function", "byo-table").inputs;
    assert.equal(fn.environment.variables.ONBOARDING_TABLE_NAME, ref.name);
  });
});

describe("OnboardingTable in the stack", function () {
  this.timeout(STACK_RUN_TEST_TIMEOUT_MS);
  const tableOf = (run: StackRun) => run.resources.find((r) => r.type === "aws:dynamodb/table:Table")!;

  it("dev: no deletion protection; the API's task role may GetItem, and PutItem/UpdateItem only its prefixed items", async () => {
    const run = await stackRun("devUpdate");
    const table = tableOf(run);
    assert.equal(table.inputs.deletionProtectionEnabled, false);
    const taskRole = run.resources.find(
      (r) => r.type === "aws:iam/role:Role" && r.name === "onboarding-api-task-role",
    )!;
    const policy = run.resources.find(
      (r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.inputs.role === taskRole.state.name,
    )!;
    const document = JSON.parse(policy.inputs.policy);
    const grants = grantsOf(document);
    assert.deepEqual(grants.ReadOnboarding, {
      effect: "Allow",
      actions: ["dynamodb:GetItem"],
      resources: [table.state.arn],
    });
    const write = document.Statement.find((s: { Sid?: string }) => s.Sid === "RecordApiItems");
    assert.deepEqual(
      { actions: [write.Action].flat().sort(), resource: write.Resource, condition: write.Condition },
      {
        actions: ["dynamodb:PutItem", "dynamodb:UpdateItem"],
        resource: table.state.arn,
        condition: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["idempotency#*", "accepted#*"] } },
      },
      "writes only items keyed idempotency#… or accepted#…, never a consumer's record",
    );
    const dynamo = Object.values(grants).flatMap((g) => g.actions.filter((a) => a.startsWith("dynamodb:")));
    assert.deepEqual(dynamo.sort(), ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]);
    assert.deepEqual(grants.UseOnboardingTableKey, {
      effect: "Allow",
      actions: ["kms:Decrypt", "kms:GenerateDataKey"],
      resources: [table.inputs.serverSideEncryption.kmsKeyArn],
    });
    assert.equal(run.outputs.tableName, table.state.name);
  });

  it("prod: deletion protection on (and the resource protected)", async () => {
    const run = await stackRun("prodPreview");
    assert.equal(tableOf(run).inputs.deletionProtectionEnabled, true);
    assert.deepEqual(tableOf(run).inputs.pointInTimeRecovery, { enabled: true });
  });
});
