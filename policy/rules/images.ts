/** Container-image rules: Lambda images pinned by digest, and image platforms that match where they run. */
import { containersOf } from "./containers";
import { asArray, asRecord, asString, isUnknown, ofType } from "./model";
import type { ResourceRule, StackResource, StackRule, Violation } from "./model";
import { DOCKER_IMAGE, FUNCTION, TASK_DEFINITION } from "./types";

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

/** The docker image built in this stack that `reference` runs, if any. */
function builtImage(images: readonly StackResource[], reference: unknown): StackResource | undefined {
  const ref = asString(reference);
  if (!ref) return undefined;
  const repo = repositoryOf(ref);
  return images.find((image) =>
    [image.props.imageName, image.props.repoDigest].some(
      (v) => asString(v) !== undefined && repositoryOf(String(v)) === repo,
    ),
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

function platformProblem(image: StackResource, expected: string, where: string): string | undefined {
  const platform = asString(asRecord(image.props.build).platform);
  if (isUnknown(asRecord(image.props.build).platform)) return undefined;
  if (platform === expected) return undefined;
  return platform === undefined
    ? `image ${image.name} used by ${where} sets no build.platform (it would build for the build host); set "${expected}".`
    : `image ${image.name} is built for ${platform} but ${where} runs ${expected}.`;
}

export const imagePlatformMatches: StackRule = {
  kind: "stack",
  id: "image-platform-matches-runtime",
  description:
    "Images built in the stack target the platform of what runs them: the function's architecture, the task's runtimePlatform.",
  severity: "high",
  category: "deploy",
  check(resources) {
    const images = ofType(resources, DOCKER_IMAGE);
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

export const imageRules = [lambdaImagePinnedByDigest, imagePlatformMatches] as const;
