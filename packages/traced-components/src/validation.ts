import * as pulumi from "@pulumi/pulumi";

/**
 * Shared argument-validation plumbing: every component collects all of its problems in an exported pure
 * `validate…Args` function and throws them together, so one `pulumi preview` shows everything to fix.
 */

/**
 * Thrown when component args are invalid; `problems` lists each problem with how to fix it. Components validate
 * before registering anything. It is a `ResourceError` with the stack hidden, so Pulumi prints just the problems.
 */
export class InvalidArgsError extends pulumi.ResourceError {
  constructor(
    readonly component: string,
    readonly resourceName: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid ${component} "${resourceName}":\n${problems.map((p) => `  - ${p}`).join("\n")}`, undefined, true);
    this.name = "InvalidArgsError";
  }
}

/** Throws an {@link InvalidArgsError} when `problems` is not empty. */
export function throwIfInvalid(component: string, resourceName: string, problems: readonly string[]): void {
  if (problems.length > 0) throw new InvalidArgsError(component, resourceName, problems);
}

/** Pushes a problem when `value` is not an integer in [min, max]. */
export function checkIntegerRange(
  problems: string[],
  field: string,
  value: number | undefined,
  min: number,
  max: number,
): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${field} must be an integer from ${min} to ${max} (got ${value}).`);
  }
}
