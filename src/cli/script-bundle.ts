// `dflow run x.ts` compiles the workflow script and the local files it
// imports into one ES module with esbuild, then runs that with plain node.
// It used to run the script through tsx: node's module hooks then run on a
// separate thread and every module load (dflow-ts's, zod's, ~300 in all)
// made round trips through two hook chains, which cost more than the rest of
// a small workflow. The compiled file is always ESM (whatever the folder's
// package.json says; top-level await works), keeps each file's
// import.meta.url, and carries an inline source map, so stacks name the .ts
// files and lines: errors point at the user's code, and TsOPTemplate finds an
// OP's module file (its child process bundles that file) from the stack.
//
// Packages stay outside the bundle, imported by their resolved file URL, so
// the bundle can live in a cache folder: content-addressed, with a manifest
// per script listing what it was built from (size and mtime of every input,
// the resolved packages' entry files, the nearest tsconfig.json); a run whose
// inputs did not change starts esbuild not at all. The folder is bounded
// (the newest MAX_FILES files are kept).
import crypto from "node:crypto";
import fs from "node:fs";
import { isBuiltin } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { builtBundle, stamp, writeBuildManifest } from "../../engine/store/build-manifest.js";
import { writeAtomicSync } from "../../engine/store/fsx.js";

const MAX_FILES = 200;
/** Bumped when what a bundle contains changes, so that older bundles are not reused. */
const FORMAT = 1;

function cacheDir(): string {
  return path.join(process.env.DFLOW_TS_CACHE ?? path.join(os.tmpdir(), `dflow-ts-${os.userInfo().uid}`), "scripts");
}

const SELF = fileURLToPath(import.meta.url);
/** dflow-ts's compiled files (dist/src/cli/script-bundle.js is one of them). */
const OWN_DIST = path.resolve(path.dirname(SELF), "..", "..") + path.sep;

function manifestPath(script: string): string {
  return path.join(cacheDir(), `${crypto.createHash("sha256").update(script).digest("hex").slice(0, 24)}.json`);
}

/** The bundle built before from the same inputs, if it is still there. */
function cached(script: string): string | null {
  return builtBundle(manifestPath(script), FORMAT, SELF);
}

/** Keep the newest MAX_FILES files (bundles and manifests); a run is bounded to one of each. */
function prune(dir: string): void {
  try {
    const files = fs.readdirSync(dir).flatMap((f) => {
      const s = stamp(path.join(dir, f));
      return s ? [s] : [];
    });
    if (files.length <= MAX_FILES) return;
    files.sort((a, b) => b[2] - a[2]);
    for (const [f] of files.slice(MAX_FILES)) fs.rmSync(f, { force: true });
  } catch {
    // another run pruning at the same time: nothing lost
  }
}

function nearestTsconfig(dir: string): string | null {
  for (let d = dir; ; d = path.dirname(d)) {
    const f = path.join(d, "tsconfig.json");
    if (fs.existsSync(f)) return f;
    if (path.dirname(d) === d || path.basename(d) === "node_modules") return null;
  }
}

const SKIP = Symbol("dflow-resolve-once");

const LOADERS: Record<string, "ts" | "tsx" | "js" | "jsx"> = { ".ts": "ts", ".mts": "ts", ".cts": "ts", ".tsx": "tsx", ".js": "js", ".mjs": "js", ".cjs": "js", ".jsx": "jsx" };

/** A .cjs or .cts file, or a .js file without import/export statements that uses require or exports. */
function commonJs(file: string, contents: string): boolean {
  if (/\.c[jt]s$/.test(file)) return true;
  return /\.js$/.test(file) && !/^\s*(import|export)\b/m.test(contents) && /\brequire\s*\(|\bmodule\.exports\b|\bexports\.\w+\s*=/.test(contents);
}

/**
 * The user's files keep what they see when node loads them: their own
 * import.meta.url/dirname/filename (OPs use them for type names, e.g.
 * instanceOf(Hello, import.meta.url), and to find their files), and in a
 * CommonJS file a require() of its own, which resolves from the file's folder
 * as node's would (the bundle's is in the cache). Packages are left as they
 * are (they are not in the bundle anyway).
 */
const ownFileMeta = {
  name: "dflow-own-file-meta",
  setup(build: import("esbuild").PluginBuild) {
    build.onLoad({ filter: /\.(c|m)?[jt]sx?$/ }, async (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      let contents = await fs.promises.readFile(args.path, "utf8");
      const cjs = commonJs(args.path, contents);
      if (!cjs && !contents.includes("import.meta")) return undefined;
      const url = JSON.stringify(pathToFileURL(args.path).href);
      const dirname = JSON.stringify(path.dirname(args.path));
      const filename = JSON.stringify(args.path);
      contents = contents
        .replace(/\bimport\.meta\.url\b/g, url)
        .replace(/\bimport\.meta\.dirname\b/g, dirname)
        .replace(/\bimport\.meta\.filename\b/g, filename)
        // import.meta itself, as in isMain(import.meta); import.meta.resolve stays the bundle's.
        .replace(/\bimport\.meta\b(?!\s*\.\s*resolve\b)/g, `({ url: ${url}, dirname: ${dirname}, filename: ${filename} })`);
      if (cjs) {
        // On the first line (after a #! line), so that line numbers stay the file's.
        const at = contents.startsWith("#!") ? contents.indexOf("\n") + 1 : 0;
        contents = `${contents.slice(0, at)}var require = __dflowCreateRequire(${JSON.stringify(pathToFileURL(args.path).href)}); ${contents.slice(at)}`;
      }
      return { contents, loader: LOADERS[path.extname(args.path)] ?? "js" };
    });
  },
};

/** The workflow script `script` (absolute) as one ES module file in the cache; throws esbuild's error (with `errors`) when it does not compile. */
export async function bundleScript(script: string): Promise<string> {
  const hit = cached(script);
  if (hit) return hit;
  const esbuild = await import("esbuild");
  const dir = cacheDir();
  const externals = new Set<string>();
  // Packages: imported from where they are installed (resolved from the importing file, as node
  // would), never copied into the bundle, which stays small and shares the package's module instance.
  const packagesByPath = {
    name: "dflow-packages-by-path",
    setup(build: import("esbuild").PluginBuild) {
      // Bare specifiers only ("pkg", "@scope/pkg/sub", "node:fs", "#internal", a tsconfig paths alias).
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === SKIP) return undefined;
        if (isBuiltin(args.path)) return { path: args.path, external: true };
        const r = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: SKIP });
        if (r.errors.length) return { errors: r.errors };
        if (r.external) return { path: r.path, external: true };
        // A package: dflow-ts itself is a symlink out of node_modules in a user's project, and
        // imports itself by name in its own checkout, so the resolved path does not always say
        // so; its package.json does. Else (a tsconfig paths alias, "#imports") the user's file, bundled.
        if (!r.path.includes(`${path.sep}node_modules${path.sep}`) && packageName(r.path) !== nameOf(args.path)) return { path: r.path, sideEffects: r.sideEffects };
        externals.add(r.path);
        // require() takes a path, import a URL.
        return { path: args.kind === "require-call" || args.kind === "require-resolve" ? r.path : pathToFileURL(r.path).href, external: true };
      });
      // dflow-ts imported by a path into its dist/ (a script in a checkout): one instance of it, the
      // one the CLI runs, as when it is imported by name; a copy in the bundle would have its own
      // config and registries.
      build.onResolve({ filter: /^(\.|\/)/ }, async (args) => {
        if (args.pluginData === SKIP) return undefined;
        const r = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: SKIP });
        if (r.errors.length || !r.path.startsWith(OWN_DIST)) return undefined;
        externals.add(r.path);
        return { path: args.kind === "require-call" || args.kind === "require-resolve" ? r.path : pathToFileURL(r.path).href, external: true };
      });
    },
  };
  const out = await esbuild.build({
    entryPoints: [script],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    write: false,
    // In the folder the bundle is written to: the source map's paths are relative to it.
    outfile: path.join(dir, "bundle.mjs"),
    sourcemap: "inline",
    sourcesContent: false,
    metafile: true,
    logLevel: "silent",
    banner: { js: 'import { createRequire as __dflowCreateRequire } from "node:module";' },
    plugins: [packagesByPath, ownFileMeta],
  }).catch((e: { errors?: Array<{ location?: { file: string } | null }> }) => {
    // esbuild names files relative to its working directory: messages name them in full.
    for (const m of e.errors ?? []) if (m.location) m.location.file = path.resolve(m.location.file);
    throw e;
  });
  const code = out.outputFiles[0]!.contents;
  const name = `${path.basename(script).replace(/\W/g, "_")}-${crypto.createHash("sha256").update(code).digest("hex").slice(0, 16)}.mjs`;
  fs.mkdirSync(dir, { recursive: true });
  const bundle = path.join(dir, name);
  if (!fs.existsSync(bundle)) writeAtomicSync(bundle, code);
  const cwd = process.cwd();
  const files = [...Object.keys(out.metafile.inputs).map((f) => path.resolve(cwd, f)), ...externals, nearestTsconfig(path.dirname(script))];
  // Files that are not there (no tsconfig.json) are not inputs.
  const inputs = files.flatMap((f) => {
    const s = f ? stamp(f) : null;
    return s ? [s] : [];
  });
  writeBuildManifest(manifestPath(script), FORMAT, SELF, inputs, bundle);
  prune(dir);
  return bundle;
}

/** The package a bare specifier names: "@scope/pkg" of "@scope/pkg/sub". */
function nameOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/** The name in the package.json nearest to a file, if any. */
function packageName(file: string): string | undefined {
  for (let d = path.dirname(file); ; d = path.dirname(d)) {
    try {
      return (JSON.parse(fs.readFileSync(path.join(d, "package.json"), "utf8")) as { name?: string }).name;
    } catch {
      if (path.dirname(d) === d) return undefined;
    }
  }
}
