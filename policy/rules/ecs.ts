/**
 * ECS rules: services, task definitions and their container definitions (a JSON string input), and Fargate sizes.
 */
import { FARGATE_CPUS, FARGATE_MEMORY_BY_CPU } from "../../packages/traced-components/src/fargate-sizes";
import { asArray, asNumber, asRecord, asString, isRecord, isUnknown, parseJson } from "./model";
import type { Props, ResourceRule } from "./model";
import { SERVICE, TASK_DEFINITION } from "./types";

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
    const allowed = cpu === undefined ? undefined : FARGATE_MEMORY_BY_CPU[cpu];
    if (!allowed) {
      return [`cpu ${String(props.cpu)} is not a Fargate size; use one of ${FARGATE_CPUS.join(", ")} CPU units.`];
    }
    if (memory === undefined || !allowed.includes(memory)) {
      return [
        `memory ${String(props.memory)} is not allowed with cpu ${cpu}; use ${allowed[0]}–${allowed[allowed.length - 1]} MiB (${allowed.join(", ")}).`,
      ];
    }
    return [];
  },
};

export const ecsRules = [
  ecsNoPublicIp,
  ecsSeparateRoles,
  ecsNonPrivileged,
  ecsNonRoot,
  ecsLogging,
  ecsReadonlyRoot,
  fargateSize,
] as const;
