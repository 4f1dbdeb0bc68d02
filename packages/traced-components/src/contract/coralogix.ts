/**
 * Coralogix region → domain resolution, shared by the runtime (OTLP endpoint) and the infrastructure
 * (Firehose endpoint, collector config). Table: https://coralogix.com/docs/integrations/coralogix-endpoints
 */

/** Short region name → Coralogix domain. */
export const CORALOGIX_REGIONS = {
  us1: "us1.coralogix.com",
  us2: "us2.coralogix.com",
  us3: "us3.coralogix.com",
  eu1: "eu1.coralogix.com",
  eu2: "eu2.coralogix.com",
  ap1: "ap1.coralogix.com",
  ap2: "ap2.coralogix.com",
  ap3: "ap3.coralogix.com",
  gov1: "gov1.coralogixgov.us",
} as const;

export type CoralogixRegion = keyof typeof CORALOGIX_REGIONS;

/** Pre-2025 domains that still resolve to the same regions; accepted so existing settings keep working. */
const LEGACY_DOMAINS = ["coralogix.com", "coralogix.us", "cx498.coralogix.com", "coralogix.in", "coralogixsg.com"];

const KNOWN_DOMAINS: ReadonlySet<string> = new Set([...Object.values(CORALOGIX_REGIONS), ...LEGACY_DOMAINS]);

/**
 * Resolves a region short name (`us2`) or a full Coralogix domain (`us2.coralogix.com`) to the domain.
 * Anything else throws an error that lists every accepted value.
 */
export function resolveCoralogixDomain(value: string): string {
  const normalised = value.trim().toLowerCase();
  if (normalised in CORALOGIX_REGIONS) return CORALOGIX_REGIONS[normalised as CoralogixRegion];
  if (KNOWN_DOMAINS.has(normalised)) return normalised;
  throw new Error(
    `Unknown Coralogix domain "${value}". Use a region (${Object.keys(CORALOGIX_REGIONS).join(", ")}) ` +
      `or a domain (${[...KNOWN_DOMAINS].join(", ")}), e.g. "us2".`,
  );
}

/** OTLP/gRPC traces endpoint for a domain (TLS on 443). */
export function coralogixOtlpEndpoint(domain: string): string {
  return `https://ingress.${resolveCoralogixDomain(domain)}:443`;
}

/** Kinesis Firehose HTTP endpoint for CloudWatch metric streams. */
export function coralogixFirehoseEndpoint(domain: string): string {
  return `https://ingress.${resolveCoralogixDomain(domain)}/aws/firehose`;
}
