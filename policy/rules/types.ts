/** Provider type tokens the rules look at, in one place (several rule files share them). */

export const QUEUE = "aws:sqs/queue:Queue";
export const QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy";
export const REDRIVE_POLICY = "aws:sqs/redrivePolicy:RedrivePolicy";
export const FUNCTION = "aws:lambda/function:Function";
export const EVENT_SOURCE_MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping";
export const SERVICE = "aws:ecs/service:Service";
export const TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition";
/** `@pulumi/docker-build` Image (what this stack builds with). */
export const DOCKER_BUILD_IMAGE = "docker-build:index:Image";
/** `@pulumi/docker` v4 Image (still understood, for stacks that use it). */
export const DOCKER_IMAGE = "docker:index/image:Image";
export const REPOSITORY = "aws:ecr/repository:Repository";
/** `aws.lb.LoadBalancer` and its alias `aws.alb.LoadBalancer` (same resource, another token). */
export const LOAD_BALANCER_TYPES = ["aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"] as const;
export const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";
export const METRIC_STREAM = "aws:cloudwatch/metricStream:MetricStream";
export const SECRET = "aws:secretsmanager/secret:Secret";
export const SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion";
export const FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream";
export const BUCKET_TYPES = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"] as const;
export const SSE_CONFIG_TYPES = [
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
] as const;
export const PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
