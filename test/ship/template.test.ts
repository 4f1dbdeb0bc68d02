// `pulumi new <repository url>` starts a project from this repository: Pulumi.yaml's `template:` section (shape as
// in pulumi/pulumi sdk/go/common/apitype/templates.go, ProjectTemplate and ProjectTemplateConfigValue) must prompt for
// every key the program requires, mark the secret one secret, and name only keys the program reads.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { parse } from "yaml";
import { CONFIG_KEYS } from "../../infra/config";

interface Decl {
  type: string;
  default?: unknown;
  secret?: boolean;
}
interface Prompt {
  description?: string;
  default?: unknown;
  secret?: boolean;
}
const project = parse(fs.readFileSync("Pulumi.yaml", "utf8")) as {
  config: Record<string, Decl>;
  template?: { displayName?: string; description?: string; quickstart?: string; config?: Record<string, Prompt> };
};

describe("Pulumi.yaml template (pulumi new)", () => {
  const prompts = project.template?.config ?? {};

  it("has a name, a description and a quickstart", () => {
    assert.ok(project.template?.displayName);
    assert.ok(project.template?.description);
    assert.ok(project.template?.quickstart);
  });

  it("prompts for every key the program requires (declared without a default), and for the AWS region", () => {
    const required = Object.entries(project.config)
      .filter(([, decl]) => !("default" in decl))
      .map(([key]) => key);
    assert.deepEqual(required.sort(), ["coralogixApiKey", "coralogixDomain"]);
    for (const key of [...required, "aws:region"]) assert.ok(prompts[key], `a prompt for ${key}`);
  });

  it("prompts only for keys the program reads, secret exactly where the program declares a secret", () => {
    for (const [key, prompt] of Object.entries(prompts)) {
      if (key === "aws:region") continue;
      assert.ok((CONFIG_KEYS as readonly string[]).includes(key), `${key} is read by infra/config.ts`);
      assert.equal(prompt.secret ?? false, project.config[key]!.secret ?? false, `${key} secret`);
    }
  });

  it("gives each prompt a description and only string defaults (the manifest's type), never one for the secret", () => {
    for (const [key, prompt] of Object.entries(prompts)) {
      assert.ok(prompt.description && prompt.description.length > 10, key);
      assert.ok(prompt.default === undefined || typeof prompt.default === "string", key);
      if (prompt.secret) assert.equal(prompt.default, undefined, key);
    }
  });
});
