/** A small Dockerfile parser for the image tests: instructions, grouped into build stages. */
import { readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../..");

export interface DockerInstruction {
  readonly keyword: string;
  /** `--name=value` flags before the arguments (FROM --platform, COPY --chown, COPY --from, …). */
  readonly flags: Record<string, string>;
  /** The rest of the instruction: for exec form (`["a","b"]`) the parsed array, otherwise split on whitespace. */
  readonly args: string[];
  /** True when the arguments were a JSON array (exec form). */
  readonly exec: boolean;
}

/** One `FROM` and the instructions up to the next one. */
export interface DockerStage {
  readonly from: DockerInstruction;
  /** The base image reference (`FROM <image> [AS name]`). */
  readonly image: string;
  /** `AS <name>`, if any. */
  readonly name?: string;
  readonly instructions: DockerInstruction[];
}

/** Parses a Dockerfile (path relative to the project root): comments dropped, line continuations joined. */
export function parseDockerfile(file: string): DockerInstruction[] {
  const logical: string[] = [];
  let current = "";
  for (const raw of readFileSync(path.join(ROOT, file), "utf8").split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#") || (current === "" && line === "")) continue;
    if (line.endsWith("\\")) {
      current += line.slice(0, -1) + " ";
      continue;
    }
    logical.push(current + line);
    current = "";
  }
  if (current.trim() !== "") logical.push(current);
  return logical.map((text) => {
    const [, keyword = "", rest = ""] = /^(\S+)\s*(.*)$/.exec(text) ?? [];
    const flags: Record<string, string> = {};
    let remaining = rest;
    for (let flag = /^--([a-z-]+)=(\S+)\s*/.exec(remaining); flag; flag = /^--([a-z-]+)=(\S+)\s*/.exec(remaining)) {
      flags[flag[1]!] = flag[2]!;
      remaining = remaining.slice(flag[0].length);
    }
    if (remaining.startsWith("[")) {
      return { keyword: keyword.toUpperCase(), flags, args: JSON.parse(remaining) as string[], exec: true };
    }
    return { keyword: keyword.toUpperCase(), flags, args: remaining.split(/\s+/).filter(Boolean), exec: false };
  });
}

/** The Dockerfile's stages in order; the last one is the image. */
export function stagesOf(file: string): DockerStage[] {
  const stages: DockerStage[] = [];
  for (const instruction of parseDockerfile(file)) {
    if (instruction.keyword === "FROM") {
      const [image = "", as, name] = instruction.args;
      stages.push({
        from: instruction,
        image,
        name: as?.toUpperCase() === "AS" ? name : undefined,
        instructions: [],
      });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

export const only = (instructions: DockerInstruction[], keyword: string) =>
  instructions.filter((i) => i.keyword === keyword);

/** The context paths `COPY`/`ADD` read in any stage (not `--from` another stage), e.g. `app/src/`. */
export function contextSources(file: string): string[] {
  return parseDockerfile(file)
    .filter((i) => (i.keyword === "COPY" || i.keyword === "ADD") && i.flags.from === undefined)
    .flatMap((i) => (i.exec ? i.args : i.args).slice(0, -1));
}
