/**
 * The `service.name` of each process (`OTEL_SERVICE_NAME`, also the Coralogix subsystem): the components set it,
 * the runtime falls back to it when the variable is unset, and the local stack and bench start processes under it.
 * One constant each, so a rename cannot leave a trace split across two names. Pure constants: both images copy
 * this directory.
 */

/** The Koa API on Fargate. */
export const API_SERVICE_NAME = "onboarding-api";
/** The SQS consumer Lambda. */
export const LAMBDA_SERVICE_NAME = "onboarding-lambda";
