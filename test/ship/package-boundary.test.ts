// The package boundary: infra/ builds the stack from @traced-onboarding/components' public exports only,
// as an outside program would, and the package reaches nothing outside its directory — its code imports only its own
// files, Node built-ins and its peer dependencies, and every file it reads at run time is in its published `files`.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const PACKAGE = path.join(ROOT, "packages/traced-components");
const manifest = JSON.parse(fs.readFileSync(path.join(PACKAGE, "package.json"), "utf8")) as {
  name: string;
  files: string[];
  peerDependencies: Record<string, string>;
  dependencies?: Record<string, string>;
};

/** Every module specifier a TypeScript file imports or re-exports. */
function specifiers(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  return [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+"([^"]+)";/gms)].map((m) => m[1]!);
}

const tsFiles = (dir: string): string[] =>
  fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => path.join(dir, f));

describe("package boundary of @traced-onboarding/components", () => {
  it("infra/ imports the components only by the package name, never a path into packages/", () => {
    const files = tsFiles(path.join(ROOT, "infra"));
    assert.ok(files.length >= 4);
    const deep = files.flatMap((file) =>
      specifiers(file)
        .filter((s) => s.includes("packages/") || s.startsWith(`${manifest.name}/`) || s.includes("components/"))
        .map((s) => `${path.relative(ROOT, file)}: ${s}`),
    );
    assert.deepEqual(deep, []);
    assert.ok(
      files.some((file) => specifiers(file).includes(manifest.name)),
      `infra/ imports ${manifest.name}`,
    );
  });

  it("imports only its own files, Node built-ins and its peer dependencies", () => {
    const allowed = new Set([...Object.keys(manifest.peerDependencies), ...Object.keys(manifest.dependencies ?? {})]);
    const problems: string[] = [];
    for (const file of [...tsFiles(path.join(PACKAGE, "src")), path.join(PACKAGE, "provider.ts")]) {
      for (const specifier of specifiers(file)) {
        if (specifier.startsWith(".")) {
          const target = path.resolve(path.dirname(file), specifier);
          if (!target.startsWith(PACKAGE + path.sep)) problems.push(`${path.relative(ROOT, file)}: ${specifier}`);
        } else if (!specifier.startsWith("node:")) {
          const name = specifier.startsWith("@")
            ? specifier.split("/").slice(0, 2).join("/")
            : specifier.split("/")[0]!;
          if (!allowed.has(name))
            problems.push(`${path.relative(ROOT, file)}: ${specifier} is not a declared dependency`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it("publishes the files its components read at run time, and its plugin manifest and entry", () => {
    const published = (file: string) =>
      manifest.files.some((entry) => file === entry || file.startsWith(`${entry.replace(/\/$/, "")}/`));
    for (const file of [
      "collector/config.yaml",
      "canary/onboard-canary.js",
      "src/index.ts",
      "PulumiPlugin.yaml",
      "provider.ts",
      "tsconfig.json",
    ]) {
      assert.ok(fs.existsSync(path.join(PACKAGE, file)), `${file} exists`);
      assert.ok(published(file), `${file} is in package.json files`);
    }
  });

  it("declares @pulumi/* as peer dependencies the root program provides, at versions it satisfies", () => {
    const root = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    for (const [name, range] of Object.entries(manifest.peerDependencies)) {
      assert.match(name, /^@pulumi\//);
      const pinned = root.dependencies[name] as string;
      assert.ok(pinned, `the root program depends on ${name}`);
      // Caret ranges of exact pins: ^X.Y.Z accepts the root's version when it is X.*.* at or above Y.Z.
      const [major, minor, patch] = range.replace(/^\^/, "").split(".").map(Number);
      const [rMajor, rMinor, rPatch] = pinned.split(".").map(Number);
      assert.ok(
        major === 0
          ? rMajor === 0 && rMinor === minor && rPatch! >= patch!
          : rMajor === major && (rMinor! > minor! || (rMinor === minor && rPatch! >= patch!)),
        `${name}: ${pinned} satisfies ${range}`,
      );
    }
    assert.equal(manifest.dependencies, undefined, "no runtime dependency of its own");
  });
});
