/**
 * The stack: config in, components wired together, outputs out. `createStack` is separate from `index.ts` so tests
 * and policy checks can run the whole program under Pulumi mocks (see test/infra/stack.test.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import {
  AlarmTopic,
  ApiCanary,
  canaryNameFor,
  CoralogixMetricStream,
  OnboardingTable,
  PipelineDashboard,
  TelemetrySecret,
  TracedContainerLambda,
  TracedFargateService,
  TracedQueue,
} from "@traced-onboarding/components";
import { PROJECT, isProduction, queueArgs, type StackConfig } from "./config";

/** The stack outputs (`pulumi stack output`). */
export interface StackOutputs {
  readonly apiUrl: pulumi.Output<string>;
  readonly queueUrl: pulumi.Output<string>;
  /** For producers and consumers outside the stack: grant on it, and on its key. */
  readonly queueArn: pulumi.Output<string>;
  readonly queueKeyArn: pulumi.Output<string>;
  readonly dlqUrl: pulumi.Output<string>;
  /** The DynamoDB table each onboarding request is recorded in (key `request_id`). */
  readonly tableName: pulumi.Output<string>;
  /** The Coralogix key's secret (rotate its value, then restart what reads it). */
  readonly secretArn: pulumi.Output<string>;
  readonly functionName: pulumi.Output<string>;
  readonly functionArn: pulumi.Output<string>;
  /** With serviceName, for `aws ecs update-service --force-new-deployment` after a key rotation. */
  readonly clusterName: pulumi.Output<string>;
  readonly serviceName: pulumi.Output<string>;
  readonly dashboardUrl: pulumi.Output<string>;
  /** The synthetic check's canary ("" without `canary`). */
  readonly canaryName: pulumi.Output<string>;
}

/** Builds every resource of the stack from validated config. */
export function createStack(config: StackConfig): StackOutputs {
  const common = {
    coralogixDomain: config.coralogixDomain,
    applicationName: config.applicationName,
    serviceVersion: config.serviceVersion,
    deploymentEnvironment: config.environment,
    logRetentionDays: config.logRetentionDays,
  };

  const alarms = new AlarmTopic("alarms", { email: config.alarmEmail });
  const secret = new TelemetrySecret("coralogix-key", { apiKey: config.coralogixApiKey });

  // The same args the config's queue check validated (config.ts), consumer settings included.
  const queueSettings = queueArgs(config);
  const queue = new TracedQueue("onboarding", { ...queueSettings, alarms: { topicArn: alarms.topicArn } });

  const table = new OnboardingTable("onboarding-table", { deletionProtection: isProduction(config.environment) });

  const consumer = new TracedContainerLambda("onboarding-consumer", {
    ...common,
    queue,
    table,
    secret,
    // The queue owns its consumer's timeout and batching window (its visibility timeout is computed from them).
    ...queueSettings.consumer,
    memorySizeMb: config.lambdaMemoryMb,
    batchSize: config.batchSize,
    maximumConcurrency: config.maxConcurrency,
    reservedConcurrency: config.lambdaReservedConcurrency,
    reservedConcurrencySetting: `${PROJECT}:lambdaReservedConcurrency`,
    alarms: { topicArn: alarms.topicArn },
  });

  const api = new TracedFargateService("onboarding-api", {
    ...common,
    queue,
    table,
    secret,
    cpu: config.apiCpu,
    memory: config.apiMemory,
    desiredCount: config.apiDesiredCount,
    natGateways: config.natGateways,
    domain: config.domainName
      ? { domainName: config.domainName, hostedZoneId: config.hostedZoneId, certificateArn: config.certificateArn }
      : undefined,
    fargateSpot: config.fargateSpot,
    collectorImage: config.collectorImage,
    alarms: { topicArn: alarms.topicArn },
  });

  const canary = config.canary
    ? new ApiCanary("onboarding-canary", {
        url: api.url,
        canaryName: canaryNameFor("onboarding", pulumi.getStack()),
        alarms: { topicArn: alarms.topicArn },
      })
    : undefined;

  new CoralogixMetricStream("metrics", {
    coralogixDomain: config.coralogixDomain,
    applicationName: config.applicationName,
    secret,
    format: config.metricStreamFormat,
    backupExpirationDays: config.backupExpirationDays,
    logRetentionDays: config.logRetentionDays,
  });

  const dashboard = new PipelineDashboard("onboarding", {
    alarmTopicArn: alarms.topicArn,
    queueName: queue.name,
    deadLetterQueueName: queue.deadLetterName,
    functionName: consumer.functionName,
    loadBalancerArnSuffix: api.loadBalancerArnSuffix,
    targetGroupArnSuffix: api.targetGroupArnSuffix,
    clusterName: api.clusterName,
    serviceName: api.serviceName,
  });

  return {
    apiUrl: api.url,
    queueUrl: queue.url,
    queueArn: queue.arn,
    queueKeyArn: queue.keyArn,
    dlqUrl: queue.deadLetterUrl,
    tableName: table.name,
    secretArn: secret.arn,
    functionName: consumer.functionName,
    functionArn: consumer.functionArn,
    clusterName: api.clusterName,
    serviceName: api.serviceName,
    dashboardUrl: dashboard.dashboardUrl,
    canaryName: canary?.canaryName ?? pulumi.output(""),
  };
}
