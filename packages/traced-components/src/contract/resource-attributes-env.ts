/**
 * `OTEL_RESOURCE_ATTRIBUTES` syntax for a record: `k=v,k2=v2`, keys and values percent-encoded (the spec requires it
 * for `,` and `=` and allows it for the rest). What the components and the local stack put in the environment; the
 * runtime reads it back with the SDK's env detector.
 */
export function formatResourceAttributesEnv(attributes: Readonly<Record<string, string>>): string {
  return Object.entries(attributes)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join(",");
}
