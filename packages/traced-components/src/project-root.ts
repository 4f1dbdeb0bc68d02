/**
 * The project root (the directory holding Pulumi.yaml and package.json), from this module's location. The program
 * reads repository files through it — never through `process.cwd()`, which the Pulumi engine chooses from Pulumi.yaml
 * `main` for the program and every provider plugin (pulumi/pulumi pkg/engine/project.go `getPwdMain`).
 */
import * as path from "node:path";

export const PROJECT_ROOT = path.resolve(__dirname, "../../..");
