/**
 * OnboardingTable: the DynamoDB table the consumer records each onboarding request in, once per `request_id`
 * (lambda/src/store.ts). On demand, point-in-time recovery on, encrypted with its own customer-managed key (usable
 * only through DynamoDB), deletion protection in production, TTL on `expires_at` (the API's idempotency items expire;
 * the consumer's records have no such attribute and stay). Grants are statements scoped to a table and its key,
 * computed from a {@link TableRef} (this table or any other with the same keys): `tableRecordStatements` for the
 * consumer (PutItem, UpdateItem, GetItem), `tableApiStatements` for the API (GetItem, and PutItem/UpdateItem of its own
 * prefixed items only — contract/store-keys.ts).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PolicyStatement } from "./iam";
import { createCustomerManagedKey } from "./kms";
import {
  ACCEPTED_KEY_PREFIX,
  EXPIRES_AT_ATTRIBUTE,
  IDEMPOTENCY_KEY_PREFIX,
  TABLE_HASH_KEY,
} from "./contract/store-keys";

/**
 * A table as the compute components take it: an OnboardingTable, or any DynamoDB table keyed like it
 * (`ONBOARDING_TABLE_HASH_KEY`) and encrypted with a customer-managed key, by name, ARN and key ARN (plain data, so it
 * also crosses the provider boundary).
 */
export interface TableRef {
  /**
   * The table's name (the services get it as `ONBOARDING_TABLE_NAME`).
   * @example table.name
   */
  readonly name: pulumi.Input<string>;
  /**
   * The table's ARN (what the grants are scoped to).
   * @example table.arn
   */
  readonly arn: pulumi.Input<string>;
  /**
   * ARN of the KMS key the table is encrypted with (the services encrypt and decrypt items with it).
   * @example table.keyArn
   */
  readonly keyArn: pulumi.Input<string>;
}

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
        hashKey: TABLE_HASH_KEY,
        attributes: [{ name: TABLE_HASH_KEY, type: "S" }],
        ttl: { attributeName: EXPIRES_AT_ATTRIBUTE, enabled: true },
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

  /** See {@link tableRecordStatements}. */
  get recordStatements(): PolicyStatement[] {
    return tableRecordStatements(this);
  }

  /** See {@link tableApiStatements}. */
  get apiStatements(): PolicyStatement[] {
    return tableApiStatements(this);
  }
}

/** Using the table's key: both roles read and write encrypted items. */
function useTableKeyStatement(table: TableRef): PolicyStatement {
  return { sid: "UseOnboardingTableKey", actions: ["kms:Decrypt", "kms:GenerateDataKey"], resources: [table.keyArn] };
}

/** What the consumer needs to record requests: write and read items of `table`, with its key. */
export function tableRecordStatements(table: TableRef): PolicyStatement[] {
  return [
    {
      sid: "RecordOnboarding",
      actions: ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem"],
      resources: [table.arn],
    },
    useTableKeyStatement(table),
  ];
}

/**
 * What the API needs: read items (status, idempotency lookups), and write only its own items — those whose partition
 * key starts with `idempotency#` or `accepted#`. `dynamodb:LeadingKeys` is the partition key of the item a
 * PutItem/UpdateItem touches (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html),
 * so the API can never overwrite, or fake, a consumer's `processed` record (keyed by the bare request_id). A second
 * table would isolate the same items at the cost of another table, key and backup; the prefix keeps one of each.
 */
export function tableApiStatements(table: TableRef): PolicyStatement[] {
  return [
    { sid: "ReadOnboarding", actions: ["dynamodb:GetItem"], resources: [table.arn] },
    {
      sid: "RecordApiItems",
      actions: ["dynamodb:PutItem", "dynamodb:UpdateItem"],
      resources: [table.arn],
      conditions: [
        {
          test: "ForAllValues:StringLike",
          variable: "dynamodb:LeadingKeys",
          values: [`${IDEMPOTENCY_KEY_PREFIX}*`, `${ACCEPTED_KEY_PREFIX}*`],
        },
      ],
    },
    useTableKeyStatement(table),
  ];
}
