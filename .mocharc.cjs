/* eslint-disable @typescript-eslint/no-require-imports -- mocha loads a .cjs config with require() */
// `npm test`: every test file, in parallel worker processes. Most of the suite's time is waiting (servers, timers,
// child processes), not CPU, so it runs more workers than the 2 cores of a CI runner; the workers share their stack
// runs through harness/run-cache.ts (test/global-fixtures.ts). `npm run test:file -- <file>` runs one file without
// this config.
const fs = require("node:fs");
const path = require("node:path");

// The files that take longest (measured), started first so that no long file starts last and runs alone.
const LONGEST_FIRST = [
  "test/local/stack.test.ts",
  "test/infra/stack.test.ts",
  "test/local/event-source-mapping.test.ts",
  "test/ship/traffic.test.ts",
  "test/telemetry-sizing/api-exporter-recovery.test.ts",
  "test/runtime/api.test.ts",
  "test/telemetry/exporter-faults.test.ts",
  "test/local/lambda-environments.test.ts",
  "test/deploy/iam-policies.test.ts",
  "test/local/trace-ui.browser.test.ts",
  "test/ship/readme-sample.test.ts",
  "test/telemetry-sizing/api-exporter-stalled.test.ts",
  "test/ship/traffic-local-stack.test.ts",
  "test/infra/examples-yaml.test.ts",
];
// The bench smoke test runs as its own CI step (`npm run bench:smoke`).
const IGNORED = new Set(["test/bench/smoke.test.ts"]);

function testFiles(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const file = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === "fixtures" ? [] : testFiles(file);
      return entry.name.endsWith(".test.ts") ? [file] : [];
    })
    .sort();
}

const all = testFiles("test").filter((file) => !IGNORED.has(file));
const missing = LONGEST_FIRST.filter((file) => !all.includes(file));
if (missing.length > 0) throw new Error(`.mocharc.cjs: LONGEST_FIRST names files that do not exist: ${missing}`);

module.exports = {
  require: ["tsx/cjs", "test/global-fixtures.ts"],
  extension: ["ts"],
  spec: [...LONGEST_FIRST, ...all.filter((file) => !LONGEST_FIRST.includes(file))],
  parallel: true,
  jobs: Number(process.env.MOCHA_JOBS) || 4,
  timeout: 20000,
  exit: false,
};
