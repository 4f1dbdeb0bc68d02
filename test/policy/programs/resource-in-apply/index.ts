/**
 * A deliberately bad stack program for test/policy/stack.test.ts: it creates a queue policy inside `.apply()` on the
 * queue's ARN, a value the provider computes. A real first preview never runs that callback, so the policy is missing
 * from the preview and `same-resources-in-preview-and-update` must catch it.
 */
import * as aws from "@pulumi/aws";

const queue = new aws.sqs.Queue("visible");

export const policyId = queue.arn.apply(
  (arn) =>
    new aws.sqs.QueuePolicy("hidden-in-apply", {
      queueUrl: queue.url,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Deny", Principal: "*", Action: "sqs:*", Resource: arn }],
      }),
    }).id,
);
