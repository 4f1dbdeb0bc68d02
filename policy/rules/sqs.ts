/** SQS and event-source-mapping rules: encryption, TLS-only access, DLQs and visibility timeouts. */
import { deniesInsecureTransport, statementsOf } from "./iam";
import {
  asArray,
  asNumber,
  customerManagedKeyProblems,
  findReferenced,
  isRecord,
  isUnknown,
  ofType,
  parseJson,
  unresolvedReference,
} from "./model";
import type { ResourceRule, StackResource, StackRule, Violation } from "./model";
import { EVENT_SOURCE_MAPPING, FUNCTION, QUEUE, QUEUE_POLICY, REDRIVE_POLICY } from "./types";

/** AWS defaults used when an input is omitted. */
export const DEFAULTS = {
  /** SQS `VisibilityTimeout`. */
  visibilityTimeoutSeconds: 30,
  /** SQS `MessageRetentionPeriod` (4 days). */
  messageRetentionSeconds: 345_600,
  /** Lambda `Timeout`. */
  functionTimeoutSeconds: 3,
  /** Event source mapping `MaximumBatchingWindowInSeconds` for SQS. */
  batchingWindowSeconds: 0,
} as const;

export const sqsEncryptedWithCmk: ResourceRule = {
  kind: "resource",
  id: "sqs-encrypted-with-cmk",
  description: "Every SQS queue uses SSE-KMS with a customer-managed key (not SQS-managed SSE or alias/aws/sqs).",
  severity: "high",
  category: "security",
  checkov: ["CKV_AWS_27"],
  fsbp: ["SQS.1"],
  types: [QUEUE],
  check(_type, props) {
    return customerManagedKeyProblems("kmsMasterKeyId", props.kmsMasterKeyId, "alias/aws/sqs");
  },
};

/** Queue policies that apply to `queue`: its inline `policy` plus QueuePolicy resources whose queueUrl points at it. */
function policiesFor(queue: StackResource, resources: readonly StackResource[]): unknown[] {
  const attached = ofType(resources, QUEUE_POLICY)
    .filter((p) => findReferenced([queue], p.props.queueUrl) !== undefined)
    .map((p) => p.props.policy);
  return queue.props.policy === undefined ? attached : [queue.props.policy, ...attached];
}

export const sqsDeniesInsecureTransport: StackRule = {
  kind: "stack",
  id: "sqs-policy-denies-insecure-transport",
  description: 'Every queue has a policy that denies all SQS actions when "aws:SecureTransport" is false.',
  severity: "high",
  category: "security",
  check(resources) {
    const out: Violation[] = [];
    if (unresolvedReference(resources, [QUEUE_POLICY], "queueUrl")) return out; // preview: cannot match policies yet
    for (const queue of ofType(resources, QUEUE)) {
      const docs = policiesFor(queue, resources);
      if (docs.some((d) => isUnknown(d))) continue;
      if (!docs.some((d) => deniesInsecureTransport(statementsOf(d)))) {
        out.push({
          urn: queue.urn,
          message:
            docs.length === 0
              ? 'no queue policy is attached; add one that denies sqs:* for Principal "*" when aws:SecureTransport is false.'
              : 'its queue policy has no Deny of sqs:* for Principal "*" with Bool aws:SecureTransport = false.',
        });
      }
    }
    return out;
  },
};

/** The queue's redrive policy: its inline `redrivePolicy` or a RedrivePolicy resource targeting it. */
function redriveFor(queue: StackResource, resources: readonly StackResource[]): unknown {
  const attached = ofType(resources, REDRIVE_POLICY).find((p) => findReferenced([queue], p.props.queueUrl));
  return queue.props.redrivePolicy ?? attached?.props.redrivePolicy;
}

export const consumedQueuesHaveDlqAndVisibility: StackRule = {
  kind: "stack",
  id: "lambda-queue-dlq-and-visibility",
  description:
    "Every queue a Lambda consumes has a DLQ (maxReceiveCount ≥ 1, longer retention) and visibility ≥ 6 × function timeout + batching window.",
  severity: "high",
  category: "deploy",
  check(resources) {
    const out: Violation[] = [];
    const queues = ofType(resources, QUEUE);
    const functions = ofType(resources, FUNCTION);
    for (const mapping of ofType(resources, EVENT_SOURCE_MAPPING)) {
      const queue = findReferenced(queues, mapping.props.eventSourceArn);
      if (!queue) continue; // not an SQS source of this stack (or unknown during preview)
      const fn = findReferenced(functions, mapping.props.functionName);
      if (!fn) {
        if (!isUnknown(mapping.props.functionName)) {
          out.push({
            urn: mapping.urn,
            message: `its function ${String(mapping.props.functionName)} is not part of this stack.`,
          });
        }
        continue;
      }
      const redrive = redriveFor(queue, resources);
      const redriveUnresolved = redrive === undefined && unresolvedReference(resources, [REDRIVE_POLICY], "queueUrl");
      if (!isUnknown(redrive) && !redriveUnresolved) {
        const parsed = parseJson(redrive);
        const dlq = isRecord(parsed) ? findReferenced(queues, parsed.deadLetterTargetArn) : undefined;
        const maxReceive = isRecord(parsed) ? asNumber(parsed.maxReceiveCount) : undefined;
        if (!isRecord(parsed) || !dlq) {
          out.push({
            urn: queue.urn,
            message: `consumed by ${fn.name} but has no redrive policy to a DLQ in this stack; set redrivePolicy { deadLetterTargetArn, maxReceiveCount }.`,
          });
        } else {
          if (maxReceive === undefined || maxReceive < 1) {
            out.push({
              urn: queue.urn,
              message: `redrive policy maxReceiveCount is ${String(parsed.maxReceiveCount)}; use an integer ≥ 1.`,
            });
          }
          const retention = asNumber(queue.props.messageRetentionSeconds) ?? DEFAULTS.messageRetentionSeconds;
          const dlqRetention = asNumber(dlq.props.messageRetentionSeconds) ?? DEFAULTS.messageRetentionSeconds;
          if (dlqRetention <= retention) {
            out.push({
              urn: dlq.urn,
              message: `DLQ retention ${dlqRetention}s is not longer than its source queue's ${retention}s; messages keep their original enqueue time and would expire in the DLQ.`,
            });
          }
        }
      }
      const timeout = asNumber(fn.props.timeout) ?? DEFAULTS.functionTimeoutSeconds;
      const window = asNumber(mapping.props.maximumBatchingWindowInSeconds) ?? DEFAULTS.batchingWindowSeconds;
      const visibility = asNumber(queue.props.visibilityTimeoutSeconds) ?? DEFAULTS.visibilityTimeoutSeconds;
      const required = 6 * timeout + window;
      if (visibility < required) {
        out.push({
          urn: queue.urn,
          message: `visibilityTimeoutSeconds ${visibility} < 6 × ${timeout}s (timeout of ${fn.name}) + ${window}s batching window = ${required}; raise it to at least ${required}.`,
        });
      }
    }
    return out;
  },
};

export const mappingsReportBatchItemFailures: ResourceRule = {
  kind: "resource",
  id: "esm-report-batch-item-failures",
  description: 'Every event source mapping sets functionResponseTypes ["ReportBatchItemFailures"].',
  severity: "high",
  category: "deploy",
  types: [EVENT_SOURCE_MAPPING],
  check(_type, props) {
    if (isUnknown(props.functionResponseTypes)) return [];
    const types = asArray(props.functionResponseTypes);
    return types.includes("ReportBatchItemFailures")
      ? []
      : [
          'functionResponseTypes does not include "ReportBatchItemFailures"; one poison record would fail and retry its whole batch.',
        ];
  },
};

export const sqsRules = [
  sqsEncryptedWithCmk,
  sqsDeniesInsecureTransport,
  consumedQueuesHaveDlqAndVisibility,
  mappingsReportBatchItemFailures,
] as const;
