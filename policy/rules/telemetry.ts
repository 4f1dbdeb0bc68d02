/** Telemetry-pipeline rules: the Coralogix secret, the Firehose delivery stream and the CloudWatch metric stream. */
import {
  asArray,
  asRecord,
  asString,
  customerManagedKeyProblems,
  findReferenced,
  get,
  isRecord,
  isUnknown,
  ofType,
  parseJson,
  strings,
  unlessTrue,
} from "./model";
import type { ResourceRule, StackResource, StackRule, Violation } from "./model";
import { BUCKET_TYPES, FIREHOSE, METRIC_STREAM, SECRET, SECRET_VERSION } from "./types";

export const secretsEncryptedWithCmk: ResourceRule = {
  kind: "resource",
  id: "secrets-encrypted-with-cmk",
  description: "Secrets Manager secrets are encrypted with a customer-managed KMS key.",
  severity: "high",
  category: "security",
  checkov: ["CKV_AWS_149"],
  types: [SECRET],
  check(_type, props) {
    return customerManagedKeyProblems("kmsKeyId", props.kmsKeyId, "alias/aws/secretsmanager");
  },
};

/** Minimum length of a value treated as a key when searching for it (shorter values would match by accident). */
const MIN_KEY_LENGTH = 8;

/** The secret values a SecretVersion stores: the whole string and every string field of its JSON. */
export function secretValuesOf(version: StackResource): string[] {
  const raw = asString(version.props.secretString);
  if (!raw) return [];
  const parsed = parseJson(raw);
  const fields = isRecord(parsed) ? [...strings(parsed)] : [];
  return [raw, ...fields].filter((v) => v.length >= MIN_KEY_LENGTH);
}

/** Dotted paths of every string inside `value` that contains `needle`. */
function pathsContaining(value: unknown, needle: string, path = ""): string[] {
  if (typeof value === "string") return value.includes(needle) ? [path || "(value)"] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => pathsContaining(v, needle, `${path}[${i}]`));
  if (isRecord(value)) {
    return Object.entries(value).flatMap(([k, v]) => pathsContaining(v, needle, path ? `${path}.${k}` : k));
  }
  return [];
}

export const coralogixKeyOnlyInSecretVersion: StackRule = {
  kind: "stack",
  id: "coralogix-key-only-in-secret-version",
  description:
    "The Coralogix key (any value stored in a secret version) appears in plaintext nowhere else: no env var, container definition, Firehose accessKey, build arg or tag.",
  severity: "critical",
  category: "security",
  check(resources) {
    const keys = ofType(resources, SECRET_VERSION).flatMap(secretValuesOf);
    if (keys.length === 0) return [];
    const out: Violation[] = [];
    for (const resource of resources) {
      if (resource.type === SECRET_VERSION) continue;
      const paths = new Set(keys.flatMap((key) => pathsContaining(resource.props, key)));
      if (paths.size > 0) {
        out.push({
          urn: resource.urn,
          message: `contains the secret's value in plaintext at ${[...paths].join(", ")}; reference the secret ARN instead.`,
        });
      }
    }
    return out;
  },
};

export const firehoseEncrypted: ResourceRule = {
  kind: "resource",
  id: "firehose-encrypted",
  description: "Firehose delivery streams have server-side encryption enabled.",
  severity: "medium",
  category: "security",
  checkov: ["CKV_AWS_240"],
  fsbp: ["DataFirehose.1"],
  types: [FIREHOSE],
  check(_type, props) {
    const problems = unlessTrue(
      props,
      "serverSideEncryption.enabled",
      "serverSideEncryption.enabled is not true; enable SSE (keyType AWS_OWNED_CMK, or CUSTOMER_MANAGED_CMK with keyArn).",
    );
    const keyType = get(props, "serverSideEncryption.keyType");
    const keyArn = get(props, "serverSideEncryption.keyArn");
    if (problems.length === 0 && keyType === "CUSTOMER_MANAGED_CMK" && !isUnknown(keyArn) && !asString(keyArn)) {
      problems.push("serverSideEncryption.keyType is CUSTOMER_MANAGED_CMK but keyArn is not set; name the key.");
    }
    return problems;
  },
};

export const firehoseKeyFromSecretsManager: ResourceRule = {
  kind: "resource",
  id: "firehose-access-key-from-secrets-manager",
  description: "An HTTP-endpoint Firehose takes its access key from Secrets Manager, never a plaintext accessKey.",
  severity: "critical",
  category: "security",
  types: [FIREHOSE],
  check(_type, props) {
    if (props.destination !== "http_endpoint") return [];
    const http = asRecord(props.httpEndpointConfiguration);
    const problems: string[] = [];
    if (asString(http.accessKey)) {
      problems.push(
        "httpEndpointConfiguration.accessKey is set in plaintext; use secretsManagerConfiguration instead.",
      );
    }
    const sm = asRecord(http.secretsManagerConfiguration);
    if (isUnknown(http.secretsManagerConfiguration) || isUnknown(sm.enabled)) return problems;
    if (sm.enabled !== true || (!asString(sm.secretArn) && !isUnknown(sm.secretArn))) {
      problems.push("httpEndpointConfiguration.secretsManagerConfiguration is not enabled with a secretArn.");
    }
    return problems;
  },
};

export const firehoseBacksUpToS3: StackRule = {
  kind: "stack",
  id: "firehose-http-endpoint-s3-backup",
  description: "An HTTP-endpoint Firehose backs up failed records to an S3 bucket of this stack.",
  severity: "high",
  category: "deploy",
  check(resources) {
    const buckets = ofType(resources, ...BUCKET_TYPES);
    const out: Violation[] = [];
    for (const stream of ofType(resources, FIREHOSE)) {
      if (stream.props.destination !== "http_endpoint") continue;
      const http = asRecord(stream.props.httpEndpointConfiguration);
      const s3 = asRecord(http.s3Configuration);
      const mode = asString(http.s3BackupMode) ?? "FailedDataOnly";
      if (!["FailedDataOnly", "AllData"].includes(mode)) {
        out.push({ urn: stream.urn, message: `s3BackupMode ${mode} is not FailedDataOnly or AllData.` });
      }
      if (isUnknown(s3.bucketArn)) continue;
      if (!asString(s3.bucketArn)) {
        out.push({
          urn: stream.urn,
          message: "httpEndpointConfiguration.s3Configuration.bucketArn is not set; failed records would be lost.",
        });
      } else if (!findReferenced(buckets, s3.bucketArn)) {
        out.push({
          urn: stream.urn,
          message: `backs up to ${String(s3.bucketArn)}, which is not a bucket of this stack (its encryption and public-access block cannot be checked).`,
        });
      }
    }
    return out;
  },
};

export const metricStreamNamespaces: ResourceRule = {
  kind: "resource",
  id: "metric-stream-includes-lambda-and-sqs",
  description: "The CloudWatch metric stream includes the AWS/Lambda and AWS/SQS namespaces.",
  severity: "medium",
  category: "deploy",
  types: [METRIC_STREAM],
  check(_type, props) {
    const required = ["AWS/Lambda", "AWS/SQS"];
    const include = asArray(props.includeFilters)
      .filter(isRecord)
      .map((f) => f.namespace);
    const exclude = asArray(props.excludeFilters)
      .filter(isRecord)
      .map((f) => f.namespace);
    const missing = required.filter((ns) => (include.length > 0 ? !include.includes(ns) : exclude.includes(ns)));
    return missing.length > 0
      ? [`namespaces ${missing.join(", ")} are not streamed; add includeFilters for them.`]
      : [];
  },
};

/**
 * Metric stream `outputFormat` → the Firehose `integrationType` common attribute Coralogix expects for it
 * (terraform-coralogix-aws `modules/firehose-metrics/variables.tf` `integration_type_metrics`). Coralogix parses
 * only opentelemetry0.7: v1.0.67 removed CloudWatch_Metrics_JSON, so json is no longer ingested.
 */
export const CORALOGIX_INTEGRATION_TYPES: Readonly<Record<string, readonly string[]>> = {
  "opentelemetry0.7": ["CloudWatch_Metrics_OpenTelemetry070", "CloudWatch_Metrics_OpenTelemetry070_WithAggregations"],
};

export const metricStreamFormatMatchesIntegration: StackRule = {
  kind: "stack",
  id: "metric-stream-format-matches-coralogix-integration",
  description: "The metric stream's outputFormat matches the integrationType its Firehose announces to Coralogix.",
  severity: "high",
  category: "deploy",
  check(resources) {
    const streams = ofType(resources, FIREHOSE);
    const out: Violation[] = [];
    for (const metricStream of ofType(resources, METRIC_STREAM)) {
      const format = asString(metricStream.props.outputFormat);
      const accepted = format ? CORALOGIX_INTEGRATION_TYPES[format] : undefined;
      if (!accepted) {
        out.push({
          urn: metricStream.urn,
          message: `outputFormat ${String(metricStream.props.outputFormat)} is not parsed by Coralogix; use ${Object.keys(CORALOGIX_INTEGRATION_TYPES).join(" or ")}.`,
        });
        continue;
      }
      const firehose = findReferenced(streams, metricStream.props.firehoseArn);
      if (!firehose) continue;
      const attributes = asArray(
        asRecord(asRecord(firehose.props.httpEndpointConfiguration).requestConfiguration).commonAttributes,
      ).filter(isRecord);
      const integration = attributes.find((a) => a.name === "integrationType")?.value;
      if (isUnknown(integration)) continue;
      if (!accepted.includes(String(integration))) {
        out.push({
          urn: metricStream.urn,
          message: `outputFormat ${format} but Firehose ${firehose.name} announces integrationType ${String(integration ?? "(none)")}; expected ${accepted.join(" or ")}, or metrics silently vanish.`,
        });
      }
    }
    return out;
  },
};

export const telemetryRules = [
  secretsEncryptedWithCmk,
  coralogixKeyOnlyInSecretVersion,
  firehoseEncrypted,
  firehoseKeyFromSecretsManager,
  firehoseBacksUpToS3,
  metricStreamNamespaces,
  metricStreamFormatMatchesIntegration,
] as const;
