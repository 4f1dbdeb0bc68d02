/**
 * `npm run build`: esbuild CJS bundles for the API and the Lambda, each one self-contained file. `npm run build -- app`
 * (or `lambda`) builds only that image's bundles: the image build stages run it with only their own sources.
 *
 *   dist/app/tracing.js    preload (`node --require ./tracing.js ./server.js`)
 *   dist/app/server.js     Koa API incl. @aws-sdk/client-sqs (the Node slim image has no AWS SDK)
 *   dist/lambda/handler.js SQS consumer; `@aws-sdk/*` is external: the Lambda Node.js base image ships AWS SDK v3,
 *                          and the only AWS client the Lambda uses (Secrets Manager) is required lazily.
 *   dist/lambda/node_modules/@opentelemetry/exporter-trace-otlp-proto/index.js
 *                          the OTLP/HTTP exporter, required by the handler only for http/protobuf (see below).
 *
 * esbuild takes the ES-module builds that OpenTelemetry packages ship (their `exports` maps' `default` condition; for
 * packages without one, `mainFields: module,main`), so unused exports (most of semantic-conventions/incubating, the
 * logs/metrics serializers of otlp-transformer) are tree-shaken away.
 */
import { readFile } from "node:fs/promises";
import { mkdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { build, type BuildOptions, type Plugin } from "esbuild";

export interface BundleInfo {
  readonly name: string;
  /** Absolute path of the bundle. */
  readonly outfile: string;
  readonly bytes: number;
  /** Source files esbuild put into the bundle (repo-relative, from the metafile; for size checks and tests). */
  readonly inputs: string[];
}

export interface BuildBundlesOptions {
  /** Output root (default `<repo>/dist`). */
  readonly outdir?: string;
  /** Print a size table (default false when called programmatically). */
  readonly log?: boolean;
  /** Build only the bundles under these top-level names (`app`, `lambda`); default all. */
  readonly only?: readonly string[];
}

const ROOT = path.resolve(__dirname, "..");

/**
 * `@grpc/proto-loader` (+ protobufjs, long, …; ~135 KB minified) is only `require`d by grpc-js for the channelz and
 * ORCA admin services, which the OTLP exporter never starts. Replacing it with a stub that throws if ever called
 * cuts the Lambda bundle and its parse time.
 */
const stubProtoLoader: Plugin = {
  name: "stub-grpc-proto-loader",
  setup(b) {
    b.onResolve({ filter: /^@grpc\/proto-loader$/ }, () => ({ path: "proto-loader-stub", namespace: "stub" }));
    b.onLoad({ filter: /.*/, namespace: "stub" }, () => ({
      contents:
        "const fail = () => { throw new Error('@grpc/proto-loader is not bundled (only gRPC channelz/ORCA need it)'); };" +
        "module.exports = { loadSync: fail, load: fail, fromJSON: fail };",
      loader: "js",
    }));
  },
};

/**
 * OpenTelemetry 3.x ships ES-module builds made by rolldown, which load `@grpc/grpc-js` lazily through
 * `createRequire(import.meta.url)` (`__require` from `_virtual/_rolldown/runtime.mjs`; today only
 * `@opentelemetry/otlp-grpc-exporter-base`). In a CommonJS bundle `import.meta.url` is undefined, so that line throws
 * at load, and esbuild cannot see through `__require()` to bundle the dependency. This turns those calls back into
 * plain `require()`, which esbuild bundles like any other.
 */
const ROLLDOWN_REQUIRE_IMPORT = /^import \{ __require \} from "(?:\.\.?\/)+_virtual\/_rolldown\/runtime\.mjs";\r?$/m;
const rolldownRequireToRequire: Plugin = {
  name: "rolldown-require-to-require",
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]@opentelemetry[\\/].*\.mjs$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      if (!ROLLDOWN_REQUIRE_IMPORT.test(source)) return undefined;
      return {
        contents: source.replace(ROLLDOWN_REQUIRE_IMPORT, "").replace(/\b__require\(/g, "require("),
        loader: "js",
      };
    });
  },
};

/** esbuild options shared by every bundle (also used by bench/tools/bundle-analysis.ts, so it analyses what ships). */
export const BUNDLE_OPTIONS: BuildOptions = {
  bundle: true,
  platform: "node",
  target: "node24",
  format: "cjs",
  minify: true,
  legalComments: "none",
  mainFields: ["module", "main"],
  logLevel: "warning",
  plugins: [stubProtoLoader, rolldownRequireToRequire],
};

export interface BundleTarget {
  readonly name: string;
  readonly entry: string;
  readonly outfile: string;
  readonly external?: string[];
}

/**
 * The official OTLP/HTTP (protobuf) exporter, only for `OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`. In the Lambda it
 * is its own bundle beside the handler (`node_modules/<package>/index.js`, where the handler's `require` finds it):
 * inside handler.js its ~240 KB (it brings sdk-metrics for its self-observability) cost ~20 ms more CPU at every
 * cold start even when gRPC is used (measured with both in one file).
 */
const OTLP_PROTO_EXPORTER = "@opentelemetry/exporter-trace-otlp-proto";

/** What `npm run build` produces. The Lambda base image ships the AWS SDK v3, so the bundle leaves it out. */
export function bundleTargets(outdir: string): BundleTarget[] {
  return [
    { name: "app/tracing", entry: "app/src/tracing.ts", outfile: path.join(outdir, "app/tracing.js") },
    { name: "app/server", entry: "app/src/server.ts", outfile: path.join(outdir, "app/server.js") },
    {
      name: "lambda/handler",
      entry: "lambda/src/handler.ts",
      outfile: path.join(outdir, "lambda/handler.js"),
      external: ["@aws-sdk/*", OTLP_PROTO_EXPORTER],
    },
    {
      name: "lambda/otlp-proto",
      entry: path.relative(ROOT, require.resolve(OTLP_PROTO_EXPORTER)),
      outfile: path.join(outdir, "lambda/node_modules", OTLP_PROTO_EXPORTER, "index.js"),
    },
  ];
}

/**
 * Writes `contents` to a temporary file beside `file`, then renames it into place: a process that starts a bundle
 * while another rebuilds it (`npm start` beside a running stack, parallel tests) reads the old bundle or the new one,
 * never half of one.
 */
function writeWhole(file: string, contents: Uint8Array): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, contents);
  renameSync(partial, file);
}

export async function buildBundles(options: BuildBundlesOptions = {}): Promise<BundleInfo[]> {
  const outdir = options.outdir ?? path.join(ROOT, "dist");
  const only = options.only ?? [];
  const targets = bundleTargets(outdir).filter((t) => only.length === 0 || only.includes(t.name.split("/")[0]!));
  if (targets.length === 0) throw new Error(`no bundle named ${only.join(", ")} (app, lambda)`);
  const results = await Promise.all(
    targets.map((t) =>
      build({
        ...BUNDLE_OPTIONS,
        entryPoints: [path.join(ROOT, t.entry)],
        outfile: t.outfile,
        external: t.external,
        metafile: true,
        write: false,
      }),
    ),
  );
  for (const file of results.flatMap((result) => result.outputFiles)) writeWhole(file.path, file.contents);
  const infos = targets.map((t, i) => ({
    name: t.name,
    outfile: t.outfile,
    bytes: statSync(t.outfile).size,
    inputs: Object.values(results[i].metafile.outputs).flatMap((o) =>
      Object.entries(o.inputs)
        .filter(([, input]) => input.bytesInOutput > 0)
        .map(([file]) => path.relative(ROOT, path.resolve(process.cwd(), file))),
    ),
  }));
  if (options.log) {
    for (const info of infos) {
      console.log(
        `${info.name.padEnd(16)} ${(info.bytes / 1024).toFixed(1).padStart(8)} KiB  ${path.relative(ROOT, info.outfile)}`,
      );
    }
  }
  return infos;
}

if (require.main === module) {
  buildBundles({ log: true, only: process.argv.slice(2) }).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
