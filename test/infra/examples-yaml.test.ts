// examples/yaml/Pulumi.yaml must stay a valid use of the package: every resource type is a component of the plugin
// schema, every property is one of its inputs (nested objects against their schema types), every required input is
// set, and every `${resource.output}` it reads is an output of that component. Pulumi YAML accepts `pkg:Name` for
// `pkg:index:Name` (pulumi-yaml's token resolution); the example uses the full token.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { packageSchema, type Schema, type SchemaProperty } from "./package-schema";

const FILE = path.resolve(__dirname, "../../examples/yaml/Pulumi.yaml");

interface YamlProgram {
  runtime: string;
  packages?: Record<string, string>;
  config?: Record<string, unknown>;
  resources: Record<string, { type: string; properties?: Record<string, unknown> }>;
  outputs?: Record<string, unknown>;
}

const program = parse(fs.readFileSync(FILE, "utf8")) as YamlProgram;

/** Problems with `value` as a value of `property` (objects are checked against their type, recursively). */
function valueProblems(schema: Schema, where: string, property: SchemaProperty, value: unknown): string[] {
  if (typeof value === "string" && /^\$\{[^}]+\}$/.test(value)) return []; // an interpolation: checked below
  if (property.$ref?.startsWith("#/types/")) {
    const type = schema.types[property.$ref.slice("#/types/".length)];
    if (!type?.properties) return [`${where}: type ${property.$ref} is not defined`];
    if (typeof value !== "object" || value === null || Array.isArray(value)) return [`${where}: expected an object`];
    return objectProblems(schema, where, type.properties, type.required ?? [], value as Record<string, unknown>);
  }
  if (property.type === "array") {
    if (!Array.isArray(value)) return [`${where}: expected a list`];
    return value.flatMap((item, i) => valueProblems(schema, `${where}[${i}]`, property.items ?? {}, item));
  }
  const typeOf = typeof value === "number" ? "number" : typeof value;
  if (property.type && property.type !== typeOf && !(property.type === "integer" && typeOf === "number")) {
    return [`${where}: expected ${property.type}, got ${typeOf}`];
  }
  return [];
}

function objectProblems(
  schema: Schema,
  where: string,
  properties: Record<string, SchemaProperty>,
  required: readonly string[],
  value: Record<string, unknown>,
): string[] {
  const problems = required.filter((key) => !(key in value)).map((key) => `${where}: missing required ${key}`);
  for (const [key, item] of Object.entries(value)) {
    const property = properties[key];
    if (!property) problems.push(`${where}.${key} is not an input (inputs: ${Object.keys(properties).join(", ")})`);
    else problems.push(...valueProblems(schema, `${where}.${key}`, property, item));
  }
  return problems;
}

describe("examples/yaml/Pulumi.yaml against the plugin schema", function () {
  this.timeout(240_000);
  let schema: Schema;

  before(async () => {
    schema = await packageSchema();
  });

  it("is a YAML program that takes the package from this repository", () => {
    assert.equal(program.runtime, "yaml");
    const source = program.packages?.[schema.name];
    assert.ok(source, `packages.${schema.name}`);
    assert.ok(fs.existsSync(path.join(path.dirname(FILE), source, "PulumiPlugin.yaml")), source);
  });

  it("uses every component the plugin hosts", () => {
    const used = new Set(Object.values(program.resources).map((r) => r.type));
    assert.deepEqual([...used].sort(), Object.keys(schema.resources).sort());
  });

  it("sets only inputs the schema has, of their types, and every required one", () => {
    const problems = Object.entries(program.resources).flatMap(([name, resource]) => {
      const component = schema.resources[resource.type];
      if (!component) return [`${name}: ${resource.type} is not in the schema`];
      return objectProblems(
        schema,
        name,
        component.inputProperties ?? {},
        component.requiredInputs ?? [],
        resource.properties ?? {},
      );
    });
    assert.deepEqual(problems, []);
  });

  it("reads only outputs the components have, and config it declares", () => {
    const text = fs.readFileSync(FILE, "utf8");
    const problems: string[] = [];
    for (const [, expression] of text.matchAll(/\$\{([^}]+)\}/g)) {
      const [name, output] = expression!.split(".");
      const resource = program.resources[name!];
      if (output === undefined) {
        if (!(name! in (program.config ?? {}))) problems.push(`\${${expression}}: no such config`);
      } else if (!resource) {
        problems.push(`\${${expression}}: no resource ${name}`);
      } else if (!schema.resources[resource.type]?.properties?.[output]) {
        problems.push(`\${${expression}}: ${resource.type} has no output ${output}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it("would catch a misspelt property (the check can fail)", () => {
    const component = schema.resources["traced:index:TracedQueue"]!;
    assert.deepEqual(
      objectProblems(schema, "orders", component.inputProperties ?? {}, [], { deadLetter: { maxReceives: 3 } }),
      ["orders.deadLetter.maxReceives is not an input (inputs: maxReceiveCount, retentionSeconds)"],
    );
  });
});
