/**
 * The shape every rule is written against, plus the small, pure helpers the rules share.
 *
 * A rule never imports Pulumi: it sees plain data — a resource's type token (e.g. `aws:sqs/queue:Queue`) and its
 * properties — so the same function runs in the mocha suite (resources recorded under Pulumi mocks) and in the
 * `@pulumi/policy` pack (`validateResource` props / `validateStack` resources).
 */

/** Plain JSON-ish data as rules see it. */
export type Props = Readonly<Record<string, unknown>>;

/** One resource of the stack as the cross-resource rules see it. */
export interface StackResource {
  /** Provider type token, e.g. `aws:lambda/function:Function`. */
  readonly type: string;
  /** Logical (Pulumi) name. */
  readonly name: string;
  /** Pulumi URN (synthesised as `urn:pulumi:<stack>::<project>::<type>::<name>` under mocks). */
  readonly urn: string;
  /** Inputs merged with known outputs (ids, ARNs, URLs) — what a stack policy sees. */
  readonly props: Props;
}

/** A violation reported by a cross-resource rule. `urn` names the offending resource. */
export interface Violation {
  readonly urn: string;
  readonly message: string;
}

export type Severity = "low" | "medium" | "high" | "critical";

/** What every rule declares about itself. */
export interface RuleInfo {
  /** Stable kebab-case id; also the policy name in the pack. */
  readonly id: string;
  /** One line: what must hold. */
  readonly description: string;
  readonly severity: Severity;
  /** Checkov check ids covering the same property, where one exists. */
  readonly checkov?: readonly string[];
  /** AWS Foundational Security Best Practices (Security Hub) control ids, where one exists. */
  readonly fsbp?: readonly string[];
  /** `security` or `deploy` readiness. */
  readonly category: "security" | "deploy";
}

/** A rule over one resource: a pure function of its type token and inputs. */
export interface ResourceRule extends RuleInfo {
  readonly kind: "resource";
  /** Type tokens the rule applies to. */
  readonly types: readonly string[];
  /** Returns one message per problem; empty when the resource passes. */
  check(type: string, props: Props): string[];
}

/** A rule over the whole stack (it relates resources to each other). */
export interface StackRule extends RuleInfo {
  readonly kind: "stack";
  check(resources: readonly StackResource[]): Violation[];
}

/**
 * A rule over the program itself rather than one deployment's resources: it compares two runs (preview and update).
 * The policy pack only ever sees one run, so these run in the mocha suite and `npm run check:policy` only.
 */
export interface ProgramRule extends RuleInfo {
  readonly kind: "program";
  check(preview: readonly StackResource[], update: readonly StackResource[]): Violation[];
}

export type Rule = ResourceRule | StackRule | ProgramRule;

/** Pulumi's wire sentinel for a value not known until apply (what policies see during preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Every typed "unknown during preview" sentinel the policy SDK uses (string, boolean, number, array, asset, …). */
const UNKNOWN_SENTINELS: ReadonlySet<unknown> = new Set([
  UNKNOWN,
  "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
  "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
  "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
  "030794c1-ac77-496b-92df-f27374a8bd58",
  "e48ece36-62e2-4504-bad9-02848725956a",
  "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);

/** True for a value that is not known yet (a preview); rules do not judge such values. */
export function isUnknown(value: unknown): boolean {
  return UNKNOWN_SENTINELS.has(value);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads `a.b.c` from nested records (arrays are not traversed); a value unknown on the way (a preview) is returned. */
export function get(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const key of path.split(".")) {
    if (isUnknown(current)) return current;
    if (!isRecord(current)) return undefined;
    current = current[key];
  }
  return current;
}

/** `[]` when the setting at `path` is `true` or not known yet (judged at update time); otherwise `[problem]`. */
export function unlessTrue(props: Props, path: string, problem: string): string[] {
  const value = get(props, path);
  return value === true || isUnknown(value) ? [] : [problem];
}

/**
 * What is wrong with a KMS key input that must name a customer-managed key: it is unset (the service then uses its
 * AWS-managed key) or it is that AWS-managed key's alias (`alias/aws/<service>`). Unknown values pass.
 */
export function customerManagedKeyProblems(field: string, key: unknown, awsManagedAlias: string): string[] {
  if (isUnknown(key)) return [];
  const value = asString(key);
  if (value === undefined) {
    return [`${field} is not set (so ${awsManagedAlias} is used); set a customer-managed KMS key (${field}: key.arn).`];
  }
  return value.endsWith(awsManagedAlias)
    ? [`${field} is the AWS-managed key ${value}; use a customer-managed KMS key.`]
    : [];
}

export function asString(value: unknown): string | undefined {
  return typeof value === "string" && !isUnknown(value) ? value : undefined;
}

/** Numbers, or numeric strings (ECS `cpu`/`memory` are strings). */
export function asNumber(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

/** Arrays pass through; one value becomes a one-item list; nothing (or a value unknown in preview) becomes []. */
export function asArray(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (isUnknown(value)) return [];
  return value === undefined || value === null ? [] : [value];
}

export function asRecord(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

/** Parses a JSON string input (policies, container definitions); objects pass through; anything else → undefined. */
export function parseJson(value: unknown): unknown {
  if (typeof value !== "string") return value;
  if (isUnknown(value)) return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

/** The stack's resources of one or more type tokens. */
export function ofType(resources: readonly StackResource[], ...types: string[]): StackResource[] {
  return resources.filter((r) => types.includes(r.type));
}

/** Strings a resource can be referred to by from another resource's inputs (id, ARN, URL, physical name). */
export function identities(resource: StackResource): Set<string> {
  const keys = ["id", "arn", "url", "name", "bucket", "repositoryUrl", "family", "functionName"];
  const out = new Set<string>();
  for (const key of keys) {
    const value = asString(resource.props[key]);
    if (value) out.add(value);
  }
  return out;
}

/** The resource among `candidates` that `reference` (an id, ARN, URL or name) points at. */
export function findReferenced(candidates: readonly StackResource[], reference: unknown): StackResource | undefined {
  const ref = asString(reference);
  if (!ref) return undefined;
  return candidates.find((candidate) => identities(candidate).has(ref));
}

/**
 * True when some resource of `types` has an unknown `field` — a reference that cannot be resolved yet (a preview of
 * resources not created yet). A rule that looks for "the X attached to Y" cannot conclude X is missing then.
 */
export function unresolvedReference(
  resources: readonly StackResource[],
  types: readonly string[],
  field: string,
): boolean {
  return resources.some((r) => types.includes(r.type) && isUnknown(r.props[field]));
}

/** Deep walk of every string inside a value. */
export function* strings(value: unknown): Generator<string> {
  if (typeof value === "string") {
    yield value;
  } else if (Array.isArray(value)) {
    for (const item of value) yield* strings(item);
  } else if (isRecord(value)) {
    for (const item of Object.values(value)) yield* strings(item);
  }
}
