/**
 * AlarmTopic: the one SNS topic every alarm notifies, encrypted with a customer-managed key that CloudWatch may
 * use, with an optional email subscription.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { denyInsecureTransport, policyDocument } from "./iam";
import { createCustomerManagedKey } from "./kms";
import { throwIfInvalid } from "./validation";

export interface AlarmTopicArgs {
  /**
   * An email address subscribed to the topic. AWS sends a confirmation mail that must be accepted once.
   * @default no subscription
   * @example "oncall@example.com"
   */
  readonly email?: string;
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Every problem with the args (empty when valid). */
export function validateAlarmTopicArgs(args: AlarmTopicArgs): string[] {
  if (args.email !== undefined && !EMAIL.test(args.email)) {
    return [`email must be an email address like "oncall@example.com" (got "${args.email}").`];
  }
  return [];
}

/** The encrypted SNS topic every component alarm notifies, with an optional email subscription. */
export class AlarmTopic extends pulumi.ComponentResource {
  readonly key: aws.kms.Key;
  readonly topic: aws.sns.Topic;
  readonly topicArn: pulumi.Output<string>;

  constructor(name: string, args: AlarmTopicArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid("AlarmTopic", name, validateAlarmTopicArgs(args));
    super("traced:aws:AlarmTopic", name, {}, opts);

    this.key = createCustomerManagedKey(
      `${name}-key`,
      {
        description: `Encrypts the ${name} alarm topic`,
        servicePrincipals: ["cloudwatch.amazonaws.com"],
        viaServices: ["sns"],
      },
      this,
    );
    this.topic = new aws.sns.Topic(name, { kmsMasterKeyId: this.key.arn }, { parent: this });
    this.allowCloudWatchAlarms(name);
    if (args.email !== undefined) {
      new aws.sns.TopicSubscription(
        `${name}-email`,
        { topic: this.topic.arn, protocol: "email", endpoint: args.email },
        { parent: this },
      );
    }

    this.topicArn = this.topic.arn;
    this.registerOutputs({ topicArn: this.topicArn });
  }

  /** Lets CloudWatch alarms of this account publish, over TLS only. */
  private allowCloudWatchAlarms(name: string): aws.sns.TopicPolicy {
    const account = aws.getCallerIdentityOutput({}, { parent: this });
    const policy = policyDocument(
      [
        {
          sid: "CloudWatchAlarmsPublish",
          actions: ["sns:Publish"],
          resources: [this.topic.arn],
          principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
          conditions: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [account.accountId] }],
        },
        denyInsecureTransport(["sns:Publish"], [this.topic.arn]),
      ],
      { parent: this },
    );
    return new aws.sns.TopicPolicy(`${name}-policy`, { arn: this.topic.arn, policy }, { parent: this });
  }
}
