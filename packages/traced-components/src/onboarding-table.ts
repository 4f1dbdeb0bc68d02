/**
 * OnboardingTable: the DynamoDB table the consumer records each onboarding request in, once per `request_id`
 * (lambda/src/store.ts). On demand, point-in-time recovery on, encrypted with its own customer-managed key (usable
 * only through DynamoDB), deletion protection in production. Grants are statements scoped to this table and its key:
 * `recordStatements` for the consumer (PutItem, UpdateItem, GetItem), `readStatements` for the API (GetItem).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PolicyStatement } from "./iam";
import { createCustomerManagedKey } from "./kms";

/** The table's partition key (a string): one item per onboarding request. */
export const ONBOARDING_TABLE_HASH_KEY = "request_id";

export interface OnboardingTableArgs {
  /**
   * Refuse `DeleteTable` (and a `pulumi destroy` of the table) until it is turned off. On in production.
   * @default false
   * @example true
   */
  readonly deletionProtection?: boolean;
}

/** The DynamoDB table onboarding requests are recorded in: on demand, point-in-time recovery, its own KMS key. */
export class OnboardingTable extends pulumi.ComponentResource {
  readonly table: aws.dynamodb.Table;
  readonly key: aws.kms.Key;
  readonly name: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  readonly keyArn: pulumi.Output<string>;

  constructor(name: string, args: OnboardingTableArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("traced:aws:OnboardingTable", name, {}, opts);
    this.key = createCustomerManagedKey(
      `${name}-key`,
      { description: `Encrypts the ${name} DynamoDB table`, viaServices: ["dynamodb"] },
      this,
    );
    this.table = new aws.dynamodb.Table(
      name,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: ONBOARDING_TABLE_HASH_KEY,
        attributes: [{ name: ONBOARDING_TABLE_HASH_KEY, type: "S" }],
        pointInTimeRecovery: { enabled: true },
        serverSideEncryption: { enabled: true, kmsKeyArn: this.key.arn },
        deletionProtectionEnabled: args.deletionProtection ?? false,
      },
      { parent: this, protect: args.deletionProtection ?? false },
    );
    this.name = this.table.name;
    this.arn = this.table.arn;
    this.keyArn = this.key.arn;
    this.registerOutputs({ name: this.name, arn: this.arn, keyArn: this.keyArn });
  }

  /** What the consumer needs to record requests: write and read items of this table, with its key. */
  get recordStatements(): PolicyStatement[] {
    return [
      {
        sid: "RecordOnboarding",
        actions: ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem"],
        resources: [this.arn],
      },
      { sid: "UseOnboardingTableKey", actions: ["kms:Decrypt", "kms:GenerateDataKey"], resources: [this.keyArn] },
    ];
  }

  /** What the API needs for the status endpoint: read one item of this table, with its key. */
  get readStatements(): PolicyStatement[] {
    return [
      { sid: "ReadOnboarding", actions: ["dynamodb:GetItem"], resources: [this.arn] },
      { sid: "DecryptOnboardingTable", actions: ["kms:Decrypt"], resources: [this.keyArn] },
    ];
  }
}
