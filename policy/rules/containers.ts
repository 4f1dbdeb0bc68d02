/**
 * ECS rules (services, task definitions and their container definitions — a JSON string input) and the
 * environment-variable secret rule shared by task definitions and Lambda functions.
 */
import { parse } from "yaml";
import { asArray, asNumber, asRecord, asString, get, isRecord, isUnknown, parseJson } from "./model";
import type { Props, ResourceRule } from "./model";
import { FUNCTION, SERVICE, TASK_DEFINITION } from "./types";

/** The container definitions of a task definition (empty when unknown or unparsable). */
export function containersOf(props: Props): Record<string, unknown>[] {
  return asArray(parseJson(props.containerDefinitions)).filter(isRecord);
}

/** A container's name, or its position when it has none. */
export const containerName = (c: Record<string, unknown>, i: number): string =>
  asString(c.name) ?? `container ${i + 1}`;

/** One message per container of a task definition that `problem` finds fault with, given the container and its name. */
function containerProblems(
  props: Props,
  problem: (container: Record<string, unknown>, name: string) => string | undefined,
): string[] {
  return containersOf(props).flatMap((c, i) => problem(c, containerName(c, i)) ?? []);
}

export const ecsNoPublicIp: ResourceRule = {
  kind: "resource",
  id: "ecs-no-public-ip",
  description: "ECS services do not assign public IPs to tasks.",
  severity: "high",
  category: "security",
  checkov: ["CKV_AWS_333"],
  fsbp: ["ECS.2"],
  types: [SERVICE],
  check(_type, props) {
    // Unknown during a preview → not true → passes; it is judged again at update time.
    const assign = asRecord(props.networkConfiguration).assignPublicIp;
    return assign === true || assign === "true"
      ? [
          "networkConfiguration.assignPublicIp is true; run tasks in private subnets behind the load balancer with assignPublicIp: false.",
        ]
      : [];
  },
};

export const ecsSeparateRoles: ResourceRule = {
  kind: "resource",
  id: "ecs-execution-role-differs-from-task-role",
  description: "A task definition's execution role (pull images, write logs, read secrets) is not its task role.",
  severity: "high",
  category: "security",
  checkov: ["CKV_AWS_249"],
  types: [TASK_DEFINITION],
  check(_type, props) {
    const execution = asString(props.executionRoleArn);
    const task = asString(props.taskRoleArn);
    return execution !== undefined && execution === task
      ? [`executionRoleArn and taskRoleArn are the same role (${execution}); give the application its own task role.`]
      : [];
  },
};

export const ecsNonPrivileged: ResourceRule = {
  kind: "resource",
  id: "ecs-containers-non-privileged",
  description: "No container runs privileged.",
  severity: "high",
  category: "security",
  checkov: ["CKV_AWS_334"],
  fsbp: ["ECS.4"],
  types: [TASK_DEFINITION],
  check(_type, props) {
    return containerProblems(props, (c, name) =>
      c.privileged === true ? `container "${name}" sets privileged: true; remove it.` : undefined,
    );
  },
};

/** True for a container `user` that is root: `root`, `0`, or either with a group (`0:0`, `root:wheel`). */
export function isRootUser(user: string): boolean {
  const name = user.split(":")[0]?.trim();
  return name === "root" || name === "0";
}

export const ecsNonRoot: ResourceRule = {
  kind: "resource",
  id: "ecs-containers-non-root",
  description: 'Every container runs as a non-root user (container definition "user" set, not root or 0).',
  severity: "medium",
  category: "security",
  types: [TASK_DEFINITION],
  check(_type, props) {
    return containerProblems(props, (c, name) => {
      const user = asString(c.user);
      if (user === undefined) {
        return `container "${name}" sets no user, so it runs as the image's user (root unless the image says otherwise); set user, e.g. "1000:1000".`;
      }
      return isRootUser(user) ? `container "${name}" runs as ${user}; set a non-root user.` : undefined;
    });
  },
};

export const ecsLogging: ResourceRule = {
  kind: "resource",
  id: "ecs-containers-logging-configured",
  description: "Every container has a logConfiguration with a log driver.",
  severity: "medium",
  category: "security",
  fsbp: ["ECS.9"],
  types: [TASK_DEFINITION],
  check(_type, props) {
    return containerProblems(props, (c, name) =>
      asString(asRecord(c.logConfiguration).logDriver)
        ? undefined
        : `container "${name}" has no logConfiguration.logDriver; send its logs to a CloudWatch log group with retention (awslogs).`,
    );
  },
};

export const ecsReadonlyRoot: ResourceRule = {
  kind: "resource",
  id: "ecs-containers-readonly-root-filesystem",
  description: "Every container mounts its root filesystem read-only.",
  severity: "medium",
  category: "security",
  checkov: ["CKV_AWS_336"],
  fsbp: ["ECS.5"],
  types: [TASK_DEFINITION],
  check(_type, props) {
    return containerProblems(props, (c, name) =>
      c.readonlyRootFilesystem === true
        ? undefined
        : `container "${name}" does not set readonlyRootFilesystem: true; mount a volume for the paths it writes.`,
    );
  },
};

/**
 * Fargate task sizes: CPU units → allowed memory (MiB). Source: Amazon ECS Developer Guide, "Task CPU and memory"
 * (8 and 16 vCPU need Linux platform 1.4.0+).
 */
export const FARGATE_SIZES: ReadonlyMap<number, readonly number[]> = new Map([
  [256, [512, 1024, 2048]],
  [512, [1024, 2048, 3072, 4096]],
  [1024, range(2048, 8192, 1024)],
  [2048, range(4096, 16384, 1024)],
  [4096, range(8192, 30720, 1024)],
  [8192, range(16384, 61440, 4096)],
  [16384, range(32768, 122880, 8192)],
]);

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

/** A task size as ECS accepts it: a plain number, or `<n> <unit>` where one unit is 1024 of the plain number. */
function taskSize(value: unknown, unit: string): number | undefined {
  const n = asNumber(value);
  if (n !== undefined) return n;
  const m = new RegExp(`^\\s*([\\d.]+)\\s*${unit}\\s*$`, "i").exec(String(value ?? ""));
  return m ? Math.round(Number(m[1]) * 1024) : undefined;
}

/** `"1024"`, `1024` or `"1 vCPU"` → CPU units. */
export const cpuUnits = (value: unknown): number | undefined => taskSize(value, "vcpu");

/** `"2048"`, `2048` or `"2 GB"` → MiB. */
export const memoryMiB = (value: unknown): number | undefined => taskSize(value, "gb");

export const fargateSize: ResourceRule = {
  kind: "resource",
  id: "fargate-cpu-memory-valid",
  description: "Fargate task definitions use an allowed CPU/memory pair.",
  severity: "high",
  category: "deploy",
  types: [TASK_DEFINITION],
  check(_type, props) {
    if (!asArray(props.requiresCompatibilities).includes("FARGATE")) return [];
    if (isUnknown(props.cpu) || isUnknown(props.memory)) return [];
    const cpu = cpuUnits(props.cpu);
    const memory = memoryMiB(props.memory);
    const allowed = cpu === undefined ? undefined : FARGATE_SIZES.get(cpu);
    if (!allowed) {
      return [
        `cpu ${String(props.cpu)} is not a Fargate size; use one of ${[...FARGATE_SIZES.keys()].join(", ")} CPU units.`,
      ];
    }
    if (memory === undefined || !allowed.includes(memory)) {
      return [
        `memory ${String(props.memory)} is not allowed with cpu ${cpu}; use ${allowed[0]}–${allowed[allowed.length - 1]} MiB (${allowed.join(", ")}).`,
      ];
    }
    return [];
  },
};

/** Collector images we know the contents of: which executables exist, and whether there is a shell. */
export interface KnownCollectorImage {
  readonly description: string;
  readonly match: RegExp;
  /** Executables a `["CMD", ...]` health check can run; empty when none can report health. */
  readonly healthCheckExecutables: readonly string[];
  /** Whether `/bin/sh` exists (needed by `CMD-SHELL`). */
  readonly shell: boolean;
  /**
   * The health-check executable only reports what the collector's `health_check` extension answers; when the config
   * comes inline in this environment variable, that extension must be enabled in `service.extensions`.
   */
  readonly inlineConfigEnv?: string;
}

export const KNOWN_COLLECTOR_IMAGES: readonly KnownCollectorImage[] = [
  {
    description: "AWS Distro for OpenTelemetry collector (scratch image with /awscollector and /healthcheck)",
    match: /(^|\/)aws-otel-collector([:@]|$)/,
    healthCheckExecutables: ["/healthcheck"],
    shell: false,
    inlineConfigEnv: "AOT_CONFIG_CONTENT",
  },
  {
    description: "OpenTelemetry collector (distroless: no shell, no curl, no health-check binary)",
    match: /(^|\/)(opentelemetry-collector(-contrib|-k8s)?|otelcol(-contrib|-k8s)?)([:@]|$)/,
    healthCheckExecutables: [],
    shell: false,
  },
];

/** The known collector image a container runs, if any. */
export function collectorImageOf(container: Record<string, unknown>): KnownCollectorImage | undefined {
  const image = asString(container.image);
  return image ? KNOWN_COLLECTOR_IMAGES.find((k) => k.match.test(image)) : undefined;
}

/** Names and images that say "telemetry collector" even when the image is not one of the known ones. */
const COLLECTOR_HINT = /(otel|opentelemetry|collector|adot)/i;

/** True for a collector sidecar: a known collector image, or a container whose name or image says it is one. */
export function isCollector(container: Record<string, unknown>): boolean {
  return (
    collectorImageOf(container) !== undefined ||
    COLLECTOR_HINT.test(asString(container.name) ?? "") ||
    COLLECTOR_HINT.test(asString(container.image) ?? "")
  );
}

/** A container's literal environment value (undefined when unset; unknown values pass through). */
function envValue(container: Record<string, unknown>, name: string): unknown {
  return asArray(container.environment)
    .filter(isRecord)
    .find((e) => e.name === name)?.value;
}

/** True unless `config` is a collector config (YAML) whose service.extensions leaves out health_check. */
export function enablesHealthCheckExtension(config: unknown): boolean {
  const text = asString(config);
  if (text === undefined) return true; // no inline config (the image's default has it) or not known yet
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return false;
  }
  return asArray(get(doc, "service.extensions")).some((e) => typeof e === "string" && /^health_check(\/|$)/.test(e));
}

export const collectorHealthCheck: ResourceRule = {
  kind: "resource",
  id: "collector-health-check-exists-in-image",
  description: "The collector container has a health check whose command exists in its image.",
  severity: "high",
  category: "deploy",
  types: [TASK_DEFINITION],
  check(_type, props) {
    const problems: string[] = [];
    containersOf(props).forEach((c, i) => {
      if (!isCollector(c)) return;
      const name = containerName(c, i);
      const known = collectorImageOf(c);
      if (!known) {
        if (isUnknown(c.image)) return;
        problems.push(
          `collector container "${name}" runs ${String(c.image)}, an image whose contents this rule does not know, so ` +
            "its health check cannot be verified; use a known collector image or add it to KNOWN_COLLECTOR_IMAGES.",
        );
        return;
      }
      const fix =
        known.healthCheckExecutables.length > 0
          ? `use ["CMD", "${known.healthCheckExecutables[0]}"]`
          : "this image cannot run a health check; use the AWS Distro for OpenTelemetry image and its /healthcheck";
      const command = asArray(asRecord(c.healthCheck).command).map(String);
      if (command.length === 0) {
        problems.push(`collector container "${name}" has no healthCheck; ${fix}.`);
      } else if (command[0] === "CMD-SHELL" && !known.shell) {
        problems.push(`collector container "${name}" uses CMD-SHELL but ${known.description} has no /bin/sh; ${fix}.`);
      } else if (command[0] === "CMD" && !known.healthCheckExecutables.includes(command[1] ?? "")) {
        problems.push(
          `collector container "${name}" runs ${command[1] ?? "nothing"}, which ${known.description} does not provide; ${fix}.`,
        );
      } else if (command[0] !== "CMD" && command[0] !== "CMD-SHELL") {
        problems.push(`collector container "${name}" health check must start with "CMD"; ${fix}.`);
      } else if (known.inlineConfigEnv && !enablesHealthCheckExtension(envValue(c, known.inlineConfigEnv))) {
        problems.push(
          `collector container "${name}" runs ${command[1]}, but its ${known.inlineConfigEnv} config does not enable the ` +
            "health_check extension it queries (the task would never become healthy); add health_check to extensions " +
            "and service.extensions.",
        );
      }
    });
    return problems;
  },
};

export const appDependsOnCollector: ResourceRule = {
  kind: "resource",
  id: "app-depends-on-healthy-collector",
  description: "In a task with a collector sidecar, every other essential container depends on it being HEALTHY.",
  severity: "medium",
  category: "deploy",
  types: [TASK_DEFINITION],
  check(_type, props) {
    const containers = containersOf(props);
    const collectors = containers.filter(isCollector).map((c) => asString(c.name));
    if (collectors.length === 0) return [];
    const problems: string[] = [];
    containers.forEach((c, i) => {
      if (isCollector(c) || c.essential === false) return;
      const deps = asArray(c.dependsOn).filter(isRecord);
      for (const collector of collectors) {
        const dep = deps.find((d) => d.containerName === collector);
        if (!dep) {
          problems.push(
            `container "${containerName(c, i)}" does not depend on collector "${collector}"; add dependsOn [{ containerName: "${collector}", condition: "HEALTHY" }].`,
          );
        } else if (dep.condition !== "HEALTHY") {
          problems.push(
            `container "${containerName(c, i)}" depends on "${collector}" with condition ${String(dep.condition)}; use HEALTHY so no span is exported before the collector listens.`,
          );
        }
      }
    });
    return problems;
  },
};

/** Environment variable names that hold credentials (FSBP ECS.8 names plus common secret suffixes). */
const SECRET_NAME =
  /(^|_)(SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|APIKEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?|AUTH(_DATA)?)(_|$)/i;
/** Values that carry a credential whatever the name, e.g. OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer <key>. */
const SECRET_VALUE = /(authorization\s*=\s*bearer\s+(?!\$\{)\S+|(api[-_]?key|x-api-key|token)\s*=\s*(?!\$\{)\S+)/i;

/** Why an environment variable looks like a literal secret, or undefined when it does not. */
export function literalSecret(name: string, value: unknown): string | undefined {
  const text = asString(value);
  if (text === undefined || text.trim() === "") return undefined;
  if (text.startsWith("arn:") || /_ARN$/i.test(name)) return undefined; // a reference to a secret, not the secret
  if (SECRET_NAME.test(name)) return `${name} looks like a credential and has a literal value`;
  if (SECRET_VALUE.test(text)) return `${name} carries a credential in its value`;
  return undefined;
}

export const noLiteralSecretsInEnvironment: ResourceRule = {
  kind: "resource",
  id: "no-literal-secrets-in-environment",
  description:
    "No Lambda or container environment variable holds a literal secret; use Secrets Manager (ARN or ECS secrets/valueFrom).",
  severity: "critical",
  category: "security",
  checkov: ["CKV_AWS_45"],
  fsbp: ["ECS.8"],
  types: [FUNCTION, TASK_DEFINITION],
  check(type, props) {
    const problems: string[] = [];
    if (type === FUNCTION) {
      const vars = asRecord(asRecord(props.environment).variables);
      for (const [name, value] of Object.entries(vars)) {
        const why = literalSecret(name, value);
        if (why) problems.push(`environment: ${why}; pass a Secrets Manager ARN and read it at init.`);
      }
    } else {
      containersOf(props).forEach((c, i) => {
        for (const entry of asArray(c.environment).filter(isRecord)) {
          const why = literalSecret(String(entry.name ?? ""), entry.value);
          if (why) problems.push(`container "${containerName(c, i)}" environment: ${why}; use secrets[].valueFrom.`);
        }
      });
    }
    return problems;
  },
};

export const containerRules = [
  ecsNoPublicIp,
  ecsSeparateRoles,
  ecsNonPrivileged,
  ecsNonRoot,
  ecsLogging,
  ecsReadonlyRoot,
  fargateSize,
  collectorHealthCheck,
  appDependsOnCollector,
  noLiteralSecretsInEnvironment,
] as const;
