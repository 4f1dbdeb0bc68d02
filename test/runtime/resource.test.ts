/**
 * The service resource (telemetry/resource.ts): identity from `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES` through
 * the SDK's detectors (which read `process.env`, so these tests set it and restore it), platform attributes from the
 * AWS variables.
 */
import assert from "node:assert/strict";
import { diag, type DiagLogger } from "@opentelemetry/api";
import { resourceAttributesEnvDetector } from "@opentelemetry/resources";
import { buildResourceAttributes, formatResourceAttributesEnv } from "../../telemetry/resource";

const LAMBDA_ENV = {
  AWS_EXECUTION_ENV: "AWS_Lambda_nodejs24.x",
  AWS_REGION: "eu-west-1",
  AWS_LAMBDA_FUNCTION_NAME: "onboarding-fn",
  AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
  AWS_LAMBDA_LOG_GROUP_NAME: "/aws/lambda/onboarding-fn",
  AWS_LAMBDA_LOG_STREAM_NAME: "2026/12/06/[$LATEST]2f399eb14537447da05ab2a2e39309de",
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "1024",
};

/** Runs `fn` with the given variables in process.env (the OTEL_* and Lambda ones not given removed), then restores. */
function withOtelEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const names = ["OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", ...Object.keys(LAMBDA_ENV)];
  const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
  for (const name of names) {
    if (vars[name] === undefined) delete process.env[name];
    else process.env[name] = vars[name];
  }
  try {
    return fn();
  } finally {
    for (const name of names) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
}

describe("runtime: service resource", () => {
  it("what the components set (OTEL_SERVICE_NAME + OTEL_RESOURCE_ATTRIBUTES) plus the Lambda runtime's variables", () => {
    const attrs = withOtelEnv(
      {
        ...LAMBDA_ENV,
        OTEL_SERVICE_NAME: "onboarding-lambda",
        OTEL_RESOURCE_ATTRIBUTES: formatResourceAttributesEnv({
          "service.namespace": "customer-onboarding",
          "service.version": "1.2.3",
          "deployment.environment.name": "prod",
          "cx.application.name": "customer-onboarding",
          "cx.subsystem.name": "consumer",
        }),
      },
      () => buildResourceAttributes({ defaultServiceName: "x", cloudPlatform: "aws_lambda", env: LAMBDA_ENV }),
    );
    assert.deepEqual(attrs, {
      "service.name": "onboarding-lambda",
      "service.namespace": "customer-onboarding",
      "service.version": "1.2.3",
      "deployment.environment.name": "prod",
      "cloud.provider": "aws",
      "cloud.platform": "aws_lambda",
      "cloud.region": "eu-west-1",
      "faas.name": "onboarding-fn",
      "faas.version": "$LATEST",
      "faas.instance": "2026/12/06/[$LATEST]2f399eb14537447da05ab2a2e39309de",
      "faas.max_memory": 1024 * 1024 * 1024,
      "aws.log.group.names": ["/aws/lambda/onboarding-fn"],
      "cx.application.name": "customer-onboarding",
      "cx.subsystem.name": "consumer",
    });
  });

  it("API: OTEL_SERVICE_NAME wins over service.name in OTEL_RESOURCE_ATTRIBUTES; cx.* follow the service; no faas.*", () => {
    const attrs = withOtelEnv(
      {
        OTEL_SERVICE_NAME: "api-x",
        OTEL_RESOURCE_ATTRIBUTES: "service.name=ignored,team=growth,service.namespace=shop",
      },
      () =>
        buildResourceAttributes({ defaultServiceName: "onboarding-api", cloudPlatform: "aws_ecs", env: LAMBDA_ENV }),
    );
    assert.equal(attrs["service.name"], "api-x");
    assert.equal(attrs["cx.subsystem.name"], "api-x");
    assert.equal(attrs["cx.application.name"], "shop");
    assert.equal(attrs.team, "growth");
    assert.equal(attrs["cloud.platform"], "aws_ecs");
    assert.equal(attrs["faas.name"], undefined);
    assert.equal(attrs["faas.max_memory"], undefined);
    assert.equal(attrs["deployment.environment.name"], "local");
  });

  it("nothing set: the defaults", () => {
    const attrs = withOtelEnv({}, () =>
      buildResourceAttributes({ defaultServiceName: "onboarding-api", cloudPlatform: "aws_ecs", env: {} }),
    );
    assert.deepEqual(attrs, {
      "service.name": "onboarding-api",
      "service.namespace": "customer-onboarding",
      "service.version": "0.0.0-dev",
      "deployment.environment.name": "local",
      "cloud.provider": "aws",
      "cloud.platform": "aws_ecs",
      "cx.application.name": "customer-onboarding",
      "cx.subsystem.name": "onboarding-api",
    });
  });

  it("a malformed OTEL_RESOURCE_ATTRIBUTES is discarded whole (spec), with a diag warning; OTEL_SERVICE_NAME still applies", () => {
    const warnings: string[] = [];
    const noop = () => undefined;
    const logger: DiagLogger = { error: noop, info: noop, debug: noop, verbose: noop, warn: (m) => warnings.push(m) };
    diag.setLogger(logger, { suppressOverrideMessage: true });
    try {
      for (const raw of ["team=growth,broken,service.version=9", "team=growth,v=%E0%A4%A", `k=${"x".repeat(256)}`]) {
        warnings.length = 0;
        const attrs = withOtelEnv({ OTEL_SERVICE_NAME: "svc", OTEL_RESOURCE_ATTRIBUTES: raw }, () =>
          buildResourceAttributes({ defaultServiceName: "d", cloudPlatform: "aws_ecs", env: {} }),
        );
        assert.equal(attrs.team, undefined, raw);
        assert.equal(attrs["service.version"], "0.0.0-dev", raw);
        assert.equal(attrs["service.name"], "svc", raw);
        assert.equal(warnings.length, 1, raw);
        assert.match(warnings[0]!, /OTEL_RESOURCE_ATTRIBUTES discarded/);
      }
    } finally {
      diag.disable();
    }
  });

  it("formatResourceAttributesEnv percent-encodes, so the SDK's detector reads back exactly what was written", () => {
    const written = { "service.version": "1.2.3+build,7", "deployment.environment.name": "dev=blue", note: "a b%c" };
    const raw = formatResourceAttributesEnv(written);
    assert.doesNotMatch(
      raw
        .split(",")
        .map((e) => e.slice(e.indexOf("=") + 1))
        .join(""),
      /[,=]/,
    );
    const read = withOtelEnv(
      { OTEL_RESOURCE_ATTRIBUTES: raw },
      () => resourceAttributesEnvDetector.detect().attributes,
    );
    assert.deepEqual(read, written);
  });
});
