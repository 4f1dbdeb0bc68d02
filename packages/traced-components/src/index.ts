/**
 * The public API of @traced-onboarding/components: the components, their args and defaults, and the pure checks a
 * stack can run on its own config before building anything. Everything else in src/ is internal. The provider entry
 * (provider.ts) and Pulumi's schema analyzer start from this file too.
 */
export { AlarmTopic, type AlarmTopicArgs, validateAlarmTopicArgs } from "./alarm-topic";
export type { AlarmsArgs } from "./alarms";
export { ApiCanary, type ApiCanaryArgs, CANARY_DEFAULTS, canaryNameFor, validateApiCanaryArgs } from "./api-canary";
export {
  ApiDomain,
  type ApiDomainArgs,
  certificateArnProblem,
  DOMAIN_EXAMPLES,
  domainNameProblem,
  hostedZoneIdProblem,
  validateApiDomainArgs,
} from "./api-domain";
export { BUNDLE_BUILD_INPUTS, type ImageBuildArgs, imageTag, imageUriProblems } from "./container-image";
export {
  CORALOGIX_REGIONS,
  type CoralogixRegion,
  coralogixFirehoseEndpoint,
  coralogixOtlpEndpoint,
  resolveCoralogixDomain,
} from "./contract/coralogix";
export { DEFAULT_MAX_RECEIVE_COUNT, minimumVisibilityTimeout, type QueueConsumer } from "./delivery-rules";
export { checkFargateSize, FARGATE_CPUS, FARGATE_MEMORY_BY_CPU } from "./fargate-sizes";
export { checkLogRetention, DEFAULT_LOG_RETENTION_DAYS, LOG_RETENTION_DAYS } from "./log-retention";
export {
  CoralogixMetricStream,
  type CoralogixMetricStreamArgs,
  INTEGRATION_TYPES,
  METRIC_STREAM_DEFAULTS,
  type MetricStreamFormat,
  validateCoralogixMetricStreamArgs,
} from "./metric-stream";
export {
  OnboardingTable,
  type OnboardingTableArgs,
  type TableRef,
  tableApiStatements,
  tableRecordStatements,
} from "./onboarding-table";
/** How the table's items are keyed: what a consumer in another codebase writes and the API reads. */
export { TABLE_HASH_KEY as ONBOARDING_TABLE_HASH_KEY } from "./contract/store-keys";
export {
  DASHBOARD_DEFAULTS,
  PipelineDashboard,
  type PipelineDashboardArgs,
  validatePipelineDashboardArgs,
} from "./pipeline-dashboard";
export {
  TelemetrySecret,
  type TelemetrySecretArgs,
  type TelemetrySecretRef,
  validateTelemetrySecretArgs,
} from "./telemetry-secret";
export {
  LAMBDA_DEFAULTS,
  TracedContainerLambda,
  type TracedContainerLambdaArgs,
  validateTracedContainerLambdaArgs,
} from "./traced-container-lambda";
export {
  DEFAULT_COLLECTOR_IMAGE,
  type ExistingClusterArgs,
  type ExistingVpcArgs,
  FARGATE_DEFAULTS,
  NAT_GATEWAY_STRATEGIES,
  TracedFargateService,
  type TracedFargateServiceArgs,
  validateTracedFargateServiceArgs,
} from "./traced-fargate-service";
export {
  type DeadLetterArgs,
  QUEUE_DEFAULTS,
  type QueueAlarmsArgs,
  queueConsumeStatements,
  type QueueRef,
  queueSendStatements,
  TracedQueue,
  type TracedQueueArgs,
  validateTracedQueueArgs,
} from "./traced-queue";
export type { TracedServiceArgs } from "./traced-service-args";
export { InvalidArgsError } from "./validation";
export { API_SERVICE_NAME, LAMBDA_SERVICE_NAME } from "./contract/service-names";
