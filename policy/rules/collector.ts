/**
 * Collector sidecar rules: its health check must run something its image has, and the other containers wait for it.
 */
import { parse } from "yaml";
import { containerName, containersOf } from "./ecs";
import { asArray, asRecord, asString, get, isRecord, isUnknown } from "./model";
import type { ResourceRule } from "./model";
import { TASK_DEFINITION } from "./types";

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

export const collectorRules = [collectorHealthCheck, appDependsOnCollector] as const;
