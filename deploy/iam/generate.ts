// Renders the deployer's managed policies (`pulumi up`/`destroy`: deploy/iam/deployer-policy-<n>.json) and the
// previewer's (`pulumi preview`, read-only: previewer-policy-<n>.json) from deploy/iam/permissions.ts. A managed
// policy holds at most 6,144 characters, so each set is split into as many files as that needs.
//   npm run iam:policies            rewrite the files
//   npm run iam:policies -- --check exit 1 when they are out of date (test/deploy/iam-policies.test.ts checks too)
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { INVOKE_PERMISSIONS, PASSED_TO_SERVICES, RESOURCE_PERMISSIONS } from "./permissions";

export interface PolicyStatement {
  Sid: string;
  Effect: "Allow";
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string[]>>;
}
export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

export const POLICY_DIR = __dirname;
export type Mode = "deployer" | "previewer";

/** A managed policy may hold 6,144 characters, whitespace not counted (IAM and AWS STS quotas). */
export const MANAGED_POLICY_MAX_CHARS = 6144;

const sidOf = (service: string, scoped: boolean) =>
  `${service
    .replace(/[^A-Za-z0-9]/g, " ")
    .replace(/(^|\s)(\w)/g, (_m, _s, c: string) => c.toUpperCase())
    .replace(/\s/g, "")}${scoped ? "Scoped" : "Any"}`;

/**
 * One statement per (service, resource scope): the actions of every entry sharing that scope, sorted; PassRole on
 * its own with `iam:PassedToService`.
 */
export function renderPolicy(mode: Mode): PolicyDocument {
  const groups = new Map<string, { service: string; actions: Set<string>; resources: string[] }>();
  const add = (actions: readonly string[], resources: readonly string[]) => {
    for (const action of actions) {
      const service = action.split(":")[0]!;
      const scope = [...resources].sort();
      const key = `${service} ${scope.join(",")}`;
      const group = groups.get(key) ?? { service, actions: new Set<string>(), resources: scope };
      group.actions.add(action);
      groups.set(key, group);
    }
  };
  let passRoles: readonly string[] = [];
  for (const permission of Object.values(RESOURCE_PERMISSIONS)) {
    const actions = mode === "deployer" ? [...permission.deploy, ...permission.read] : permission.read;
    // An entry's actions of another service (e.g. lambda:* of a canary) only take that service's resources.
    const byService = new Map<string, string[]>();
    for (const action of actions) {
      if (action === "iam:PassRole") {
        passRoles = permission.resources;
        continue;
      }
      const service = action.split(":")[0]!;
      byService.set(service, [...(byService.get(service) ?? []), action]);
    }
    for (const [service, list] of byService) {
      const own = permission.resources.filter((r) => r === "*" || r.startsWith(`arn:aws:${service}:`));
      add(list, own.length > 0 ? own : ["*"]);
    }
  }
  for (const invoke of Object.values(INVOKE_PERMISSIONS)) add(invoke.actions, invoke.resources);

  const statements: PolicyStatement[] = [...groups.values()]
    .sort((a, b) => a.service.localeCompare(b.service) || a.resources.join().localeCompare(b.resources.join()))
    .map((g) => ({
      Sid: sidOf(g.service, !g.resources.includes("*")),
      Effect: "Allow" as const,
      Action: [...g.actions].sort(),
      Resource: g.resources,
    }));
  // Unique Sids: a service with two scoped groups gets a number.
  const seen = new Map<string, number>();
  for (const s of statements) {
    const n = (seen.get(s.Sid) ?? 0) + 1;
    seen.set(s.Sid, n);
    if (n > 1) s.Sid = `${s.Sid}${n}`;
  }
  if (mode === "deployer" && passRoles.length > 0) {
    statements.push({
      Sid: "PassStackRolesToTheirServices",
      Effect: "Allow",
      Action: ["iam:PassRole"],
      Resource: [...passRoles],
      Condition: { StringEquals: { "iam:PassedToService": [...PASSED_TO_SERVICES, "synthetics.amazonaws.com"] } },
    });
  }
  return { Version: "2012-10-17", Statement: statements };
}

/**
 * The policy split into managed policies of at most {@link MANAGED_POLICY_MAX_CHARS}, statements in order:
 * `<mode>-policy-<n>.json` → document.
 */
export function renderPolicyFiles(mode: Mode): Map<string, PolicyDocument> {
  const parts: PolicyDocument[] = [];
  for (const statement of renderPolicy(mode).Statement) {
    const last = parts.at(-1);
    if (last && policySize({ ...last, Statement: [...last.Statement, statement] }) <= MANAGED_POLICY_MAX_CHARS) {
      last.Statement.push(statement);
    } else {
      parts.push({ Version: "2012-10-17", Statement: [statement] });
    }
  }
  return new Map(parts.map((doc, i) => [`${mode}-policy-${i + 1}.json`, doc]));
}

/** The policy files now in deploy/iam, by name. */
export function policyFilesOnDisk(mode: Mode): Map<string, string> {
  const names = readdirSync(POLICY_DIR).filter((f) => new RegExp(`^${mode}-policy-\\d+\\.json$`).test(f));
  return new Map(names.sort().map((f) => [f, readFileSync(path.join(POLICY_DIR, f), "utf8")]));
}

/** The file's text: two-space JSON and a final newline (prettier leaves it alone). */
export function policyText(document: PolicyDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** Characters IAM counts against the size quota (no whitespace). */
export function policySize(document: PolicyDocument): number {
  return JSON.stringify(document).length;
}

if (require.main === module) {
  const check = process.argv.includes("--check");
  let stale = false;
  for (const mode of ["deployer", "previewer"] as const) {
    const expected = new Map([...renderPolicyFiles(mode)].map(([f, doc]) => [f, policyText(doc)]));
    const actual = policyFilesOnDisk(mode);
    const same = expected.size === actual.size && [...expected].every(([f, text]) => actual.get(f) === text);
    if (same) continue;
    stale = true;
    if (check) continue;
    for (const f of actual.keys()) if (!expected.has(f)) rmSync(path.join(POLICY_DIR, f));
    for (const [f, text] of expected) writeFileSync(path.join(POLICY_DIR, f), text);
    process.stdout.write(`wrote ${[...expected.keys()].map((f) => `deploy/iam/${f}`).join(", ")}\n`);
  }
  if (check && stale) {
    process.stderr.write(
      "deploy/iam policies are out of date with deploy/iam/permissions.ts: run npm run iam:policies\n",
    );
    process.exitCode = 1;
  }
}
