/**
 * Readers for the runtime's environment variables, one rule each, used by the API's config, the exporters, the
 * resource and the Lambda. A set-but-blank variable counts as unset everywhere. No dependencies: bundled into the
 * Lambda, where it must not add to cold start.
 */

/** `env[name]` trimmed; undefined when unset or blank. */
export function envString(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const trimmed = env[name]?.trim();
  return trimmed ? trimmed : undefined;
}

/**
 * A non-negative number from `env[name]` (the SDKs' numeric `OTEL_*` settings: timeouts, batch sizes, limits);
 * unset, blank or anything else → undefined, so the caller's default applies (as the SDKs ignore an invalid value).
 */
export function envNonNegativeNumber(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = envString(env, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * A positive integer from `env[name]`; undefined when unset or blank. Anything else throws
 * `<name> must be a positive integer[ number of <unit>], got "<value>"`.
 */
export function envPositiveInteger(env: NodeJS.ProcessEnv, name: string, unit?: string): number | undefined {
  const raw = envString(env, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (Number.isInteger(value) && value >= 1) return value;
  throw new Error(`${name} must be a positive integer${unit ? ` number of ${unit}` : ""}, got "${raw}"`);
}

export interface EnvOneOfOptions {
  /** Compare lowercased (the value returned is the listed one). @default false */
  readonly ignoreCase?: boolean;
  /**
   * What follows `<name>="<value>" is not supported` in the error. @default `; use one of: <values, comma-separated>`
   */
  readonly hint?: string;
}

/**
 * One of `values` from `env[name]`; undefined when unset or blank. Anything else throws
 * `<name>="<value>" is not supported; use one of: a, b` (or the given hint instead of the list).
 */
export function envOneOf<T extends string>(
  env: NodeJS.ProcessEnv,
  name: string,
  values: readonly T[],
  options: EnvOneOfOptions = {},
): T | undefined {
  const raw = envString(env, name);
  if (raw === undefined) return undefined;
  const match = values.find((value) =>
    options.ignoreCase ? value.toLowerCase() === raw.toLowerCase() : value === raw,
  );
  if (match !== undefined) return match;
  throw new Error(`${name}="${raw}" is not supported${options.hint ?? `; use one of: ${values.join(", ")}`}`);
}
