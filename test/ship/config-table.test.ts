// README.md's config reference is generated from Pulumi.yaml (`npm run docs:config`); this fails when they drift.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  configRows,
  END_MARKER,
  renderConfigTable,
  START_MARKER,
  syncReadme,
  updateReadme,
} from "../../scripts/config-table";

const ROOT = path.resolve(__dirname, "../..");
const FIXTURE = readFileSync(path.join(__dirname, "fixtures/Pulumi.fixture.yaml"), "utf8");

describe("config reference table", () => {
  it("reads every key of Pulumi.yaml's config block, in order, without the project prefix", () => {
    assert.deepEqual(configRows(FIXTURE), [
      { key: "aws:region", type: "string", required: false, secret: false, default: "us-east-1", description: "" },
      {
        key: "coralogixDomain",
        type: "string",
        required: true,
        secret: false,
        default: undefined,
        description: "Coralogix region short name (us2) or full domain.",
      },
      {
        key: "coralogixApiKey",
        type: "string",
        required: true,
        secret: true,
        default: undefined,
        description: "Send-Your-Data key | stored as a secret.",
      },
      {
        key: "apiDesiredCount",
        type: "integer",
        required: false,
        secret: false,
        default: "2",
        description: "Number of API tasks, spread over AZs.",
      },
      { key: "buildBundles", type: "boolean", required: false, secret: false, default: "true", description: "" },
      {
        key: "subnets",
        type: "string[]",
        required: false,
        secret: false,
        default: "[]",
        description: "Extra subnets.",
      },
    ]);
  });

  it("renders a markdown table with required and secret keys marked and pipes escaped", () => {
    const table = renderConfigTable(FIXTURE).split("\n");
    assert.equal(table[0], "| Key | Type | Default | Description |");
    assert.equal(table.length, 2 + 6);
    assert.equal(
      table[4],
      "| `coralogixApiKey` | string, secret | **required** | Send-Your-Data key \\| stored as a secret. |",
    );
    assert.equal(table[5], "| `apiDesiredCount` | integer | `2` | Number of API tasks, spread over AZs. |");
  });

  it("escapes HTML-like text in descriptions, except inside code spans", () => {
    const yaml = "name: p\nconfig:\n  k:\n    type: string\n    description: ingress.<domain>:443, set `k <value>`\n";
    assert.equal(
      renderConfigTable(yaml).split("\n")[2],
      "| `k` | string | **required** | ingress.&lt;domain&gt;:443, set `k <value>` |",
    );
  });

  it("replaces only the text between the markers, and the result is prettier-clean and stable", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "config-table-"));
    const readme = path.join(dir, "README.md");
    const before = `# x\n\nintro\n\n${START_MARKER}\nstale\n${END_MARKER}\n\n## after\n`;
    const once = await updateReadme(before, renderConfigTable(FIXTURE), readme);
    assert.match(once, /^# x\n\nintro\n\n<!-- config-table:start -->\n\n\| Key +\| Type/);
    assert.match(once, /\| `buildBundles` +\| boolean +\| `true` +\| +\|\n/);
    assert.match(once, /<!-- config-table:end -->\n\n## after\n$/);
    assert.doesNotMatch(once, /stale/);
    assert.equal(await updateReadme(once, renderConfigTable(FIXTURE), readme), once, "idempotent");
  });

  it("detects drift: a key added to Pulumi.yaml makes the check fail until the README is regenerated", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "config-table-"));
    writeFileSync(path.join(dir, "Pulumi.yaml"), FIXTURE);
    writeFileSync(path.join(dir, "README.md"), `# r\n\n${START_MARKER}\n${END_MARKER}\n`);
    assert.equal((await syncReadme({ check: true, root: dir })).upToDate, false);
    await syncReadme({ check: false, root: dir });
    assert.equal((await syncReadme({ check: true, root: dir })).upToDate, true);
    writeFileSync(
      path.join(dir, "Pulumi.yaml"),
      FIXTURE + "  alarmEmail:\n    type: string\n    default: ''\n    description: Where alarms go.\n",
    );
    assert.equal((await syncReadme({ check: true, root: dir })).upToDate, false);
  });

  it("refuses a README without the markers", async () => {
    await assert.rejects(updateReadme("# r\n", "| a |", "/tmp/README.md"), /missing <!-- config-table:start -->/);
  });

  it("README.md is up to date with Pulumi.yaml (run `npm run docs:config` to fix)", async () => {
    const { upToDate, expected, actual } = await syncReadme({ check: true });
    if (!upToDate) assert.equal(actual, expected, "README.md config table is stale: run `npm run docs:config`");
    const rows = configRows(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
    for (const row of rows) assert.ok(actual.includes(`\`${row.key}\``), `README lacks ${row.key}`);
  });
});
