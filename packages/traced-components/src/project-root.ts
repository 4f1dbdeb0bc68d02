/**
 * The two directories the components read files from:
 * - PACKAGE_ROOT, this package (its package.json, collector/, canary/): the files a component ships are found from
 *   this module's location, whether the package is a workspace, installed in node_modules or run as a plugin.
 * - projectDirectory(), the Pulumi project the program runs in: the caller's image build contexts, Dockerfiles and
 *   other files are relative to it. It is the working directory because the engine starts the program and every
 *   provider plugin (the docker-build provider resolving the same paths) there (pulumi/pulumi pkg/engine/project.go
 *   `getPwdMain`), so the image tag is computed from exactly the files the provider sends.
 */
import * as path from "node:path";

export const PACKAGE_ROOT = path.resolve(__dirname, "..");

export function projectDirectory(): string {
  return process.cwd();
}
