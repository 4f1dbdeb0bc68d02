/**
 * IAM rules over every policy document in the stack: identity policies (role inline policies, role/user/group
 * policies, managed policies) and resource policies (trust policies, queue/topic/bucket/secret/key/repository
 * policies). Documents arrive as JSON strings or as typed `PolicyDocument` objects; both are normalised here.
 */
import { asArray, asString, get, isRecord, parseJson } from "./model";
import type { Props, ResourceRule } from "./model";

/** One statement, normalised: list-valued fields are always arrays. */
export interface Statement {
  readonly sid?: string;
  readonly effect: "Allow" | "Deny";
  readonly actions: string[];
  readonly notActions: string[];
  readonly resources: string[];
  readonly notResources: string[];
  /** `"*"` for `Principal: "*"`; otherwise `{ AWS: [...], Service: [...] }`. */
  readonly principal?: "*" | Record<string, string[]>;
  readonly hasCondition: boolean;
  /** `Condition` as written: operator → key → value(s). */
  readonly condition: Record<string, unknown>;
}

export type PolicyKind = "identity" | "resource" | "trust" | "key";

/** Where each type keeps its policy documents, and what kind they are. */
const DOCUMENT_FIELDS: Record<string, { field: string; kind: PolicyKind }[]> = {
  "aws:iam/role:Role": [
    { field: "assumeRolePolicy", kind: "trust" },
    { field: "inlinePolicies[].policy", kind: "identity" },
  ],
  "aws:iam/rolePolicy:RolePolicy": [{ field: "policy", kind: "identity" }],
  "aws:iam/policy:Policy": [{ field: "policy", kind: "identity" }],
  "aws:iam/userPolicy:UserPolicy": [{ field: "policy", kind: "identity" }],
  "aws:iam/groupPolicy:GroupPolicy": [{ field: "policy", kind: "identity" }],
  "aws:sqs/queue:Queue": [{ field: "policy", kind: "resource" }],
  "aws:sqs/queuePolicy:QueuePolicy": [{ field: "policy", kind: "resource" }],
  "aws:sns/topic:Topic": [{ field: "policy", kind: "resource" }],
  "aws:sns/topicPolicy:TopicPolicy": [{ field: "policy", kind: "resource" }],
  "aws:s3/bucket:Bucket": [{ field: "policy", kind: "resource" }],
  "aws:s3/bucketV2:BucketV2": [{ field: "policy", kind: "resource" }],
  "aws:s3/bucketPolicy:BucketPolicy": [{ field: "policy", kind: "resource" }],
  "aws:secretsmanager/secret:Secret": [{ field: "policy", kind: "resource" }],
  "aws:secretsmanager/secretPolicy:SecretPolicy": [{ field: "policy", kind: "resource" }],
  "aws:ecr/repositoryPolicy:RepositoryPolicy": [{ field: "policy", kind: "resource" }],
  "aws:kms/key:Key": [{ field: "policy", kind: "key" }],
  "aws:kms/keyPolicy:KeyPolicy": [{ field: "policy", kind: "key" }],
};

export const POLICY_DOCUMENT_TYPES: readonly string[] = Object.keys(DOCUMENT_FIELDS);

const strList = (value: unknown): string[] =>
  asArray(value)
    .map((v) => asString(v))
    .filter((v): v is string => v !== undefined);

function normalisePrincipal(value: unknown): Statement["principal"] {
  if (value === undefined || value === null) return undefined;
  if (value === "*") return "*";
  if (!isRecord(value)) return undefined;
  const out: Record<string, string[]> = {};
  for (const [type, ids] of Object.entries(value)) out[type] = strList(ids);
  return out;
}

/** Statements of one policy document (JSON string or object); an unparsable document yields none. */
export function statementsOf(document: unknown): Statement[] {
  const doc = parseJson(document);
  if (!isRecord(doc)) return [];
  return asArray(doc.Statement)
    .filter(isRecord)
    .map((s) => ({
      sid: asString(s.Sid),
      effect: s.Effect === "Deny" ? "Deny" : "Allow",
      actions: strList(s.Action),
      notActions: strList(s.NotAction),
      resources: strList(s.Resource),
      notResources: strList(s.NotResource),
      principal: normalisePrincipal(s.Principal),
      hasCondition: isRecord(s.Condition) && Object.keys(s.Condition).length > 0,
      condition: isRecord(s.Condition) ? s.Condition : {},
    }));
}

/** Every policy document a resource carries, with its kind and where it sits. */
export function documentsOf(
  type: string,
  props: Props,
): { where: string; kind: PolicyKind; statements: Statement[] }[] {
  const out: { where: string; kind: PolicyKind; statements: Statement[] }[] = [];
  for (const { field, kind } of DOCUMENT_FIELDS[type] ?? []) {
    if (field.endsWith("[].policy")) {
      const list = asArray(props[field.slice(0, -"[].policy".length)]).filter(isRecord);
      list.forEach((item, i) => {
        const where = `inlinePolicies[${i}]${asString(item.name) ? ` (${asString(item.name)})` : ""}`;
        out.push({ where, kind, statements: statementsOf(item.policy) });
      });
    } else if (props[field] !== undefined) {
      out.push({ where: field, kind, statements: statementsOf(props[field]) });
    }
  }
  return out;
}

const label = (s: Statement, i: number): string => (s.sid ? `statement "${s.sid}"` : `statement ${i + 1}`);

/** True when a principal block names everyone (`"*"` or `{"AWS": "*"}`). */
export function isPublicPrincipal(principal: Statement["principal"]): boolean {
  if (principal === undefined) return false;
  if (principal === "*") return true;
  return Object.values(principal).some((ids) => ids.includes("*"));
}

/** `*`, or `service:*` — an action wildcard that grants a whole service. */
export function isServiceWildcard(action: string): boolean {
  return action === "*" || /^[a-z0-9-]+:\*$/i.test(action);
}

/**
 * Actions that have no resource-level permissions, so IAM requires `Resource: "*"` for them. Anything else must name
 * its resource. Sources: the Service Authorization Reference entries for these actions (no resource types).
 */
export const RESOURCE_STAR_ACTIONS: ReadonlySet<string> = new Set(
  [
    "ecr:GetAuthorizationToken",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:GetSamplingStatisticSummaries",
    "cloudwatch:PutMetricData",
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
    "sts:GetCallerIdentity",
    // Lists the caller's buckets (no resource types in the Service Authorization Reference); a CloudWatch Synthetics
    // canary's role needs it (CloudWatch User Guide, "Required roles and permissions for canaries").
    "s3:ListAllMyBuckets",
  ].map((a) => a.toLowerCase()),
);

/**
 * One message per statement of a resource's policy documents that `problem` finds fault with. `problem` gets the
 * statement, where it sits (`policy statement "Sid"`), and the kind of document it belongs to.
 */
function statementProblems(
  type: string,
  props: Props,
  problem: (s: Statement, where: string, kind: PolicyKind) => string[],
): string[] {
  return documentsOf(type, props).flatMap((doc) =>
    doc.statements.flatMap((s, i) => problem(s, `${doc.where} ${label(s, i)}`, doc.kind)),
  );
}

const quoted = (actions: readonly string[]): string => actions.map((a) => `"${a}"`).join(", ");

/**
 * AWS's default key policy statement: `kms:*` for the account root only, which delegates the key's use to IAM (where
 * the identity policies, checked here, must stay scoped). Any other principal with a KMS wildcard is a finding.
 */
export function isAccountRootKeyStatement(s: Statement): boolean {
  if (s.principal === undefined || s.principal === "*") return false;
  const entries = Object.entries(s.principal);
  const root = /^(arn:aws[a-z-]*:iam::\d{12}:root|\d{12})$/;
  return (
    entries.length === 1 &&
    entries[0]![0] === "AWS" &&
    entries[0]![1].length > 0 &&
    entries[0]![1].every((id) => root.test(id)) &&
    s.actions.every((a) => /^kms:\*$/i.test(a))
  );
}

export const noPublicPrincipal: ResourceRule = {
  kind: "resource",
  id: "no-public-principal",
  description: 'No policy allows Principal "*" without a Condition.',
  severity: "critical",
  category: "security",
  checkov: ["CKV_AWS_168", "CKV_AWS_169", "CKV_AWS_70", "CKV_AWS_33", "CKV_AWS_60"],
  fsbp: ["SQS.3"],
  types: POLICY_DOCUMENT_TYPES,
  check(type, props) {
    return statementProblems(type, props, (s, where) =>
      s.effect === "Allow" && isPublicPrincipal(s.principal) && !s.hasCondition
        ? [
            `${where} allows Principal "*" with no Condition; name the principal or add a condition such as ` +
              "aws:SourceArn / aws:SourceAccount.",
          ]
        : [],
    );
  },
};

export const noWildcardActions: ResourceRule = {
  kind: "resource",
  id: "iam-no-wildcard-actions",
  description:
    'No Allow statement grants Action "*" or "service:*" (or uses NotAction); only a KMS key policy\'s account-root "kms:*" (AWS\'s default) is kept.',
  severity: "high",
  category: "security",
  checkov: ["CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_72"],
  fsbp: ["IAM.1", "IAM.21"],
  types: POLICY_DOCUMENT_TYPES,
  check(type, props) {
    return statementProblems(type, props, (s, where, kind) => {
      if (s.effect !== "Allow" || (kind === "key" && isAccountRootKeyStatement(s))) return [];
      const problems: string[] = [];
      const wild = s.actions.filter(isServiceWildcard);
      if (wild.length > 0) problems.push(`${where} allows ${quoted(wild)}; list the exact actions.`);
      if (s.notActions.length > 0) {
        problems.push(`${where} allows NotAction (everything but a list); list the exact actions.`);
      }
      return problems;
    });
  },
};

export const resourceStarOnlyWhereRequired: ResourceRule = {
  kind: "resource",
  id: "iam-resource-star-only-where-required",
  description: 'Identity policies use Resource "*" only for actions that have no resource-level permissions.',
  severity: "high",
  category: "security",
  checkov: ["CKV_AWS_355", "CKV_AWS_290"],
  types: POLICY_DOCUMENT_TYPES,
  check(type, props) {
    return statementProblems(type, props, (s, where, kind) => {
      if (kind !== "identity" || s.effect !== "Allow") return [];
      if (!s.resources.includes("*") && s.notResources.length === 0) return [];
      const scopable = [...s.actions, ...s.notActions].filter((a) => !RESOURCE_STAR_ACTIONS.has(a.toLowerCase()));
      if (scopable.length === 0 && s.notResources.length === 0) return [];
      return [
        `${where} grants ${quoted(scopable) || "actions"} on Resource "*"` +
          `${s.notResources.length > 0 ? " (via NotResource)" : ""}; scope it to the ARNs it needs.`,
      ];
    });
  },
};

/** True when some statement denies every SQS request made without TLS (`aws:SecureTransport` = false). */
export function deniesInsecureTransport(statements: readonly Statement[]): boolean {
  return statements.some((s) => {
    if (s.effect !== "Deny" || !isPublicPrincipal(s.principal)) return false;
    if (!s.actions.some((a) => a === "*" || /^sqs:\*$/i.test(a))) return false;
    return asArray(get(s.condition, "Bool.aws:SecureTransport")).some((v) => v === "false" || v === false);
  });
}

/** Where roles get managed policies attached: type → the input(s) holding policy ARNs. */
const MANAGED_POLICY_FIELDS: Record<string, string> = {
  "aws:iam/role:Role": "managedPolicyArns",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
  "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
  "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "policyArns",
};

export const noAwsManagedPolicies: ResourceRule = {
  kind: "resource",
  id: "iam-no-aws-managed-policies",
  description:
    'Roles get no AWS-managed policies (they grant broad actions on Resource "*"); permissions come from scoped inline policies.',
  severity: "medium",
  category: "security",
  types: Object.keys(MANAGED_POLICY_FIELDS),
  check(type, props) {
    const field = MANAGED_POLICY_FIELDS[type] ?? "";
    return strList(props[field])
      .filter((arn) => /^arn:aws[a-z-]*:iam::aws:policy\//.test(arn))
      .map(
        (arn) =>
          `${field} attaches the AWS-managed policy ${arn}, which is not scoped to this stack's resources; ` +
          "grant the exact actions on the exact ARNs in an inline policy.",
      );
  },
};

export const iamRules: readonly ResourceRule[] = [
  noPublicPrincipal,
  noWildcardActions,
  resourceStarOnlyWhereRequired,
  noAwsManagedPolicies,
];
