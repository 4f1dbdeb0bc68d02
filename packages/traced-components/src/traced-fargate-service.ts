/**
 * TracedFargateService: the Koa API on ECS Fargate (ARM64) in private subnets behind a public ALB, with an
 * OpenTelemetry Collector sidecar (AWS Distro for OpenTelemetry) that forwards traces to Coralogix.
 *
 * The collector's config is the file `collector/config.yaml` shipped in this package (or the caller's), read when the program runs and passed in
 * `AOT_CONFIG_CONTENT` (ADOT's variable for inline config); it only references environment variables, and the
 * Coralogix key arrives as `CORALOGIX_API_KEY` through ECS `secrets`/`valueFrom`, never as plaintext.
 *
 * Its args are plain data (the plugin hosts it for every Pulumi language); adjust a child beyond them with the
 * resource option `transforms`, which reaches every child.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { resolveCoralogixDomain } from "./contract/coralogix";
import { API_SERVICE_NAME } from "./contract/service-names";
import {
  AOT_CONFIG_CONTENT_ENV,
  CORALOGIX_API_KEY_ENV,
  CORALOGIX_DOMAIN_ENV,
  CX_APPLICATION_NAME_ENV,
  CX_SUBSYSTEM_NAME_ENV,
  HOST_ENV,
  ONBOARDING_TABLE_NAME_ENV,
  PORT_ENV,
  QUEUE_URL_ENV,
} from "./contract/runtime-env";
import { createAlarm } from "./alarms";
import { ApiDomain, type ApiDomainArgs, validateApiDomainArgs } from "./api-domain";
import { BUNDLE_BUILD_INPUTS, ecrRepositoryArn, imageUriProblems, serviceImage } from "./container-image";
import { checkFargateSize } from "./fargate-sizes";
import { PACKAGE_ROOT, projectDirectory } from "./project-root";
import { createServiceRole, type PolicyStatement, sameAccountTrust, writeLogsStatement } from "./iam";
import { tableApiStatements, type TableRef } from "./onboarding-table";
import { API_KEY_FIELD, secretReadStatements } from "./telemetry-secret";
import { queueSendStatements, type QueueRef } from "./traced-queue";
import {
  ALB_DEFAULT_IDLE_TIMEOUT_SECONDS,
  apiEdgeEnvironment,
  logRetentionDays,
  serviceIdentityEnvironment,
  type TracedServiceArgs,
  validateTracedServiceArgs,
} from "./traced-service-args";
import { checkIntegerRange, throwIfInvalid } from "./validation";

/** The ADOT collector image, pinned. It ships `/healthcheck`, which queries the `health_check` extension. */
export const DEFAULT_COLLECTOR_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3";

/** Documented defaults, merged under the caller's args. */
export const FARGATE_DEFAULTS = {
  cpu: 256,
  memory: 512,
  desiredCount: 2,
  containerPort: 8000,
  healthCheckPath: "/healthz",
  natGateways: "Single",
  serviceName: API_SERVICE_NAME,
  collectorImage: DEFAULT_COLLECTOR_IMAGE,
  /** The package's own collector config (relative to the package). */
  collectorConfigPath: "collector/config.yaml",
  image: {
    context: ".",
    dockerfile: "app/Dockerfile",
    platform: "linux/arm64",
    inputs: [...BUNDLE_BUILD_INPUTS, "app/src/", "contract/"],
  },
  /** uid:gid of the `node` user in the official Node images. */
  appUser: "1000:1000",
  /**
   * uid:gid of the `aoc` user the ADOT image runs as: `USER_UID=4317` in aws-otel-collector
   * `cmd/awscollector/Dockerfile` (tag v0.43.3).
   */
  collectorUser: "4317:4317",
  /**
   * How long `pulumi up` waits for the service to reach a steady state. A rollout that never gets healthy is
   * stopped by the circuit breaker after its failed-task threshold (3 to 200 tasks, each up to the health check
   * grace period plus three failed checks), so this bounds a first deployment that has nothing to roll back to.
   */
  steadyStateTimeout: "30m",
} as const;

/** The NAT gateway strategies of the VPC it creates (awsx `NatGatewayStrategy` values; "None" would cut the tasks off). */
export const NAT_GATEWAY_STRATEGIES = ["Single", "OnePerAz"] as const;

/** The ALB idle timeout range AWS accepts, in seconds (`idle_timeout.timeout_seconds`). */
const ALB_IDLE_TIMEOUT_RANGE = [1, 4000] as const;

/** Container names inside the task. */
export const APP_CONTAINER = "app";
export const COLLECTOR_CONTAINER = "otel-collector";

/** An existing VPC: the load balancer goes in its public subnets, the tasks in its private ones. */
export interface ExistingVpcArgs {
  /**
   * The VPC's id.
   * @example "vpc-0123456789abcdef0"
   */
  readonly vpcId: pulumi.Input<string>;
  /**
   * Public subnets (routed to an internet gateway) in at least two availability zones, for the load balancer.
   * @example ["subnet-0aaa…", "subnet-0bbb…"]
   */
  readonly publicSubnetIds: pulumi.Input<string>[];
  /**
   * Private subnets for the tasks, with outbound access to ECR, CloudWatch Logs, Secrets Manager, SQS and Coralogix
   * (a NAT gateway, or VPC endpoints plus a route to Coralogix).
   * @example ["subnet-0ccc…", "subnet-0ddd…"]
   */
  readonly privateSubnetIds: pulumi.Input<string>[];
}

/** An existing ECS cluster. */
export interface ExistingClusterArgs {
  /**
   * The cluster's ARN.
   * @example "arn:aws:ecs:eu-west-1:123456789012:cluster/shared"
   */
  readonly arn: pulumi.Input<string>;
  /**
   * The cluster's name.
   * @example "shared"
   */
  readonly name: pulumi.Input<string>;
}

export interface TracedFargateServiceArgs extends TracedServiceArgs {
  /**
   * The queue the API sends to (a TracedQueue, or any SQS queue with a customer-managed key by ARN, URL and key
   * ARN); the task role may send to it and use its key, nothing else.
   * @example new TracedQueue("onboarding")
   */
  readonly queue: QueueRef;
  /**
   * An existing VPC to run in instead of creating one (then `natGateways` does not apply).
   * @default a new VPC over two availability zones, public and private subnets, `natGateways` NAT gateways
   * @example { vpcId: vpc.vpcId, publicSubnetIds: vpc.publicSubnetIds, privateSubnetIds: vpc.privateSubnetIds }
   */
  readonly vpc?: ExistingVpcArgs;
  /**
   * An existing ECS cluster to run the service in instead of creating one. `fargateSpot` needs the cluster this
   * component creates (it associates the capacity providers with it).
   * @default a new cluster with Container Insights
   * @example { arn: cluster.arn, name: cluster.name }
   */
  readonly cluster?: ExistingClusterArgs;
  /**
   * The table the status endpoint (`GET /onboard/{request_id}`) reads and `Idempotency-Key`s are recorded in
   * (`ONBOARDING_TABLE_NAME`); the task role may get its items and put/update only the API's own (prefixed) items, with
   * its key. An OnboardingTable, or any table keyed like it by name, ARN and key ARN. Without it the endpoint answers
   * 404 for every id and the header is not honoured.
   * @default none
   * @example new OnboardingTable("onboarding")
   */
  readonly table?: TableRef;
  /**
   * Coralogix subsystem name (`CX_SUBSYSTEM_NAME`) and OpenTelemetry `service.name`.
   * @default "onboarding-api"
   * @example "onboarding-api"
   */
  readonly serviceName?: string;
  /**
   * Task CPU units; with `memory`, one of Fargate's allowed pairs.
   * @default 256
   * @example 512
   */
  readonly cpu?: number;
  /**
   * Task memory in MiB.
   * @default 512
   * @example 1024
   */
  readonly memory?: number;
  /**
   * Number of tasks.
   * @default 2
   * @example 4
   */
  readonly desiredCount?: number;
  /**
   * The port the API listens on (`PORT`).
   * @default 8000
   * @example 8080
   */
  readonly containerPort?: number;
  /**
   * NAT gateways for the private subnets: `Single`, one for the VPC (cheaper), or `OnePerAz`, one per availability
   * zone (no single point of failure).
   * @default "Single"
   * @example "OnePerAz"
   */
  readonly natGateways?: string;
  /**
   * Seconds the load balancer keeps an idle connection open (1 to 4000). The app keeps idle connections 5 s longer
   * (`HTTP_KEEP_ALIVE_TIMEOUT_MS`), so the ALB always closes first: set the timeout here, not with a transform.
   * @default 60
   * @example 120
   */
  readonly loadBalancerIdleTimeoutSeconds?: number;
  /**
   * The API's public name: HTTPS on it (HTTP then redirects to HTTPS) with a certificate issued in the hosted zone
   * or the given one, an alias record to the load balancer when the zone is given, and `url` `https://<domainName>`.
   * @default none: HTTP only, on the load balancer's DNS name
   * @example { domainName: "api.example.com", hostedZoneId: "Z0123456789ABCDEFGHIJ" }
   */
  readonly domain?: ApiDomainArgs;
  /**
   * Run the tasks on Fargate Spot (capacity provider `FARGATE_SPOT`, up to 70 % cheaper, interruptible with a
   * two-minute warning) instead of on-demand Fargate.
   * @default false
   * @example true
   */
  readonly fargateSpot?: boolean;
  /**
   * The collector image (must contain `/healthcheck`, as ADOT images do).
   * @default "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
   * @example "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
   */
  readonly collectorImage?: string;
  /**
   * Path of your own collector config file, absolute or relative to the Pulumi project directory.
   * @default the package's `collector/config.yaml`
   * @example "otel/collector.yaml"
   */
  readonly collectorConfigPath?: string;
}

/**
 * Where the service runs: the VPC's ids, the caller's or the one it created. Passed to the methods rather than kept in
 * fields, because the plugin's schema lists every field of the class (private ones too) as an output.
 */
type Network = Pick<ExistingVpcArgs, "vpcId"> & {
  readonly publicSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  readonly privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
};

/** What the ECS service is attached to. */
interface ServicePlacement {
  readonly network: Network;
  readonly clusterArn: pulumi.Input<string>;
  readonly port: number;
  readonly taskSecurityGroup: aws.ec2.SecurityGroup;
  readonly listener: aws.lb.Listener;
}

/** The load balancer's idle timeout: the app's keep-alive timeout is set 5 s above it. */
function albIdleTimeoutSeconds(args: Pick<TracedFargateServiceArgs, "loadBalancerIdleTimeoutSeconds">): number {
  return args.loadBalancerIdleTimeoutSeconds ?? ALB_DEFAULT_IDLE_TIMEOUT_SECONDS;
}

/** The collector config file: the caller's from the project directory, else the one this package ships. */
function collectorConfigFile(args: Pick<TracedFargateServiceArgs, "collectorConfigPath">): string {
  return args.collectorConfigPath === undefined
    ? path.join(PACKAGE_ROOT, FARGATE_DEFAULTS.collectorConfigPath)
    : path.resolve(projectDirectory(), args.collectorConfigPath);
}

/** Every problem with the args (empty when valid). Pure apart from checking that the collector config exists. */
export function validateTracedFargateServiceArgs(
  args: Omit<TracedFargateServiceArgs, "queue" | "secret" | "table">,
): string[] {
  const problems: string[] = [];
  problems.push(...checkFargateSize(args.cpu ?? FARGATE_DEFAULTS.cpu, args.memory ?? FARGATE_DEFAULTS.memory));
  checkIntegerRange(problems, "desiredCount", args.desiredCount, 1, 1000);
  checkIntegerRange(problems, "containerPort", args.containerPort, 1024, 65535);
  if (args.containerPort === 4317 || args.containerPort === 4318 || args.containerPort === 13133) {
    problems.push(`containerPort ${args.containerPort} is used by the collector sidecar; use another, e.g. 8000.`);
  }
  if (args.domain) problems.push(...validateApiDomainArgs(args.domain).map((p) => `domain.${p}`));
  problems.push(...imageUriProblems(args));
  if (args.natGateways !== undefined && !(NAT_GATEWAY_STRATEGIES as readonly string[]).includes(args.natGateways)) {
    problems.push(`natGateways must be one of ${NAT_GATEWAY_STRATEGIES.join(", ")} (got "${args.natGateways}").`);
  }
  checkIntegerRange(
    problems,
    "loadBalancerIdleTimeoutSeconds",
    args.loadBalancerIdleTimeoutSeconds,
    ...ALB_IDLE_TIMEOUT_RANGE,
  );
  if (args.vpc && args.natGateways !== undefined) {
    problems.push(`natGateways applies only to the VPC this component creates; with vpc, your VPC's routing decides.`);
  }
  if (args.vpc && args.vpc.publicSubnetIds.length < 2) {
    problems.push(`vpc.publicSubnetIds needs subnets in at least two availability zones (an ALB requires two).`);
  }
  if (args.vpc && args.vpc.privateSubnetIds.length === 0) {
    problems.push(`vpc.privateSubnetIds needs at least one subnet for the tasks.`);
  }
  if (args.cluster && args.fargateSpot) {
    problems.push(
      `fargateSpot needs the cluster this component creates; with cluster, associate FARGATE_SPOT with your ` +
        `cluster yourself and set the service's capacity provider strategy with opts.transforms.`,
    );
  }
  if (!fs.existsSync(collectorConfigFile(args))) {
    problems.push(
      `collectorConfigPath "${args.collectorConfigPath}" does not exist (resolved from the project directory ` +
        `${projectDirectory()}); pass an absolute path or one relative to the project directory.`,
    );
  }
  return validateTracedServiceArgs(args, problems);
}

/**
 * The service's task definition after `pulumi up`, failing the update when it is not the one just registered.
 * With the circuit breaker's rollback, `waitForSteadyState` is also satisfied by the rolled-back deployment, so
 * the provider reports success (hashicorp/terraform-provider-aws#19519, #20858: `waitServiceStable` only waits for
 * one deployment with running = desired); the service's `taskDefinition`, read back after the wait, tells.
 */
export function checkRollout(
  running: pulumi.Output<string | undefined>,
  requested: pulumi.Output<string>,
): pulumi.Output<string> {
  return pulumi.all([running, requested]).apply(([actual, wanted]) => {
    if (actual !== wanted) {
      throw new pulumi.RunError(
        `The ECS deployment of ${wanted} failed and was rolled back: the service still runs ${actual}. ` +
          `Read the stopped tasks' reason (aws ecs describe-services, the service's events) and the app and ` +
          `collector log groups, fix the cause, and run pulumi up again.`,
      );
    }
    return wanted;
  });
}

/**
 * An HTTP API on ECS Fargate (ARM64) in private subnets behind a public ALB (HTTPS on its domain when given), with
 * an OpenTelemetry Collector sidecar sending traces to Coralogix, least-privilege roles and alarms.
 */
export class TracedFargateService extends pulumi.ComponentResource {
  /** The VPC it created (none with `vpc`). */
  readonly vpc?: awsx.ec2.Vpc;
  /** The cluster it created (none with `cluster`). */
  readonly cluster?: aws.ecs.Cluster;
  readonly loadBalancer: aws.lb.LoadBalancer;
  readonly targetGroup: aws.lb.TargetGroup;
  readonly taskDefinition: aws.ecs.TaskDefinition;
  readonly service: aws.ecs.Service;
  readonly taskRole: aws.iam.Role;
  readonly executionRole: aws.iam.Role;
  /** The task role's inline policy; the task definition and service are created after it. */
  readonly taskRolePolicy: aws.iam.RolePolicy;
  /** The execution role's inline policy; the task definition and service are created after it. */
  readonly executionRolePolicy: aws.iam.RolePolicy;
  readonly appLogGroup: aws.cloudwatch.LogGroup;
  readonly collectorLogGroup: aws.cloudwatch.LogGroup;
  /** The image's repository (none with a prebuilt `imageUri`). */
  readonly repository?: aws.ecr.Repository;
  /** The API's public name (when `domain` is given). */
  readonly domainName?: pulumi.Output<string>;
  /** The HTTPS listener's certificate (when `domain` is given); for an issued one, known once ACM validated it. */
  readonly certificateArn?: pulumi.Output<string>;
  /** FARGATE and FARGATE_SPOT on the cluster (when `fargateSpot`). */
  readonly capacityProviders?: aws.ecs.ClusterCapacityProviders;
  /** The digest-pinned app image URI. */
  readonly imageUri: pulumi.Output<string>;
  /** `https://<domainName>` with a domain, else `http://<alb dns>` */
  readonly url: pulumi.Output<string>;
  readonly clusterName: pulumi.Output<string>;
  readonly serviceName: pulumi.Output<string>;
  readonly loadBalancerArnSuffix: pulumi.Output<string>;
  readonly targetGroupArnSuffix: pulumi.Output<string>;
  /** The task definition the service runs after `pulumi up`; the update fails when it is not the new one. */
  readonly deployedTaskDefinition: pulumi.Output<string>;
  readonly alarms: aws.cloudwatch.MetricAlarm[];

  constructor(name: string, args: TracedFargateServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid("TracedFargateService", name, validateTracedFargateServiceArgs(args));
    super("traced:aws:TracedFargateService", name, {}, opts);
    const port = args.containerPort ?? FARGATE_DEFAULTS.containerPort;

    if (!args.vpc) {
      this.vpc = new awsx.ec2.Vpc(
        `${name}-vpc`,
        {
          numberOfAvailabilityZones: 2,
          // validateTracedFargateServiceArgs admits only NAT_GATEWAY_STRATEGIES.
          natGateways: {
            strategy: (args.natGateways ?? FARGATE_DEFAULTS.natGateways) as awsx.types.enums.ec2.NatGatewayStrategy,
          },
        },
        { parent: this },
      );
    }
    const network: Network = args.vpc ?? this.vpc!;
    const { albSecurityGroup, taskSecurityGroup } = this.createSecurityGroups(name, network, port, !!args.domain);
    this.loadBalancer = new aws.lb.LoadBalancer(
      `${name}-alb`,
      {
        loadBalancerType: "application",
        internal: false,
        subnets: network.publicSubnetIds,
        securityGroups: [albSecurityGroup.id],
        dropInvalidHeaderFields: true,
        // The app's keep-alive follows it (apiEdgeEnvironment in createTaskDefinition).
        idleTimeout: albIdleTimeoutSeconds(args),
      },
      { parent: this },
    );
    this.targetGroup = new aws.lb.TargetGroup(
      `${name}-tg`,
      {
        vpcId: network.vpcId,
        targetType: "ip",
        protocol: "HTTP",
        port,
        deregistrationDelay: 30,
        healthCheck: {
          path: FARGATE_DEFAULTS.healthCheckPath,
          matcher: "200",
          interval: 15,
          healthyThreshold: 2,
          unhealthyThreshold: 3,
        },
      },
      { parent: this },
    );
    const domain = args.domain
      ? new ApiDomain(`${name}-domain`, { ...args.domain, loadBalancer: this.loadBalancer }, { parent: this })
      : undefined;
    this.domainName = domain && pulumi.output(args.domain!.domainName);
    this.certificateArn = domain?.certificateArn;
    const listener = this.createListeners(name, this.certificateArn);
    if (!args.cluster) {
      this.cluster = new aws.ecs.Cluster(
        `${name}-cluster`,
        { settings: [{ name: "containerInsights", value: "enabled" }] },
        { parent: this },
      );
    }
    const cluster = args.cluster ?? this.cluster!;
    if (args.fargateSpot && this.cluster) {
      // FARGATE_SPOT must be associated with the cluster before a service's strategy may name it (ECS API
      // CapacityProviderStrategyItem: "Only capacity providers that are already associated with a cluster …").
      this.capacityProviders = new aws.ecs.ClusterCapacityProviders(
        `${name}-capacity-providers`,
        {
          clusterName: this.cluster.name,
          capacityProviders: ["FARGATE", "FARGATE_SPOT"],
          defaultCapacityProviderStrategies: [{ capacityProvider: "FARGATE_SPOT", weight: 1 }],
        },
        { parent: this },
      );
    }
    const built = serviceImage(name, args, { ...FARGATE_DEFAULTS.image, ...args.image }, this);
    this.repository = built.repository;
    this.imageUri = built.imageUri;
    const retentionInDays = logRetentionDays(args);
    this.appLogGroup = new aws.cloudwatch.LogGroup(`${name}-app-logs`, { retentionInDays }, { parent: this });
    this.collectorLogGroup = new aws.cloudwatch.LogGroup(
      `${name}-collector-logs`,
      { retentionInDays },
      { parent: this },
    );
    const execution = this.createExecutionRole(name, args);
    this.executionRole = execution.role;
    this.executionRolePolicy = execution.policy;
    const task = this.createTaskRole(name, args);
    this.taskRole = task.role;
    this.taskRolePolicy = task.policy;
    // Nothing else references the inline policies: without these dependencies ECS may start tasks before the
    // execution role may pull the image or read the secret, or before the API may reach its queue.
    const rolePolicies = [this.executionRolePolicy, this.taskRolePolicy];
    this.taskDefinition = this.createTaskDefinition(name, args, port, rolePolicies);
    this.service = this.createService(
      name,
      args,
      { network, clusterArn: cluster.arn, port, taskSecurityGroup, listener },
      rolePolicies,
    );
    this.deployedTaskDefinition = checkRollout(this.service.taskDefinition, this.taskDefinition.arn);
    this.alarms = args.alarms ? this.createAlarms(name, args.alarms.topicArn) : [];

    this.url = domain?.url ?? pulumi.interpolate`http://${this.loadBalancer.dnsName}`;
    this.clusterName = pulumi.output(cluster.name);
    this.serviceName = this.service.name;
    this.loadBalancerArnSuffix = this.loadBalancer.arnSuffix;
    this.targetGroupArnSuffix = this.targetGroup.arnSuffix;
    this.registerOutputs({
      url: this.url,
      domainName: this.domainName,
      certificateArn: this.certificateArn,
      clusterName: this.clusterName,
      serviceName: this.serviceName,
      deployedTaskDefinition: this.deployedTaskDefinition,
    });
  }

  /** The ALB accepts the internet on its listener ports and talks only to the tasks; tasks accept only the ALB. */
  private createSecurityGroups(name: string, network: Network, port: number, https: boolean) {
    const albSecurityGroup = new aws.ec2.SecurityGroup(
      `${name}-alb-sg`,
      { vpcId: network.vpcId, description: `Public ingress to the ${name} load balancer` },
      { parent: this },
    );
    const taskSecurityGroup = new aws.ec2.SecurityGroup(
      `${name}-task-sg`,
      { vpcId: network.vpcId, description: `The ${name} tasks: ingress from the load balancer only` },
      { parent: this },
    );
    const listenerPorts = https ? [80, 443] : [80];
    for (const listenerPort of listenerPorts) {
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-alb-in-${listenerPort}`,
        {
          securityGroupId: albSecurityGroup.id,
          description: "Public HTTP(S)",
          ipProtocol: "tcp",
          fromPort: listenerPort,
          toPort: listenerPort,
          cidrIpv4: "0.0.0.0/0",
        },
        { parent: this },
      );
    }
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-alb-out-tasks`,
      {
        securityGroupId: albSecurityGroup.id,
        description: "To the tasks",
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        referencedSecurityGroupId: taskSecurityGroup.id,
      },
      { parent: this },
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-task-in-alb`,
      {
        securityGroupId: taskSecurityGroup.id,
        description: "From the load balancer",
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        referencedSecurityGroupId: albSecurityGroup.id,
      },
      { parent: this },
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-task-out-https`,
      {
        securityGroupId: taskSecurityGroup.id,
        description: "HTTPS to AWS APIs, ECR and Coralogix (through the NAT gateway)",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: "0.0.0.0/0",
      },
      { parent: this },
    );
    return { albSecurityGroup, taskSecurityGroup };
  }

  /**
   * Forwards to the target group: on HTTPS with HTTP redirecting when there is a certificate, else on HTTP. An
   * issued certificate's ARN comes from its validation, so the HTTPS listener waits for ACM to issue it.
   */
  private createListeners(name: string, certificateArn: pulumi.Output<string> | undefined): aws.lb.Listener {
    const forward = [{ type: "forward", targetGroupArn: this.targetGroup.arn }];
    if (!certificateArn) {
      return new aws.lb.Listener(
        `${name}-http`,
        { loadBalancerArn: this.loadBalancer.arn, port: 80, protocol: "HTTP", defaultActions: forward },
        { parent: this },
      );
    }
    new aws.lb.Listener(
      `${name}-http`,
      {
        loadBalancerArn: this.loadBalancer.arn,
        port: 80,
        protocol: "HTTP",
        defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
      },
      { parent: this },
    );
    return new aws.lb.Listener(
      `${name}-https`,
      {
        loadBalancerArn: this.loadBalancer.arn,
        port: 443,
        protocol: "HTTPS",
        certificateArn,
        sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
        defaultActions: forward,
      },
      { parent: this },
    );
  }

  /** Pulls its image, writes its two log groups, reads its secret and decrypts that secret's key. */
  private createExecutionRole(name: string, args: TracedFargateServiceArgs) {
    return createServiceRole(
      `${name}-execution-role`,
      {
        description: `Starts the ${name} tasks: pulls images, writes logs, injects the telemetry secret`,
        service: "ecs-tasks.amazonaws.com",
        trustConditions: sameAccountTrust(this),
        statements: [
          ...this.imagePullStatements(args),
          writeLogsStatement([this.appLogGroup, this.collectorLogGroup]),
          ...secretReadStatements(args.secret),
        ],
      },
      this,
    );
  }

  /** Pulling its image: from its own repository, or a prebuilt image's ECR repository (nothing for other registries). */
  private imagePullStatements(args: TracedFargateServiceArgs): PolicyStatement[] {
    const repository = this.repository?.arn ?? (args.imageUri ? ecrRepositoryArn(args.imageUri) : undefined);
    if (repository === undefined) return [];
    return [
      // GetAuthorizationToken has no resource-level permissions; it only returns a registry login.
      { sid: "EcrLogin", actions: ["ecr:GetAuthorizationToken"], resources: ["*"] },
      {
        sid: "PullOwnImage",
        actions: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        resources: [repository],
      },
    ];
  }

  /** What the API itself may do: send to its queue with its key (and check it for /readyz). */
  private createTaskRole(name: string, args: TracedFargateServiceArgs) {
    return createServiceRole(
      `${name}-task-role`,
      {
        description: `The ${name} API: sends to its queue`,
        service: "ecs-tasks.amazonaws.com",
        trustConditions: sameAccountTrust(this),
        statements: [...queueSendStatements(args.queue), ...(args.table ? tableApiStatements(args.table) : [])],
      },
      this,
    );
  }

  private createTaskDefinition(
    name: string,
    args: TracedFargateServiceArgs,
    port: number,
    rolePolicies: aws.iam.RolePolicy[],
  ): aws.ecs.TaskDefinition {
    const region = aws.getRegionOutput({}, { parent: this }).region;
    const domain = resolveCoralogixDomain(args.coralogixDomain);
    const serviceName = args.serviceName ?? FARGATE_DEFAULTS.serviceName;
    const collectorConfig = fs.readFileSync(collectorConfigFile(args), "utf8");
    const logging = (group: aws.cloudwatch.LogGroup, prefix: string) => ({
      logDriver: "awslogs",
      options: { "awslogs-group": group.name, "awslogs-region": region, "awslogs-stream-prefix": prefix },
    });
    const env = (vars: Record<string, pulumi.Input<string>>) =>
      Object.entries(vars).map(([key, value]) => ({ name: key, value }));

    const collector = {
      name: COLLECTOR_CONTAINER,
      image: args.collectorImage ?? FARGATE_DEFAULTS.collectorImage,
      essential: true,
      user: FARGATE_DEFAULTS.collectorUser,
      readonlyRootFilesystem: true,
      environment: env({
        [AOT_CONFIG_CONTENT_ENV]: collectorConfig,
        [CORALOGIX_DOMAIN_ENV]: domain,
        [CX_APPLICATION_NAME_ENV]: args.applicationName,
        [CX_SUBSYSTEM_NAME_ENV]: serviceName,
      }),
      secrets: [{ name: CORALOGIX_API_KEY_ENV, valueFrom: pulumi.interpolate`${args.secret.arn}:${API_KEY_FIELD}::` }],
      healthCheck: { command: ["CMD", "/healthcheck"], interval: 10, timeout: 5, retries: 3, startPeriod: 10 },
      logConfiguration: logging(this.collectorLogGroup, "collector"),
    };
    const app = {
      name: APP_CONTAINER,
      image: this.imageUri,
      essential: true,
      user: FARGATE_DEFAULTS.appUser,
      readonlyRootFilesystem: true,
      portMappings: [{ containerPort: port, protocol: "tcp" }],
      environment: env({
        [QUEUE_URL_ENV]: args.queue.url,
        ...(args.table ? { [ONBOARDING_TABLE_NAME_ENV]: args.table.name } : {}),
        [PORT_ENV]: String(port),
        [HOST_ENV]: "0.0.0.0",
        AWS_REGION: region,
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4317",
        ...apiEdgeEnvironment(albIdleTimeoutSeconds(args)),
        ...serviceIdentityEnvironment(args, serviceName),
      }),
      // Node may write temp files; the root filesystem stays read-only.
      mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }],
      dependsOn: [{ containerName: COLLECTOR_CONTAINER, condition: "HEALTHY" }],
      healthCheck: {
        command: [
          "CMD",
          "node",
          "-e",
          `fetch("http://127.0.0.1:${port}${FARGATE_DEFAULTS.healthCheckPath}")` +
            `.then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
        ],
        interval: 15,
        timeout: 5,
        retries: 3,
        startPeriod: 15,
      },
      logConfiguration: logging(this.appLogGroup, "app"),
    };
    const taskArgs: aws.ecs.TaskDefinitionArgs = {
      family: `${name}-${pulumi.getStack()}`,
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: String(args.cpu ?? FARGATE_DEFAULTS.cpu),
      memory: String(args.memory ?? FARGATE_DEFAULTS.memory),
      runtimePlatform: { cpuArchitecture: "ARM64", operatingSystemFamily: "LINUX" },
      executionRoleArn: this.executionRole.arn,
      taskRoleArn: this.taskRole.arn,
      volumes: [{ name: "tmp" }],
      containerDefinitions: pulumi.jsonStringify([app, collector]),
    };
    return new aws.ecs.TaskDefinition(`${name}-task`, taskArgs, {
      parent: this,
      dependsOn: rolePolicies,
    });
  }

  private createService(
    name: string,
    args: TracedFargateServiceArgs,
    placement: ServicePlacement,
    rolePolicies: aws.iam.RolePolicy[],
  ): aws.ecs.Service {
    const { network, clusterArn, port, taskSecurityGroup, listener } = placement;
    const serviceArgs: aws.ecs.ServiceArgs = {
      cluster: clusterArn,
      taskDefinition: this.taskDefinition.arn,
      desiredCount: args.desiredCount ?? FARGATE_DEFAULTS.desiredCount,
      // A capacity provider strategy conflicts with launchType, and changing it needs a new deployment (pulumi-aws
      // ecs.Service `capacityProviderStrategies`: "Updating this argument requires forceNewDeployment = true").
      // FARGATE_SPOT runs ARM64 Linux tasks on platform version 1.4.0 or later (ECS API reference,
      // CapacityProviderStrategyItem), which LATEST is; the Developer Guide's older "X86_64 only" note predates it.
      ...(args.fargateSpot
        ? { capacityProviderStrategies: [{ capacityProvider: "FARGATE_SPOT", weight: 1 }], forceNewDeployment: true }
        : { launchType: "FARGATE" }),
      networkConfiguration: {
        subnets: network.privateSubnetIds,
        securityGroups: [taskSecurityGroup.id],
        assignPublicIp: false,
      },
      loadBalancers: [{ targetGroupArn: this.targetGroup.arn, containerName: APP_CONTAINER, containerPort: port }],
      deploymentCircuitBreaker: { enable: true, rollback: true },
      // `pulumi up` waits until the rollout is done (or rolled back) instead of returning at once.
      waitForSteadyState: true,
      deploymentMinimumHealthyPercent: 100,
      deploymentMaximumPercent: 200,
      healthCheckGracePeriodSeconds: 30,
      propagateTags: "SERVICE",
    };
    return new aws.ecs.Service(
      `${name}-service`,
      serviceArgs,
      // The target group must be attached to the load balancer before a service can register into it.
      {
        parent: this,
        dependsOn: [listener, ...rolePolicies, ...(this.capacityProviders ? [this.capacityProviders] : [])],
        customTimeouts: { create: FARGATE_DEFAULTS.steadyStateTimeout, update: FARGATE_DEFAULTS.steadyStateTimeout },
      },
    );
  }

  private createAlarms(name: string, topicArn: pulumi.Input<string>): aws.cloudwatch.MetricAlarm[] {
    const target = {
      namespace: "AWS/ApplicationELB",
      dimensions: { LoadBalancer: this.loadBalancer.arnSuffix, TargetGroup: this.targetGroup.arnSuffix },
    };
    return [
      createAlarm(
        `${name}-5xx`,
        topicArn,
        {
          ...target,
          alarmDescription: `The ${name} API is answering 5xx: check its logs and traces.`,
          metricName: "HTTPCode_Target_5XX_Count",
          statistic: "Sum",
          threshold: 5,
        },
        this,
      ),
      createAlarm(
        `${name}-unhealthy-targets`,
        topicArn,
        {
          ...target,
          alarmDescription: `Some ${name} tasks fail the /healthz check.`,
          metricName: "UnHealthyHostCount",
          statistic: "Maximum",
          threshold: 0,
        },
        this,
      ),
    ];
  }
}
