/**
 * The environment-variable secret rule, shared by Lambda functions and task definitions' containers.
 */
import { containerName, containersOf } from "./ecs";
import { asArray, asRecord, asString, isRecord } from "./model";
import type { ResourceRule } from "./model";
import { FUNCTION, TASK_DEFINITION } from "./types";

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

export const secretRules = [noLiteralSecretsInEnvironment] as const;
