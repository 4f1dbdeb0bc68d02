/**
 * The one alarm policy the components share: one-minute periods, 3 of the last 5 breaching (a blip is not a page),
 * missing data is not a breach (an idle pipeline is healthy), and the topic hears both the alarm and the recovery.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/**
 * The `alarms` arg of the compute components and the canary: alarms notifying `topicArn`. Omit it for none (an object,
 * never `false`, so the schema of the plugin can carry it).
 */
export interface AlarmsArgs {
  /**
   * The SNS topic every alarm notifies, when it fires and when it recovers.
   * @example alarmTopic.topicArn
   */
  readonly topicArn: pulumi.Input<string>;
}

/** Defaults under every component alarm; an alarm may override any of them. */
export const ALARM_DEFAULTS = {
  period: 60,
  evaluationPeriods: 5,
  datapointsToAlarm: 3,
  comparisonOperator: "GreaterThanThreshold",
  treatMissingData: "notBreaching",
} as const;

/** What one alarm says on top of {@link ALARM_DEFAULTS}: its metric, threshold and description. */
export type AlarmSpec = Omit<
  aws.cloudwatch.MetricAlarmArgs,
  "alarmActions" | "okActions" | "comparisonOperator" | "evaluationPeriods"
> &
  Partial<Pick<aws.cloudwatch.MetricAlarmArgs, "comparisonOperator" | "evaluationPeriods">>;

/** A metric alarm with {@link ALARM_DEFAULTS} under `spec`, notifying `topicArn` when it fires and recovers. */
export function createAlarm(
  name: string,
  topicArn: pulumi.Input<string>,
  spec: AlarmSpec,
  parent: pulumi.Resource,
): aws.cloudwatch.MetricAlarm {
  return new aws.cloudwatch.MetricAlarm(
    name,
    { ...ALARM_DEFAULTS, ...spec, alarmActions: [topicArn], okActions: [topicArn] },
    { parent },
  );
}
