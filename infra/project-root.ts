/**
 * The project root (the directory holding Pulumi.yaml and package.json), from this module's location: the program
 * reads package.json through it, never through `process.cwd()`, which the engine chooses from Pulumi.yaml `main`.
 */
import * as path from "node:path";

export const PROJECT_ROOT = path.resolve(__dirname, "..");
