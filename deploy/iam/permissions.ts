/**
 * What the identity running `pulumi up` (deployer) and the one running `pulumi preview` (previewer) may do: one entry
 * per Pulumi type token the stack registers and per data source it invokes. deploy/iam/generate.ts renders
 * deployer-policy.json and previewer-policy.json from here; test/deploy/iam-policies.test.ts runs the stack (dev,
 * and production-like with every option) and fails when a registered type or invoked token has no entry, when the
 * JSON files are stale, or when a resource's ARN falls outside its entry's scope.
 *
 * Actions are what the providers call (terraform-provider-aws, which pulumi-aws bridges: create, read back, update,
 * tag, delete); `read` is what a refresh or `pulumi preview --refresh` reads. Resources are scoped to the names the
 * stack gives (Pulumi auto-names `<logical name>-<7 hex>`, so a prefix of the logical names) where the service has
 * resource-level permissions; `unscoped` says why not elsewhere (the README of this directory lists them). Account
 * and region are `*`: replace them with yours to tighten further. Only the `aws` partition is covered.
 */

/** A resource as the stack run records it: enough to compute its ARN. */
export interface RecordedForArn {
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  readonly state: Record<string, unknown>;
}

export interface Permission {
  /** Actions `pulumi up`/`destroy` need for this type, beyond `read`. */
  readonly deploy: readonly string[];
  /** Read-only actions (refresh, preview --refresh, and `up` reading back what it wrote). */
  readonly read: readonly string[];
  /** Policy `Resource` patterns for both lists; `["*"]` only with `unscoped`. */
  readonly resources: readonly string[];
  /** Why `resources` is `*` (no resource-level permissions, or ids chosen by AWS). */
  readonly unscoped?: string;
  /** The ARN AWS gives the recorded resource (`name` already made realistic), for the scope test. */
  readonly arn?: (r: RecordedForArn) => string;
}

/** The components that create IAM roles: the deployer may create, change and pass only roles named so. */
const ROLE_PREFIXES = ["onboarding", "metrics"] as const;

const A = "*"; // account
const R = "*"; // region
const named = (service: string, kind: string, prefixes: readonly string[] = ["onboarding"]) =>
  prefixes.map((p) => `arn:aws:${service}:${R}:${A}:${kind}${p}*`);
const TAGGING = (service: string) => [`${service}:TagResource`, `${service}:UntagResource`];

/** Synthetics creates the canary's Lambda function and layer `cwsyn-<canary name>-…` with the caller's rights. */
const CANARY_LAMBDA = [
  `arn:aws:lambda:${R}:${A}:function:cwsyn-onboarding*`,
  `arn:aws:lambda:${R}:${A}:layer:cwsyn-onboarding*`,
  `arn:aws:lambda:${R}:${A}:layer:Synthetics*`,
];

/** The stack's buckets (packages/traced-components/src/private-bucket.ts). */
const BUCKETS = ["metrics", "onboarding"].map((p) => `arn:aws:s3:::${p}*`);

/** A bucket sub-configuration (`s3:Put<what>`/`s3:Get<what>`), the resource `<bucket>-<suffix>` of private-bucket.ts. */
function bucketPart(what: string, suffix: string): Permission {
  return {
    deploy: [`s3:Put${what}`],
    read: [`s3:Get${what}`],
    resources: BUCKETS,
    arn: (r) => `arn:aws:s3:::${r.name.slice(0, -suffix.length)}-0a1b2c3`,
  };
}

export const RESOURCE_PERMISSIONS: Readonly<Record<string, Permission>> = {
  "awsx:ec2:Vpc": {
    // The awsx component creates these aws:ec2 children (VPC, subnets, route tables and routes, internet and NAT
    // gateways, Elastic IPs); under mocks it is one resource, so its children's actions are listed here.
    deploy: [
      "ec2:CreateVpc",
      "ec2:DeleteVpc",
      "ec2:ModifyVpcAttribute",
      "ec2:CreateSubnet",
      "ec2:DeleteSubnet",
      "ec2:ModifySubnetAttribute",
      "ec2:CreateRouteTable",
      "ec2:DeleteRouteTable",
      "ec2:AssociateRouteTable",
      "ec2:DisassociateRouteTable",
      "ec2:CreateRoute",
      "ec2:DeleteRoute",
      "ec2:CreateInternetGateway",
      "ec2:DeleteInternetGateway",
      "ec2:AttachInternetGateway",
      "ec2:DetachInternetGateway",
      "ec2:AllocateAddress",
      "ec2:ReleaseAddress",
      "ec2:DisassociateAddress",
      "ec2:CreateNatGateway",
      "ec2:DeleteNatGateway",
      "ec2:CreateTags",
      "ec2:DeleteTags",
    ],
    read: [
      "ec2:DescribeVpcs",
      "ec2:DescribeVpcAttribute",
      "ec2:DescribeSubnets",
      "ec2:DescribeRouteTables",
      "ec2:DescribeInternetGateways",
      "ec2:DescribeAddresses",
      "ec2:DescribeAddressesAttribute",
      "ec2:DescribeNatGateways",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeNetworkAcls",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeAvailabilityZones",
    ],
    resources: ["*"],
    unscoped: "EC2 ids are chosen by AWS and Create*/Describe* need Resource * (or tag conditions not used here)",
  },
  "aws:ec2/securityGroup:SecurityGroup": {
    deploy: [
      "ec2:CreateSecurityGroup",
      "ec2:DeleteSecurityGroup",
      "ec2:RevokeSecurityGroupEgress",
      "ec2:RevokeSecurityGroupIngress",
      "ec2:CreateTags",
    ],
    read: ["ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules", "ec2:DescribeNetworkInterfaces"],
    resources: ["*"],
    unscoped: "security group ids are chosen by AWS",
  },
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {
    deploy: [
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:RevokeSecurityGroupIngress",
      "ec2:ModifySecurityGroupRules",
      "ec2:CreateTags",
    ],
    read: ["ec2:DescribeSecurityGroupRules"],
    resources: ["*"],
    unscoped: "security group rule ids are chosen by AWS",
  },
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": {
    deploy: [
      "ec2:AuthorizeSecurityGroupEgress",
      "ec2:RevokeSecurityGroupEgress",
      "ec2:ModifySecurityGroupRules",
      "ec2:CreateTags",
    ],
    read: ["ec2:DescribeSecurityGroupRules"],
    resources: ["*"],
    unscoped: "security group rule ids are chosen by AWS",
  },
  "aws:lb/loadBalancer:LoadBalancer": {
    deploy: [
      "elasticloadbalancing:CreateLoadBalancer",
      "elasticloadbalancing:DeleteLoadBalancer",
      "elasticloadbalancing:ModifyLoadBalancerAttributes",
      "elasticloadbalancing:SetSecurityGroups",
      "elasticloadbalancing:SetSubnets",
      "elasticloadbalancing:AddTags",
      "elasticloadbalancing:RemoveTags",
    ],
    read: [
      "elasticloadbalancing:DescribeLoadBalancers",
      "elasticloadbalancing:DescribeLoadBalancerAttributes",
      "elasticloadbalancing:DescribeTags",
    ],
    resources: [`arn:aws:elasticloadbalancing:${R}:${A}:loadbalancer/app/onboarding*`],
    arn: (r) => `arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/${r.name}/0123456789abcdef`,
  },
  "aws:lb/targetGroup:TargetGroup": {
    deploy: [
      "elasticloadbalancing:CreateTargetGroup",
      "elasticloadbalancing:DeleteTargetGroup",
      "elasticloadbalancing:ModifyTargetGroup",
      "elasticloadbalancing:ModifyTargetGroupAttributes",
      "elasticloadbalancing:AddTags",
      "elasticloadbalancing:RemoveTags",
    ],
    read: [
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeTargetGroupAttributes",
      "elasticloadbalancing:DescribeTags",
    ],
    resources: [`arn:aws:elasticloadbalancing:${R}:${A}:targetgroup/onboarding*`],
    arn: (r) => `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/${r.name}/0123456789abcdef`,
  },
  "aws:lb/listener:Listener": {
    deploy: [
      "elasticloadbalancing:CreateListener",
      "elasticloadbalancing:DeleteListener",
      "elasticloadbalancing:ModifyListener",
      "elasticloadbalancing:ModifyListenerAttributes",
      "elasticloadbalancing:AddTags",
      "elasticloadbalancing:RemoveTags",
    ],
    read: [
      "elasticloadbalancing:DescribeListeners",
      "elasticloadbalancing:DescribeListenerAttributes",
      "elasticloadbalancing:DescribeListenerCertificates",
      "elasticloadbalancing:DescribeTags",
    ],
    // CreateListener is authorised on the load balancer, the listener's ARN carries the load balancer's name.
    resources: [
      `arn:aws:elasticloadbalancing:${R}:${A}:loadbalancer/app/onboarding*`,
      `arn:aws:elasticloadbalancing:${R}:${A}:listener/app/onboarding*`,
    ],
    arn: (r) =>
      `arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/${String(r.inputs.loadBalancerArn).split(":").pop()}/0123456789abcdef/fedcba9876543210`,
  },
  "aws:ecs/cluster:Cluster": {
    deploy: [
      "ecs:CreateCluster",
      "ecs:DeleteCluster",
      "ecs:UpdateCluster",
      "ecs:UpdateClusterSettings",
      ...TAGGING("ecs"),
    ],
    read: ["ecs:DescribeClusters", "ecs:ListTagsForResource"],
    resources: named("ecs", "cluster/"),
    arn: (r) => `arn:aws:ecs:eu-west-1:123456789012:cluster/${r.name}`,
  },
  "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": {
    deploy: ["ecs:PutClusterCapacityProviders"],
    read: ["ecs:DescribeClusters"],
    resources: named("ecs", "cluster/"),
    arn: (r) => `arn:aws:ecs:eu-west-1:123456789012:cluster/${r.inputs.clusterName}`,
  },
  "aws:ecs/taskDefinition:TaskDefinition": {
    deploy: [
      "ecs:RegisterTaskDefinition",
      "ecs:DeregisterTaskDefinition",
      "ecs:DeleteTaskDefinitions",
      "ecs:TagResource",
    ],
    read: ["ecs:DescribeTaskDefinition", "ecs:ListTagsForResource"],
    resources: ["*"],
    unscoped: "RegisterTaskDefinition and DescribeTaskDefinition have no resource-level permissions",
  },
  "aws:ecs/service:Service": {
    deploy: ["ecs:CreateService", "ecs:UpdateService", "ecs:DeleteService", ...TAGGING("ecs")],
    read: ["ecs:DescribeServices", "ecs:ListTagsForResource"],
    resources: named("ecs", "service/"),
    arn: (r) => `arn:aws:ecs:eu-west-1:123456789012:service/onboarding-api-cluster-0a1b2c3/${r.name}`,
  },
  "aws:iam/role:Role": {
    deploy: [
      "iam:CreateRole",
      "iam:DeleteRole",
      "iam:UpdateRole",
      "iam:UpdateRoleDescription",
      "iam:UpdateAssumeRolePolicy",
      "iam:TagRole",
      "iam:UntagRole",
      // The roles are handed to ECS, Lambda, Firehose, CloudWatch and Synthetics (see the condition in generate.ts).
      "iam:PassRole",
    ],
    read: ["iam:GetRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole"],
    resources: ROLE_PREFIXES.map((p) => `arn:aws:iam::${A}:role/${p}*`),
    arn: (r) => `arn:aws:iam::123456789012:role/${r.name}`,
  },
  "aws:iam/rolePolicy:RolePolicy": {
    deploy: ["iam:PutRolePolicy", "iam:DeleteRolePolicy"],
    read: ["iam:GetRolePolicy"],
    resources: ROLE_PREFIXES.map((p) => `arn:aws:iam::${A}:role/${p}*`),
    arn: (r) => `arn:aws:iam::123456789012:role/${r.inputs.role}`,
  },
  "aws:kms/key:Key": {
    deploy: [
      "kms:CreateKey",
      "kms:PutKeyPolicy",
      "kms:EnableKeyRotation",
      "kms:UpdateKeyDescription",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      // docker-build and S3 objects encrypted with the stack's keys: the deployer uploads the canary code.
      "kms:GenerateDataKey",
      "kms:Decrypt",
    ],
    read: ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
    resources: ["*"],
    unscoped: "key ids are chosen by AWS and CreateKey has no resource; each key's policy still limits its use",
  },
  "aws:dynamodb/table:Table": {
    deploy: [
      "dynamodb:CreateTable",
      "dynamodb:DeleteTable",
      "dynamodb:UpdateTable",
      "dynamodb:UpdateContinuousBackups",
      "dynamodb:UpdateTimeToLive",
      ...TAGGING("dynamodb"),
    ],
    read: [
      "dynamodb:DescribeTable",
      "dynamodb:DescribeContinuousBackups",
      "dynamodb:DescribeTimeToLive",
      "dynamodb:ListTagsOfResource",
    ],
    resources: named("dynamodb", "table/"),
    arn: (r) => `arn:aws:dynamodb:eu-west-1:123456789012:table/${r.name}`,
  },
  "aws:sqs/queue:Queue": {
    deploy: ["sqs:CreateQueue", "sqs:DeleteQueue", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue"],
    read: ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"],
    resources: named("sqs", ""),
    arn: (r) => `arn:aws:sqs:eu-west-1:123456789012:${r.name}`,
  },
  "aws:sqs/queuePolicy:QueuePolicy": {
    deploy: ["sqs:SetQueueAttributes"],
    read: ["sqs:GetQueueAttributes"],
    resources: named("sqs", ""),
    arn: (r) => `arn:aws:sqs:eu-west-1:123456789012:${String(r.inputs.queueUrl).split("/").pop()}`,
  },
  "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": {
    deploy: ["sqs:SetQueueAttributes"],
    read: ["sqs:GetQueueAttributes"],
    resources: named("sqs", ""),
    arn: (r) => `arn:aws:sqs:eu-west-1:123456789012:${String(r.inputs.queueUrl).split("/").pop()}`,
  },
  "aws:secretsmanager/secret:Secret": {
    deploy: [
      "secretsmanager:CreateSecret",
      "secretsmanager:DeleteSecret",
      "secretsmanager:UpdateSecret",
      "secretsmanager:PutResourcePolicy",
      "secretsmanager:DeleteResourcePolicy",
      ...TAGGING("secretsmanager"),
    ],
    read: ["secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy"],
    resources: named("secretsmanager", "secret:", ["coralogix-key"]),
    arn: (r) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${r.name}-AbCdEf`,
  },
  "aws:secretsmanager/secretVersion:SecretVersion": {
    // Reading the version back is GetSecretValue: the deployer sees the key it wrote; the previewer does not.
    deploy: [
      "secretsmanager:PutSecretValue",
      "secretsmanager:UpdateSecretVersionStage",
      "secretsmanager:GetSecretValue",
    ],
    read: ["secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds"],
    resources: named("secretsmanager", "secret:", ["coralogix-key"]),
    arn: () => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:coralogix-key-0a1b2c3-AbCdEf`,
  },
  "aws:sns/topic:Topic": {
    deploy: ["sns:CreateTopic", "sns:DeleteTopic", "sns:SetTopicAttributes", ...TAGGING("sns")],
    read: ["sns:GetTopicAttributes", "sns:ListTagsForResource"],
    resources: named("sns", "", ["alarms"]),
    arn: (r) => `arn:aws:sns:eu-west-1:123456789012:${r.name}`,
  },
  "aws:sns/topicPolicy:TopicPolicy": {
    deploy: ["sns:SetTopicAttributes"],
    read: ["sns:GetTopicAttributes"],
    resources: named("sns", "", ["alarms"]),
    arn: () => `arn:aws:sns:eu-west-1:123456789012:alarms-0a1b2c3`,
  },
  "aws:sns/topicSubscription:TopicSubscription": {
    deploy: ["sns:Subscribe", "sns:Unsubscribe", "sns:SetSubscriptionAttributes"],
    read: ["sns:GetSubscriptionAttributes", "sns:ListSubscriptionsByTopic"],
    resources: named("sns", "", ["alarms"]),
    arn: () => `arn:aws:sns:eu-west-1:123456789012:alarms-0a1b2c3:0f1e2d3c-aaaa-bbbb-cccc-1234567890ab`,
  },
  "aws:cloudwatch/logGroup:LogGroup": {
    deploy: [
      "logs:CreateLogGroup",
      "logs:DeleteLogGroup",
      "logs:PutRetentionPolicy",
      "logs:DeleteRetentionPolicy",
      "logs:TagResource",
      "logs:UntagResource",
    ],
    read: ["logs:DescribeLogGroups", "logs:ListTagsForResource"],
    resources: named("logs", "log-group:", ["onboarding", "metrics"]),
    arn: (r) => `arn:aws:logs:eu-west-1:123456789012:log-group:${r.name}`,
  },
  "aws:cloudwatch/logStream:LogStream": {
    deploy: ["logs:CreateLogStream", "logs:DeleteLogStream"],
    read: ["logs:DescribeLogStreams"],
    resources: named("logs", "log-group:", ["metrics"]),
    arn: (r) => `arn:aws:logs:eu-west-1:123456789012:log-group:${r.inputs.logGroupName}:log-stream:${r.name}`,
  },
  "aws:cloudwatch/metricAlarm:MetricAlarm": {
    deploy: ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", ...TAGGING("cloudwatch")],
    read: ["cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"],
    resources: named("cloudwatch", "alarm:"),
    arn: (r) => `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${r.name}`,
  },
  "aws:cloudwatch/dashboard:Dashboard": {
    deploy: ["cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards"],
    read: ["cloudwatch:GetDashboard"],
    resources: [`arn:aws:cloudwatch::${A}:dashboard/onboarding*`],
    arn: (r) => `arn:aws:cloudwatch::123456789012:dashboard/${r.inputs.dashboardName}`,
  },
  "aws:cloudwatch/metricStream:MetricStream": {
    deploy: ["cloudwatch:PutMetricStream", "cloudwatch:DeleteMetricStream", ...TAGGING("cloudwatch")],
    read: ["cloudwatch:GetMetricStream", "cloudwatch:ListTagsForResource"],
    resources: named("cloudwatch", "metric-stream/", ["metrics"]),
    arn: (r) => `arn:aws:cloudwatch:eu-west-1:123456789012:metric-stream/${r.name}`,
  },
  "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": {
    deploy: [
      "firehose:CreateDeliveryStream",
      "firehose:DeleteDeliveryStream",
      "firehose:UpdateDestination",
      "firehose:StartDeliveryStreamEncryption",
      "firehose:StopDeliveryStreamEncryption",
      "firehose:TagDeliveryStream",
      "firehose:UntagDeliveryStream",
    ],
    read: ["firehose:DescribeDeliveryStream", "firehose:ListTagsForDeliveryStream"],
    resources: named("firehose", "deliverystream/", ["metrics"]),
    arn: (r) => `arn:aws:firehose:eu-west-1:123456789012:deliverystream/${r.name}`,
  },
  "aws:s3/bucket:Bucket": {
    deploy: [
      "s3:CreateBucket",
      "s3:DeleteBucket",
      "s3:PutBucketTagging",
      // forceDestroy empties the bucket before deleting it.
      "s3:ListBucketVersions",
      "s3:DeleteObject",
      "s3:DeleteObjectVersion",
    ],
    // What the provider reads back for a bucket: every sub-configuration it reports.
    read: [
      "s3:ListBucket",
      "s3:GetBucketTagging",
      "s3:GetBucketLocation",
      "s3:GetBucketPolicy",
      "s3:GetBucketAcl",
      "s3:GetBucketCORS",
      "s3:GetBucketWebsite",
      "s3:GetBucketVersioning",
      "s3:GetAccelerateConfiguration",
      "s3:GetBucketRequestPayment",
      "s3:GetBucketLogging",
      "s3:GetLifecycleConfiguration",
      "s3:GetReplicationConfiguration",
      "s3:GetEncryptionConfiguration",
      "s3:GetBucketObjectLockConfiguration",
      "s3:GetBucketOwnershipControls",
    ],
    resources: BUCKETS,
    arn: (r) => `arn:aws:s3:::${r.name}`,
  },
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": bucketPart("BucketPublicAccessBlock", "-private"),
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": bucketPart(
    "EncryptionConfiguration",
    "-encryption",
  ),
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": bucketPart(
    "LifecycleConfiguration",
    "-lifecycle",
  ),
  "aws:s3/bucketPolicy:BucketPolicy": {
    ...bucketPart("BucketPolicy", "-tls-only"),
    deploy: ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"],
  },
  "aws:s3/bucketObjectv2:BucketObjectv2": {
    deploy: ["s3:PutObject", "s3:DeleteObject", "s3:PutObjectTagging"],
    read: ["s3:GetObject", "s3:GetObjectTagging"],
    resources: [`arn:aws:s3:::onboarding*/*`],
    arn: (r) => `arn:aws:s3:::onboarding-canary-artifacts-0a1b2c3/${r.inputs.key}`,
  },
  "aws:ecr/repository:Repository": {
    deploy: [
      "ecr:CreateRepository",
      "ecr:DeleteRepository",
      "ecr:PutImageScanningConfiguration",
      "ecr:PutImageTagMutability",
      "ecr:BatchDeleteImage",
      ...TAGGING("ecr"),
    ],
    read: ["ecr:DescribeRepositories", "ecr:ListTagsForResource", "ecr:ListImages", "ecr:DescribeImages"],
    resources: named("ecr", "repository/"),
    arn: (r) => `arn:aws:ecr:eu-west-1:123456789012:repository/${r.name}`,
  },
  "aws:ecr/repositoryPolicy:RepositoryPolicy": {
    deploy: ["ecr:SetRepositoryPolicy", "ecr:DeleteRepositoryPolicy"],
    read: ["ecr:GetRepositoryPolicy"],
    resources: named("ecr", "repository/"),
    arn: (r) => `arn:aws:ecr:eu-west-1:123456789012:repository/${String(r.inputs.repository)}`,
  },
  "aws:ecr/lifecyclePolicy:LifecyclePolicy": {
    deploy: ["ecr:PutLifecyclePolicy", "ecr:DeleteLifecyclePolicy"],
    read: ["ecr:GetLifecyclePolicy"],
    resources: named("ecr", "repository/"),
    arn: (r) => `arn:aws:ecr:eu-west-1:123456789012:repository/${String(r.inputs.repository)}`,
  },
  "docker-build:index:Image": {
    // Pushing an image (docker-build with a registry login from ecr:GetAuthorizationToken).
    deploy: [
      "ecr:BatchCheckLayerAvailability",
      "ecr:InitiateLayerUpload",
      "ecr:UploadLayerPart",
      "ecr:CompleteLayerUpload",
      "ecr:PutImage",
    ],
    read: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:DescribeImages"],
    resources: named("ecr", "repository/"),
    arn: (r) => {
      const repo = String((r.inputs.tags as string[])[0])
        .split("/")
        .pop()!
        .split(":")[0];
      return `arn:aws:ecr:eu-west-1:123456789012:repository/${repo}`;
    },
  },
  "aws:lambda/function:Function": {
    deploy: [
      "lambda:CreateFunction",
      "lambda:DeleteFunction",
      "lambda:UpdateFunctionCode",
      "lambda:UpdateFunctionConfiguration",
      "lambda:PutFunctionConcurrency",
      "lambda:DeleteFunctionConcurrency",
      "lambda:PublishVersion",
      "lambda:TagResource",
      "lambda:UntagResource",
      // Lambda reads the image it is given with the caller's rights.
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
      "ecr:SetRepositoryPolicy",
      "ecr:GetRepositoryPolicy",
    ],
    read: [
      "lambda:GetFunction",
      "lambda:GetFunctionConfiguration",
      "lambda:GetFunctionConcurrency",
      "lambda:GetFunctionCodeSigningConfig",
      "lambda:GetPolicy",
      "lambda:ListVersionsByFunction",
      "lambda:ListTags",
    ],
    resources: [...named("lambda", "function:"), ...named("ecr", "repository/")],
    arn: (r) => `arn:aws:lambda:eu-west-1:123456789012:function:${r.name}`,
  },
  "aws:lambda/eventSourceMapping:EventSourceMapping": {
    deploy: [
      "lambda:CreateEventSourceMapping",
      "lambda:UpdateEventSourceMapping",
      "lambda:DeleteEventSourceMapping",
      "lambda:TagResource",
    ],
    read: ["lambda:GetEventSourceMapping", "lambda:ListEventSourceMappings", "lambda:ListTags"],
    resources: ["*"],
    unscoped: "event source mapping ids are UUIDs chosen by AWS; CreateEventSourceMapping has no resource",
  },
  "aws:acm/certificate:Certificate": {
    deploy: [
      "acm:RequestCertificate",
      "acm:DeleteCertificate",
      "acm:AddTagsToCertificate",
      "acm:RemoveTagsFromCertificate",
    ],
    read: ["acm:DescribeCertificate", "acm:ListTagsForCertificate"],
    resources: ["*"],
    unscoped: "certificate ids are UUIDs chosen by AWS and RequestCertificate has no resource",
  },
  "aws:acm/certificateValidation:CertificateValidation": {
    deploy: [],
    read: ["acm:DescribeCertificate"],
    resources: ["*"],
    unscoped: "certificate ids are UUIDs chosen by AWS",
  },
  "aws:route53/record:Record": {
    deploy: ["route53:ChangeResourceRecordSets", "route53:GetChange"],
    read: ["route53:ListResourceRecordSets", "route53:GetHostedZone"],
    // Replace hostedzone/* with hostedzone/<your hostedZoneId> (the README of this directory says how).
    resources: ["arn:aws:route53:::hostedzone/*", "arn:aws:route53:::change/*"],
    arn: (r) => `arn:aws:route53:::hostedzone/${r.inputs.zoneId}`,
  },
  "aws:synthetics/canary:Canary": {
    deploy: [
      "synthetics:CreateCanary",
      "synthetics:UpdateCanary",
      "synthetics:DeleteCanary",
      "synthetics:StartCanary",
      "synthetics:StopCanary",
      "synthetics:TagResource",
      "synthetics:UntagResource",
      // Synthetics builds the canary's Lambda from the code in S3 with the caller's rights.
      "lambda:CreateFunction",
      "lambda:DeleteFunction",
      "lambda:UpdateFunctionConfiguration",
      "lambda:PublishVersion",
      "lambda:AddPermission",
      "lambda:PublishLayerVersion",
      "lambda:DeleteLayerVersion",
      "lambda:GetLayerVersion",
      "lambda:GetLayerVersionByArn",
      "lambda:GetFunctionConfiguration",
      "lambda:ListTags",
      "lambda:TagResource",
      "s3:GetObject",
      "s3:GetBucketLocation",
    ],
    read: ["synthetics:GetCanary", "synthetics:DescribeCanaries", "synthetics:ListTagsForResource"],
    resources: [...named("synthetics", "canary:"), ...CANARY_LAMBDA, "arn:aws:s3:::onboarding*"],
    arn: (r) => `arn:aws:synthetics:eu-west-1:123456789012:canary:${r.inputs.name}`,
  },
};

/** Data sources the program invokes (Pulumi `aws.*.get…`), and what each calls. */
export const INVOKE_PERMISSIONS: Readonly<
  Record<string, { readonly actions: readonly string[]; readonly resources: readonly string[] }>
> = {
  // Rendered locally by the provider: no AWS call.
  "aws:iam/getPolicyDocument:getPolicyDocument": { actions: [], resources: [] },
  "aws:index/getCallerIdentity:getCallerIdentity": { actions: ["sts:GetCallerIdentity"], resources: ["*"] },
  "aws:index/getRegion:getRegion": { actions: [], resources: [] },
  "aws:index/getPartition:getPartition": { actions: [], resources: [] },
  // packages/traced-components/src/lambda-concurrency.ts: only the Lambda "Concurrent executions" quota.
  "aws:servicequotas/getServiceQuota:getServiceQuota": {
    actions: ["servicequotas:GetServiceQuota"],
    resources: ["arn:aws:servicequotas:*:*:lambda/L-B99A9384"],
  },
  // packages/traced-components/src/container-image.ts: the registry login for docker-build (no resource-level permissions).
  "aws:ecr/getAuthorizationToken:getAuthorizationToken": { actions: ["ecr:GetAuthorizationToken"], resources: ["*"] },
  // awsx:ec2:Vpc picks its availability zones.
  "aws:index/getAvailabilityZones:getAvailabilityZones": {
    actions: ["ec2:DescribeAvailabilityZones"],
    resources: ["*"],
  },
};

/** Invokes that run inside components the mocks stand in for (awsx:ec2:Vpc), so no stack run records them. */
export const IMPLICIT_INVOKES = ["aws:index/getAvailabilityZones:getAvailabilityZones"] as const;

/** Services the roles of the stack are passed to (`iam:PassedToService`). */
export const PASSED_TO_SERVICES = [
  "ecs-tasks.amazonaws.com",
  "lambda.amazonaws.com",
  "firehose.amazonaws.com",
  "streams.metrics.cloudwatch.amazonaws.com",
] as const;
