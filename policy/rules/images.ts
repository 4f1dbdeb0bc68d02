/**
 * Container-image rules: Lambda images pinned by digest, and image platforms that match where they run. Images are
 * `docker-build:index:Image` (tags, platforms[]) or the older `docker:index/image:Image` (imageName, build.platform).
 */
import { containersOf } from "./ecs";
import { asArray, asRecord, asString, isUnknown, ofType } from "./model";
import type { ResourceRule, StackResource, StackRule, Violation } from "./model";
import { DOCKER_BUILD_IMAGE, DOCKER_IMAGE, FUNCTION, TASK_DEFINITION } from "./types";

export const lambdaImagePinnedByDigest: ResourceRule = {
  kind: "resource",
  id: "lambda-image-pinned-by-digest",
  description:
    "Container-image Lambda functions reference their image by digest (…@sha256:<64 hex>), so a new image redeploys.",
  severity: "high",
  category: "deploy",
  types: [FUNCTION],
  check(_type, props) {
    if (props.packageType !== "Image" || isUnknown(props.imageUri)) return [];
    const uri = asString(props.imageUri);
    return uri && /@sha256:[0-9a-f]{64}$/.test(uri)
      ? []
      : [`imageUri ${uri ?? "(unset)"} is not pinned by digest; use the pushed image's repoDigest.`];
  },
};

/** `registry/repo:tag` or `registry/repo@sha256:…` → `registry/repo`. */
export function repositoryOf(reference: string): string {
  const withoutDigest = reference.split("@")[0] ?? reference;
  const slash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.lastIndexOf(":");
  return colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
}

/** The references an image built in the stack is known by (its tags, ref or repo digest). */
function imageReferences(image: StackResource): unknown[] {
  return image.type === DOCKER_BUILD_IMAGE
    ? [...asArray(image.props.tags), image.props.ref]
    : [image.props.imageName, image.props.repoDigest];
}

/** The docker image built in this stack that `reference` runs, if any. */
function builtImage(images: readonly StackResource[], reference: unknown): StackResource | undefined {
  const ref = asString(reference);
  if (!ref) return undefined;
  const repo = repositoryOf(ref);
  return images.find((image) =>
    imageReferences(image).some((v) => asString(v) !== undefined && repositoryOf(String(v)) === repo),
  );
}

/** Lambda `architectures` → docker platform. */
export function lambdaPlatform(architectures: unknown): string {
  return asArray(architectures)[0] === "arm64" ? "linux/arm64" : "linux/amd64";
}

/** ECS `runtimePlatform.cpuArchitecture` → docker platform. */
export function ecsPlatform(runtimePlatform: unknown): string {
  return asRecord(runtimePlatform).cpuArchitecture === "ARM64" ? "linux/arm64" : "linux/amd64";
}

/** The platforms an image is built for (undefined when unknown in a preview; [] when it sets none). */
function platformsOf(image: StackResource): string[] | undefined {
  const value = image.type === DOCKER_BUILD_IMAGE ? image.props.platforms : asRecord(image.props.build).platform;
  if (isUnknown(value) || asArray(value).some(isUnknown)) return undefined;
  return asArray(value ?? []).map(String);
}

function platformProblem(image: StackResource, expected: string, where: string): string | undefined {
  const platforms = platformsOf(image);
  if (platforms === undefined) return undefined;
  const field = image.type === DOCKER_BUILD_IMAGE ? "platforms" : "build.platform";
  if (platforms.length === 0) {
    return `image ${image.name} used by ${where} sets no ${field} (it would build for the build host); set "${expected}".`;
  }
  if (!platforms.includes(expected))
    return `image ${image.name} is built for ${platforms.join(", ")} but ${where} runs ${expected}.`;
  return undefined;
}

export const imagePlatformMatches: StackRule = {
  kind: "stack",
  id: "image-platform-matches-runtime",
  description:
    "Images built in the stack target the platform of what runs them: the function's architecture, the task's runtimePlatform.",
  severity: "high",
  category: "deploy",
  check(resources) {
    const images = [...ofType(resources, DOCKER_BUILD_IMAGE), ...ofType(resources, DOCKER_IMAGE)];
    const out: Violation[] = [];
    for (const fn of ofType(resources, FUNCTION)) {
      const image = builtImage(images, fn.props.imageUri);
      const problem = image && platformProblem(image, lambdaPlatform(fn.props.architectures), `function ${fn.name}`);
      if (image && problem) out.push({ urn: image.urn, message: problem });
    }
    for (const task of ofType(resources, TASK_DEFINITION)) {
      const expected = ecsPlatform(task.props.runtimePlatform);
      for (const container of containersOf(task.props)) {
        const image = builtImage(images, container.image);
        const problem =
          image && platformProblem(image, expected, `task ${task.name} (container ${String(container.name)})`);
        if (image && problem) out.push({ urn: image.urn, message: problem });
      }
    }
    return out;
  },
};

/**
 * Why a docker-build image would reach the registry as an image index rather than one manifest, if it would. BuildKit
 * writes an index for more than one platform or when attestations are attached (exporter/containerimage/writer.go in
 * moby/buildkit); the provider disables provenance itself, except in `exec` mode, where buildx adds it by default.
 */
function indexProblem(image: StackResource): string | undefined {
  const platforms = platformsOf(image);
  if (platforms !== undefined && platforms.length !== 1) {
    return `builds ${platforms.length === 0 ? "no explicit platform" : platforms.join(" + ")}; set exactly one platform`;
  }
  if (image.props.exec === true) return "builds in exec mode, where buildx attaches a provenance attestation";
  return undefined;
}

export const lambdaImageSingleManifest: StackRule = {
  kind: "stack",
  id: "lambda-image-single-manifest",
  description:
    "Images run by Lambda are pushed as one image manifest (one platform, no attestations): Lambda rejects an image index.",
  severity: "high",
  category: "deploy",
  check(resources) {
    const images = ofType(resources, DOCKER_BUILD_IMAGE);
    const out: Violation[] = [];
    for (const fn of ofType(resources, FUNCTION)) {
      if (fn.props.packageType !== "Image") continue;
      const image = builtImage(images, fn.props.imageUri);
      const problem = image && indexProblem(image);
      if (image && problem) {
        out.push({ urn: image.urn, message: `image ${image.name} run by function ${fn.name} ${problem}.` });
      }
    }
    return out;
  },
};

export const imageRules = [lambdaImagePinnedByDigest, imagePlatformMatches, lambdaImageSingleManifest] as const;
