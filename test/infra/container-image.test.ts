/**
 * The image build inputs: what each Dockerfile reads from the context, what its ignore file lets in, and what the
 * immutable tag is hashed from must be the same list, so a tag changes exactly when the image's inputs do.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  BUNDLE_BUILD_INPUTS,
  IMAGE_TAG_PREFIX,
  imageHashInputs,
  imageTag,
  type ImageBuild,
} from "../../packages/traced-components/src/container-image";
import { PROJECT_ROOT } from "../../harness/run-program";
import { inputFiles, sourceHash } from "../../packages/traced-components/src/source-hash";
import { LAMBDA_DEFAULTS } from "../../packages/traced-components/src/traced-container-lambda";
import { FARGATE_DEFAULTS } from "../../packages/traced-components/src/traced-fargate-service";
import { contextSources, stagesOf } from "../runtime/dockerfile";
import { containersOf } from "../../policy/rules/ecs";
import { STACK_RUN_TEST_TIMEOUT_MS } from "../../harness/run-program";
import { stackRun } from "../../harness/stack-modes";

const IMAGES: [string, ImageBuild, string][] = [
  ["lambda", LAMBDA_DEFAULTS.image, "lambda"],
  ["api", FARGATE_DEFAULTS.image, "app"],
];

/** Whether `file` (project-relative) is one of `inputs` or under one of them. */
const covered = (file: string, inputs: readonly string[]) =>
  inputs.some(
    (input) => file === input.replace(/\/$/, "") || file.startsWith(input.endsWith("/") ? input : `${input}/`),
  );

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "image-inputs-"));
}

describe("container images: build inputs and tags", function () {
  this.timeout(STACK_RUN_TEST_TIMEOUT_MS);

  for (const [name, build] of IMAGES) {
    describe(`${name} (${build.dockerfile})`, function () {
      this.timeout(STACK_RUN_TEST_TIMEOUT_MS);
      it("declares every context path its Dockerfile COPYs as an input (they cannot drift apart)", () => {
        const sources = contextSources(build.dockerfile);
        assert.ok(sources.length > 0);
        assert.deepEqual(
          sources.filter((source) => !covered(source.replace(/^\.\//, ""), build.inputs)),
          [],
          `COPY sources of ${build.dockerfile} missing from its inputs ${JSON.stringify(build.inputs)}`,
        );
        assert.ok(
          sources.every((source) => !/^(\.\/)?(dist|node_modules)(\/|$)/.test(source)),
          "nothing comes from a host dist/ or node_modules",
        );
      });

      it("sends exactly its inputs as the build context (<Dockerfile>.dockerignore), never dist/ or node_modules", () => {
        const ignore = fs
          .readFileSync(path.join(PROJECT_ROOT, `${build.dockerfile}.dockerignore`), "utf8")
          .split("\n")
          .map((line) => line.trim())
          .filter((line) => line !== "" && !line.startsWith("#"));
        assert.equal(ignore[0], "*", "everything is excluded first");
        const allowed = ignore.filter((line) => line.startsWith("!")).map((line) => line.slice(1));
        assert.deepEqual([...allowed].sort(), [...build.inputs].sort());
        assert.ok(ignore.includes("**/node_modules") && ignore.includes("**/dist"));
        assert.ok(ignore.indexOf("**/dist") > ignore.indexOf(`!${build.inputs.at(-1)}`), "excludes come last");
      });

      it("hashes the Dockerfile, its ignore file and the inputs into src-<sha256>", () => {
        assert.deepEqual(imageHashInputs(build), [
          build.dockerfile,
          `${build.dockerfile}.dockerignore`,
          ...build.inputs,
        ]);
        assert.match(imageTag(build), new RegExp(`^${IMAGE_TAG_PREFIX}[0-9a-f]{64}$`));
      });
    });
  }

  it("the declared inputs alone build each image's bundles (as the image's build stage does)", async () => {
    for (const [, build, bundle] of IMAGES) {
      const root = tempDir();
      try {
        for (const file of inputFiles(build.inputs)) {
          fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
          fs.copyFileSync(path.join(PROJECT_ROOT, file), path.join(root, file));
        }
        fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(root, "node_modules"), "dir");
        const script = require(path.join(root, "scripts/build.ts")) as typeof import("../../scripts/build");
        const built = await script.buildBundles({ only: [bundle] });
        assert.ok(built.length > 0);
        for (const info of built) assert.ok(fs.existsSync(info.outfile), `${bundle}: ${info.outfile}`);
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    }
  });

  it("the shared bundle build inputs are in both images", () => {
    for (const [, build] of IMAGES)
      assert.deepEqual(build.inputs.slice(0, BUNDLE_BUILD_INPUTS.length), BUNDLE_BUILD_INPUTS);
  });

  // The tag is computed in the project directory the program runs in, where the docker-build provider resolves the
  // same relative paths (packages/traced-components/src/project-root.ts): a copy of the inputs anywhere else gives
  // the same tags, and nothing outside the inputs (dist/, node_modules) counts.
  it("the tag is deterministic: the same inputs in another project directory give the same tags, dist/ ignored", () => {
    const before = IMAGES.map(([, build]) => imageTag(build));
    const cwd = process.cwd();
    const root = tempDir();
    try {
      for (const [, build] of IMAGES) {
        for (const file of imageHashInputs(build).flatMap((input) => inputFiles([input]))) {
          fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
          fs.copyFileSync(path.join(PROJECT_ROOT, file), path.join(root, file));
          fs.chmodSync(path.join(root, file), fs.statSync(path.join(PROJECT_ROOT, file)).mode);
        }
      }
      fs.mkdirSync(path.join(root, "dist"));
      fs.writeFileSync(path.join(root, "dist/stray.js"), "a host build output");
      process.chdir(root);
      assert.deepEqual(
        IMAGES.map(([, build]) => imageTag(build)),
        before,
      );
    } finally {
      process.chdir(cwd);
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("the hash changes with a file's content, name or permissions, and refuses a missing input", () => {
    const root = tempDir();
    try {
      fs.mkdirSync(path.join(root, "src"));
      fs.writeFileSync(path.join(root, "src/a.ts"), "export const a = 1;\n");
      fs.writeFileSync(path.join(root, "Dockerfile"), "FROM scratch\n");
      const hash = () => sourceHash(["Dockerfile", "src/"], root);
      const first = hash();
      assert.equal(hash(), first, "same files, same hash");
      fs.writeFileSync(path.join(root, "src/a.ts"), "export const a = 2;\n");
      const content = hash();
      assert.notEqual(content, first);
      fs.renameSync(path.join(root, "src/a.ts"), path.join(root, "src/b.ts"));
      const renamed = hash();
      assert.notEqual(renamed, content);
      fs.chmodSync(path.join(root, "src/b.ts"), 0o755);
      assert.notEqual(hash(), renamed, "the provider's context hash includes the mode, so the tag must too");
      assert.throws(() => sourceHash(["missing/"], root), /image input missing does not exist/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("the stack pushes both images with docker-build, tagged by content, and runs them by digest", async () => {
    const run = await stackRun("devUpdate");
    const images = run.resources.filter((r) => r.type === "docker-build:index:Image");
    assert.deepEqual(images.map((i) => i.name).sort(), ["onboarding-api-image", "onboarding-consumer-image"]);
    assert.deepEqual(
      run.resources.filter((r) => r.type === "docker:index/image:Image"),
      [],
      "one code path: no @pulumi/docker images",
    );
    for (const image of images) {
      assert.match(image.inputs.tags[0], /\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/[^:]+:src-[0-9a-f]{64}$/);
      assert.deepEqual(image.inputs.platforms, ["linux/arm64"]);
    }
    const digest = /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/[^:@]+@sha256:[0-9a-f]{64}$/;
    const fn = run.resources.find((r) => r.type === "aws:lambda/function:Function")!;
    assert.match(fn.inputs.imageUri, digest);
    const task = run.resources.find((r) => r.type === "aws:ecs/taskDefinition:TaskDefinition")!;
    const app = containersOf(task.inputs).find((c) => c.name === "app")!;
    assert.match(String(app.image), digest);
    for (const repo of run.resources.filter((r) => r.type === "aws:ecr/repository:Repository")) {
      assert.equal(repo.inputs.imageTagMutability, "IMMUTABLE", repo.name);
    }
  });

  it("every volume the task mounts in the app container is a VOLUME of app/Dockerfile (so ECS keeps its permissions)", async () => {
    const run = await stackRun("devUpdate");
    const task = run.resources.find((r) => r.type === "aws:ecs/taskDefinition:TaskDefinition")!;
    const app = containersOf(task.inputs).find((c) => c.name === "app")!;
    const mounts = ((app.mountPoints ?? []) as { containerPath: string }[]).map((m) => m.containerPath);
    assert.ok(mounts.includes("/tmp"), "the app container mounts /tmp (read-only root filesystem)");
    const volumes = stagesOf("app/Dockerfile")
      .at(-1)!
      .instructions.filter((i) => i.keyword === "VOLUME")
      .flatMap((i) => i.args);
    assert.deepEqual(
      mounts.filter((m) => !volumes.includes(m)),
      [],
    );
  });
});
