/**
 * ApiDomain under mocks, alone and inside TracedFargateService: the issued certificate, its DNS validation, the
 * alias to the load balancer, the URL, and the HTTPS listener waiting for the validation.
 */
import * as assert from "node:assert/strict";
import { validateApiDomainArgs } from "../../packages/traced-components/src/api-domain";
import { TracedFargateService } from "../../packages/traced-components/src/traced-fargate-service";
import { promiseOf, resourceNamed, resourcesOfType, settleAll } from "../../harness/mocks";
import { tracedServiceArgs } from "./fixtures";

const ZONE = "Z0123456789ABCDEFGHIJ";
const CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab";

describe("ApiDomain validation", () => {
  it("accepts a name with a zone, a certificate, or both", () => {
    assert.deepEqual(validateApiDomainArgs({ domainName: "api.acme.io", hostedZoneId: ZONE }), []);
    assert.deepEqual(validateApiDomainArgs({ domainName: "api.acme.io", certificateArn: CERT }), []);
    assert.deepEqual(
      validateApiDomainArgs({ domainName: "x.y.xn--p1ai", hostedZoneId: ZONE, certificateArn: CERT }),
      [],
    );
  });

  it("rejects names no certificate or record can have, and malformed ids, with an example each", () => {
    for (const bad of ["api", "*.acme.io", "api.acme.io.", "API.acme.io", "-api.acme.io", "api_1.acme.io", "a..io"]) {
      const problems = validateApiDomainArgs({ domainName: bad, hostedZoneId: ZONE });
      assert.deepEqual(
        problems,
        [
          `domainName must be a fully qualified domain name in lower case without a trailing dot or wildcard, e.g. ` +
            `"api.example.com" (got "${bad}").`,
        ],
        bad,
      );
    }
    assert.deepEqual(
      validateApiDomainArgs({ domainName: "api.acme.io", hostedZoneId: "/hostedzone/Z1", certificateArn: "cert" }),
      [
        'hostedZoneId must be a Route 53 hosted zone id such as "Z0123456789ABCDEFGHIJ" (aws route53 ' +
          'list-hosted-zones-by-name --dns-name example.com; without the /hostedzone/ prefix) (got "/hostedzone/Z1").',
        `certificateArn must be an ACM certificate ARN such as "${CERT}" (got "cert").`,
      ],
    );
  });
});

describe("ApiDomain with a hosted zone and no certificate (issued, DNS-validated)", () => {
  let url: string;
  before(async () => {
    const api = new TracedFargateService("api", {
      ...tracedServiceArgs("us2"),
      domain: { domainName: "api.acme.io", hostedZoneId: ZONE },
    });
    await settleAll();
    url = await promiseOf(api.url);
  });

  it("requests a DNS-validated certificate for exactly the name", () => {
    assert.deepEqual(resourceNamed("aws:acm/certificate:Certificate", "api-domain-certificate").inputs, {
      domainName: "api.acme.io",
      validationMethod: "DNS",
    });
  });

  it("writes ACM's validation CNAME into the zone and waits for the certificate to be issued", () => {
    const record = resourceNamed("aws:route53/record:Record", "api-domain-validation");
    assert.deepEqual(record.inputs, {
      zoneId: ZONE,
      name: "_0123456789abcdef.api.acme.io.",
      type: "CNAME",
      records: ["_fedcba9876543210.mock.acm-validations.aws."],
      ttl: 60,
      allowOverwrite: true,
    });
    const validation = resourceNamed("aws:acm/certificateValidation:CertificateValidation", "api-domain-validation");
    assert.deepEqual(validation.inputs, {
      certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/api-domain-certificate-mock",
      validationRecordFqdns: ["_0123456789abcdef.api.acme.io"],
    });
    assert.ok(validation.dependencies.includes(record.urn), "the validation waits for the record");
  });

  it("points the name at the load balancer with an alias A record", () => {
    assert.deepEqual(resourceNamed("aws:route53/record:Record", "api-domain-alias").inputs, {
      zoneId: ZONE,
      name: "api.acme.io",
      type: "A",
      aliases: [
        { name: "api-alb-mock.eu-west-1.elb.amazonaws.com", zoneId: "Z32O12XQLNTSW2", evaluateTargetHealth: true },
      ],
    });
  });

  it("creates the HTTPS listener only after the certificate is validated, with the validated certificate", () => {
    const https = resourceNamed("aws:lb/listener:Listener", "api-https");
    const validation = resourceNamed("aws:acm/certificateValidation:CertificateValidation", "api-domain-validation");
    assert.ok(https.dependencies.includes(validation.urn), `HTTPS listener deps: ${https.dependencies.join(", ")}`);
    assert.equal(https.inputs.certificateArn, validation.state.certificateArn);
    assert.equal(https.inputs.sslPolicy, "ELBSecurityPolicy-TLS13-1-2-2021-06");
    const http = resourceNamed("aws:lb/listener:Listener", "api-http").inputs;
    assert.deepEqual(http.defaultActions, [
      { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } },
    ]);
  });

  it("serves https://<domainName>", () => {
    assert.equal(url, "https://api.acme.io");
  });

  it("parents the certificate and records to the ApiDomain component inside the service", () => {
    const domain = resourceNamed("traced:aws:ApiDomain", "api-domain");
    assert.equal(domain.parent, resourceNamed("traced:aws:TracedFargateService", "api").urn);
    for (const r of [
      ...resourcesOfType("aws:acm/certificate:Certificate"),
      ...resourcesOfType("aws:route53/record:Record"),
      ...resourcesOfType("aws:acm/certificateValidation:CertificateValidation"),
    ]) {
      assert.equal(r.parent, domain.urn, r.name);
    }
  });
});

describe("ApiDomain with an existing certificate", () => {
  it("uses it, and creates the alias when the zone is given (no certificate, no validation)", async () => {
    const api = new TracedFargateService("api", {
      ...tracedServiceArgs("us2"),
      domain: { domainName: "api.acme.io", hostedZoneId: ZONE, certificateArn: CERT },
    });
    await settleAll();
    assert.equal(resourceNamed("aws:lb/listener:Listener", "api-https").inputs.certificateArn, CERT);
    assert.deepEqual(resourcesOfType("aws:acm/certificate:Certificate"), []);
    assert.deepEqual(resourcesOfType("aws:acm/certificateValidation:CertificateValidation"), []);
    assert.deepEqual(
      resourcesOfType("aws:route53/record:Record").map((r) => r.name),
      ["api-domain-alias"],
    );
    assert.equal(await promiseOf(api.url), "https://api.acme.io");
  });

  it("creates no DNS record without a zone (the operator's DNS points the name at the load balancer)", async () => {
    const api = new TracedFargateService("api", {
      ...tracedServiceArgs("us2"),
      domain: { domainName: "api.acme.io", certificateArn: CERT },
    });
    await settleAll();
    assert.deepEqual(resourcesOfType("aws:route53/record:Record"), []);
    assert.equal(await promiseOf(api.url), "https://api.acme.io");
  });
});
