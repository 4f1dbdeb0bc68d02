// Renders the stack-config reference table in README.md from Pulumi.yaml's `config:` block, so the two never drift.
//   npm run docs:config            rewrite the table between the markers in README.md
//   npm run docs:config -- --check exit 1 (and say so) when README.md is out of date
// test/ship/config-table.test.ts runs the check in `npm test`.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as prettier from "prettier";
import { parse } from "yaml";

export const START_MARKER = "<!-- config-table:start -->";
export const END_MARKER = "<!-- config-table:end -->";

/** One entry of Pulumi.yaml's project-level `config:` block. */
interface ConfigEntry {
  type?: string;
  description?: string;
  default?: unknown;
  value?: unknown;
  secret?: boolean;
  items?: { type?: string };
}

export interface ConfigRow {
  readonly key: string;
  readonly type: string;
  readonly required: boolean;
  readonly secret: boolean;
  readonly default?: string;
  readonly description: string;
}

function show(value: unknown): string {
  // An empty string default means "not set" (Pulumi treats a declared key without a default as required).
  return typeof value === "string" && value !== "" ? value : JSON.stringify(value);
}

/** The rows of the table, in Pulumi.yaml order. Keys of this project are shown without the `project:` prefix. */
export function configRows(pulumiYaml: string): ConfigRow[] {
  const doc = parse(pulumiYaml) as { name?: string; config?: Record<string, ConfigEntry | string | number | boolean> };
  if (!doc || typeof doc !== "object" || typeof doc.name !== "string") throw new Error("Pulumi.yaml: no project name");
  if (!doc.config || typeof doc.config !== "object") throw new Error("Pulumi.yaml: no config: block");
  const prefix = `${doc.name}:`;
  return Object.entries(doc.config).map(([rawKey, entry]) => {
    const key = rawKey.startsWith(prefix) ? rawKey.slice(prefix.length) : rawKey;
    const e: ConfigEntry = entry !== null && typeof entry === "object" ? entry : { value: entry };
    const fallback = e.default ?? e.value;
    const type = e.type === "array" ? `${e.items?.type ?? "any"}[]` : (e.type ?? typeof fallback);
    return {
      key,
      type: type === "undefined" ? "string" : type,
      required: fallback === undefined,
      secret: e.secret === true,
      default: fallback === undefined ? undefined : show(fallback),
      description: (e.description ?? "").replace(/\s+/g, " ").trim(),
    };
  });
}

const cell = (text: string) => text.replace(/\|/g, "\\|");
/** Prose for a table cell: `<domain>` outside code spans would be swallowed as an HTML tag, so escape it there. */
const prose = (text: string) =>
  text
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, "&lt;").replace(/>/g, "&gt;")))
    .join("");
const code = (text: string) => (text.includes("`") ? `\`\` ${text} \`\`` : `\`${text}\``);

/** The markdown table (unformatted; prettier aligns it when the README is written). */
export function renderConfigTable(pulumiYaml: string): string {
  const lines = ["| Key | Type | Default | Description |", "| --- | --- | --- | --- |"];
  for (const row of configRows(pulumiYaml)) {
    const type = row.secret ? `${row.type}, secret` : row.type;
    const def = row.default === undefined ? (row.required ? "**required**" : "") : code(row.default);
    lines.push(`| ${cell(code(row.key))} | ${cell(type)} | ${cell(def)} | ${cell(prose(row.description))} |`);
  }
  return lines.join("\n");
}

/** README text with the table between the markers replaced, formatted with the repository's prettier settings. */
export async function updateReadme(readme: string, table: string, readmePath: string): Promise<string> {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start === -1 || end === -1 || end < start) {
    throw new Error(`README.md: missing ${START_MARKER} … ${END_MARKER} markers`);
  }
  const next = `${readme.slice(0, start + START_MARKER.length)}\n\n${table}\n\n${readme.slice(end)}`;
  const options = (await prettier.resolveConfig(readmePath)) ?? {};
  return prettier.format(next, { ...options, filepath: readmePath });
}

const ROOT = path.resolve(__dirname, "..");

/** Compare (or write) README.md against Pulumi.yaml; returns whether README.md was up to date. */
export async function syncReadme(
  options: { check: boolean; root?: string } = { check: true },
): Promise<{ upToDate: boolean; expected: string; actual: string }> {
  const root = options.root ?? ROOT;
  const readmePath = path.join(root, "README.md");
  const actual = readFileSync(readmePath, "utf8");
  const expected = await updateReadme(
    actual,
    renderConfigTable(readFileSync(path.join(root, "Pulumi.yaml"), "utf8")),
    readmePath,
  );
  if (!options.check && expected !== actual) writeFileSync(readmePath, expected);
  return { upToDate: expected === actual, expected, actual };
}

if (require.main === module) {
  const check = process.argv.includes("--check");
  syncReadme({ check }).then(
    ({ upToDate }) => {
      if (check && !upToDate) {
        process.stderr.write("README.md config table is out of date with Pulumi.yaml: run `npm run docs:config`\n");
        process.exitCode = 1;
      } else if (!check) {
        process.stdout.write(
          upToDate ? "README.md config table already up to date\n" : "README.md config table updated\n",
        );
      }
    },
    (err: unknown) => {
      process.stderr.write(`docs:config: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
