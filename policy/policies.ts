/**
 * The rules as `@pulumi/policy` policies — a thin adapter, so the pack and the mocha suite run the same functions.
 *
 * Resource rules become `validateResource` (the resource's inputs); stack rules become `validateStack` (every
 * resource's outputs, which include its inputs). Program rules compare a preview with an update of the same program,
 * which a policy pack never sees together, so they run only in the mocha suite and `npm run check:policy`.
 *
 * During a preview the SDK hands policies proxies that throw on values not known yet; the adapter reads the plain
 * target instead, and the rules skip unknown values (they are judged again at update time).
 */
import type {
  Policies,
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  StackValidationArgs,
} from "@pulumi/policy";
import { rules as allRules, type Props, type Rule, type StackResource } from "./rules";

/** The SDK's escape hatch from its unknown-checking proxy (`@pulumi/policy` proxy.ts `getSpecialProxyTarget`). */
const PROXY_TARGET = "__getSpecialProxyTarget";

/** The plain object behind a policy SDK proxy (or the value itself). */
export function plainProps(props: Record<string, unknown>): Props {
  const target = props[PROXY_TARGET];
  return (typeof target === "object" && target !== null ? target : props) as Props;
}

function tags(rule: Rule): string[] {
  return [rule.category, ...(rule.checkov ?? []), ...(rule.fsbp ?? [])];
}

/** Every resource and stack rule as a mandatory policy; program rules are left out (see above). */
export function toPolicies(rules: readonly Rule[] = allRules): Policies {
  const policies: Policies = [];
  for (const rule of rules) {
    const base = {
      name: rule.id,
      description: rule.description,
      enforcementLevel: "mandatory" as const,
      severity: rule.severity,
      tags: tags(rule),
    };
    if (rule.kind === "resource") {
      policies.push({
        ...base,
        validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
          if (!rule.types.includes(args.type)) return;
          for (const message of rule.check(args.type, plainProps(args.props))) report(message);
        },
      });
    } else if (rule.kind === "stack") {
      policies.push({
        ...base,
        validateStack: (args: StackValidationArgs, report: ReportViolation) => {
          const resources: StackResource[] = args.resources.map((r: PolicyResource) => ({
            type: r.type,
            name: r.name,
            urn: r.urn,
            props: plainProps(r.props),
          }));
          for (const v of rule.check(resources)) report(v.message, v.urn);
        },
      });
    }
  }
  return policies;
}

export const policies: Policies = toPolicies();
