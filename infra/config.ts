/**
 * Typed, validated stack config (namespace `traced-onboarding:`). One table, {@link CONFIG_TABLE}, states every key:
 * how it is parsed, its default (the components' own, wherever the key sets a component arg) and a valid example.
 * The key list, the {@link StackConfig} type, {@link parseStackConfig} and the Pulumi.yaml test derive from it.
 * Rules across keys belong to the components: their exported validators judge the parsed values
 * ({@link COMPONENT_CHECKS}); only the stack's own policy (production, the domain keys) is stated here. A missing or
 * invalid key fails the program once, listing every problem with the key name and a valid example.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import {
  certificateArnProblem,
  checkFargateSize,
  checkLogRetention,
  DEFAULT_LOG_RETENTION_DAYS,
  DOMAIN_EXAMPLES,
  domainNameProblem,
  FARGATE_DEFAULTS,
  hostedZoneIdProblem,
  INTEGRATION_TYPES,
  LAMBDA_DEFAULTS,
  METRIC_STREAM_DEFAULTS,
  type MetricStreamFormat,
  QUEUE_DEFAULTS,
  resolveCoralogixDomain,
  validateAlarmTopicArgs,
  validateTracedContainerLambdaArgs,
  validateTracedQueueArgs,
} from "@traced-onboarding/components";
import { PROJECT_ROOT } from "./project-root";

const DAY_SECONDS = 24 * 60 * 60;

export const PROJECT = "traced-onboarding";

/** Everything {@link parseStackConfig} needs besides the raw strings. */
export interface ParseContext {
  /** The stack name: the default `environment`. */
  readonly stack: string;
  /** `package.json` version: the default `serviceVersion`. */
  readonly packageVersion: string;
  /**
   * Whether `coralogixApiKey` is set. (That it is stored encrypted is enforced by the CLI: Pulumi.yaml declares it
   * `secret: true`.)
   */
  readonly hasApiKey: boolean;
}

/** A key's value, or what is wrong with it: a sentence that starts with the key's full name. */
type Parsed<T> =
  { readonly value: T; readonly problem?: undefined } | { readonly value?: undefined; readonly problem: string };

/** One row of {@link CONFIG_TABLE}. */
interface ConfigRow<T> {
  /**
   * The Pulumi.yaml default (a test checks they agree; the CLI treats a declared key without a default as
   * required). `""` and `-1` mean "not set". None: the key is required.
   */
  readonly default?: string | number | boolean;
  /** A valid value, for the `e.g. pulumi config set <key> <example>` of every problem with the key. */
  readonly example: string;
  readonly secret?: true;
  /** `raw` is undefined when the key is unset (or `""`); `name` is the key with the project prefix. */
  readonly parse: (raw: string | undefined, name: string, context: ParseContext) => Parsed<T>;
}

function integer(
  min: number,
  max: number,
  fallback: number,
  example: string,
  check?: (value: number, name: string) => string | undefined,
): ConfigRow<number> {
  return {
    default: fallback,
    example,
    parse: (raw, name) => {
      if (raw === undefined) return { value: fallback };
      const n = Number(raw);
      if (!/^-?\d+$/.test(raw.trim()) || n < min || n > max) {
        return { problem: `${name} must be an integer from ${min} to ${max} (got "${raw}")` };
      }
      const problem = check?.(n, name);
      return problem ? { problem } : { value: n };
    },
  };
}

function oneOf<T extends string>(allowed: readonly T[], fallback: T): ConfigRow<T> {
  return {
    default: fallback,
    example: allowed[0],
    parse: (raw, name) => {
      if (raw === undefined) return { value: fallback };
      if ((allowed as readonly string[]).includes(raw)) return { value: raw as T };
      return { problem: `${name} must be one of ${allowed.join(", ")} (got "${raw}")` };
    },
  };
}

function flag(): ConfigRow<boolean> {
  const text = oneOf(["true", "false"] as const, "false");
  return { ...text, default: false, parse: (raw, name, c) => map(text.parse(raw, name, c), (v) => v === "true") };
}

/** An optional string: `""` (the Pulumi.yaml default) is unset; `problem` judges a set value. */
function optional(example: string, problem?: (value: string) => string | undefined): ConfigRow<string | undefined> {
  return {
    default: "",
    example,
    parse: (raw, name) => {
      const found = raw === undefined ? undefined : problem?.(raw);
      return found ? { problem: `${name} ${found}` } : { value: raw };
    },
  };
}

/** 1-64 letters, digits, ".", "_" or "-": the names that go into resource attributes. */
function identifier(
  example: string,
  fallback: (context: ParseContext) => string,
  yamlDefault: string,
): ConfigRow<string> {
  return {
    default: yamlDefault,
    example,
    parse: (raw, name, context) => {
      const value = raw ?? fallback(context);
      if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(value)) return { value };
      return { problem: `${name} must be 1-64 letters, digits, ".", "_" or "-" (got "${value}")` };
    },
  };
}

function map<T, U>(parsed: Parsed<T>, f: (value: T) => U): Parsed<U> {
  return parsed.problem === undefined ? { value: f(parsed.value) } : parsed;
}

const METRIC_STREAM_FORMATS = Object.keys(INTEGRATION_TYPES) as MetricStreamFormat[];
const reservedConcurrency = integer(-1, 10000, -1, "20");

/**
 * Every key the program reads (without the project prefix), in Pulumi.yaml's order: how it is parsed, its default
 * and an example. A value that does not parse is reported here, by its key, and kept from the component checks.
 */
export const CONFIG_TABLE = {
  /** Resolved Coralogix domain, e.g. `us2.coralogix.com`. */
  coralogixDomain: {
    example: "us2",
    parse: (raw: string | undefined, name: string): Parsed<string> => {
      if (raw === undefined) return { problem: `${name} is required: the Coralogix region or domain` };
      try {
        return { value: resolveCoralogixDomain(raw) };
      } catch (error) {
        return { problem: `${name}: ${(error as Error).message}` };
      }
    },
  },
  /** Read as a secret Output by {@link loadConfig}; the table only checks it is set. */
  coralogixApiKey: {
    example: "<key>",
    secret: true,
    parse: (_raw: string | undefined, name: string, context: ParseContext): Parsed<undefined> =>
      context.hasApiKey
        ? { value: undefined }
        : { problem: `${name} is required: your Coralogix send-your-data API key` },
  },
  applicationName: identifier("customer-onboarding", () => "customer-onboarding", "customer-onboarding"),
  /** `""`: the stack name. */
  environment: identifier("prod", (context) => context.stack, ""),
  /** `""`: the `version` in package.json. */
  serviceVersion: {
    default: "",
    example: "1.4.0",
    parse: (raw: string | undefined, _name: string, context: ParseContext): Parsed<string> => ({
      value: raw ?? context.packageVersion,
    }),
  },
  apiCpu: integer(256, 16384, FARGATE_DEFAULTS.cpu, "512"),
  apiMemory: integer(512, 122880, FARGATE_DEFAULTS.memory, "1024"),
  apiDesiredCount: integer(1, 100, FARGATE_DEFAULTS.desiredCount, "2"),
  natGateways: oneOf(["Single", "OnePerAz"] as const, FARGATE_DEFAULTS.natGateways),
  /** The API's public name; with `hostedZoneId` or `certificateArn` it serves HTTPS there. `""`: HTTP only. */
  domainName: optional(DOMAIN_EXAMPLES.domainName, domainNameProblem),
  /** `""`: no Route 53 records (then certificateArn is required with domainName). */
  hostedZoneId: optional(DOMAIN_EXAMPLES.hostedZoneId, hostedZoneIdProblem),
  /** `""`: with hostedZoneId, a DNS-validated certificate is issued for domainName. */
  certificateArn: optional(DOMAIN_EXAMPLES.certificateArn, certificateArnProblem),
  /** Production without a domain is refused unless this is set (see {@link isProduction}). */
  allowPlainHttp: flag(),
  /** Run the API on Fargate Spot (refused in production). */
  fargateSpot: flag(),
  /** A CloudWatch Synthetics canary POSTs a synthetic customer every 5 minutes. */
  canary: flag(),
  collectorImage: {
    default: FARGATE_DEFAULTS.collectorImage,
    example: FARGATE_DEFAULTS.collectorImage,
    parse: (raw: string | undefined): Parsed<string> => ({ value: raw ?? FARGATE_DEFAULTS.collectorImage }),
  },
  lambdaMemoryMb: integer(128, 10240, LAMBDA_DEFAULTS.memorySizeMb, "1024"),
  lambdaTimeoutSeconds: integer(1, 900, LAMBDA_DEFAULTS.timeoutSeconds, "30"),
  /** `-1` (the default): unreserved. */
  lambdaReservedConcurrency: {
    ...reservedConcurrency,
    parse: (raw: string | undefined, name: string, context: ParseContext): Parsed<number | undefined> =>
      map(reservedConcurrency.parse(raw, name, context), (n) => (n === -1 ? undefined : n)),
  },
  batchSize: integer(1, 10000, LAMBDA_DEFAULTS.batchSize, "10"),
  batchingWindowSeconds: integer(0, 300, LAMBDA_DEFAULTS.batchingWindowSeconds, "1"),
  maxConcurrency: integer(2, 1000, LAMBDA_DEFAULTS.maximumConcurrency, "5"),
  maxReceiveCount: integer(1, 1000, QUEUE_DEFAULTS.deadLetter.maxReceiveCount, "5"),
  queueRetentionDays: integer(1, 14, QUEUE_DEFAULTS.messageRetentionSeconds / DAY_SECONDS, "4"),
  dlqRetentionDays: integer(1, 14, QUEUE_DEFAULTS.deadLetter.retentionSeconds / DAY_SECONDS, "14"),
  logRetentionDays: integer(1, 3653, DEFAULT_LOG_RETENTION_DAYS, "30", (n, name) => checkLogRetention(name, n)),
  /** `""`: no email subscription. */
  alarmEmail: optional("oncall@example.com"),
  metricStreamFormat: {
    ...oneOf(METRIC_STREAM_FORMATS, METRIC_STREAM_DEFAULTS.format),
    parse: (raw: string | undefined, name: string, context: ParseContext): Parsed<MetricStreamFormat> =>
      raw === "json"
        ? {
            // terraform-coralogix-aws v1.0.67 removed CloudWatch_Metrics_JSON: Coralogix would drop every json record.
            problem:
              `${name} json is no longer ingested by Coralogix (it removed the CloudWatch_Metrics_JSON ` +
              `integration type); allowed: ${METRIC_STREAM_FORMATS.join(", ")}`,
          }
        : oneOf(METRIC_STREAM_FORMATS, METRIC_STREAM_DEFAULTS.format).parse(raw, name, context),
  },
  backupExpirationDays: integer(1, 3650, METRIC_STREAM_DEFAULTS.backupExpirationDays, "30"),
} as const satisfies Record<string, ConfigRow<unknown>>;

export type ConfigKey = keyof typeof CONFIG_TABLE;

/** Every key the program reads (without the project prefix). */
export const CONFIG_KEYS = Object.keys(CONFIG_TABLE) as ConfigKey[];

type ValueOf<R> = R extends { parse: (...args: never[]) => Parsed<infer T> } ? T : never;
/** The parsed values, one per key of the table. */
type ConfigValues = { readonly [K in ConfigKey]: ValueOf<(typeof CONFIG_TABLE)[K]> };

/** The validated config the stack is built from: the table's values, with the Coralogix key as a secret Output. */
export type StackConfig = Omit<ConfigValues, "coralogixApiKey"> & { readonly coralogixApiKey: pulumi.Output<string> };

/** The Pulumi.yaml defaults of the optional keys, from the table. */
export const CONFIG_DEFAULTS = Object.fromEntries(
  Object.entries(CONFIG_TABLE as Record<string, ConfigRow<unknown>>)
    .filter(([, row]) => row.default !== undefined)
    .map(([k, row]) => [k, row.default]),
) as Readonly<Record<string, string | number | boolean>>;

/** Raw config as strings, as `pulumi config set` stores it. */
export type RawConfig = Partial<Record<Exclude<ConfigKey, "coralogixApiKey">, string>>;

/**
 * The error thrown for invalid config; `problems` has one line per key. A `RunError`, so Pulumi prints the message
 * without a stack trace.
 */
export class ConfigError extends pulumi.RunError {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid stack config:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** `environment` values (any case) that make a stack production: customer data, people on call. */
export const PRODUCTION_ENVIRONMENTS = ["prod", "production"] as const;

/**
 * Whether a stack is production: its `environment` (the key, or the stack name when the key is unset) is `prod` or
 * `production`, in any case. Production must serve HTTPS (or set `allowPlainHttp`) and must notify `alarmEmail`.
 */
export function isProduction(environment: string): boolean {
  return (PRODUCTION_ENVIRONMENTS as readonly string[]).includes(environment.toLowerCase());
}

/** Domains reserved for documentation (RFC 2606): an address there reaches nobody. */
const PLACEHOLDER_EMAIL = /@(.+\.)?example\.(com|org|net)$/i;

const set = (key: string, example: string, secret = false) =>
  `pulumi config set ${secret ? "--secret " : ""}${key} ${example}`;
const key = (k: ConfigKey) => `${PROJECT}:${k}`;

/** `problem` with the command that sets each of `keys` to its example. */
function withExamples(problem: string, keys: readonly ConfigKey[]): string {
  const examples = keys.map((k) => {
    const row: ConfigRow<unknown> = CONFIG_TABLE[k];
    return set(k, row.example, row.secret);
  });
  return `${problem}${problem.endsWith(".") ? "" : ";"} e.g. ${examples.join(" && ")}`;
}

/**
 * A component's exported validator, run on the parsed values. `reads` maps the validator's arg names to the keys
 * that set them: a problem is reported under the keys whose args it names (all of them with `namesAll`), and the
 * check runs only when all of those keys parsed, so one bad value is reported once.
 */
interface ComponentCheck {
  readonly reads: Readonly<Record<string, ConfigKey>>;
  readonly namesAll?: true;
  readonly validate: (values: ConfigValues) => readonly string[];
}

/** The components' cross-key rules, owned by their validators (Fargate sizes, concurrency, batching, DLQ, e-mail). */
export const COMPONENT_CHECKS: readonly ComponentCheck[] = [
  {
    reads: { cpu: "apiCpu", memory: "apiMemory" },
    // Its problems speak of CPU units and MiB, not of arg names.
    namesAll: true,
    validate: (v) => checkFargateSize(v.apiCpu, v.apiMemory),
  },
  {
    reads: {
      coralogixDomain: "coralogixDomain",
      logRetentionDays: "logRetentionDays",
      timeoutSeconds: "lambdaTimeoutSeconds",
      memorySizeMb: "lambdaMemoryMb",
      batchSize: "batchSize",
      batchingWindowSeconds: "batchingWindowSeconds",
      maximumConcurrency: "maxConcurrency",
      reservedConcurrency: "lambdaReservedConcurrency",
    },
    validate: (v) =>
      validateTracedContainerLambdaArgs({
        queue: {},
        coralogixDomain: v.coralogixDomain,
        applicationName: v.applicationName,
        serviceVersion: v.serviceVersion,
        deploymentEnvironment: v.environment,
        logRetentionDays: v.logRetentionDays,
        timeoutSeconds: v.lambdaTimeoutSeconds,
        memorySizeMb: v.lambdaMemoryMb,
        batchSize: v.batchSize,
        batchingWindowSeconds: v.batchingWindowSeconds,
        maximumConcurrency: v.maxConcurrency,
        reservedConcurrency: v.lambdaReservedConcurrency,
      }),
  },
  {
    reads: {
      messageRetentionSeconds: "queueRetentionDays",
      "deadLetter.retentionSeconds": "dlqRetentionDays",
      "deadLetter.maxReceiveCount": "maxReceiveCount",
      "consumer.timeoutSeconds": "lambdaTimeoutSeconds",
      "consumer.batchingWindowSeconds": "batchingWindowSeconds",
    },
    validate: (v) => validateTracedQueueArgs(queueArgs(v)),
  },
  { reads: { email: "alarmEmail" }, validate: (v) => validateAlarmTopicArgs({ email: v.alarmEmail }) },
];

/** The queue's args from config (stack.ts builds the queue from them): it owns its consumer's settings. */
export function queueArgs(
  config: Pick<
    ConfigValues,
    "lambdaTimeoutSeconds" | "batchingWindowSeconds" | "queueRetentionDays" | "maxReceiveCount" | "dlqRetentionDays"
  >,
) {
  return {
    consumer: { timeoutSeconds: config.lambdaTimeoutSeconds, batchingWindowSeconds: config.batchingWindowSeconds },
    messageRetentionSeconds: config.queueRetentionDays * DAY_SECONDS,
    deadLetter: { maxReceiveCount: config.maxReceiveCount, retentionSeconds: config.dlqRetentionDays * DAY_SECONDS },
  };
}

/** The keys whose args `problem` names, in the order it names them. */
function namedKeys(problem: string, reads: Readonly<Record<string, ConfigKey>>): ConfigKey[] {
  const found = Object.entries(reads)
    .map(([arg, k]) => ({ k, at: problem.search(new RegExp(`(?<![\\w.])${arg.replace(/\./g, "\\.")}(?!\\w)`)) }))
    .filter(({ at }) => at >= 0)
    .sort((a, b) => a.at - b.at)
    .map(({ k }) => k);
  return [...new Set(found)];
}

/**
 * Validates raw config. Pure: returns the typed config (without the key) and every problem found: each key's own
 * (in table order), then the components' cross-key rules, then the stack's policy.
 */
export function parseStackConfig(
  input: RawConfig,
  context: ParseContext,
): { config?: Omit<StackConfig, "coralogixApiKey">; problems: string[] } {
  const problems: string[] = [];
  // "" (the Pulumi.yaml default of optional strings) means "not set".
  const raw: Partial<Record<string, string>> = Object.fromEntries(
    Object.entries(input).filter(([, v]) => v !== undefined && v.trim() !== ""),
  );

  const values: Partial<Record<ConfigKey, unknown>> = {};
  const invalid = new Set<ConfigKey>();
  for (const k of CONFIG_KEYS) {
    const row: ConfigRow<unknown> = CONFIG_TABLE[k];
    const parsed = row.parse(raw[k], key(k), context);
    if (parsed.problem === undefined) values[k] = parsed.value;
    else {
      invalid.add(k);
      problems.push(withExamples(parsed.problem, [k]));
    }
  }
  const v = values as ConfigValues;

  for (const check of COMPONENT_CHECKS) {
    const keys = [...new Set(Object.values(check.reads))];
    if (keys.some((k) => invalid.has(k))) continue;
    for (const problem of check.validate(v)) {
      const named = check.namesAll ? keys : namedKeys(problem, check.reads);
      const names = named.length > 0 ? named : keys;
      problems.push(withExamples(`${names.map(key).join("/")}: ${problem}`, names));
    }
  }

  problems.push(...stackPolicyProblems(v, invalid));

  if (problems.length > 0) return { problems };
  const { coralogixApiKey: _key, ...config } = v;
  return { problems, config };
}

const DOMAIN_KEYS = ["domainName", "hostedZoneId", "certificateArn"] as const;

/** The stack's own rules: the domain keys' combinations, and what production requires. */
function stackPolicyProblems(v: ConfigValues, invalid: ReadonlySet<ConfigKey>): string[] {
  // A domain key with a bad value is already reported; its combinations are judged once it is fixed.
  const domainValid = !DOMAIN_KEYS.some((k) => invalid.has(k));
  const problems = domainValid ? domainProblems(v) : [];
  if (invalid.has("environment")) return problems;
  const { environment, domainName, certificateArn, alarmEmail } = v;
  if (!isProduction(environment)) return problems;
  if (domainValid && domainName === undefined && certificateArn === undefined && !v.allowPlainHttp) {
    problems.push(
      `${key("domainName")} and ${key("hostedZoneId")} are required in production (environment "${environment}"): ` +
        `without a domain the load balancer serves customer data over plain HTTP. Name the API in your Route 53 ` +
        `zone, e.g. ${set("domainName", DOMAIN_EXAMPLES.domainName)} && ${set("hostedZoneId", DOMAIN_EXAMPLES.hostedZoneId)} ` +
        `(or bring a certificate: ${set("certificateArn", "<ACM certificate ARN of that name>")}; or, to accept ` +
        `plain HTTP knowingly, ${set("allowPlainHttp", "true")})`,
    );
  }
  if (v.fargateSpot) {
    problems.push(
      `${key("fargateSpot")} is refused in production (environment "${environment}"): Fargate Spot may reclaim ` +
        `every API task at once with two minutes' warning, and the API has no on-demand task to fall back on; ` +
        `e.g. ${set("fargateSpot", "false")}`,
    );
  }
  // An address the alarm topic refuses is already reported by its validator.
  const emailValid = validateAlarmTopicArgs({ email: alarmEmail }).length === 0;
  if (emailValid && (alarmEmail === undefined || PLACEHOLDER_EMAIL.test(alarmEmail))) {
    problems.push(
      `${key("alarmEmail")} is required in production (environment "${environment}"): every alarm goes to it, ` +
        `so it must be a mailbox someone on call reads${alarmEmail ? ` (got the placeholder "${alarmEmail}")` : ""}; ` +
        `e.g. ${set("alarmEmail", "<your on-call address>")}`,
    );
  }
  return problems;
}

/**
 * The combinations of the domain keys that work — `domainName` with `hostedZoneId` (a certificate is issued and an
 * alias created), with `certificateArn` (that certificate, DNS yours), or with both (that certificate, alias
 * created). A certificate needs the name it was issued for: `https://<load balancer DNS name>` matches no ACM
 * certificate. (Each value's shape is its table row's.)
 */
function domainProblems(v: Pick<ConfigValues, "domainName" | "hostedZoneId" | "certificateArn">): string[] {
  const { domainName, hostedZoneId, certificateArn } = v;
  if (domainName === undefined && certificateArn !== undefined) {
    return [
      `${key("certificateArn")} needs ${key("domainName")}: the certificate is for a name, and clients must call ` +
        `that name (https://<load balancer DNS name> matches no certificate). Set the name the certificate covers, ` +
        `e.g. ${set("domainName", DOMAIN_EXAMPLES.domainName)} (and ${set("hostedZoneId", DOMAIN_EXAMPLES.hostedZoneId)} ` +
        `to have the stack create its DNS record)`,
    ];
  }
  if (domainName === undefined && hostedZoneId !== undefined) {
    return [
      `${key("hostedZoneId")} needs ${key("domainName")}: the name in that zone to serve the API on; e.g. ` +
        set("domainName", DOMAIN_EXAMPLES.domainName),
    ];
  }
  if (domainName !== undefined && hostedZoneId === undefined && certificateArn === undefined) {
    return [
      `${key("domainName")} needs ${key("hostedZoneId")} (the Route 53 zone of that name: the stack issues a ` +
        `DNS-validated certificate and creates the alias record) or ${key("certificateArn")} (an existing ` +
        `certificate for that name); e.g. ${set("hostedZoneId", DOMAIN_EXAMPLES.hostedZoneId)}`,
    ];
  }
  return [];
}

/** The project's `package.json` version (the default `serviceVersion`), read from the project root. */
function packageVersion(): string {
  const file = path.join(PROJECT_ROOT, "package.json");
  const version = (JSON.parse(fs.readFileSync(file, "utf8")) as { version?: unknown }).version;
  if (typeof version !== "string" || version === "") throw new ConfigError([`${file} has no "version"`]);
  return version;
}

/** Reads and validates the current stack's config; throws a {@link ConfigError} listing every problem. */
export function loadConfig(): StackConfig {
  const config = new pulumi.Config(PROJECT);
  const raw: RawConfig = {};
  for (const k of CONFIG_KEYS) {
    if (k === "coralogixApiKey") continue;
    const value = config.get(k);
    if (value !== undefined) raw[k] = value;
  }
  const apiKey = config.getSecret("coralogixApiKey");
  const { config: parsed, problems } = parseStackConfig(raw, {
    stack: pulumi.getStack(),
    packageVersion: packageVersion(),
    hasApiKey: apiKey !== undefined,
  });
  if (!parsed || !apiKey) throw new ConfigError(problems);
  return { ...parsed, coralogixApiKey: apiKey };
}
