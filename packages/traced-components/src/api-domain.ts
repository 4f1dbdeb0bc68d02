/**
 * ApiDomain: the API's public name. A certificate can only match a name the client asked for, and no ACM certificate
 * can cover an ALB's generated `…elb.amazonaws.com` name, so HTTPS needs a domain of the operator's:
 *
 * - with a Route 53 hosted zone (`hostedZoneId`) and no certificate, it requests an ACM certificate for `domainName`
 *   with DNS validation, writes the validation CNAME into the zone and waits for ACM to issue it
 *   (`aws.acm.CertificateValidation`, the pattern of the pulumi-aws docs "DNS Validation with Route 53");
 * - with an existing `certificateArn`, it uses that certificate as is;
 * - with a zone, it points `domainName` at the load balancer with an alias A record.
 *
 * Only an A alias is created: the ALB is IPv4-only (`ipAddressType` "ipv4", the default; the VPC has no IPv6), and
 * an AAAA alias to an IPv4-only load balancer answers nothing. `certificateArn` is the validated certificate: its
 * value comes from the CertificateValidation resource, so the HTTPS listener that uses it is created only once ACM
 * has issued the certificate (a listener with a pending certificate fails with UnsupportedCertificate).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { throwIfInvalid } from "./validation";

/** A fully qualified DNS name in lower case, without a trailing dot: labels of 1–63 letters, digits or `-`. */
const DOMAIN_NAME = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;
/** A Route 53 hosted zone id, as `aws route53 list-hosted-zones` prints it without `/hostedzone/`. */
const HOSTED_ZONE_ID = /^Z[A-Z0-9]{1,31}$/;
/** An ACM certificate ARN. */
const CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/.+$/;

/** Examples the validation messages give. */
export const DOMAIN_EXAMPLES = {
  domainName: "api.example.com",
  hostedZoneId: "Z0123456789ABCDEFGHIJ",
  certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab",
} as const;

/** Why `name` is not a domain name the stack can serve (undefined when it is). */
export function domainNameProblem(name: string): string | undefined {
  if (DOMAIN_NAME.test(name)) return undefined;
  return (
    `must be a fully qualified domain name in lower case without a trailing dot or wildcard, e.g. ` +
    `"${DOMAIN_EXAMPLES.domainName}" (got "${name}")`
  );
}

/** Why `id` is not a Route 53 hosted zone id (undefined when it is). */
export function hostedZoneIdProblem(id: string): string | undefined {
  if (HOSTED_ZONE_ID.test(id)) return undefined;
  return (
    `must be a Route 53 hosted zone id such as "${DOMAIN_EXAMPLES.hostedZoneId}" (aws route53 ` +
    `list-hosted-zones-by-name --dns-name example.com; without the /hostedzone/ prefix) (got "${id}")`
  );
}

/** Why `arn` is not an ACM certificate ARN (undefined when it is). */
export function certificateArnProblem(arn: string): string | undefined {
  if (CERTIFICATE_ARN.test(arn)) return undefined;
  return `must be an ACM certificate ARN such as "${DOMAIN_EXAMPLES.certificateArn}" (got "${arn}")`;
}

/** The public name of the API and where its certificate comes from. */
export interface ApiDomainArgs {
  /**
   * The name clients call (`apiUrl` becomes `https://<domainName>`); the certificate is for exactly this name.
   * @example "api.example.com"
   */
  readonly domainName: string;
  /**
   * The public Route 53 hosted zone holding `domainName`: the certificate's validation record and the alias to the
   * load balancer go there. Without it, `certificateArn` is required and the DNS record is the operator's.
   * @default none: no DNS records are created
   * @example "Z0123456789ABCDEFGHIJ"
   */
  readonly hostedZoneId?: string;
  /**
   * An existing ACM certificate (in the stack's region) covering `domainName`, used instead of issuing one.
   * @default none: a DNS-validated certificate is issued in `hostedZoneId`
   * @example "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab"
   */
  readonly certificateArn?: string;
}

/** What the component needs besides the domain: the load balancer the name points at. */
export interface ApiDomainResourceArgs extends ApiDomainArgs {
  /**
   * The load balancer `domainName` is an alias of (its DNS name and canonical hosted zone).
   * @example alb
   */
  readonly loadBalancer: Pick<aws.lb.LoadBalancer, "dnsName" | "zoneId">;
}

/** Every problem with the domain args (empty when valid). Pure. */
export function validateApiDomainArgs(args: ApiDomainArgs): string[] {
  const problems: string[] = [];
  const domain = domainNameProblem(args.domainName);
  if (domain) problems.push(`domainName ${domain}.`);
  const zone = args.hostedZoneId === undefined ? undefined : hostedZoneIdProblem(args.hostedZoneId);
  if (zone) problems.push(`hostedZoneId ${zone}.`);
  const certificate = args.certificateArn === undefined ? undefined : certificateArnProblem(args.certificateArn);
  if (certificate) problems.push(`certificateArn ${certificate}.`);
  if (args.hostedZoneId === undefined && args.certificateArn === undefined) {
    problems.push(
      `domainName "${args.domainName}" needs hostedZoneId (a DNS-validated certificate is issued in that zone) ` +
        `or certificateArn (an existing certificate for that name), e.g. hostedZoneId: "${DOMAIN_EXAMPLES.hostedZoneId}".`,
    );
  }
  return problems;
}

export class ApiDomain extends pulumi.ComponentResource {
  /** The certificate issued for `domainName` (absent when `certificateArn` was given). */
  readonly certificate?: aws.acm.Certificate;
  /** The CNAME ACM checks to validate the issued certificate. */
  readonly validationRecord?: aws.route53.Record;
  /** Waits until ACM has issued the certificate. */
  readonly validation?: aws.acm.CertificateValidation;
  /** `domainName` → the load balancer (only with a hosted zone). */
  readonly aliasRecord?: aws.route53.Record;
  /** The certificate for the HTTPS listener; for an issued one, known only once it is validated. */
  readonly certificateArn: pulumi.Output<string>;
  /** `https://<domainName>` */
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: ApiDomainResourceArgs, opts?: pulumi.ComponentResourceOptions) {
    throwIfInvalid("ApiDomain", name, validateApiDomainArgs(args));
    super("traced:aws:ApiDomain", name, {}, opts);

    if (args.certificateArn !== undefined) {
      this.certificateArn = pulumi.output(args.certificateArn);
    } else {
      // validateApiDomainArgs: without a certificate there is a zone.
      const zoneId = args.hostedZoneId!;
      this.certificate = new aws.acm.Certificate(
        `${name}-certificate`,
        { domainName: args.domainName, validationMethod: "DNS" },
        { parent: this },
      );
      // One name, no SANs: exactly one validation option, so the record is created outside any apply (its count
      // is known in preview) and only its values come from the certificate.
      const option = this.certificate.domainValidationOptions.apply((options) => options[0]);
      this.validationRecord = new aws.route53.Record(
        `${name}-validation`,
        {
          zoneId,
          name: option.apply((o) => o.resourceRecordName!),
          type: option.apply((o) => o.resourceRecordType!),
          records: [option.apply((o) => o.resourceRecordValue!)],
          ttl: 60,
          // ACM gives every certificate for the same name the same CNAME: another stack's record is not an error.
          allowOverwrite: true,
        },
        { parent: this },
      );
      this.validation = new aws.acm.CertificateValidation(
        `${name}-validation`,
        { certificateArn: this.certificate.arn, validationRecordFqdns: [this.validationRecord.fqdn] },
        { parent: this },
      );
      this.certificateArn = this.validation.certificateArn;
    }

    if (args.hostedZoneId !== undefined) {
      this.aliasRecord = new aws.route53.Record(
        `${name}-alias`,
        {
          zoneId: args.hostedZoneId,
          name: args.domainName,
          type: "A",
          aliases: [{ name: args.loadBalancer.dnsName, zoneId: args.loadBalancer.zoneId, evaluateTargetHealth: true }],
        },
        { parent: this },
      );
    }

    this.url = pulumi.output(`https://${args.domainName}`);
    this.registerOutputs({ certificateArn: this.certificateArn, url: this.url });
  }
}
