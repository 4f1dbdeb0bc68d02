/**
 * Typed, validated stack config (namespace `traced-onboarding:`). Every key is documented in Pulumi.yaml's
 * `config:` schema (a test keeps both in step). A missing or invalid key fails the program once, listing every
 * problem with the key name and a valid example.
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
} from "@traced-onboarding/components";
import { PROJECT_ROOT } from "./project-root";

const DAY_SECONDS = 24 * 60 * 60;

export const PROJECT = "traced-onboarding";

/** The validated config the stack is built from. */
export interface StackConfig {
  /** Resolved Coralogix domain, e.g. `us2.coralogix.com`. */
  readonly coralogixDomain: string;
  /** The Coralogix key, a secret Output. */
  readonly coralogixApiKey: pulumi.Output<string>;
  readonly applicationName: string;
  readonly environment: string;
  readonly serviceVersion: string;
  readonly apiCpu: number;
  readonly apiMemory: number;
  readonly apiDesiredCount: number;
  readonly natGateways: "Single" | "OnePerAz";
  /** The API's public name; with `hostedZoneId` or `certificateArn` it serves HTTPS there. */
  readonly domainName?: string;
  readonly hostedZoneId?: string;
  readonly certificateArn?: string;
  /** Production without a domain is refused unless this is set (see {@link isProduction}). */
  readonly allowPlainHttp: boolean;
  /** Run the API on Fargate Spot (refused in production). */
  readonly fargateSpot: boolean;
  /** A CloudWatch Synthetics canary POSTs a synthetic customer every 5 minutes. */
  readonly canary: boolean;
  readonly collectorImage: string;
  readonly lambdaMemoryMb: number;
  readonly lambdaTimeoutSeconds: number;
  readonly lambdaReservedConcurrency?: number;
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  readonly maxConcurrency: number;
  readonly maxReceiveCount: number;
  readonly queueRetentionDays: number;
  readonly dlqRetentionDays: number;
  readonly logRetentionDays: number;
  readonly alarmEmail?: string;
  readonly metricStreamFormat: MetricStreamFormat;
  readonly backupExpirationDays: number;
}

/**
 * Defaults of the optional keys: the components' own defaults wherever a key sets a component arg, so each default
 * has one source. Pulumi.yaml repeats them (a test checks they agree) because the CLI treats a declared key without a
 * default as required; `""` and `-1` there mean "not set".
 */
export const CONFIG_DEFAULTS = {
  applicationName: "customer-onboarding",
  /** `""`: the stack name. */
  environment: "",
  /** `""`: the `version` in package.json. */
  serviceVersion: "",
  /** `""`: no domain: HTTP only on the load balancer's name (refused in production unless allowPlainHttp). */
  domainName: "",
  /** `""`: no Route 53 records (then certificateArn is required with domainName). */
  hostedZoneId: "",
  /** `""`: with hostedZoneId, a DNS-validated certificate is issued for domainName. */
  certificateArn: "",
  allowPlainHttp: false,
  fargateSpot: false,
  canary: false,
  /** `""`: no email subscription. */
  alarmEmail: "",
  /** `-1`: unreserved. */
  lambdaReservedConcurrency: -1,
  apiCpu: FARGATE_DEFAULTS.cpu,
  apiMemory: FARGATE_DEFAULTS.memory,
  apiDesiredCount: FARGATE_DEFAULTS.desiredCount,
  natGateways: FARGATE_DEFAULTS.natGateways,
  collectorImage: FARGATE_DEFAULTS.collectorImage,
  lambdaMemoryMb: LAMBDA_DEFAULTS.memorySizeMb,
  lambdaTimeoutSeconds: LAMBDA_DEFAULTS.timeoutSeconds,
  batchSize: LAMBDA_DEFAULTS.batchSize,
  batchingWindowSeconds: LAMBDA_DEFAULTS.batchingWindowSeconds,
  maxConcurrency: LAMBDA_DEFAULTS.maximumConcurrency,
  maxReceiveCount: QUEUE_DEFAULTS.deadLetter.maxReceiveCount,
  queueRetentionDays: QUEUE_DEFAULTS.messageRetentionSeconds / DAY_SECONDS,
  dlqRetentionDays: QUEUE_DEFAULTS.deadLetter.retentionSeconds / DAY_SECONDS,
  logRetentionDays: DEFAULT_LOG_RETENTION_DAYS,
  metricStreamFormat: METRIC_STREAM_DEFAULTS.format,
  backupExpirationDays: METRIC_STREAM_DEFAULTS.backupExpirationDays,
} as const;

/** Every key the program reads (without the project prefix). */
export const CONFIG_KEYS = [
  "coralogixDomain",
  "coralogixApiKey",
  "applicationName",
  "environment",
  "serviceVersion",
  "apiCpu",
  "apiMemory",
  "apiDesiredCount",
  "natGateways",
  "domainName",
  "hostedZoneId",
  "certificateArn",
  "allowPlainHttp",
  "fargateSpot",
  "canary",
  "collectorImage",
  "lambdaMemoryMb",
  "lambdaTimeoutSeconds",
  "lambdaReservedConcurrency",
  "batchSize",
  "batchingWindowSeconds",
  "maxConcurrency",
  "maxReceiveCount",
  "queueRetentionDays",
  "dlqRetentionDays",
  "logRetentionDays",
  "alarmEmail",
  "metricStreamFormat",
  "backupExpirationDays",
] as const;

export type ConfigKey = (typeof CONFIG_KEYS)[number];

/** Raw config as strings, as `pulumi config set` stores it. */
export type RawConfig = Partial<Record<Exclude<ConfigKey, "coralogixApiKey">, string>>;

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

/**
 * Validates raw config. Pure: returns the typed config (without the key) and every problem found.
 */
export function parseStackConfig(
  input: RawConfig,
  context: ParseContext,
): { config?: Omit<StackConfig, "coralogixApiKey">; problems: string[] } {
  const problems: string[] = [];
  const key = (k: ConfigKey) => `${PROJECT}:${k}`;
  // "" (the Pulumi.yaml default of optional strings) means "not set".
  const raw: RawConfig = Object.fromEntries(
    Object.entries(input).filter(([, v]) => v !== undefined && v.trim() !== ""),
  );

  const integer = (k: ConfigKey & keyof typeof CONFIG_DEFAULTS, min: number, max: number, example: number) =>
    integerValue(k, raw[k as keyof RawConfig], CONFIG_DEFAULTS[k] as number, min, max, example);
  function integerValue(
    k: ConfigKey,
    value: string | undefined,
    fallback: number,
    min: number,
    max: number,
    example: number,
  ): number {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) {
      problems.push(
        `${key(k)} must be an integer from ${min} to ${max} (got "${value}"); e.g. ${set(k, String(example))}`,
      );
      return fallback;
    }
    return n;
  }
  const oneOf = <T extends string>(k: keyof RawConfig, allowed: readonly T[], fallback: T): T => {
    const value = raw[k];
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      problems.push(
        `${key(k as ConfigKey)} must be one of ${allowed.join(", ")} (got "${value}"); e.g. ${set(k, allowed[0])}`,
      );
      return fallback;
    }
    return value as T;
  };

  let coralogixDomain = "";
  if (raw.coralogixDomain === undefined || raw.coralogixDomain.trim() === "") {
    problems.push(
      `${key("coralogixDomain")} is required: the Coralogix region or domain; e.g. ${set("coralogixDomain", "us2")}`,
    );
  } else {
    try {
      coralogixDomain = resolveCoralogixDomain(raw.coralogixDomain);
    } catch (error) {
      problems.push(`${key("coralogixDomain")}: ${(error as Error).message} e.g. ${set("coralogixDomain", "us2")}`);
    }
  }
  if (!context.hasApiKey) {
    problems.push(
      `${key("coralogixApiKey")} is required: your Coralogix send-your-data API key; e.g. ` +
        set("coralogixApiKey", "<key>", true),
    );
  }

  const applicationName = raw.applicationName ?? CONFIG_DEFAULTS.applicationName;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(applicationName)) {
    problems.push(
      `${key("applicationName")} must be 1-64 letters, digits, ".", "_" or "-" (got "${applicationName}"); e.g. ` +
        set("applicationName", CONFIG_DEFAULTS.applicationName),
    );
  }
  const environment = raw.environment ?? context.stack;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(environment)) {
    problems.push(
      `${key("environment")} must be 1-64 letters, digits, ".", "_" or "-" (got "${environment}"); e.g. ${set("environment", "prod")}`,
    );
  }
  const serviceVersion = raw.serviceVersion ?? context.packageVersion;

  const apiCpu = integer("apiCpu", 256, 16384, 512);
  const apiMemory = integer("apiMemory", 512, 122880, 1024);
  for (const problem of checkFargateSize(apiCpu, apiMemory)) {
    problems.push(
      `${key("apiCpu")}/${key("apiMemory")}: ${problem} e.g. ${set("apiCpu", "512")} && ${set("apiMemory", "1024")}`,
    );
  }
  const apiDesiredCount = integer("apiDesiredCount", 1, 100, 2);
  const natGateways = oneOf("natGateways", ["Single", "OnePerAz"] as const, CONFIG_DEFAULTS.natGateways);
  const { domainName, hostedZoneId, certificateArn } = raw;
  problems.push(...domainProblems(raw, key));
  const allowPlainHttp = oneOf("allowPlainHttp", ["true", "false"] as const, "false") === "true";
  const production = isProduction(environment);
  if (production && domainName === undefined && certificateArn === undefined && !allowPlainHttp) {
    problems.push(
      `${key("domainName")} and ${key("hostedZoneId")} are required in production (environment "${environment}"): ` +
        `without a domain the load balancer serves customer data over plain HTTP. Name the API in your Route 53 ` +
        `zone, e.g. ${set("domainName", DOMAIN_EXAMPLES.domainName)} && ${set("hostedZoneId", DOMAIN_EXAMPLES.hostedZoneId)} ` +
        `(or bring a certificate: ${set("certificateArn", "<ACM certificate ARN of that name>")}; or, to accept ` +
        `plain HTTP knowingly, ${set("allowPlainHttp", "true")})`,
    );
  }
  const fargateSpot = oneOf("fargateSpot", ["true", "false"] as const, "false") === "true";
  if (production && fargateSpot) {
    problems.push(
      `${key("fargateSpot")} is refused in production (environment "${environment}"): Fargate Spot may reclaim ` +
        `every API task at once with two minutes' warning, and the API has no on-demand task to fall back on; ` +
        `e.g. ${set("fargateSpot", "false")}`,
    );
  }
  const canary = oneOf("canary", ["true", "false"] as const, "false") === "true";
  const collectorImage = raw.collectorImage ?? CONFIG_DEFAULTS.collectorImage;

  const lambdaMemoryMb = integer("lambdaMemoryMb", 128, 10240, 1024);
  const lambdaTimeoutSeconds = integer("lambdaTimeoutSeconds", 1, 900, 30);
  const reserved = integer("lambdaReservedConcurrency", -1, 10000, 20);
  const lambdaReservedConcurrency = reserved === -1 ? undefined : reserved;
  const batchSize = integer("batchSize", 1, 10000, 10);
  const batchingWindowSeconds = integer("batchingWindowSeconds", 0, 300, 1);
  const maxConcurrency = integer("maxConcurrency", 2, 1000, 5);
  if (lambdaReservedConcurrency !== undefined && lambdaReservedConcurrency < maxConcurrency) {
    problems.push(
      `${key("lambdaReservedConcurrency")} (${lambdaReservedConcurrency}) must be at least ${key("maxConcurrency")} ` +
        `(${maxConcurrency}); e.g. ${set("lambdaReservedConcurrency", String(Math.max(maxConcurrency, 20)))}`,
    );
  }
  if (batchSize > 10 && batchingWindowSeconds < 1) {
    problems.push(
      `${key("batchingWindowSeconds")} must be at least 1 when ${key("batchSize")} is above 10; e.g. ` +
        set("batchingWindowSeconds", "1"),
    );
  }
  const maxReceiveCount = integer("maxReceiveCount", 1, 1000, 5);
  const queueRetentionDays = integer("queueRetentionDays", 1, 14, 4);
  const dlqRetentionDays = integer("dlqRetentionDays", 1, 14, 14);
  if (dlqRetentionDays <= queueRetentionDays) {
    problems.push(
      `${key("dlqRetentionDays")} (${dlqRetentionDays}) must be longer than ${key("queueRetentionDays")} ` +
        `(${queueRetentionDays}); e.g. ${set("dlqRetentionDays", "14")}`,
    );
  }
  const logRetentionDays = integer("logRetentionDays", 1, 3653, 30);
  const retentionProblem = checkLogRetention(key("logRetentionDays"), logRetentionDays);
  if (retentionProblem) problems.push(`${retentionProblem} e.g. ${set("logRetentionDays", "30")}`);
  const alarmEmail = raw.alarmEmail;
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) {
    problems.push(
      `${key("alarmEmail")} must be an email address (got "${alarmEmail}"); e.g. ${set("alarmEmail", "oncall@example.com")}`,
    );
  } else if (production && (alarmEmail === undefined || PLACEHOLDER_EMAIL.test(alarmEmail))) {
    problems.push(
      `${key("alarmEmail")} is required in production (environment "${environment}"): every alarm goes to it, ` +
        `so it must be a mailbox someone on call reads${alarmEmail ? ` (got the placeholder "${alarmEmail}")` : ""}; ` +
        `e.g. ${set("alarmEmail", "<your on-call address>")}`,
    );
  }
  const metricStreamFormats = Object.keys(INTEGRATION_TYPES) as MetricStreamFormat[];
  let metricStreamFormat: MetricStreamFormat = CONFIG_DEFAULTS.metricStreamFormat;
  if (raw.metricStreamFormat === "json") {
    // terraform-coralogix-aws v1.0.67 removed CloudWatch_Metrics_JSON: Coralogix would drop every json record.
    problems.push(
      `${key("metricStreamFormat")} json is no longer ingested by Coralogix (it removed the CloudWatch_Metrics_JSON ` +
        `integration type); allowed: ${metricStreamFormats.join(", ")}; e.g. ` +
        set("metricStreamFormat", metricStreamFormats[0]),
    );
  } else {
    metricStreamFormat = oneOf("metricStreamFormat", metricStreamFormats, CONFIG_DEFAULTS.metricStreamFormat);
  }
  const backupExpirationDays = integer("backupExpirationDays", 1, 3650, 30);

  if (problems.length > 0) return { problems };
  return {
    problems,
    config: {
      coralogixDomain,
      applicationName,
      environment,
      serviceVersion,
      apiCpu,
      apiMemory,
      apiDesiredCount,
      natGateways,
      domainName,
      hostedZoneId,
      certificateArn,
      allowPlainHttp,
      fargateSpot,
      canary,
      collectorImage,
      lambdaMemoryMb,
      lambdaTimeoutSeconds,
      lambdaReservedConcurrency,
      batchSize,
      batchingWindowSeconds,
      maxConcurrency,
      maxReceiveCount,
      queueRetentionDays,
      dlqRetentionDays,
      logRetentionDays,
      alarmEmail,
      metricStreamFormat,
      backupExpirationDays,
    },
  };
}

/**
 * The problems of the domain keys: each value's shape, and the combinations that work — `domainName` with
 * `hostedZoneId` (a certificate is issued and an alias created), with `certificateArn` (that certificate, DNS
 * yours), or with both (that certificate, alias created). A certificate needs the name it was issued for:
 * `https://<load balancer DNS name>` matches no ACM certificate.
 */
function domainProblems(raw: RawConfig, key: (k: ConfigKey) => string): string[] {
  const problems: string[] = [];
  const { domainName, hostedZoneId, certificateArn } = raw;
  const shape = (k: "domainName" | "hostedZoneId" | "certificateArn", problem: string | undefined) => {
    if (problem) problems.push(`${key(k)} ${problem}; e.g. ${set(k, DOMAIN_EXAMPLES[k])}`);
  };
  if (domainName !== undefined) shape("domainName", domainNameProblem(domainName));
  if (hostedZoneId !== undefined) shape("hostedZoneId", hostedZoneIdProblem(hostedZoneId));
  if (certificateArn !== undefined) shape("certificateArn", certificateArnProblem(certificateArn));
  if (domainName === undefined && certificateArn !== undefined) {
    problems.push(
      `${key("certificateArn")} needs ${key("domainName")}: the certificate is for a name, and clients must call ` +
        `that name (https://<load balancer DNS name> matches no certificate). Set the name the certificate covers, ` +
        `e.g. ${set("domainName", DOMAIN_EXAMPLES.domainName)} (and ${set("hostedZoneId", DOMAIN_EXAMPLES.hostedZoneId)} ` +
        `to have the stack create its DNS record)`,
    );
  } else if (domainName === undefined && hostedZoneId !== undefined) {
    problems.push(
      `${key("hostedZoneId")} needs ${key("domainName")}: the name in that zone to serve the API on; e.g. ` +
        set("domainName", DOMAIN_EXAMPLES.domainName),
    );
  } else if (domainName !== undefined && hostedZoneId === undefined && certificateArn === undefined) {
    problems.push(
      `${key("domainName")} needs ${key("hostedZoneId")} (the Route 53 zone of that name: the stack issues a ` +
        `DNS-validated certificate and creates the alias record) or ${key("certificateArn")} (an existing ` +
        `certificate for that name); e.g. ${set("hostedZoneId", DOMAIN_EXAMPLES.hostedZoneId)}`,
    );
  }
  return problems;
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
