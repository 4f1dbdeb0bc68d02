/**
 * An ECR repository (scan on push, immutable tags, lifecycle policy) and an image built from a Dockerfile in this
 * repo and pushed to it with an ECR auth token. Consumers deploy `imageUri` — the pushed image's **digest**, so every
 * code change is a new URI and redeploys, and nothing can change what a deployed URI runs.
 *
 * The image is a `docker-build:index:Image` (@pulumi/docker-build, BuildKit through an embedded buildx):
 * - one explicit platform and no attestations, so the registry gets a single image manifest, never an image index
 *   (which Lambda rejects). The provider turns buildx's default provenance attestation off itself
 *   (provider/internal/client.go, `Attests: {"provenance": nil}`, in github.com/pulumi/pulumi-docker-build v0.0.22;
 *   it has no SBOM option and `exec` mode stays off, since buildx run directly adds provenance by default), and
 *   BuildKit writes a lone manifest for a one-platform build without attestations
 *   (exporter/containerimage/writer.go in github.com/moby/buildkit, the `!isMap` branch). `ociMediaTypes: false`
 *   keeps Docker v2 schema 2 media types.
 * - tagged `src-<sha256 of the build inputs>`, computed here from the declared input files, in an IMMUTABLE
 *   repository: a tag never moves, and the images a rollback needs stay until KEEP_IMAGES newer ones exist. A new
 *   tag or context is an in-place update for the provider (its Diff reports no replacement), so it never deletes the
 *   previous image; only deleting the resource deletes its manifest.
 *
 * The Dockerfiles build the bundles in a build stage, so nothing depends on a host `dist/`. Each Dockerfile has its
 * own `<Dockerfile>.dockerignore` allowing exactly its inputs, so a change to one image's sources does not change
 * the other's build context (the provider rebuilds on any context change, and re-pushing an unchanged tag fails in
 * an immutable repository).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { projectDirectory } from "./project-root";
import { sourceHash } from "./source-hash";

/**
 * Where and how an image is built. `context` and `dockerfile` are relative to the project root: the docker-build
 * provider resolves them against its working directory, which is the project root `pulumi` runs in. They stay
 * relative so the inputs (and the diff) are the same on every machine.
 */
export interface ImageBuildArgs {
  /**
   * Docker build context, relative to the project root.
   * @default "." (the project root)
   * @example "."
   */
  readonly context?: string;
  /**
   * Dockerfile path, relative to the project root.
   * @example "lambda/Dockerfile"
   */
  readonly dockerfile: string;
  /**
   * Target platform (exactly one: Lambda accepts a single image manifest only).
   * @default "linux/arm64"
   * @example "linux/arm64"
   */
  readonly platform?: string;
  /**
   * Files and directories, relative to the project root, that the build reads (every COPY source). Hashed with the
   * Dockerfile and its `.dockerignore` into the immutable image tag.
   * @default the component's inputs for its own Dockerfile
   * @example ["package.json", "package-lock.json", "lambda/src/"]
   */
  readonly inputs: string[];
}

/** An image build with every field resolved; its inputs may be a component's read-only default list. */
export type ImageBuild = Omit<ImageBuildArgs, "inputs"> & { readonly inputs: readonly string[] };

/** What every bundle build stage reads besides the image's own sources (`npm ci`, then `npm run build -- <name>`). */
export const BUNDLE_BUILD_INPUTS = [
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "scripts/build.ts",
  "telemetry/",
  // What the runtime shares with the components (Coralogix domains, the table's keys, OTEL_RESOURCE_ATTRIBUTES
  // syntax): pure modules, no Pulumi imports, so the bundles can include them.
  "packages/traced-components/src/contract/",
] as const;

/** Images kept per repository; older ones expire. */
export const KEEP_IMAGES = 10;

/** Prefix of the content-hash tags (the lifecycle rule counts these). */
export const IMAGE_TAG_PREFIX = "src-";

/** Everything the image tag is computed from: the Dockerfile, its own ignore file if any, and the inputs. */
export function imageHashInputs(build: Pick<ImageBuild, "dockerfile" | "inputs">): string[] {
  const ignoreFile = `${build.dockerfile}.dockerignore`;
  const withIgnore = fs.existsSync(path.join(projectDirectory(), ignoreFile)) ? [ignoreFile] : [];
  return [build.dockerfile, ...withIgnore, ...build.inputs];
}

/** `src-<sha256>` of the image's inputs: the same sources give the same tag on every machine. */
export function imageTag(build: Pick<ImageBuild, "dockerfile" | "inputs">): string {
  return `${IMAGE_TAG_PREFIX}${sourceHash(imageHashInputs(build))}`;
}

export interface EcrImage {
  readonly repository: aws.ecr.Repository;
  readonly image: dockerBuild.Image;
  /** `<repo>@sha256:<digest>` of the pushed image. */
  readonly imageUri: pulumi.Output<string>;
}

/** Creates `<name>-repo`, its lifecycle policy and `<name>-image` under `parent`. */
export function createEcrImage(name: string, build: ImageBuild, parent: pulumi.Resource): EcrImage {
  const repository = new aws.ecr.Repository(
    `${name}-repo`,
    {
      imageScanningConfiguration: { scanOnPush: true },
      imageTagMutability: "IMMUTABLE",
      encryptionConfigurations: [{ encryptionType: "AES256" }],
      forceDelete: true,
    },
    { parent },
  );
  // Only the content-hash tags are counted and expired. There is no untagged rule: with immutable tags nothing this
  // stack pushes ever becomes untagged, and the untagged manifests a repository can hold are the children of an
  // image index, which must live as long as the tagged index that points at them.
  new aws.ecr.LifecyclePolicy(
    `${name}-lifecycle`,
    {
      repository: repository.name,
      policy: {
        rules: [
          {
            rulePriority: 1,
            description: `Keep the last ${KEEP_IMAGES} images (rollbacks deploy the previous ones by digest)`,
            selection: {
              tagStatus: "tagged",
              tagPrefixList: [IMAGE_TAG_PREFIX],
              countType: "imageCountMoreThan",
              countNumber: KEEP_IMAGES,
            },
            action: { type: "expire" },
          },
        ],
      },
    },
    { parent },
  );
  const token = aws.ecr.getAuthorizationTokenOutput({ registryId: repository.registryId }, { parent });
  const image = new dockerBuild.Image(
    `${name}-image`,
    {
      tags: [pulumi.interpolate`${repository.repositoryUrl}:${imageTag(build)}`],
      context: { location: build.context ?? "." },
      dockerfile: { location: build.dockerfile },
      platforms: [(build.platform ?? "linux/arm64") as dockerBuild.Platform],
      push: false,
      exports: [{ registry: { ociMediaTypes: false } }],
      registries: [
        {
          address: repository.repositoryUrl,
          username: token.userName,
          password: pulumi.secret(token.password),
        },
      ],
    },
    { parent },
  );
  return { repository, image, imageUri: pulumi.interpolate`${repository.repositoryUrl}@${image.digest}` };
}

/** `<repository>@sha256:<64 hex>`: an image reference that always names the same bytes. */
const DIGEST_PINNED = /^[^\s@]+@sha256:[0-9a-f]{64}$/;

/** An ECR image URI: account, region and repository name (the partition follows the `.cn` suffix). */
const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/([^@:]+)@/;

/**
 * Problems with a prebuilt `imageUri` (empty when none is given or it is fine). Only a digest-pinned URI is taken:
 * a tag can be moved to other bytes, and the components promise that a deployed URI never changes what runs.
 */
export function imageUriProblems(args: { readonly image?: unknown; readonly imageUri?: string }): string[] {
  if (args.imageUri === undefined) return [];
  const problems: string[] = [];
  if (!DIGEST_PINNED.test(args.imageUri)) {
    problems.push(
      `imageUri "${args.imageUri}" is not pinned by digest: pass <repository>@sha256:<64 hex digits> (e.g. ` +
        `"123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders@sha256:…"; \`docker buildx imagetools inspect <tag>\` ` +
        `prints the digest), never a tag.`,
    );
  }
  if (args.image !== undefined) {
    problems.push(`pass either image (built and pushed here) or imageUri (prebuilt), not both.`);
  }
  return problems;
}

/** The ECR repository ARN of an ECR image URI, or undefined for an image in another registry. */
export function ecrRepositoryArn(imageUri: string): string | undefined {
  const match = ECR_IMAGE.exec(imageUri);
  if (!match) return undefined;
  const [, account, region, china, repository] = match;
  return `arn:${china ? "aws-cn" : "aws"}:ecr:${region}:${account}:repository/${repository}`;
}

/**
 * The image a service runs: the caller's prebuilt, digest-pinned `imageUri` as is (no repository, no build), or
 * built from `build` into the service's own repository.
 */
export function serviceImage(
  name: string,
  args: { readonly imageUri?: string },
  build: ImageBuild,
  parent: pulumi.Resource,
): { readonly repository?: aws.ecr.Repository; readonly imageUri: pulumi.Output<string> } {
  if (args.imageUri !== undefined) return { imageUri: pulumi.output(args.imageUri) };
  return createEcrImage(name, build, parent);
}
