/**
 * The project root (where Pulumi.yaml and package.json are), resolved from this module's location. The program
 * reads repository files through it — never through `process.cwd()`, which is wherever `pulumi` (or a test) was
 * started.
 */
import * as path from "node:path";

export const PROJECT_ROOT = path.resolve(__dirname, "../..");
