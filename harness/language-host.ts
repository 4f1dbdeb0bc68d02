/**
 * Where the Pulumi Node language host runs a project's program: the working directory, the entry module and the
 * tsconfig it compiles with. Reproduced from the engine and the host so tests load the program exactly as
 * `pulumi preview` / `pulumi up` do, and a path that only works from another directory fails here first.
 *
 * - pulumi/pulumi `pkg/engine/project.go` `getPwdMain`: no `main` → pwd is the project root and main ".";
 *   a directory `main` → pwd is that directory and main "."; a file `main` → pwd is its directory. The engine
 *   starts the program *and every provider plugin* in that pwd.
 * - `sdk/nodejs/cmd/run/run.js` `run`: `process.chdir(--pwd)`; main "." resolves through the nearest package.json
 *   (`exports` string, `exports["."]`, then `main`), else Node resolves the directory itself; TypeScript uses
 *   `PULUMI_NODEJS_TSCONFIG_PATH` (Pulumi.yaml `runtime.options.tsconfig`) or `tsconfig.json`, relative to the pwd,
 *   and compiles with no project options at all when that file does not exist.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export interface ProgramLocation {
  /** The directory holding Pulumi.yaml. */
  readonly projectRoot: string;
  /** Working directory of the program and of the provider plugins. */
  readonly pwd: string;
  /** The module the host requires. */
  readonly entry: string;
  /** The tsconfig the host compiles with; undefined when it would skip project options. */
  readonly tsconfig: string | undefined;
}

interface ProjectFile {
  main?: string;
  runtime?: string | { options?: { tsconfig?: string } };
}

/** `getPwdMain` of the engine. */
function pwdAndMain(root: string, main: string | undefined): { pwd: string; main: string } {
  if (!main) return { pwd: root, main: "." };
  const target = path.resolve(root, main); // filepath.Clean(filepath.Join(root, main))
  if (!fs.existsSync(target)) throw new Error(`project 'main' could not be read: ${target} does not exist`);
  return fs.statSync(target).isDirectory()
    ? { pwd: target, main: "." }
    : { pwd: path.dirname(target), main: path.basename(target) };
}

/** The nearest directory at or above `from` with a package.json (run.js `npmPackageRootFromProgramPath`). */
function packageRoot(from: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** run.js: with main ".", the entry the package.json names (if that file exists), else the program directory. */
function entryOf(program: string): string {
  const isDirectory = fs.existsSync(program) && fs.statSync(program).isDirectory();
  const root = packageRoot(isDirectory ? program : path.dirname(program));
  if (!root) return program;
  const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
    exports?: string | Record<string, string | { default?: string; require?: string; import?: string }>;
    main?: string;
  };
  let named: string | undefined;
  if (typeof manifest.exports === "string") named = manifest.exports;
  else if (typeof manifest.exports === "object") {
    const dot = manifest.exports["."];
    named = typeof dot === "string" ? dot : (dot?.default ?? dot?.require ?? dot?.import);
  } else named = manifest.main;
  return named && fs.existsSync(path.join(root, named)) ? path.join(root, named) : program;
}

/** Where the language host would run the program of the project at `projectRoot`. */
export function locateProgram(projectRoot: string): ProgramLocation {
  const project = parse(fs.readFileSync(path.join(projectRoot, "Pulumi.yaml"), "utf8")) as ProjectFile;
  const { pwd, main } = pwdAndMain(projectRoot, project.main);
  const program = path.join(pwd, main);
  const entry = main === "." ? entryOf(program) : program;
  const options = typeof project.runtime === "object" ? project.runtime.options : undefined;
  const tsconfig = path.resolve(pwd, options?.tsconfig ?? "tsconfig.json");
  return { projectRoot, pwd, entry, tsconfig: fs.existsSync(tsconfig) ? tsconfig : undefined };
}
