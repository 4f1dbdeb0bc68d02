// Parses every GitHub Actions workflow and checks the steps that matter are present: a workflow that silently
// lost its lint step or gained a long-lived AWS key should fail here, not in production.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";

const WORKFLOWS_DIR = path.resolve(__dirname, "../../.github/workflows");

interface Step {
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}
interface Job {
  "runs-on"?: string;
  if?: string;
  environment?: string | { name: string };
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress"?: boolean } | string;
  strategy?: { matrix?: Record<string, unknown>; "fail-fast"?: boolean; "max-parallel"?: number };
  env?: Record<string, unknown>;
  /** A job that calls a reusable workflow has `uses` and no steps. */
  uses?: string;
  needs?: string | string[];
  steps?: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  env?: Record<string, unknown>;
  jobs: Record<string, Job>;
}

function load(file: string): Workflow {
  const text = readFileSync(path.join(WORKFLOWS_DIR, file), "utf8");
  const doc = parse(text) as Workflow;
  assert.ok(doc && typeof doc === "object", `${file}: not a YAML mapping`);
  assert.ok(doc.on, `${file}: no 'on' trigger`);
  assert.ok(doc.jobs && Object.keys(doc.jobs).length > 0, `${file}: no jobs`);
  return doc;
}

function allSteps(wf: Workflow): Step[] {
  return Object.values(wf.jobs).flatMap((job) => job.steps ?? []);
}

/** The job that runs pulumi/actions (the only job with steps in preview.yml and deploy.yml). */
function pulumiJob(wf: Workflow): [string, Job & { steps: Step[] }] {
  const found = Object.entries(wf.jobs).filter(([, job]) =>
    (job.steps ?? []).some((s) => s.uses?.startsWith("pulumi/actions@")),
  );
  assert.equal(found.length, 1, "expected exactly one job running pulumi/actions");
  return found[0] as [string, Job & { steps: Step[] }];
}

function runCommands(wf: Workflow): string[] {
  return allSteps(wf)
    .filter((s) => typeof s.run === "string")
    .flatMap((s) => (s.run as string).split("\n").map((l) => l.trim()))
    .filter(Boolean);
}

function stepsUsing(wf: Workflow, action: string): Step[] {
  return allSteps(wf).filter((s) => s.uses?.split("@")[0] === action);
}

function onlyStep(wf: Workflow, action: string): Step {
  const steps = stepsUsing(wf, action);
  assert.equal(steps.length, 1, `expected exactly one ${action} step, found ${steps.length}`);
  return steps[0];
}

/** The permissions in force for a job: job-level replaces workflow-level entirely. */
function effectivePermissions(wf: Workflow, job: Job): Record<string, string> {
  return job.permissions ?? wf.permissions ?? {};
}

const files = readdirSync(WORKFLOWS_DIR).filter((f) => /\.ya?ml$/.test(f));

describe("GitHub workflows", () => {
  it("has test, preview and deploy workflows", () => {
    assert.deepEqual([...files].sort(), ["deploy.yml", "preview.yml", "test.yml"]);
  });

  for (const file of files) {
    describe(file, () => {
      const wf = load(file);

      it("pins every action to a major version (or a commit)", () => {
        for (const step of allSteps(wf).filter((s) => s.uses)) {
          assert.match(step.uses!, /^[\w.-]+\/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/, `unpinned: ${step.uses}`);
        }
      });

      it("installs with npm ci from the lockfile, never npm install", () => {
        const cmds = runCommands(wf);
        assert.ok(
          cmds.some((c) => /^npm ci\b/.test(c)),
          "no `npm ci` step",
        );
        for (const c of cmds) assert.doesNotMatch(c, /\bnpm (install|i)\b/, `found: ${c}`);
      });

      it("uses the Node version of .nvmrc (24, as package.json engines)", () => {
        for (const step of stepsUsing(wf, "actions/setup-node")) {
          assert.equal(step.with?.["node-version-file"], ".nvmrc");
          assert.equal(step.with?.["node-version"], undefined);
        }
        const jobsWithSteps = Object.values(wf.jobs).filter((job) => job.steps);
        assert.equal(stepsUsing(wf, "actions/setup-node").length, jobsWithSteps.length);
      });

      it("holds no long-lived AWS keys", () => {
        const text = readFileSync(path.join(WORKFLOWS_DIR, file), "utf8");
        assert.doesNotMatch(text, /AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|aws-access-key-id/i);
        assert.doesNotMatch(text, /AKIA[0-9A-Z]{16}/, "an access key id literal");
      });

      it("reads the Pulumi token only from secrets", () => {
        for (const step of stepsUsing(wf, "pulumi/actions")) {
          assert.equal(step.env?.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_ACCESS_TOKEN }}");
        }
      });
    });
  }

  describe("test.yml", () => {
    const wf = load("test.yml");

    it("runs on every push and pull request", () => {
      assert.ok("push" in wf.on && "pull_request" in wf.on);
      assert.equal(wf.on.push, null, "push should not be filtered to some branches");
    });

    it("typechecks, lints and tests, in that order, after npm ci", () => {
      const cmds = runCommands(wf);
      const at = (re: RegExp) => {
        const i = cmds.findIndex((c) => re.test(c));
        assert.notEqual(i, -1, `missing ${re}`);
        return i;
      };
      const order = [/^npm ci\b/, /^npm run typecheck$/, /^npm run lint$/, /^npm test$/].map(at);
      assert.deepEqual(
        order,
        [...order].sort((a, b) => a - b),
      );
    });

    it("only needs read access", () => {
      assert.deepEqual(wf.permissions, { contents: "read" });
    });
  });

  for (const [file, command] of [
    ["preview.yml", "preview"],
    ["deploy.yml", "up"],
  ] as const) {
    describe(`${file} (pulumi ${command})`, () => {
      const wf = load(file);
      const [jobName, job] = pulumiJob(wf);

      it(`runs pulumi/actions with command: ${command} on the matrix stack`, () => {
        const step = onlyStep(wf, "pulumi/actions");
        assert.equal(step.with?.command, command);
        assert.equal(step.with?.["stack-name"], "${{ matrix.stack }}");
        assert.ok(job.strategy?.matrix && "stack" in job.strategy.matrix, `${jobName}: no stack matrix`);
      });

      it("applies the policy pack in policy/", () => {
        assert.equal(onlyStep(wf, "pulumi/actions").with?.policyPacks, "policy");
      });

      it("pins the Pulumi CLI to an exact version", () => {
        assert.match(String(onlyStep(wf, "pulumi/actions").with?.["pulumi-version"]), /^\d+\.\d+\.\d+$/);
      });

      it("ends green, doing nothing, when the AWS role variable is not set (forks, environments not set up)", () => {
        const [check, ...rest] = job.steps;
        const role = String(onlyStep(wf, "aws-actions/configure-aws-credentials").with?.["role-to-assume"]);
        assert.equal(check.env?.ROLE_ARN, role, "the check reads the variable the OIDC step uses");
        assert.match(String(check.run), /-z "\$ROLE_ARN"/);
        assert.match(String(check.run), /ready=false/);
        for (const step of rest) {
          assert.equal(step.if, "steps.configured.outputs.ready == 'true'", step.name ?? step.uses);
        }
      });

      it("gets AWS credentials by OIDC with a role, before Pulumi runs", () => {
        const perms = effectivePermissions(wf, job);
        assert.equal(perms["id-token"], "write");
        assert.equal(perms.contents, "read");
        const aws = onlyStep(wf, "aws-actions/configure-aws-credentials");
        assert.match(String(aws.with?.["role-to-assume"]), /^\$\{\{ (vars|secrets)\.[A-Z_]+ \}\}$/);
        assert.ok(aws.with?.["aws-region"], "aws-region is required");
        const steps = job.steps;
        assert.ok(steps.indexOf(aws) < steps.indexOf(onlyStep(wf, "pulumi/actions")));
      });

      it("installs, then sets up QEMU and buildx (ARM64 images on x86 runners), before Pulumi runs", () => {
        const steps = job.steps;
        const pulumiAt = steps.indexOf(onlyStep(wf, "pulumi/actions"));
        const qemu = onlyStep(wf, "docker/setup-qemu-action");
        assert.match(String(qemu.with?.platforms ?? "all"), /arm64|all/);
        assert.ok(steps.indexOf(qemu) < pulumiAt);
        assert.ok(steps.indexOf(onlyStep(wf, "docker/setup-buildx-action")) < pulumiAt);
        const ciAt = steps.findIndex((s) => s.run?.startsWith("npm ci"));
        assert.ok(
          ciAt !== -1 && ciAt < pulumiAt,
          "npm ci before pulumi (the program and the policy pack need node_modules)",
        );
      });
    });
  }

  describe("preview.yml", () => {
    const wf = load("preview.yml");
    const [, job] = pulumiJob(wf);

    it("runs on pull requests for both stacks without cancelling the other on failure", () => {
      assert.ok("pull_request" in wf.on);
      assert.deepEqual(job.strategy?.matrix?.stack, ["dev", "prod"]);
      assert.equal(job.strategy?.["fail-fast"], false);
    });

    it("comments the preview on the PR, with permission to do so", () => {
      assert.equal(onlyStep(wf, "pulumi/actions").with?.["comment-on-pr"], true);
      assert.equal(effectivePermissions(wf, job)["pull-requests"], "write");
    });

    it("previews each stack with its own account's role (a per-stack GitHub environment holds it)", () => {
      assert.equal(job.environment, "preview-${{ matrix.stack }}");
      const aws = onlyStep(wf, "aws-actions/configure-aws-credentials");
      assert.equal(aws.with?.["role-to-assume"], "${{ vars.AWS_PREVIEW_ROLE_ARN }}");
    });

    it("skips fork PRs, which get neither secrets nor OIDC", () => {
      assert.match(String(job.if), /head\.repo\.full_name == github\.repository/);
    });
  });

  it("previews and deploys exactly the stacks that have a Pulumi.<stack>.yaml", () => {
    const root = path.resolve(WORKFLOWS_DIR, "../..");
    const stackFiles = readdirSync(root)
      .map((f) => /^Pulumi\.([\w-]+)\.yaml$/.exec(f)?.[1])
      .filter((s): s is string => s !== undefined)
      .sort();
    const preview = Object.values(load("preview.yml").jobs)[0].strategy?.matrix?.stack as string[];
    const deploy = load("deploy.yml").on.workflow_dispatch as { inputs: { stack: { options: string[] } } };
    assert.deepEqual([...preview].sort(), stackFiles);
    assert.deepEqual([...deploy.inputs.stack.options].sort(), stackFiles);
  });

  describe("deploy.yml", () => {
    const wf = load("deploy.yml");
    const [jobName, job] = pulumiJob(wf);

    it("deploys only after the whole test workflow passed on the same commit", () => {
      const needs = [job.needs ?? []].flat();
      assert.equal(needs.length, 1, `${jobName} needs no test job`);
      assert.equal(wf.jobs[needs[0]].uses, "./.github/workflows/test.yml");
      assert.ok("workflow_call" in load("test.yml").on, "test.yml must be callable");
    });

    it("runs on push to main and on manual dispatch with a stack choice", () => {
      assert.deepEqual((wf.on.push as { branches: string[] }).branches, ["main"]);
      const dispatch = wf.on.workflow_dispatch as { inputs: { stack: { type: string; options: string[] } } };
      assert.equal(dispatch.inputs.stack.type, "choice");
      assert.deepEqual(dispatch.inputs.stack.options, ["dev", "prod"]);
    });

    it("deploys behind a GitHub environment named after the stack", () => {
      assert.equal(job.environment, "${{ matrix.stack }}");
    });

    it("deploys dev before prod on main, and only the chosen stack on dispatch", () => {
      const stack = String(job.strategy?.matrix?.stack);
      assert.match(stack, /inputs\.stack/);
      assert.match(stack, /\["dev","prod"\]/);
      assert.equal(job.strategy?.["max-parallel"], 1);
      assert.equal(job.strategy?.["fail-fast"], true);
    });

    it("serialises updates per stack and never cancels one in flight", () => {
      assert.deepEqual(job.concurrency, { group: "deploy-${{ matrix.stack }}", "cancel-in-progress": false });
    });

    it("does not comment on PRs or ask for PR write access", () => {
      assert.equal(onlyStep(wf, "pulumi/actions").with?.["comment-on-pr"], undefined);
      assert.equal(effectivePermissions(wf, job)["pull-requests"], undefined);
    });
  });
});

describe("renovate.json", () => {
  const config = JSON.parse(readFileSync(path.resolve(WORKFLOWS_DIR, "../../renovate.json"), "utf8")) as {
    rangeStrategy: string;
    customManagers: { matchStrings: string[]; managerFilePatterns: string[] }[];
  };

  it("keeps dependencies pinned exactly, as package.json has them", () => {
    assert.equal(config.rangeStrategy, "pin");
    const pkg = JSON.parse(readFileSync(path.resolve(WORKFLOWS_DIR, "../../package.json"), "utf8"));
    const ranges = Object.entries({ ...pkg.dependencies, ...pkg.devDependencies }).filter(
      ([, v]) => !/^(\d+\.\d+\.\d+|npm:.+@\d+\.\d+\.\d+)$/.test(String(v)),
    );
    assert.deepEqual(ranges, []);
  });

  it("finds the Pulumi CLI version pinned in each workflow that runs Pulumi", () => {
    const [manager] = config.customManagers;
    const pattern = new RegExp(manager.matchStrings[0]);
    for (const file of ["preview.yml", "deploy.yml"]) {
      assert.ok(new RegExp(manager.managerFilePatterns[0].slice(1, -1)).test(`.github/workflows/${file}`), file);
      const version = pattern.exec(readFileSync(path.join(WORKFLOWS_DIR, file), "utf8"))?.groups?.currentValue;
      assert.equal(version, onlyStep(load(file), "pulumi/actions").with?.["pulumi-version"], file);
    }
  });
});
