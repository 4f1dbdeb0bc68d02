/**
 * Recorded mock values → JSON that keeps what tests assert on: secret wrappers stay (Pulumi's signature key marks
 * them, so plaintext/secret checks still work across the process boundary), unknowns become Pulumi's sentinel string,
 * resource references and assets become markers (they hold live SDK objects).
 */
import * as pulumi from "@pulumi/pulumi";

export const RESOURCE_REFERENCE = "<resource reference>";
export const ASSET = "<asset>";

export function toJson(value: unknown): unknown {
  // The mock monitor deserializes an unknown input to an `Unknown` object; on the wire it is the sentinel string.
  if (pulumi.isUnknown(value)) return pulumi.runtime.unknownValue;
  if (Array.isArray(value)) return value.map(toJson);
  if (pulumi.Resource.isInstance(value)) return RESOURCE_REFERENCE;
  if (pulumi.asset.Asset.isInstance(value) || pulumi.asset.Archive.isInstance(value)) return ASSET;
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  }
  return value;
}
