/**
 * The components' Args convention: every field of every exported `…Args` interface in
 * packages/traced-components/src — nested fields too — is `readonly` and has JSDoc with an `@example`, and every optional field
 * says its `@default`. Read from the source with the TypeScript compiler, so a new undocumented field fails here.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import ts from "typescript";

const COMPONENTS = path.resolve(__dirname, "../../packages/traced-components/src");
/** The interfaces callers fill in: every `…Args`, and the queue's `consumer` shape. */
const ARGS_INTERFACE = /Args$|^QueueConsumer$/;

/** `file Interface.field.nested: problem` for every field that breaks the contract. */
function argsProblems(file: string): string[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const problems: string[] = [];
  const checkMembers = (members: ts.NodeArray<ts.TypeElement>, owner: string) => {
    for (const member of members) {
      if (!ts.isPropertySignature(member)) continue;
      const where = `${path.basename(file)} ${owner}.${member.name.getText(source)}`;
      const tags = ts.getJSDocTags(member).map((tag) => tag.tagName.text);
      if (!member.modifiers?.some((m) => m.kind === ts.SyntaxKind.ReadonlyKeyword))
        problems.push(`${where}: not readonly`);
      if (ts.getJSDocCommentsAndTags(member).length === 0) problems.push(`${where}: no JSDoc`);
      else if (!tags.includes("example")) problems.push(`${where}: no @example`);
      if (member.questionToken && !tags.includes("default")) problems.push(`${where}: optional without @default`);
      forEachTypeLiteral(member.type, (literal) =>
        checkMembers(literal.members, `${owner}.${member.name.getText(source)}`),
      );
    }
  };
  for (const statement of source.statements) {
    if (ts.isInterfaceDeclaration(statement) && ARGS_INTERFACE.test(statement.name.text)) {
      checkMembers(statement.members, statement.name.text);
    }
  }
  return problems;
}

/** Calls `visit` for each object type literal in `type`, including inside unions (e.g. `false | { … }`). */
function forEachTypeLiteral(type: ts.TypeNode | undefined, visit: (literal: ts.TypeLiteralNode) => void): void {
  if (!type) return;
  if (ts.isTypeLiteralNode(type)) visit(type);
  else if (ts.isUnionTypeNode(type) || ts.isIntersectionTypeNode(type)) {
    for (const t of type.types) forEachTypeLiteral(t, visit);
  } else if (ts.isParenthesizedTypeNode(type)) forEachTypeLiteral(type.type, visit);
}

describe("component Args documentation", () => {
  const files = fs
    .readdirSync(COMPONENTS)
    .filter((f) => f.endsWith(".ts"))
    .map((f) => path.join(COMPONENTS, f));

  it("finds the components' Args interfaces", () => {
    const source = files.map((f) => fs.readFileSync(f, "utf8")).join("\n");
    for (const name of [
      "TracedQueueArgs",
      "QueueConsumer",
      "TracedContainerLambdaArgs",
      "TracedFargateServiceArgs",
      "TracedServiceArgs",
      "CoralogixMetricStreamArgs",
      "PipelineDashboardArgs",
    ]) {
      assert.match(source, new RegExp(`export interface ${name}\\b`), name);
    }
  });

  it("documents every field with @example (and @default when optional), readonly", () => {
    assert.deepEqual(files.flatMap(argsProblems), []);
  });

  it("reports an undocumented field", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "args-")), "x.ts");
    fs.writeFileSync(
      file,
      "export interface XArgs {\n  /** Doc. @example 1 */\n  readonly a: number;\n  b?: { c: number };\n}\n",
    );
    assert.deepEqual(argsProblems(file), [
      "x.ts XArgs.b: not readonly",
      "x.ts XArgs.b: no JSDoc",
      "x.ts XArgs.b: optional without @default",
      "x.ts XArgs.b.c: not readonly",
      "x.ts XArgs.b.c: no JSDoc",
    ]);
  });
});
