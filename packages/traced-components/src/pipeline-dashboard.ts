/**
 * PipelineDashboard: one CloudWatch dashboard for the whole pipeline (API errors/latency, queue depth/age, DLQ,
 * Lambda duration/errors/throttles/concurrency) and the end-to-end alarm: messages processed ÷ messages sent below
 * the threshold (95 %) over 15 minutes, computed with CloudWatch metric math.
 *
 * "Processed" is SQS `NumberOfMessagesDeleted` on the work queue: with partial batch responses the event source
 * mapping deletes exactly the records the function reports as done, so a failing record is never counted.
 */
import { createHash } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { checkIntegerRange, throwIfInvalid } from "./validation";

/** Documented defaults, merged under the caller's args. */
export const DASHBOARD_DEFAULTS = { endToEndThresholdPercent: 95, endToEndPeriodSeconds: 900 } as const;

export interface PipelineDashboardArgs {
  /** The SNS topic the end-to-end alarm notifies. @example alarmTopic.topicArn */
  readonly alarmTopicArn: pulumi.Input<string>;
  /** Work queue name. @example queue.name */
  readonly queueName: pulumi.Input<string>;
  /** Dead-letter queue name. @example queue.deadLetterName */
  readonly deadLetterQueueName: pulumi.Input<string>;
  /** Consumer function name. @example consumer.functionName */
  readonly functionName: pulumi.Input<string>;
  /** ALB `arnSuffix` (`app/<name>/<id>`). @example api.loadBalancerArnSuffix */
  readonly loadBalancerArnSuffix: pulumi.Input<string>;
  /** Target group `arnSuffix`. @example api.targetGroupArnSuffix */
  readonly targetGroupArnSuffix: pulumi.Input<string>;
  /** ECS cluster name. @example api.clusterName */
  readonly clusterName: pulumi.Input<string>;
  /** ECS service name. @example api.serviceName */
  readonly serviceName: pulumi.Input<string>;
  /**
   * The end-to-end alarm fires when processed ÷ sent (in percent) drops below this.
   * @default 95
   * @example 99
   */
  readonly endToEndThresholdPercent?: number;
  /**
   * Window of the end-to-end ratio in seconds (a multiple of 60).
   * @default 900 (15 minutes)
   * @example 1800
   */
  readonly endToEndPeriodSeconds?: number;
}

/** Every problem with the args (empty when valid). */
export function validatePipelineDashboardArgs(
  args: Pick<PipelineDashboardArgs, "endToEndThresholdPercent" | "endToEndPeriodSeconds">,
): string[] {
  const problems: string[] = [];
  checkIntegerRange(problems, "endToEndThresholdPercent", args.endToEndThresholdPercent, 1, 100);
  const period = args.endToEndPeriodSeconds;
  if (period !== undefined && (!Number.isInteger(period) || period < 60 || period % 60 !== 0)) {
    problems.push(`endToEndPeriodSeconds must be a multiple of 60 of at least 60 (got ${period}), e.g. 900.`);
  }
  return problems;
}

/**
 * Where a dashboard comes from. Dashboard names are global in an account ("All dashboards in your account are
 * global, not region-specific", CloudWatch PutDashboard API reference), so the name must differ across every
 * stack, project, organization and region deploying into the account.
 */
export interface DashboardScope {
  readonly organization: string;
  readonly project: string;
  readonly stack: string;
  readonly region: string;
}

/**
 * The dashboard's name: a readable `<name>-<stack>` with every character CloudWatch refuses replaced by `-`
 * (PutDashboard allows only A-Z, a-z, 0-9, "-" and "_", at most 255: a stack `team.dev` would fail), then 8 hex of
 * a hash of organization/project/stack/region/name, so same-named stacks of other projects, organizations or
 * regions in one account do not overwrite each other's dashboard.
 */
export function dashboardName(name: string, scope: DashboardScope): string {
  const hash = createHash("sha256")
    .update([scope.organization, scope.project, scope.stack, scope.region, name].join("/"))
    .digest("hex")
    .slice(0, 8);
  const readable = `${name}-${scope.stack}`.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 255 - hash.length - 1);
  return `${readable}-${hash}`;
}

/** The Pulumi organization, or "" where there is none (the mocked runtime, CLIs that do not pass one). */
function currentOrganization(): string {
  try {
    return pulumi.getOrganization();
  } catch {
    return "";
  }
}

/** The end-to-end ratio expression: 100 when nothing was sent, so an idle pipeline is healthy. */
export const END_TO_END_EXPRESSION = "IF(sent > 0, 100 * processed / sent, 100)";

/** The end-to-end period in seconds: the alarm evaluates and the dashboard charts the ratio over the same one. */
function endToEndPeriod(args: Pick<PipelineDashboardArgs, "endToEndPeriodSeconds">): number {
  return args.endToEndPeriodSeconds ?? DASHBOARD_DEFAULTS.endToEndPeriodSeconds;
}

export class PipelineDashboard extends pulumi.ComponentResource {
  readonly dashboard: aws.cloudwatch.Dashboard;
  readonly endToEndAlarm: aws.cloudwatch.MetricAlarm;
  readonly dashboardName: pulumi.Output<string>;
  /** Console URL of the dashboard. */
  readonly dashboardUrl: pulumi.Output<string>;

  constructor(name: string, args: PipelineDashboardArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid("PipelineDashboard", name, validatePipelineDashboardArgs(args));
    super("traced:aws:PipelineDashboard", name, {}, opts);
    const region = aws.getRegionOutput({}, { parent: this }).region;

    this.endToEndAlarm = this.createEndToEndAlarm(name, args);
    this.dashboard = new aws.cloudwatch.Dashboard(
      name,
      {
        dashboardName: region.apply((r) =>
          dashboardName(name, {
            organization: currentOrganization(),
            project: pulumi.getProject(),
            stack: pulumi.getStack(),
            region: r,
          }),
        ),
        dashboardBody: pulumi.jsonStringify({ widgets: this.widgets(args, region) }),
      },
      { parent: this },
    );

    this.dashboardName = this.dashboard.dashboardName;
    // The name holds only URL-safe characters, so it goes into the console URL as is.
    this.dashboardUrl = pulumi.interpolate`https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${this.dashboardName}`;
    this.registerOutputs({ dashboardName: this.dashboardName, dashboardUrl: this.dashboardUrl });
  }

  private createEndToEndAlarm(name: string, args: PipelineDashboardArgs): aws.cloudwatch.MetricAlarm {
    const period = endToEndPeriod(args);
    const threshold = args.endToEndThresholdPercent ?? DASHBOARD_DEFAULTS.endToEndThresholdPercent;
    const queueMetric = (metricName: string) => ({
      namespace: "AWS/SQS",
      metricName,
      dimensions: { QueueName: args.queueName },
      period,
      stat: "Sum",
    });
    return new aws.cloudwatch.MetricAlarm(
      `${name}-end-to-end`,
      {
        alarmDescription:
          `Fewer than ${threshold} % of the messages sent to the queue were processed within ${period / 60} ` +
          `minutes: the consumer is failing or falling behind.`,
        comparisonOperator: "LessThanThreshold",
        threshold,
        evaluationPeriods: 1,
        treatMissingData: "notBreaching",
        metricQueries: [
          { id: "sent", metric: queueMetric("NumberOfMessagesSent"), returnData: false },
          { id: "processed", metric: queueMetric("NumberOfMessagesDeleted"), returnData: false },
          { id: "ratio", expression: END_TO_END_EXPRESSION, label: "Processed ÷ sent (%)", returnData: true },
        ],
        alarmActions: [args.alarmTopicArn],
        okActions: [args.alarmTopicArn],
      },
      { parent: this },
    );
  }

  private widgets(args: PipelineDashboardArgs, region: pulumi.Output<string>): unknown[] {
    const alb = { LoadBalancer: args.loadBalancerArnSuffix, TargetGroup: args.targetGroupArnSuffix };
    const fn = ["FunctionName", args.functionName];
    const graph = (title: string, metrics: unknown[], x: number, y: number, extra: Record<string, unknown> = {}) => ({
      type: "metric",
      x,
      y,
      width: 12,
      height: 6,
      properties: { title, region, view: "timeSeries", stacked: false, period: 60, metrics, ...extra },
    });
    return [
      graph(
        "API requests and errors",
        [
          ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", alb.LoadBalancer, { stat: "Sum" }],
          [
            ".",
            "HTTPCode_Target_5XX_Count",
            "LoadBalancer",
            alb.LoadBalancer,
            "TargetGroup",
            alb.TargetGroup,
            { stat: "Sum" },
          ],
          [
            ".",
            "HTTPCode_Target_4XX_Count",
            "LoadBalancer",
            alb.LoadBalancer,
            "TargetGroup",
            alb.TargetGroup,
            { stat: "Sum" },
          ],
        ],
        0,
        0,
      ),
      graph(
        "API latency",
        [
          ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", alb.LoadBalancer, { stat: "p50" }],
          ["...", { stat: "p99" }],
        ],
        12,
        0,
      ),
      graph(
        "Queue depth and age",
        [
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", args.queueName, { stat: "Maximum" }],
          [".", "ApproximateAgeOfOldestMessage", ".", ".", { stat: "Maximum", yAxis: "right" }],
        ],
        0,
        6,
      ),
      graph(
        "Dead-letter queue",
        [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", args.deadLetterQueueName, { stat: "Maximum" }]],
        12,
        6,
      ),
      graph(
        "End to end: processed ÷ sent (%)",
        [
          [{ expression: END_TO_END_EXPRESSION, id: "ratio", label: "processed ÷ sent (%)" }],
          ["AWS/SQS", "NumberOfMessagesSent", "QueueName", args.queueName, { id: "sent", stat: "Sum", visible: false }],
          [".", "NumberOfMessagesDeleted", ".", ".", { id: "processed", stat: "Sum", visible: false }],
        ],
        0,
        12,
        { period: endToEndPeriod(args) },
      ),
      graph(
        "Lambda duration",
        [
          ["AWS/Lambda", "Duration", ...fn, { stat: "p50" }],
          ["...", { stat: "p99" }],
        ],
        12,
        12,
      ),
      graph(
        "Lambda errors and throttles",
        [
          ["AWS/Lambda", "Errors", ...fn, { stat: "Sum" }],
          [".", "Throttles", ".", ".", { stat: "Sum" }],
          [".", "Invocations", ".", ".", { stat: "Sum", yAxis: "right" }],
        ],
        0,
        18,
      ),
      graph("Lambda concurrency", [["AWS/Lambda", "ConcurrentExecutions", ...fn, { stat: "Maximum" }]], 12, 18),
      graph(
        "API tasks (ECS)",
        [
          [
            "AWS/ECS",
            "CPUUtilization",
            "ClusterName",
            args.clusterName,
            "ServiceName",
            args.serviceName,
            { stat: "Average" },
          ],
          [".", "MemoryUtilization", ".", ".", ".", ".", { stat: "Average" }],
        ],
        0,
        24,
      ),
    ];
  }
}
