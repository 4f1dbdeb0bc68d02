/**
 * The bundle build that must precede image builds: the Dockerfiles copy `dist/`, so `pulumi up` runs
 * `npm run build` itself (unless `buildBundles` is false, e.g. when CI built `dist/` already). Previews build no
 * images, so they skip it.
 */
import { execFileSync } from "node:child_process";
import * as pulumi from "@pulumi/pulumi";

/** Runs `npm run build` in the repo root, streaming its output. */
export function runNpmBuild(): void {
  execFileSync(process.platform === "win32" ? "npm.cmd" : "npm", ["run", "build"], { stdio: "inherit" });
}

/**
 * Builds the bundles before any image is built: on updates only, and only when `enabled`.
 * @returns whether the build ran
 */
export function ensureBundles(enabled: boolean, build: () => void = runNpmBuild): boolean {
  if (!enabled || pulumi.runtime.isDryRun()) return false;
  build();
  return true;
}
