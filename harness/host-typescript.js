// Registers TypeScript the way the Pulumi Node language host does before it loads a program
// (@pulumi/pulumi cmd/run/run.js and tsutils.js): the project's `typescript` (else the vendored 3.8.3), the project's
// `ts-node` (else the vendored 7.0.1), the tsconfig from PULUMI_NODEJS_TSCONFIG_PATH or ./tsconfig.json relative to
// the working directory (no project options at all when it is missing), type-checking unless
// PULUMI_NODEJS_TRANSPILE_ONLY says otherwise. Preloaded with `node --require` by harness/run-program.ts.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [process.cwd()] }));
const local = (name, vendored) => {
  try {
    return require.resolve(name, { paths: [process.cwd()] });
  } catch {
    return path.join(pulumiDir, "vendor", vendored);
  }
};
const tsConfigPath = process.env.PULUMI_NODEJS_TSCONFIG_PATH ?? "tsconfig.json";
const transpileOnly = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
require(local("ts-node", "ts-node@7.0.1")).register({
  compiler: local("typescript", "typescript@3.8.3/typescript.js"),
  transpileOnly: transpileOnly === undefined ? undefined : transpileOnly === "true",
  project: tsConfigPath,
  skipProject: !fs.existsSync(tsConfigPath),
  compilerOptions: {},
});
