/**
 * Customer-managed KMS keys shared by the components. Every key has rotation on and a policy with three parts:
 * - the account may *administer* the key (no cryptographic actions), so the key can never be locked out;
 * - principals of this account whose IAM policy allows it may use the key, but only through the listed services
 *   (`kms:ViaService`, e.g. only via SQS for a queue key) — the components keep those IAM policies scoped to one key;
 * - listed AWS service principals that act without an IAM role (e.g. CloudWatch alarms publishing to an encrypted
 *   SNS topic) may encrypt with it for this account only.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { deploymentScope, policyDocument, type PolicyStatement } from "./iam";

/** Secure defaults for every customer-managed key. */
export const KEY_DEFAULTS = { enableKeyRotation: true, deletionWindowInDays: 30 } as const;

/** Key administration actions granted to the account (the AWS console's "key administrators" set). */
export const KEY_ADMIN_ACTIONS = [
  "kms:Create*",
  "kms:Describe*",
  "kms:Enable*",
  "kms:List*",
  "kms:Put*",
  "kms:Update*",
  "kms:Revoke*",
  "kms:Disable*",
  "kms:Get*",
  "kms:Delete*",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
  "kms:RotateKeyOnDemand",
] as const;

/** Options for {@link createCustomerManagedKey}. */
export interface CustomerManagedKeyArgs {
  /**
   * The key's description.
   * @example "Encrypts the onboarding queue"
   */
  readonly description: string;
  /**
   * Service principals (e.g. `cloudwatch.amazonaws.com`) allowed to use the key from this account.
   * @default none
   * @example ["cloudwatch.amazonaws.com"]
   */
  readonly servicePrincipals?: readonly string[];
  /**
   * Services (e.g. `sqs`) through which principals of this account may use the key (`kms:ViaService`).
   * @default none
   * @example ["sqs"]
   */
  readonly viaServices?: readonly string[];
}

/** Creates a customer-managed key whose policy lets the listed services use it. */
export function createCustomerManagedKey(
  name: string,
  args: CustomerManagedKeyArgs,
  parent: pulumi.Resource,
): aws.kms.Key {
  const { accountId, region, partition } = deploymentScope(parent);
  const statements: pulumi.Input<PolicyStatement>[] = [
    {
      sid: "AccountAdministers",
      actions: [...KEY_ADMIN_ACTIONS],
      resources: ["*"],
      principals: [{ type: "AWS", identifiers: [pulumi.interpolate`arn:${partition}:iam::${accountId}:root`] }],
    },
  ];
  if (args.viaServices && args.viaServices.length > 0) {
    statements.push({
      sid: "AccountUsesThroughServices",
      actions: ["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
      resources: ["*"],
      principals: [{ type: "AWS", identifiers: [pulumi.interpolate`arn:${partition}:iam::${accountId}:root`] }],
      conditions: [
        {
          test: "StringEquals",
          variable: "kms:ViaService",
          values: args.viaServices.map((s) => pulumi.interpolate`${s}.${region}.amazonaws.com`),
        },
        { test: "StringEquals", variable: "kms:CallerAccount", values: [accountId] },
      ],
    });
  }
  if (args.servicePrincipals && args.servicePrincipals.length > 0) {
    statements.push({
      sid: "ServicesUseKey",
      actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
      resources: ["*"],
      principals: [{ type: "Service", identifiers: [...args.servicePrincipals] }],
      conditions: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] }],
    });
  }
  const policy = policyDocument(statements, { parent });
  return new aws.kms.Key(name, { description: args.description, ...KEY_DEFAULTS, policy }, { parent });
}
