/**
 * A deterministic content hash of the files an image build consumes, for an immutable image tag: the same sources
 * give the same tag on every machine, any change to them gives a new one.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { projectDirectory } from "./project-root";

/**
 * Every regular file under `inputs` (files or directories, relative to `root`), sorted by their `/`-separated
 * relative path. Throws when an input does not exist: a declared input that is not there means the list is wrong.
 */
export function inputFiles(inputs: readonly string[], root: string = projectDirectory()): string[] {
  const files = new Set<string>();
  const walk = (relative: string) => {
    const absolute = path.join(root, relative);
    const stat = fs.statSync(absolute, { throwIfNoEntry: false });
    if (!stat) throw new Error(`image input ${relative} does not exist under ${root}`);
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(absolute)) walk(path.posix.join(relative, entry));
    } else if (stat.isFile()) {
      files.add(relative);
    }
  };
  for (const input of inputs) walk(path.posix.normalize(input).replace(/\/$/, ""));
  return [...files].sort();
}

/**
 * SHA-256 over each input file's relative path, permission bits and content. The permission bits are in because
 * the docker-build provider's context hash includes the file mode too (provider/internal/context.go `hashFile` in
 * github.com/pulumi/pulumi-docker-build): whenever that hash makes the provider rebuild, this tag changes as well,
 * so a rebuild never re-pushes an existing tag (which an IMMUTABLE repository rejects).
 */
export function sourceHash(inputs: readonly string[], root: string = projectDirectory()): string {
  const hash = createHash("sha256");
  for (const file of inputFiles(inputs, root)) {
    const absolute = path.join(root, file);
    const mode = fs.statSync(absolute).mode & 0o777;
    const content = fs.readFileSync(absolute);
    hash.update(`${file}\0${mode.toString(8)}\0${content.length}\0`);
    hash.update(content);
  }
  return hash.digest("hex");
}
