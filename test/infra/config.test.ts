import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import {
  CONFIG_DEFAULTS,
  CONFIG_KEYS,
  CONFIG_TABLE,
  loadConfig,
  parseStackConfig,
  type RawConfig,
} from "../../infra/config";
import { installMocks, setStackConfig } from "../../harness/mocks";
import { stackFileConfig } from "../../harness/run-program";
import { PROD_OPERATOR_CONFIG } from "../../harness/stack-modes";

const context = { stack: "dev", packageVersion: "0.1.0", hasApiKey: true };
const project = parse(fs.readFileSync("Pulumi.yaml", "utf8")) as {
  name: string;
  main: string;
  runtime: { name: string; options: Record<string, unknown> };
  config: Record<string, { type: string; description: string; default?: unknown; secret?: boolean }>;
};

/** `Pulumi.<stack>.yaml` config without the namespace, as parseStackConfig takes it. */
function rawFrom(stack: string): RawConfig {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(stackFileConfig(stack))) {
    if (k.startsWith("traced-onboarding:")) out[k.slice("traced-onboarding:".length)] = v;
  }
  return out;
}

describe("stack config", () => {
  it("applies the documented defaults", () => {
    const { config, problems } = parseStackConfig({ coralogixDomain: "us2" }, context);
    assert.deepEqual(problems, []);
    assert.deepEqual(config, {
      coralogixDomain: "us2.coralogix.com",
      applicationName: "customer-onboarding",
      environment: "dev",
      serviceVersion: "0.1.0",
      apiCpu: 256,
      apiMemory: 512,
      apiDesiredCount: 2,
      natGateways: "Single",
      domainName: undefined,
      hostedZoneId: undefined,
      certificateArn: undefined,
      allowPlainHttp: false,
      fargateSpot: false,
      canary: false,
      collectorImage: "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3",
      lambdaMemoryMb: 512,
      lambdaTimeoutSeconds: 30,
      lambdaReservedConcurrency: undefined,
      batchSize: 10,
      batchingWindowSeconds: 1,
      maxConcurrency: 5,
      maxReceiveCount: 5,
      queueRetentionDays: 4,
      dlqRetentionDays: 14,
      logRetentionDays: 30,
      alarmEmail: undefined,
      metricStreamFormat: "opentelemetry0.7",
      backupExpirationDays: 30,
    });
  });

  it("treats the Pulumi.yaml 'not set' defaults as unset", () => {
    const { config } = parseStackConfig(
      { coralogixDomain: "us2", environment: "", certificateArn: "", alarmEmail: "", lambdaReservedConcurrency: "-1" },
      context,
    );
    assert.equal(config?.environment, "dev");
    assert.equal(config?.certificateArn, undefined);
    assert.equal(config?.alarmEmail, undefined);
    assert.equal(config?.lambdaReservedConcurrency, undefined);
  });

  it("names each missing required key with the command that sets it", () => {
    assert.deepEqual(parseStackConfig({}, { ...context, hasApiKey: false }).problems, [
      "traced-onboarding:coralogixDomain is required: the Coralogix region or domain; e.g. " +
        "pulumi config set coralogixDomain us2",
      "traced-onboarding:coralogixApiKey is required: your Coralogix send-your-data API key; e.g. " +
        "pulumi config set --secret coralogixApiKey <key>",
    ]);
  });

  it("names each invalid key with a valid example", () => {
    const { config, problems } = parseStackConfig(
      {
        coralogixDomain: "moon",
        apiCpu: "256",
        apiMemory: "4096",
        batchSize: "ten",
        natGateways: "Many",
        dlqRetentionDays: "4",
        logRetentionDays: "10",
        alarmEmail: "nobody",
        metricStreamFormat: "csv",
      },
      context,
    );
    assert.equal(config, undefined);
    assert.deepEqual(problems, [
      'traced-onboarding:coralogixDomain: Unknown Coralogix domain "moon". Use a region (us1, us2, us3, eu1, eu2, ' +
        "ap1, ap2, ap3, gov1) or a domain (us1.coralogix.com, us2.coralogix.com, us3.coralogix.com, " +
        "eu1.coralogix.com, eu2.coralogix.com, ap1.coralogix.com, ap2.coralogix.com, ap3.coralogix.com, " +
        'gov1.coralogixgov.us, coralogix.com, coralogix.us, cx498.coralogix.com, coralogix.in, coralogixsg.com), e.g. "us2". ' +
        "e.g. pulumi config set coralogixDomain us2",
      'traced-onboarding:natGateways must be one of Single, OnePerAz (got "Many"); e.g. pulumi config set natGateways Single',
      'traced-onboarding:batchSize must be an integer from 1 to 10000 (got "ten"); e.g. pulumi config set batchSize 10',
      "traced-onboarding:logRetentionDays must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, " +
        "731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (got 10). e.g. pulumi config set logRetentionDays 30",
      'traced-onboarding:metricStreamFormat must be one of opentelemetry0.7 (got "csv"); e.g. pulumi config set ' +
        "metricStreamFormat opentelemetry0.7",
      // Then the components' own rules, under the keys that set the args they name.
      "traced-onboarding:apiCpu/traced-onboarding:apiMemory: Unsupported memory: 4096 MiB for 256 CPU units. The " +
        "supported values for memory with 256 CPU are 512, 1024, 2048. e.g. pulumi config set apiCpu 512 && " +
        "pulumi config set apiMemory 1024",
      "traced-onboarding:dlqRetentionDays/traced-onboarding:queueRetentionDays: deadLetter.retentionSeconds " +
        "(345600) must be longer than messageRetentionSeconds (345600), or messages expire before anyone looks at " +
        "the DLQ. Raise deadLetter.retentionSeconds (max 1209600) or lower messageRetentionSeconds. e.g. pulumi " +
        "config set dlqRetentionDays 14 && pulumi config set queueRetentionDays 4",
      'traced-onboarding:alarmEmail: email must be an email address like "oncall@example.com" (got "nobody"). ' +
        "e.g. pulumi config set alarmEmail oncall@example.com",
    ]);
  });

  it("requires reserved concurrency to cover the event source's maximum concurrency", () => {
    assert.deepEqual(
      parseStackConfig({ coralogixDomain: "us2", lambdaReservedConcurrency: "3", maxConcurrency: "5" }, context)
        .problems,
      [
        "traced-onboarding:lambdaReservedConcurrency/traced-onboarding:maxConcurrency: reservedConcurrency (3) " +
          "must be at least maximumConcurrency (5), or the event source mapping is throttled. Raise " +
          "reservedConcurrency or lower maximumConcurrency. e.g. pulumi config set lambdaReservedConcurrency 20 && " +
          "pulumi config set maxConcurrency 5",
      ],
    );
  });

  it("requires a batching window for batches over 10 (the consumer's rule), naming both keys", () => {
    assert.deepEqual(
      parseStackConfig({ coralogixDomain: "us2", batchSize: "11", batchingWindowSeconds: "0" }, context).problems,
      [
        "traced-onboarding:batchSize/traced-onboarding:batchingWindowSeconds: batchSize 11 needs " +
          "batchingWindowSeconds of at least 1 (SQS rule for batches over 10). e.g. pulumi config set batchSize 10 " +
          "&& pulumi config set batchingWindowSeconds 1",
      ],
    );
    assert.deepEqual(
      parseStackConfig({ coralogixDomain: "us2", batchSize: "11", batchingWindowSeconds: "1" }, context).problems,
      [],
    );
  });

  it("reports a bad value once: a component rule over a key that did not parse waits until it does", () => {
    assert.deepEqual(
      parseStackConfig({ coralogixDomain: "us2", batchSize: "11", batchingWindowSeconds: "x" }, context).problems,
      [
        'traced-onboarding:batchingWindowSeconds must be an integer from 0 to 300 (got "x"); e.g. pulumi config set ' +
          "batchingWindowSeconds 1",
      ],
    );
  });

  it("gives an example in every key's row that the row itself accepts", () => {
    for (const k of CONFIG_KEYS) {
      const row: { example: string; parse: (raw: string, name: string, c: typeof context) => { problem?: string } } =
        CONFIG_TABLE[k];
      assert.equal(row.parse(row.example, k, context).problem, undefined, `${k} example "${row.example}"`);
    }
  });

  it("rejects metricStreamFormat json, which Coralogix no longer ingests, naming the allowed values", () => {
    assert.deepEqual(parseStackConfig({ coralogixDomain: "us2", metricStreamFormat: "json" }, context).problems, [
      "traced-onboarding:metricStreamFormat json is no longer ingested by Coralogix (it removed the " +
        "CloudWatch_Metrics_JSON integration type); allowed: opentelemetry0.7; e.g. pulumi config set " +
        "metricStreamFormat opentelemetry0.7",
    ]);
  });

  describe("domain: domainName with hostedZoneId and/or certificateArn", () => {
    const CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab";
    const ZONE = "Z0123456789ABCDEFGHIJ";
    const problems = (raw: RawConfig) => parseStackConfig({ coralogixDomain: "us2", ...raw }, context).problems;

    it("accepts a name with its zone (certificate issued), with a certificate, or with both", () => {
      assert.deepEqual(problems({ domainName: "api.acme.io", hostedZoneId: ZONE }), []);
      assert.deepEqual(problems({ domainName: "api.acme.io", certificateArn: CERT }), []);
      const both = parseStackConfig(
        { coralogixDomain: "us2", domainName: "api.acme.io", hostedZoneId: ZONE, certificateArn: CERT },
        context,
      );
      assert.deepEqual(both.problems, []);
      assert.equal(both.config?.domainName, "api.acme.io");
      assert.equal(both.config?.hostedZoneId, ZONE);
      assert.equal(both.config?.certificateArn, CERT);
    });

    it("refuses a certificate without the name it is for, naming both keys and the fix", () => {
      assert.deepEqual(problems({ certificateArn: CERT }), [
        "traced-onboarding:certificateArn needs traced-onboarding:domainName: the certificate is for a name, and " +
          "clients must call that name (https://<load balancer DNS name> matches no certificate). Set the name the " +
          "certificate covers, e.g. pulumi config set domainName api.example.com (and pulumi config set " +
          "hostedZoneId Z0123456789ABCDEFGHIJ to have the stack create its DNS record)",
      ]);
    });

    it("refuses a zone without a name, and a name with neither zone nor certificate", () => {
      assert.deepEqual(problems({ hostedZoneId: ZONE }), [
        "traced-onboarding:hostedZoneId needs traced-onboarding:domainName: the name in that zone to serve the API " +
          "on; e.g. pulumi config set domainName api.example.com",
      ]);
      assert.deepEqual(problems({ domainName: "api.acme.io" }), [
        "traced-onboarding:domainName needs traced-onboarding:hostedZoneId (the Route 53 zone of that name: the " +
          "stack issues a DNS-validated certificate and creates the alias record) or " +
          "traced-onboarding:certificateArn (an existing certificate for that name); e.g. pulumi config set " +
          "hostedZoneId Z0123456789ABCDEFGHIJ",
      ]);
    });

    it("validates each value's shape with an example", () => {
      assert.deepEqual(problems({ domainName: "https://api.acme.io", hostedZoneId: "zone", certificateArn: "c" }), [
        "traced-onboarding:domainName must be a fully qualified domain name in lower case without a trailing dot " +
          'or wildcard, e.g. "api.example.com" (got "https://api.acme.io"); e.g. pulumi config set domainName ' +
          "api.example.com",
        'traced-onboarding:hostedZoneId must be a Route 53 hosted zone id such as "Z0123456789ABCDEFGHIJ" (aws ' +
          "route53 list-hosted-zones-by-name --dns-name example.com; without the /hostedzone/ prefix) (got " +
          '"zone"); e.g. pulumi config set hostedZoneId Z0123456789ABCDEFGHIJ',
        `traced-onboarding:certificateArn must be an ACM certificate ARN such as "${CERT}" (got "c"); e.g. ` +
          `pulumi config set certificateArn ${CERT}`,
      ]);
    });
  });

  describe("production (environment prod or production, or that stack name)", () => {
    const ZONE = "Z0123456789ABCDEFGHIJ";
    const domainProblem = (environment: string) =>
      `traced-onboarding:domainName and traced-onboarding:hostedZoneId are required in production (environment ` +
      `"${environment}"): without a domain the load balancer serves customer data over plain HTTP. Name the API in ` +
      "your Route 53 zone, e.g. pulumi config set domainName api.example.com && pulumi config set hostedZoneId " +
      "Z0123456789ABCDEFGHIJ (or bring a certificate: pulumi config set certificateArn <ACM certificate ARN of " +
      "that name>; or, to accept plain HTTP knowingly, pulumi config set allowPlainHttp true)";
    const emailProblem = (environment: string, got = "") =>
      `traced-onboarding:alarmEmail is required in production (environment "${environment}"): every alarm goes ` +
      `to it, so it must be a mailbox someone on call reads${got}; e.g. pulumi config set alarmEmail ` +
      "<your on-call address>";

    it("requires a domain and alarmEmail, with the commands that set them", () => {
      assert.deepEqual(parseStackConfig({ coralogixDomain: "us2", environment: "production" }, context).problems, [
        domainProblem("production"),
        emailProblem("production"),
      ]);
      // The stack name counts when environment is not set, in any case.
      assert.deepEqual(parseStackConfig({ coralogixDomain: "us2" }, { ...context, stack: "Prod" }).problems, [
        domainProblem("Prod"),
        emailProblem("Prod"),
      ]);
    });

    it("refuses a placeholder address nobody receives", () => {
      const raw = {
        coralogixDomain: "us2",
        environment: "prod",
        domainName: "api.acme.io",
        hostedZoneId: ZONE,
        alarmEmail: "oncall@example.com",
      };
      assert.deepEqual(parseStackConfig(raw, context).problems, [
        emailProblem("prod", ' (got the placeholder "oncall@example.com")'),
      ]);
    });

    it("accepts a domain and an on-call address, or plain HTTP only with allowPlainHttp", () => {
      const email = "oncall@acme.io";
      const prod = { coralogixDomain: "us2", environment: "production", alarmEmail: email };
      assert.deepEqual(
        parseStackConfig({ ...prod, domainName: "api.acme.io", hostedZoneId: ZONE }, context).problems,
        [],
      );
      const plain = parseStackConfig({ ...prod, allowPlainHttp: "true" }, context);
      assert.deepEqual(plain.problems, []);
      assert.equal(plain.config?.allowPlainHttp, true);
      // Other environments keep HTTP and no email as they were.
      assert.deepEqual(parseStackConfig({ coralogixDomain: "us2", environment: "staging" }, context).problems, []);
    });

    it("refuses Fargate Spot in production, and allows it elsewhere", () => {
      const prod = { coralogixDomain: "us2", environment: "production", alarmEmail: "oncall@acme.io" };
      assert.deepEqual(
        parseStackConfig({ ...prod, domainName: "api.acme.io", hostedZoneId: ZONE, fargateSpot: "true" }, context)
          .problems,
        [
          'traced-onboarding:fargateSpot is refused in production (environment "production"): Fargate Spot may ' +
            "reclaim every API task at once with two minutes' warning, and the API has no on-demand task to fall " +
            "back on; e.g. pulumi config set fargateSpot false",
        ],
      );
      const dev = parseStackConfig({ coralogixDomain: "us2", fargateSpot: "true", canary: "true" }, context);
      assert.deepEqual(dev.problems, []);
      assert.equal(dev.config?.fargateSpot, true);
      assert.equal(dev.config?.canary, true);
      assert.deepEqual(parseStackConfig({ coralogixDomain: "us2", fargateSpot: "yes" }, context).problems, [
        'traced-onboarding:fargateSpot must be one of true, false (got "yes"); e.g. pulumi config set fargateSpot true',
      ]);
    });
  });

  it("loadConfig fails the program with every problem", () => {
    installMocks({ stack: "dev" });
    setStackConfig({ apiCpu: "100" });
    assert.throws(() => loadConfig(), {
      name: "ConfigError",
      message:
        "Invalid stack config:\n" +
        "  - traced-onboarding:coralogixDomain is required: the Coralogix region or domain; e.g. pulumi config set coralogixDomain us2\n" +
        "  - traced-onboarding:coralogixApiKey is required: your Coralogix send-your-data API key; e.g. pulumi config set --secret coralogixApiKey <key>\n" +
        '  - traced-onboarding:apiCpu must be an integer from 256 to 16384 (got "100"); e.g. pulumi config set apiCpu 512',
    });
  });

  it("loadConfig returns the key as a secret Output", async () => {
    installMocks({ stack: "dev" });
    setStackConfig({ coralogixDomain: "eu1", coralogixApiKey: "k" }, ["coralogixApiKey"]);
    const config = loadConfig();
    assert.equal(config.coralogixDomain, "eu1.coralogix.com");
    assert.equal(await pulumi.isSecret(config.coralogixApiKey), true);
  });
});

describe("Pulumi.yaml", () => {
  it("is the traced-onboarding TypeScript project, run from the root (no main) with package.json's entry", () => {
    assert.equal(project.name, "traced-onboarding");
    assert.equal(project.runtime.name, "nodejs");
    assert.equal(project.runtime.options.typescript, true);
    // A directory main would make it the working directory of the program and the providers (getPwdMain).
    assert.equal(project.main, undefined);
    assert.equal(JSON.parse(fs.readFileSync("package.json", "utf8")).main, "infra/index.ts");
  });

  it("documents exactly the keys the program reads, each with a type and description", () => {
    assert.deepEqual(Object.keys(project.config).sort(), [...CONFIG_KEYS].sort());
    for (const [key, decl] of Object.entries(project.config)) {
      assert.ok(["string", "integer", "boolean"].includes(decl.type), key);
      assert.ok(decl.description.length > 20, key);
    }
  });

  it("declares the same defaults as infra/config.ts, the key as secret, and the two required keys without defaults", () => {
    const defaults = Object.fromEntries(
      Object.entries(project.config)
        .filter(([, decl]) => "default" in decl)
        .map(([k, decl]) => [k, decl.default]),
    );
    assert.deepEqual(defaults, CONFIG_DEFAULTS);
    assert.equal(project.config.coralogixApiKey.secret, true);
    const secret = CONFIG_KEYS.filter((k) => (CONFIG_TABLE[k] as { secret?: true }).secret);
    assert.deepEqual(secret, ["coralogixApiKey"]);
    // The required keys: no default in the table, none in Pulumi.yaml.
    const required = CONFIG_KEYS.filter((k) => !(k in CONFIG_DEFAULTS));
    assert.deepEqual(required, ["coralogixDomain", "coralogixApiKey"]);
    for (const k of required) assert.ok(!("default" in project.config[k]), k);
  });
});

for (const [stack, operatorConfig] of [
  ["dev", {}],
  ["prod", PROD_OPERATOR_CONFIG],
] as const) {
  describe(`Pulumi.${stack}.yaml`, () => {
    it("is valid config with a region and no secret in it", () => {
      const all = stackFileConfig(stack);
      assert.ok(all["aws:region"]);
      assert.ok(!("traced-onboarding:coralogixApiKey" in all), "the key is set with pulumi config set --secret");
      const raw = rawFrom(stack);
      for (const key of Object.keys(raw)) assert.ok((CONFIG_KEYS as readonly string[]).includes(key), key);
      assert.deepEqual(parseStackConfig({ ...raw, ...operatorConfig }, context).problems, []);
    });
  });
}

describe("Pulumi.prod.yaml", () => {
  it("is production-sized compared with dev", () => {
    const dev = parseStackConfig(rawFrom("dev"), context).config!;
    const prod = parseStackConfig({ ...rawFrom("prod"), ...PROD_OPERATOR_CONFIG }, context).config!;
    assert.ok(prod.apiDesiredCount > dev.apiDesiredCount);
    assert.ok(prod.apiCpu > dev.apiCpu);
    assert.ok(prod.logRetentionDays > dev.logRetentionDays);
    assert.equal(prod.natGateways, "OnePerAz");
  });

  it("deploys into a new account: no reserved Lambda concurrency by default (quota often 10, 100 stay unreserved)", () => {
    const prod = parseStackConfig({ ...rawFrom("prod"), ...PROD_OPERATOR_CONFIG }, context).config!;
    assert.equal(prod.lambdaReservedConcurrency, undefined);
  });

  it("ships no placeholder domain or alarm address: the operator must set both before pulumi up", () => {
    const raw = rawFrom("prod");
    assert.equal(raw.alarmEmail, undefined);
    assert.equal(raw.domainName, undefined);
    assert.equal(raw.certificateArn, undefined);
    const problems = parseStackConfig(raw, context).problems;
    assert.deepEqual(
      problems.map((p) => p.split(" are required")[0].split(" is required")[0]),
      ["traced-onboarding:domainName and traced-onboarding:hostedZoneId", "traced-onboarding:alarmEmail"],
    );
    const comments = fs.readFileSync("Pulumi.prod.yaml", "utf8");
    assert.match(comments, /pulumi config set domainName/);
    assert.match(comments, /pulumi config set hostedZoneId/);
    assert.match(comments, /pulumi config set alarmEmail/);
    assert.match(comments, /pulumi config set lambdaReservedConcurrency/);
  });
});
