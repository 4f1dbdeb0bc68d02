/** Storage, registry, load-balancer and logging rules. */
import {
  asArray,
  asNumber,
  asRecord,
  asString,
  findReferenced,
  isRecord,
  isUnknown,
  ofType,
  unlessTrue,
  unresolvedReference,
} from "./model";
import type { ResourceRule, StackResource, StackRule, Violation } from "./model";
import {
  BUCKET_TYPES,
  FUNCTION,
  LOAD_BALANCER_TYPES,
  LOG_GROUP,
  PUBLIC_ACCESS_BLOCK,
  REPOSITORY,
  SSE_CONFIG_TYPES,
  TASK_DEFINITION,
} from "./types";
import { containerName, containersOf } from "./ecs";

/** Resources of `types` whose `bucket` input points at `bucket`. */
function attachedTo(
  bucket: StackResource,
  resources: readonly StackResource[],
  types: readonly string[],
): StackResource[] {
  return resources.filter((r) => types.includes(r.type) && findReferenced([bucket], r.props.bucket) !== undefined);
}

const KMS_ALGORITHMS = ["aws:kms", "aws:kms:dsse"];

export const s3EncryptedWithKms: StackRule = {
  kind: "stack",
  id: "s3-bucket-encrypted-with-kms",
  description: "Every S3 bucket has default encryption with SSE-KMS.",
  severity: "high",
  category: "security",
  checkov: ["CKV_AWS_145", "CKV_AWS_19"],
  check(resources) {
    const out: Violation[] = [];
    if (unresolvedReference(resources, SSE_CONFIG_TYPES, "bucket")) return out; // preview: cannot match yet
    for (const bucket of ofType(resources, ...BUCKET_TYPES)) {
      const configs = [
        bucket.props.serverSideEncryptionConfiguration,
        ...attachedTo(bucket, resources, SSE_CONFIG_TYPES).map((c) => c.props),
      ].filter(isRecord);
      const rules = configs.flatMap((c) => asArray(c.rules ?? c.rule)).filter(isRecord);
      const algorithms = rules.map((r) => asRecord(r.applyServerSideEncryptionByDefault).sseAlgorithm);
      if (algorithms.some(isUnknown)) continue;
      if (!algorithms.some((a) => KMS_ALGORITHMS.includes(String(a)))) {
        out.push({
          urn: bucket.urn,
          message:
            algorithms.length === 0
              ? "has no server-side encryption configuration; add a BucketServerSideEncryptionConfiguration with sseAlgorithm aws:kms."
              : `default encryption is ${algorithms.map(String).join(", ")}; use sseAlgorithm aws:kms with a customer-managed key.`,
        });
      }
    }
    return out;
  },
};

const BLOCK_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

export const s3PublicAccessBlocked: StackRule = {
  kind: "stack",
  id: "s3-bucket-public-access-blocked",
  description: "Every S3 bucket has a public access block with all four settings true.",
  severity: "high",
  category: "security",
  checkov: ["CKV2_AWS_6", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"],
  fsbp: ["S3.8"],
  check(resources) {
    const out: Violation[] = [];
    if (unresolvedReference(resources, [PUBLIC_ACCESS_BLOCK], "bucket")) return out; // preview: cannot match yet
    for (const bucket of ofType(resources, ...BUCKET_TYPES)) {
      const blocks = attachedTo(bucket, resources, [PUBLIC_ACCESS_BLOCK]);
      if (blocks.length === 0) {
        out.push({ urn: bucket.urn, message: "has no BucketPublicAccessBlock; add one with all four settings true." });
        continue;
      }
      const off = BLOCK_FLAGS.filter((flag) => !blocks.some((b) => b.props[flag] === true || isUnknown(b.props[flag])));
      if (off.length > 0)
        out.push({
          urn: bucket.urn,
          message: `public access block leaves ${off.join(", ")} off; set all four to true.`,
        });
    }
    return out;
  },
};

export const ecrScanOnPush: ResourceRule = {
  kind: "resource",
  id: "ecr-scan-on-push",
  description: "ECR repositories scan images on push.",
  severity: "medium",
  category: "security",
  checkov: ["CKV_AWS_163"],
  fsbp: ["ECR.1"],
  types: [REPOSITORY],
  check(_type, props) {
    return unlessTrue(
      props,
      "imageScanningConfiguration.scanOnPush",
      "imageScanningConfiguration.scanOnPush is not true; enable it.",
    );
  },
};

export const albDropsInvalidHeaders: ResourceRule = {
  kind: "resource",
  id: "alb-drops-invalid-headers",
  description: "Application load balancers drop invalid HTTP header fields.",
  severity: "medium",
  category: "security",
  checkov: ["CKV_AWS_131"],
  fsbp: ["ELB.4"],
  types: LOAD_BALANCER_TYPES,
  check(_type, props) {
    if ((asString(props.loadBalancerType) ?? "application") !== "application") return [];
    return unlessTrue(
      props,
      "dropInvalidHeaderFields",
      "dropInvalidHeaderFields is not true; set it to drop invalid header fields.",
    );
  },
};

export const logGroupRetention: ResourceRule = {
  kind: "resource",
  id: "log-group-retention",
  description: "Every CloudWatch log group sets a retention period.",
  severity: "medium",
  category: "security",
  checkov: ["CKV_AWS_66"],
  types: [LOG_GROUP],
  check(_type, props) {
    if (isUnknown(props.retentionInDays)) return [];
    const days = asNumber(props.retentionInDays);
    return days !== undefined && days > 0
      ? []
      : ["retentionInDays is not set (logs kept forever); set a retention period."];
  },
};

/** Where a resource's logs go, when it names a log group the service would otherwise create implicitly. */
function logDestinations(resource: StackResource): { group: unknown; who: string }[] {
  if (resource.type === FUNCTION) {
    const configured = asRecord(resource.props.loggingConfig).logGroup;
    const name = asString(resource.props.name); // Lambda's implicit group is /aws/lambda/<function name>
    const group = configured ?? (name ? `/aws/lambda/${name}` : undefined);
    return group === undefined ? [] : [{ group, who: "" }];
  }
  return containersOf(resource.props)
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => asRecord(c.logConfiguration).logDriver === "awslogs")
    .map(({ c, i }) => ({
      group: asRecord(asRecord(c.logConfiguration).options)["awslogs-group"],
      who: `container "${containerName(c, i)}" `,
    }));
}

export const logGroupsManaged: StackRule = {
  kind: "stack",
  id: "log-groups-managed",
  description:
    "Lambda functions and awslogs containers log to log groups this stack creates (so their retention applies), never to an implicit one.",
  severity: "medium",
  category: "security",
  check(resources) {
    const groups = ofType(resources, LOG_GROUP);
    const out: Violation[] = [];
    if (unresolvedReference(resources, [LOG_GROUP], "name")) return out; // preview: auto-named groups not known yet
    for (const resource of ofType(resources, FUNCTION, TASK_DEFINITION)) {
      for (const { group, who } of logDestinations(resource)) {
        if (isUnknown(group)) continue;
        if (!findReferenced(groups, group)) {
          out.push({
            urn: resource.urn,
            message: `${who}logs to ${String(group)}, which this stack does not create (it would be created without retention); create that log group with retention and log to it.`,
          });
        }
      }
    }
    return out;
  },
};

export const platformRules = [
  s3EncryptedWithKms,
  s3PublicAccessBlocked,
  ecrScanOnPush,
  albDropsInvalidHeaders,
  logGroupRetention,
  logGroupsManaged,
] as const;
