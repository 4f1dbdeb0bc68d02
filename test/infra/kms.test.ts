/**
 * Customer-managed key policies: the account administers every key without using it, principals of the account use
 * it only through the services listed, and AWS service principals (CloudWatch alarms) only for this account.
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { createCustomerManagedKey, KEY_ADMIN_ACTIONS } from "../../packages/traced-components/src/kms";
import { installMocks, MOCK_ACCOUNT, resourceNamed, settleAll } from "../../harness/mocks";
import { STACK_RUN_TEST_TIMEOUT_MS } from "../../harness/run-program";
import { stackRun } from "../../harness/stack-modes";

const ROOT = `arn:aws:iam::${MOCK_ACCOUNT}:root`;

/** The parsed policy of the key with logical name `name`, from `resources`. */
function keyPolicy(resources: readonly { type: string; name: string; inputs: Record<string, any> }[], name: string) {
  const key = resources.find((r) => r.type === "aws:kms/key:Key" && r.name === name);
  assert.ok(key, `no key ${name}`);
  return JSON.parse(key.inputs.policy) as { Statement: Record<string, any>[] };
}

describe("createCustomerManagedKey", function () {
  this.timeout(STACK_RUN_TEST_TIMEOUT_MS);
  it("writes exactly the admin, via-service and service-principal statements, with rotation on", async () => {
    installMocks();
    const parent = new pulumi.ComponentResource("test:index:Parent", "parent");
    createCustomerManagedKey(
      "k",
      { description: "d", viaServices: ["sqs", "sns"], servicePrincipals: ["cloudwatch.amazonaws.com"] },
      parent,
    );
    await settleAll();
    const key = resourceNamed("aws:kms/key:Key", "k").inputs;
    assert.equal(key.enableKeyRotation, true);
    assert.equal(key.deletionWindowInDays, 30);
    assert.deepEqual(JSON.parse(key.policy).Statement, [
      {
        Effect: "Allow",
        Sid: "AccountAdministers",
        Action: [...KEY_ADMIN_ACTIONS],
        Resource: "*",
        Principal: { AWS: ROOT },
      },
      {
        Effect: "Allow",
        Sid: "AccountUsesThroughServices",
        Action: ["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
        Resource: "*",
        Principal: { AWS: ROOT },
        Condition: {
          StringEquals: {
            "kms:ViaService": ["sqs.eu-west-1.amazonaws.com", "sns.eu-west-1.amazonaws.com"],
            "kms:CallerAccount": MOCK_ACCOUNT,
          },
        },
      },
      {
        Effect: "Allow",
        Sid: "ServicesUseKey",
        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
        Resource: "*",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Condition: { StringEquals: { "aws:SourceAccount": MOCK_ACCOUNT } },
      },
    ]);
  });

  it("gives the account no cryptographic action of its own, so only the listed services can use the key", () => {
    const grants = (pattern: string, action: string) => new RegExp(`^${pattern.replace(/\*/g, ".*")}$`).test(action);
    const cryptographic = ["Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom"];
    for (const action of cryptographic.map((a) => `kms:${a}`)) {
      assert.deepEqual(
        KEY_ADMIN_ACTIONS.filter((pattern) => grants(pattern, action)),
        [],
        action,
      );
    }
  });

  it("lists only the admin statement when no service uses the key", async () => {
    installMocks();
    createCustomerManagedKey("bare", { description: "d" }, new pulumi.ComponentResource("test:index:Parent", "p"));
    await settleAll();
    const sids = JSON.parse(resourceNamed("aws:kms/key:Key", "bare").inputs.policy).Statement.map((s: any) => s.Sid);
    assert.deepEqual(sids, ["AccountAdministers"]);
  });
});

describe("the stack's keys", function () {
  this.timeout(STACK_RUN_TEST_TIMEOUT_MS);
  it("let exactly the services that use each key do so", async () => {
    const { resources } = await stackRun("devUpdate");
    const usage = (name: string) => {
      const statements = keyPolicy(resources, name).Statement;
      const via = statements.find((s) => s.Sid === "AccountUsesThroughServices")?.Condition.StringEquals;
      const services = statements.find((s) => s.Sid === "ServicesUseKey")?.Principal.Service;
      return { via: via?.["kms:ViaService"], services };
    };
    const keys = resources.filter((r) => r.type === "aws:kms/key:Key").map((r) => r.name);
    assert.deepEqual(keys.sort(), [
      "alarms-key",
      "coralogix-key-key",
      "metrics-backup-key",
      "onboarding-key",
      "onboarding-table-key",
    ]);
    // The queues' key: producers and consumers go through SQS.
    assert.deepEqual(usage("onboarding-key"), { via: "sqs.eu-west-1.amazonaws.com", services: undefined });
    // The onboarding table's key: the Lambda and the API use it through DynamoDB.
    assert.deepEqual(usage("onboarding-table-key"), { via: "dynamodb.eu-west-1.amazonaws.com", services: undefined });
    // The secret's key: the Lambda, the ECS execution role and Firehose read it through Secrets Manager.
    assert.deepEqual(usage("coralogix-key-key"), {
      via: "secretsmanager.eu-west-1.amazonaws.com",
      services: undefined,
    });
    // Firehose writes failed records through S3.
    assert.deepEqual(usage("metrics-backup-key"), { via: "s3.eu-west-1.amazonaws.com", services: undefined });
    // CloudWatch alarms publish to the encrypted topic as a service principal.
    assert.deepEqual(usage("alarms-key"), { via: "sns.eu-west-1.amazonaws.com", services: "cloudwatch.amazonaws.com" });
  });
});
