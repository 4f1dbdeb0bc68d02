// The README must stay true: every npm script it mentions exists, every repository path it names exists, every
// workflow and component it lists is real, and the sections the lead fills in keep their markers.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";

const ROOT = path.resolve(__dirname, "../..");
const README = readFileSync(path.join(ROOT, "README.md"), "utf8");
const SCRIPTS = (
  JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }
).scripts;

describe("README.md", () => {
  it("shows the two Quickstart commands", () => {
    assert.match(README, /^## Quickstart$/m);
    assert.match(README, /^npm ci && npm start\b/m);
    assert.match(README, /^npm test\b/m);
  });

  it("keeps the sections and markers other steps fill in", () => {
    for (const marker of [
      "<!-- sample output -->",
      "## Performance",
      "<!-- bench table -->",
      "<!-- config-table:start -->",
      "<!-- config-table:end -->",
    ]) {
      assert.ok(README.includes(marker), marker);
    }
    for (const heading of ["Architecture", "Deploying to AWS", "Configuration", "Troubleshooting", "Cost notes"]) {
      assert.match(README, new RegExp(`^## ${heading}$`, "m"));
    }
    assert.match(README, /```mermaid\nflowchart /);
  });

  it("opens Deploying to AWS with the known limitations and links the runbook and the cost table", () => {
    const deploying = README.slice(README.indexOf("\n## Deploying to AWS\n"), README.indexOf("\n## Configuration\n"));
    const subsections = [...deploying.matchAll(/^### (.+)$/gm)].map((m) => m[1]);
    assert.equal(subsections[0], "Known limitations");
    assert.ok(!/^## Known limitations$/m.test(README), "Known limitations is a subsection of Deploying to AWS");
    assert.ok(deploying.includes("](docs/runbook.md)"), "Deploying links docs/runbook.md");
    assert.ok(deploying.includes("](docs/cost.md)"), "Deploying links docs/cost.md");
    const costNotes = README.slice(
      README.indexOf("\n## Cost notes\n"),
      README.indexOf("\n## Reusing the components\n"),
    );
    assert.ok(costNotes.includes("](docs/cost.md)"), "Cost notes links docs/cost.md");
  });

  it("mentions only npm scripts that exist", () => {
    const used = new Set([...README.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]));
    assert.ok(used.size >= 5);
    for (const name of used) assert.ok(SCRIPTS[name], `README uses "npm run ${name}", package.json has no such script`);
    for (const name of ["start", "test"]) assert.ok(SCRIPTS[name]);
  });

  it("names only repository files that exist", () => {
    const paths = new Set(
      [...README.matchAll(/`((?:app|lambda|telemetry|infra|local|policy|scripts|bench|test|\.github)\/[\w./-]*)`/g)]
        .map((m) => m[1])
        .concat(["Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"]),
    );
    assert.ok(paths.size >= 10);
    for (const p of paths) assert.ok(existsSync(path.join(ROOT, p)), `README names ${p}, which does not exist`);
  });

  it("lists components that the files really export", () => {
    const rows = [...README.matchAll(/^\| `(\w+)` +\| `(packages\/traced-components\/src\/[\w-]+\.ts)` +\|/gm)];
    assert.ok(rows.length >= 5, "component table");
    for (const [, name, file] of rows) {
      assert.match(
        readFileSync(path.join(ROOT, file), "utf8"),
        new RegExp(`export class ${name} `),
        `${name} in ${file}`,
      );
    }
  });

  it("shows the reuse example that test/ship/fixtures/reuse-components.ts typechecks (npm run typecheck)", () => {
    const section = README.slice(README.indexOf("## Reusing the components"));
    const snippet = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(snippet, "a ```ts block under ## Reusing the components");
    const fixture = readFileSync(path.join(__dirname, "fixtures/reuse-components.ts"), "utf8");
    assert.equal(snippet, fixture);
  });

  it("shows YAML resources exactly as examples/yaml/Pulumi.yaml (which test/infra/examples-yaml.test.ts checks)", () => {
    const section = README.slice(README.indexOf("## Reusing the components"));
    const snippet = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(snippet, "a ```yaml block under ## Reusing the components");
    const shown = parse(snippet).resources as Record<string, { type: string; properties: Record<string, unknown> }>;
    const example = parse(readFileSync(path.join(ROOT, "examples/yaml/Pulumi.yaml"), "utf8")).resources;
    for (const [name, resource] of Object.entries(shown)) {
      assert.equal(resource.type, example[name]?.type, name);
      for (const [key, value] of Object.entries(resource.properties))
        assert.deepEqual(value, example[name].properties[key], `${name}.${key}`);
    }
  });

  it("documents the stack outputs the program exports", () => {
    const index = readFileSync(path.join(ROOT, "infra/index.ts"), "utf8");
    const outputs = [...index.matchAll(/^export const (\w+)/gm)].map((m) => m[1]);
    assert.ok(outputs.includes("apiUrl"));
    for (const output of outputs) assert.ok(README.includes(`\`${output}\``), `README lacks output ${output}`);
  });
  it("states the performance targets itself, without files outside the repository", () => {
    assert.ok(!README.includes("DESIGN.md"), "README refers to DESIGN.md, which is not in the repository");
    assert.match(README, /≥ 0\.93/);
    assert.match(README, /≤ 50 ms above\s+bare `node`/);
  });
});

/** Markdown files whose links must stand in a fresh clone: README.md and docs/*.md. */
const DOCS = [
  "README.md",
  ...readdirSync(path.join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** GitHub's heading anchor: lower case, punctuation dropped (but "-" and "_"), spaces to "-". */
function anchorOf(heading: string): string {
  return heading
    .replace(/`/g, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/ /g, "-");
}

function anchorsOf(markdown: string): Set<string> {
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, "");
  return new Set([...withoutCode.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1].trim())));
}

/** Inline links and images `[text](target)` outside code blocks and code spans. */
function linksOf(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]);
}

describe("README.md and docs/*.md links", () => {
  it("finds the documents and their links", () => {
    assert.ok(DOCS.includes("docs/runbook.md") && DOCS.includes("docs/cost.md"), DOCS.join(", "));
    assert.ok(linksOf(README).length >= 5);
  });

  for (const doc of DOCS) {
    it(`${doc}: every relative link resolves to a file of the repository (and its anchor to a heading)`, () => {
      const text = readFileSync(path.join(ROOT, doc), "utf8");
      const relative = linksOf(text).filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
      for (const target of relative) {
        const [file, anchor] = target.split("#", 2);
        const resolved = file === "" ? path.join(ROOT, doc) : path.resolve(path.dirname(path.join(ROOT, doc)), file);
        assert.ok(
          resolved === ROOT || resolved.startsWith(ROOT + path.sep),
          `${doc} links ${target}, outside the repository`,
        );
        assert.ok(existsSync(resolved), `${doc} links ${target}, which does not exist`);
        if (anchor && resolved.endsWith(".md") && statSync(resolved).isFile()) {
          const anchors = anchorsOf(readFileSync(resolved, "utf8"));
          assert.ok(anchors.has(anchor), `${doc} links ${target}: no heading with anchor #${anchor}`);
        }
      }
    });

    it(`${doc}: no link or path reference points outside the repository`, () => {
      const text = readFileSync(path.join(ROOT, doc), "utf8");
      for (const target of linksOf(text)) {
        assert.ok(!/^file:/i.test(target), `${doc} links a local file: ${target}`);
        assert.ok(!path.isAbsolute(target), `${doc} links an absolute path: ${target}`);
      }
      // Paths in code spans or prose that climb out of the repository, e.g. `../shared/DESIGN.md`.
      const depth = doc.split("/").length - 1;
      const climbing = [...text.matchAll(/(?:^|[\s`("'[])((?:\.\.\/)+)[\w.-]/g)].map((m) => m[1].length / 3);
      for (const levels of climbing) {
        assert.ok(levels <= depth, `${doc} names a path ${"../".repeat(levels)}… outside the repository`);
      }
    });
  }
});
