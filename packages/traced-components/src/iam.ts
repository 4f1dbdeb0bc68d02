/**
 * Small IAM helpers shared by the components: policies are always built from typed statements with
 * `aws.iam.getPolicyDocumentOutput`, never hand-written JSON.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** A typed IAM policy statement. */
export type PolicyStatement = aws.types.input.iam.GetPolicyDocumentStatementArgs;

/** Renders typed statements to policy JSON. */
export function policyDocument(
  statements: pulumi.Input<PolicyStatement>[],
  opts: pulumi.InvokeOutputOptions,
): pulumi.Output<string> {
  return aws.iam.getPolicyDocumentOutput({ statements }, opts).json;
}

/** Denies `actions` on `resources` to everyone when the request is not made over TLS. */
export function denyInsecureTransport(actions: string[], resources: pulumi.Input<string>[]): PolicyStatement {
  return {
    sid: "DenyInsecureTransport",
    effect: "Deny",
    actions,
    resources,
    principals: [{ type: "*", identifiers: ["*"] }],
    conditions: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
  };
}

/** Allows writing log events to `logGroups` (streams the service creates itself), nothing else in CloudWatch Logs. */
export function writeLogsStatement(logGroups: aws.cloudwatch.LogGroup[]): PolicyStatement {
  return {
    sid: "WriteOwnLogs",
    actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
    resources: logGroups.map((group) => pulumi.interpolate`${group.arn}:*`),
  };
}

/** Options for {@link createServiceRole}. */
export interface ServiceRoleArgs {
  /**
   * Service principal allowed to assume the role, e.g. `lambda.amazonaws.com`.
   * @example "lambda.amazonaws.com"
   */
  readonly service: string;
  /**
   * What the role may do; keep every statement scoped to one resource.
   * @example [{ actions: ["sqs:SendMessage"], resources: [queue.arn] }]
   */
  readonly statements: pulumi.Input<PolicyStatement>[];
  /**
   * Conditions on the trust policy (e.g. `aws:SourceAccount`) against the confused-deputy problem.
   * @default none
   * @example [{ test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] }]
   */
  readonly trustConditions?: aws.types.input.iam.GetPolicyDocumentStatementConditionArgs[];
  /**
   * The role's description.
   * @example "Runs the consumer function"
   */
  readonly description: string;
}

/** The deploying account, region and partition, for building ARNs of resources that do not exist yet. */
export function deploymentScope(parent: pulumi.Resource): {
  accountId: pulumi.Output<string>;
  region: pulumi.Output<string>;
  partition: pulumi.Output<string>;
} {
  return {
    accountId: aws.getCallerIdentityOutput({}, { parent }).accountId,
    region: aws.getRegionOutput({}, { parent }).region,
    partition: aws.getPartitionOutput({}, { parent }).partition,
  };
}

/**
 * Trust conditions against the confused-deputy problem: the service may assume the role only on behalf of this
 * account's resources (`aws:SourceAccount`).
 */
export function sameAccountTrust(
  parent: pulumi.Resource,
): aws.types.input.iam.GetPolicyDocumentStatementConditionArgs[] {
  const account = aws.getCallerIdentityOutput({}, { parent });
  return [{ test: "StringEquals", variable: "aws:SourceAccount", values: [account.accountId] }];
}

/** A role assumable by one AWS service, with one inline policy `<name>-policy`. */
export function createServiceRole(
  name: string,
  args: ServiceRoleArgs,
  parent: pulumi.Resource,
): { role: aws.iam.Role; policy: aws.iam.RolePolicy } {
  const role = new aws.iam.Role(
    name,
    {
      description: args.description,
      assumeRolePolicy: policyDocument(
        [
          {
            actions: ["sts:AssumeRole"],
            principals: [{ type: "Service", identifiers: [args.service] }],
            conditions: args.trustConditions,
          },
        ],
        { parent },
      ),
    },
    { parent },
  );
  const policy = new aws.iam.RolePolicy(
    `${name}-policy`,
    { role: role.name, policy: policyDocument(args.statements, { parent }) },
    { parent },
  );
  return { role, policy };
}
