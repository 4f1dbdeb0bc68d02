/**
 * The environment variables that cross the deploy → runtime process boundary: what the components (and the local
 * stack and bench, which stand in for them) put in a process's environment, and what the runtime reads back. One
 * constant per variable this project names itself, so a rename cannot leave a setter and its reader on two names.
 * The standard variables the SDKs and AWS define (`OTEL_*`, `AWS_*`) keep their literal names; the ones the
 * components set are listed in {@link STANDARD_ENV_SET_BY_COMPONENTS}. Pure constants: both images copy this directory.
 *
 * Not here: `serviceIdentityEnv` (resource-attributes-env.ts), the identity contract in the standard variables.
 */

// --- The API (app container of TracedFargateService; app/src/config.ts) -----------------------------------------

/** The queue the API sends to. Set by TracedFargateService (app), the local stack and bench; read by app/src/config.ts. */
export const QUEUE_URL_ENV = "QUEUE_URL";
/** The API's listening port. Set by TracedFargateService (app), the local stack and bench; read by app/src/config.ts. */
export const PORT_ENV = "PORT";
/** The API's listening address. Set by TracedFargateService (app), the local stack and bench; read by app/src/config.ts. */
export const HOST_ENV = "HOST";
/** What an incoming `traceparent` is trusted with. Set by apiEdgeEnvironment (traced-service-args.ts); read by app/src/config.ts. */
export const INCOMING_TRACE_CONTEXT_ENV = "INCOMING_TRACE_CONTEXT";
/** Node's keep-alive timeout (ms). Set by apiEdgeEnvironment (above the ALB idle timeout); read by app/src/config.ts. */
export const HTTP_KEEP_ALIVE_TIMEOUT_MS_ENV = "HTTP_KEEP_ALIVE_TIMEOUT_MS";
/** Node's request timeout (ms). Set by no component (tuning only); read by app/src/config.ts. */
export const HTTP_REQUEST_TIMEOUT_MS_ENV = "HTTP_REQUEST_TIMEOUT_MS";
/** Node's headers timeout (ms). Set by no component (tuning only); read by app/src/config.ts. */
export const HTTP_HEADERS_TIMEOUT_MS_ENV = "HTTP_HEADERS_TIMEOUT_MS";

// --- The API and the consumer Lambda ----------------------------------------------------------------------------

/**
 * The onboarding table's name. Set by TracedFargateService (app) and TracedContainerLambda when given a table, and by
 * the local stack and bench; read by app/src/config.ts (status endpoint) and lambda/src/handler.ts (store).
 */
export const ONBOARDING_TABLE_NAME_ENV = "ONBOARDING_TABLE_NAME";
/** Minimum level of the JSON logger. Set by no component (tuning only); read by telemetry/logger.ts. */
export const LOG_LEVEL_ENV = "LOG_LEVEL";

// --- Coralogix (the Lambda's exporter; the API's collector sidecar) ---------------------------------------------

/**
 * Coralogix domain. Set by TracedContainerLambda and TracedFargateService (collector); read by telemetry/exporter.ts
 * (the Lambda's OTLP endpoint) and collector/config.yaml (`${env:CORALOGIX_DOMAIN}`).
 */
export const CORALOGIX_DOMAIN_ENV = "CORALOGIX_DOMAIN";
/** The Secrets Manager secret holding the Coralogix key. Set by TracedContainerLambda; read by lambda/src/tracing.ts. */
export const CORALOGIX_SECRET_ARN_ENV = "CORALOGIX_SECRET_ARN";
/** The Coralogix key (an ECS secret, never a plain variable). Set by TracedFargateService (collector); read by collector/config.yaml. */
export const CORALOGIX_API_KEY_ENV = "CORALOGIX_API_KEY";
/** Coralogix application name. Set by TracedFargateService (collector); read by collector/config.yaml. */
export const CX_APPLICATION_NAME_ENV = "CX_APPLICATION_NAME";
/** Coralogix subsystem name. Set by TracedFargateService (collector); read by collector/config.yaml. */
export const CX_SUBSYSTEM_NAME_ENV = "CX_SUBSYSTEM_NAME";
/** The collector's whole config (collector/config.yaml). Set by TracedFargateService (collector); read by the ADOT collector image. */
export const AOT_CONFIG_CONTENT_ENV = "AOT_CONFIG_CONTENT";

/** Every variable above: what this project names itself. */
export const PROJECT_ENV_NAMES = [
  QUEUE_URL_ENV,
  PORT_ENV,
  HOST_ENV,
  INCOMING_TRACE_CONTEXT_ENV,
  HTTP_KEEP_ALIVE_TIMEOUT_MS_ENV,
  HTTP_REQUEST_TIMEOUT_MS_ENV,
  HTTP_HEADERS_TIMEOUT_MS_ENV,
  ONBOARDING_TABLE_NAME_ENV,
  LOG_LEVEL_ENV,
  CORALOGIX_DOMAIN_ENV,
  CORALOGIX_SECRET_ARN_ENV,
  CORALOGIX_API_KEY_ENV,
  CX_APPLICATION_NAME_ENV,
  CX_SUBSYSTEM_NAME_ENV,
  AOT_CONFIG_CONTENT_ENV,
] as const;

/**
 * The standard variables (defined by the OpenTelemetry SDKs and AWS, so named by their literal) that the components
 * set: `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES` (serviceIdentityEnv, both services), `OTEL_EXPORTER_OTLP_ENDPOINT`
 * (the API → its collector sidecar) and `AWS_REGION` (the API; Lambda's runtime sets its own).
 */
export const STANDARD_ENV_SET_BY_COMPONENTS = [
  "OTEL_SERVICE_NAME",
  "OTEL_RESOURCE_ATTRIBUTES",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "AWS_REGION",
] as const;

/**
 * What the components give a process in AWS and the local stack (local/stack.ts) deliberately does not, and why.
 * Everything else the components set on the API and the Lambda, the local stack sets too.
 */
export const AWS_ONLY_ENV: Readonly<Record<string, string>> = {
  [CORALOGIX_DOMAIN_ENV]: "the local Lambda exports to the local OTLP receiver (OTEL_EXPORTER_OTLP_ENDPOINT)",
  [CORALOGIX_SECRET_ARN_ENV]: "the local Lambda holds no Coralogix key",
  [INCOMING_TRACE_CONTEXT_ENV]: "no public edge locally; the runtime's default is the same mode",
  [HTTP_KEEP_ALIVE_TIMEOUT_MS_ENV]: "no load balancer in front of the local API; the runtime's default applies",
  OTEL_SERVICE_NAME: "the runtime's default service names (service-names.ts) apply; a user's own OTEL_* pass through",
  OTEL_RESOURCE_ATTRIBUTES: "no deployment identity locally; a user's own OTEL_* pass through",
};
