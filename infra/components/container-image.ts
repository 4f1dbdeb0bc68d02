/**
 * An ECR repository (scan on push, lifecycle policy) and an image built from a Dockerfile in this repo and pushed
 * to it with an ECR auth token. Consumers deploy `imageUri` — the pushed image's **digest**, so every code change
 * is a new URI and redeploys, and a re-pushed tag can never change what runs.
 *
 * Build context: the repo root by default, because the Dockerfiles copy the esbuild bundles from `dist/`
 * (`npm run build`, which the stack program runs before `pulumi up` builds images — see infra/build-step.ts).
 */
import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

/** Where and how an image is built. Paths are relative to the directory `pulumi` runs in (the repo root). */
export interface ImageBuildArgs {
  /**
   * Docker build context.
   * @default "." (the repo root, so `dist/` is inside it)
   * @example "."
   */
  readonly context?: string;
  /**
   * Dockerfile path.
   * @example "lambda/Dockerfile"
   */
  readonly dockerfile: string;
  /**
   * Target platform. Lambda and the Fargate tasks here run on Graviton.
   * @default "linux/arm64"
   * @example "linux/arm64"
   */
  readonly platform?: string;
}

/** Images kept per repository; older ones expire. */
export const KEEP_IMAGES = 10;

export interface EcrImage {
  readonly repository: aws.ecr.Repository;
  readonly image: docker.Image;
  /** `<repo>@sha256:<digest>` of the pushed image. */
  readonly imageUri: pulumi.Output<string>;
}

/** Creates `<name>-repo`, its lifecycle policy and `<name>-image` under `parent`. */
export function createEcrImage(name: string, build: ImageBuildArgs, parent: pulumi.Resource): EcrImage {
  const repository = new aws.ecr.Repository(
    `${name}-repo`,
    {
      imageScanningConfiguration: { scanOnPush: true },
      imageTagMutability: "MUTABLE",
      encryptionConfigurations: [{ encryptionType: "AES256" }],
      forceDelete: true,
    },
    { parent },
  );
  new aws.ecr.LifecyclePolicy(
    `${name}-lifecycle`,
    {
      repository: repository.name,
      policy: {
        rules: [
          {
            rulePriority: 1,
            description: "Expire untagged images after a day",
            selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 1 },
            action: { type: "expire" },
          },
          {
            rulePriority: 2,
            description: `Keep the last ${KEEP_IMAGES} images`,
            selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: KEEP_IMAGES },
            action: { type: "expire" },
          },
        ],
      },
    },
    { parent },
  );
  const token = aws.ecr.getAuthorizationTokenOutput({ registryId: repository.registryId }, { parent });
  const image = new docker.Image(
    `${name}-image`,
    {
      imageName: pulumi.interpolate`${repository.repositoryUrl}:latest`,
      build: {
        context: build.context ?? ".",
        dockerfile: build.dockerfile,
        platform: build.platform ?? "linux/arm64",
      },
      registry: {
        server: repository.repositoryUrl,
        username: token.userName,
        password: pulumi.secret(token.password),
      },
    },
    { parent },
  );
  return { repository, image, imageUri: image.repoDigest };
}
