// TypeScript OPs start faster from one plain JS file: once per engine
// process the OP's module is bundled with esbuild (a dependency of tsx, which
// otherwise compiles it in every step's child: ~280 ms a step measured, vs
// ~90 ms for `node -e 0`), together with the OP runner and the parts of
// dflow-ts it uses, so the child loads no compiler and one file. When
// bundling fails (e.g. a native addon), steps load the module through tsx.
//
// zod is most of what a step's node has to parse and run (750 kB of the old
// 1.3 MB bundles), and it is the same for every OP: it lives in one shared,
// minified file that each bundle loads through vm.Script with a V8 code cache
// made by the engine (Node 20 has no module.enableCompileCache), so a step
// neither parses nor compiles it again. The tsx fallback of the runner is not
// bundled at all (it is loaded from dflow-ts's node_modules if ever reached).
//
// Cache: $DFLOW_TS_CACHE (default <tmpdir>/dflow-ts-<uid>/ops), every file
// named after its content; files this engine uses are touched, and once per
// engine process files unused for DFLOW_TS_CACHE_DAYS days (7) are deleted,
// then the least recently used until the folder is under DFLOW_TS_CACHE_MB (200).
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import vm from "node:vm";
import { builtBundle, stamp, writeBuildManifest } from "./store/build-manifest.js";
import { writeAtomicSync } from "./store/fsx.js";

const RUNNER = fileURLToPath(new URL("./op-runner.js", import.meta.url));
const bundles = new Map<string, Promise<string | null>>();

export function cacheDir(): string {
  return path.join(process.env.DFLOW_TS_CACHE ?? path.join(os.tmpdir(), `dflow-ts-${os.userInfo().uid}`), "ops");
}

const LOADERS: Record<string, "ts" | "tsx" | "js" | "jsx"> = { ".ts": "ts", ".mts": "ts", ".cts": "ts", ".tsx": "tsx", ".js": "js", ".mjs": "js", ".cjs": "js", ".jsx": "jsx" };

// A minimal view of esbuild's plugin API (esbuild is imported lazily, its types with it).
interface PluginBuild {
  onResolve(o: { filter: RegExp; namespace?: string }, cb: (a: { path: string; importer: string; kind: string; resolveDir: string; pluginData?: unknown }) => Promise<Record<string, unknown> | undefined> | Record<string, unknown> | undefined): void;
  onLoad(o: { filter: RegExp; namespace?: string }, cb: (a: { path: string }) => Promise<Record<string, unknown> | undefined> | Record<string, unknown> | undefined): void;
  resolve(p: string, o: { kind: string; resolveDir: string; pluginData?: unknown }): Promise<{ path: string; errors: unknown[] }>;
}

/**
 * Every bundled file keeps its own import.meta.url/dirname/filename (the
 * original file's, not the bundle's): OPs use them for type names
 * (instanceOf(Hello, import.meta.url)) and packages to find their files.
 */
export const keepImportMeta = {
  name: "dflow-keep-import-meta",
  setup(build: PluginBuild) {
    build.onLoad({ filter: /\.(c|m)?[jt]sx?$/ }, async (args) => {
      // Packages are left as they are: a text rewrite can break minified code
      // (it broke tsx's), and they rarely depend on their import.meta.url.
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const contents = await fs.promises.readFile(args.path, "utf8");
      if (!contents.includes("import.meta")) return undefined;
      // A workflow script that defines its OPs (README: guarded by isMain) never runs its workflow in
      // an OP's process: the guard is false there, and the bundle drops what only the workflow used
      // (Workflow, Step, the engine: a 0.5 MB bundle, not 1.5 MB). dflow-ts's own files only name it.
      const guarded = own(args.path) ? contents : contents.replace(/\bisMain\s*\(\s*import\.meta\s*\)/g, "false");
      return {
        contents: guarded
          .replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(args.path).href))
          .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(path.dirname(args.path)))
          .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(args.path)),
        loader: LOADERS[path.extname(args.path)] ?? "js",
      };
    });
  },
};

/** dflow-ts's compiled files (dist/), whose lazy imports stay lazy in a bundle. */
const DIST = path.resolve(path.dirname(RUNNER), "..") + path.sep;

/**
 * A file of dflow-ts itself (compiled, or its sources under vitest), not of a
 * package it depends on. Only the part below DIST is looked at: installed
 * from the registry, dflow-ts itself lives in a node_modules folder.
 */
const own = (file: string) => file.startsWith(DIST) && !file.slice(DIST.length).includes(`node_modules${path.sep}`);

/**
 * What dflow-ts itself imports lazily (the runner's tsx fallback, for a
 * module it was not bundled with; tar for SSH transfers) stays outside the
 * bundle, loaded from where dflow-ts is installed if ever reached: a bundled
 * OP never needs them, and tsx, esbuild's API and tar were 420 kB to parse.
 */
const lazyImportsOutside = {
  name: "dflow-lazy-imports-outside",
  setup(build: PluginBuild) {
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.kind !== "dynamic-import" || !own(args.importer) || args.pluginData === "outside") return undefined;
      const r = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: "outside" });
      return r.errors.length ? undefined : { path: pathToFileURL(r.path).href, external: true };
    });
  },
};

/**
 * For a pod (`dflow export`: the bundle travels alone, to a plain node
 * image): what dflow-ts imports lazily for local runs and remote jobs only
 * (tsx, esbuild, tar, the SSH client) is left out, named as it is, never
 * reached there; dflow-ts's other lazy imports are bundled, as a pod may
 * need them.
 */
export const podImportsOutside = {
  name: "dflow-local-only-imports",
  setup(build: PluginBuild) {
    build.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind !== "dynamic-import" || !own(args.importer)) return undefined;
      if (/^(tsx|esbuild|tar|ssh2)(\/|$)/.test(args.path) || /dispatcher\/context\/ssh\.js$/.test(args.path)) return { path: args.path, external: true };
      return undefined;
    });
  },
};

/**
 * dflow-ts's own modules import zod through src/vendor/zod.js, which in
 * dist/ loads a file next to itself (src/vendor/zod.ts): in a bundle that
 * file is not there, so zod is bundled (or shared, below) as zod itself.
 */
export const vendoredZod = {
  name: "dflow-vendored-zod",
  setup(build: PluginBuild) {
    build.onResolve({ filter: /\/vendor\/zod\.js$/ }, async (args) => {
      if (!own(args.importer)) return undefined;
      const r = (await build.resolve("zod", { kind: args.kind, resolveDir: args.resolveDir })) as { path: string; errors: unknown[]; namespace?: string; external?: boolean; sideEffects?: boolean };
      return r.errors.length ? undefined : { path: r.path, namespace: r.namespace, external: r.external, sideEffects: r.sideEffects };
    });
  },
};

/** The shared zod (see above): its file, the ESM entry it stands for, and its export names. */
interface SharedZod {
  file: string;
  /** zod's own ESM entry: used instead when the shared file is gone (pruned by another engine). */
  entry: string;
  names: string[];
}

let sharedZodP: Promise<SharedZod | null> | undefined;

/** The code cache a node with this V8 reads for `file` (V8 rejects another version's). */
function codeCacheFile(file: string, v8: string = process.versions.v8): string {
  return `${file}.v8-${v8.replace(/[^\w.-]/g, "_")}-${process.arch}.cache`;
}

function sharedZod(esbuild: typeof import("esbuild")): Promise<SharedZod | null> {
  sharedZodP ??= (async () => {
    const resolveDir = path.dirname(RUNNER);
    const probe = await esbuild.build({
      stdin: { contents: 'export * from "zod"; export { default } from "zod";', resolveDir, loader: "js", sourcefile: "dflow-shared-zod.js" },
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      minify: true,
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const entry = Object.keys(probe.metafile.inputs).find((f) => /(^|\/)zod\/index\.js$/.test(f));
    if (!entry) return null;
    // The file is one function expression: what vm.Script compiles, and what the code cache is for.
    const code = `(function (module, exports) {${probe.outputFiles[0].text}\n})`;
    const dir = cacheDir();
    const file = path.join(dir, `zod-${crypto.createHash("sha256").update(code).digest("hex").slice(0, 16)}.cjs`);
    fs.mkdirSync(dir, { recursive: true });
    if (!fs.existsSync(file)) writeAtomicSync(file, code);
    const names = Object.keys(await import("zod")).filter((n) => n !== "default");
    const cache = codeCacheFile(file);
    if (!fs.existsSync(cache)) {
      // Run it once in a context of its own (the engine keeps its zod), with
      // what an OP's signs do at start, so that those functions are compiled
      // into the cache too and not only the top level.
      const script = new vm.Script(code, { filename: file });
      const module = { exports: {} as Record<string, unknown> };
      (script.runInContext(vm.createContext({})) as (m: unknown, e: unknown) => void)(module, module.exports);
      const z = module.exports.z as typeof import("zod").z;
      z.object({ a: z.number().int(), b: z.string().optional(), c: z.array(z.boolean()).default([]) }).safeParse({ a: 1, b: "x" });
      writeAtomicSync(cache, script.createCachedData());
    }
    touch(file, cache);
    return { file, entry: path.resolve(entry), names };
  })().catch((e: Error) => {
    if (process.env.DFLOW_DEBUG_BUNDLE) process.stderr.write(`dflow-ts: no shared zod for OP bundles (${e.message}); each bundle carries its own\n`);
    return null;
  });
  return sharedZodP;
}

/**
 * The module an OP bundle has in place of zod: the shared file, compiled
 * from its code cache, or zod's own entry if the file has been pruned since.
 */
function sharedZodModule(z: SharedZod): string {
  const alias = z.names.map((n, i) => `const _${i} = ns[${JSON.stringify(n)}];`).join("\n");
  const exports = z.names.map((n, i) => `_${i} as ${n}`).join(", ");
  return `import fs from "node:fs";
import vm from "node:vm";
const file = ${JSON.stringify(z.file)};
// One zod per process, however many OP bundles a warm worker loads.
const key = Symbol.for(\`dflow-ts.shared-zod:\${file}\`);
let ns = globalThis[key];
if (!ns) try {
  const code = fs.readFileSync(file, "utf8");
  let cachedData;
  try {
    cachedData = fs.readFileSync(\`\${file}.v8-\${process.versions.v8.replace(/[^\\w.-]/g, "_")}-\${process.arch}.cache\`);
  } catch {}
  const module = { exports: {} };
  new vm.Script(code, { filename: file, cachedData }).runInThisContext()(module, module.exports);
  ns = module.exports;
} catch (e) {
  if (e?.code !== "ENOENT") throw e;
  const entry = ${JSON.stringify(pathToFileURL(z.entry).href)};
  ns = await import(entry);
}
globalThis[key] = ns;
${alias}
export default ns.default;
export { ${exports} };
`;
}

/** zod, where it is dflow-ts's own, comes from the shared file. */
function zodShared(z: SharedZod) {
  return {
    name: "dflow-shared-zod",
    setup(build: PluginBuild) {
      build.onResolve({ filter: /^zod$/ }, async (args) => {
        if (args.pluginData === "shared-zod") return undefined;
        const r = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: "shared-zod" });
        // A project with a zod of its own keeps it, bundled as before.
        return !r.errors.length && r.path === z.entry ? { path: "zod", namespace: "dflow-shared-zod" } : undefined;
      });
      build.onLoad({ filter: /.*/, namespace: "dflow-shared-zod" }, () => ({ contents: sharedZodModule(z), loader: "js", resolveDir: path.dirname(RUNNER) }));
    },
  };
}

/**
 * The bundle of an OP module for this engine run, or null (then tsx loads it).
 * `standalone`: one file that needs nothing else (a remote job ships it alone).
 */
export function bundleFor(module: string, opts: { standalone?: boolean } = {}): Promise<string | null> {
  const key = `${opts.standalone ? "standalone:" : ""}${module}`;
  let p = bundles.get(key);
  if (!p) bundles.set(key, (p = build(module, opts.standalone ?? false)));
  return p;
}

// A run whose OP module and everything it bundles did not change since an
// earlier run reuses that run's bundle without starting esbuild (its start
// and two builds were ~0.5 s of every `dflow run` with TS OPs, measured on
// a one-step workflow): a manifest per OP module lists the size and mtime
// of every input file (esbuild's metafile) and of this file, as
// src/cli/script-bundle.ts does for workflow scripts.

/** Bumped when what a bundle contains changes, so that older manifests are not trusted. */
const FORMAT = 1;
const SELF = fileURLToPath(import.meta.url);
/** The name esbuild gives the generated entry (stdin), among the inputs. */
const ENTRY_NAME = "dflow-op-entry.js";

function manifestPath(module: string, standalone: boolean, shared: boolean): string {
  const key = `${standalone ? "standalone" : shared ? "shared-zod" : "own-zod"}:${module}`;
  return path.join(cacheDir(), `${path.basename(module).replace(/\W/g, "_")}-${crypto.createHash("sha256").update(key).digest("hex").slice(0, 16)}.json`);
}

function cachedBundle(manifest: string): string | null {
  const bundle = builtBundle(manifest, FORMAT, SELF);
  if (bundle) touch(bundle, manifest);
  return bundle;
}

async function build(module: string, standalone: boolean): Promise<string | null> {
  if (process.env.DFLOW_NO_BUNDLE) return null;
  const manifest = manifestPath(module, standalone, !standalone && !process.env.DFLOW_NO_SHARED_ZOD);
  const reused = cachedBundle(manifest);
  if (reused) {
    pruneOnce(cacheDir());
    return reused;
  }
  try {
    const esbuild = await import("esbuild");
    const zod = standalone || process.env.DFLOW_NO_SHARED_ZOD ? null : await sharedZod(esbuild);
    const entry = [
      `import { setBundledModule } from ${JSON.stringify(RUNNER)};`,
      `import * as ns from ${JSON.stringify(module)};`,
      `setBundledModule({ path: ${JSON.stringify(module)}, ns });`,
      `export { main, runOP, loadOP } from ${JSON.stringify(RUNNER)};`,
    ].join("\n");
    const cwd = process.cwd();
    const out = await esbuild.build({
      stdin: { contents: entry, resolveDir: path.dirname(module), loader: "js", sourcefile: ENTRY_NAME },
      absWorkingDir: cwd,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      write: false,
      metafile: true,
      logLevel: "silent",
      // CommonJS dependencies may call require(); give the ESM bundle one.
      banner: { js: 'import { createRequire as __dflowCreateRequire } from "node:module"; const require = __dflowCreateRequire(import.meta.url);' },
      plugins: [keepImportMeta, vendoredZod, ...(standalone ? [] : [lazyImportsOutside]), ...(zod ? [zodShared(zod)] : [])],
      // The SSH client is the engine's, never an OP's: it has native parts esbuild cannot bundle,
      // and it is loaded lazily (engine/dispatcher/context/ssh.ts), so OPs never reach it.
      external: ["ssh2", "cpu-features"],
    } as Parameters<typeof esbuild.build>[0]);
    const code = out.outputFiles![0].contents;
    const dir = cacheDir();
    const file = path.join(dir, `${path.basename(module).replace(/\W/g, "_")}-${standalone ? "standalone-" : ""}${crypto.createHash("sha256").update(code).digest("hex").slice(0, 16)}.mjs`);
    if (!fs.existsSync(file)) {
      fs.mkdirSync(dir, { recursive: true });
      writeAtomicSync(file, code);
    }
    // Stamped after the build: a file edited during it then fails the next check, never the reverse.
    // Inputs outside the file system (stdin, the shared zod's module) are not files to stamp.
    // esbuild names the entry (stdin) as a file in its resolveDir.
    const stdin = path.join(path.dirname(module), ENTRY_NAME);
    const inputs = Object.keys(out.metafile!.inputs).flatMap((k) => (/^[\w-]+:/.test(k) || path.resolve(cwd, k) === stdin ? [] : [stamp(path.resolve(cwd, k))]));
    writeBuildManifest(manifest, FORMAT, SELF, inputs, file);
    touch(file, manifest);
    pruneOnce(dir);
    return file;
  } catch (e) {
    // Steps then load the module through tsx: slower, same result. Say why once.
    if (process.env.DFLOW_DEBUG_BUNDLE) process.stderr.write(`dflow-ts: could not bundle ${module}: ${(e as Error).message}\n`);
    return null;
  }
}

/** Files this engine process uses: never pruned by it, and marked as recently used for the others. */
const inUse = new Set<string>();

function touch(...files: string[]): void {
  const now = new Date();
  for (const f of files) {
    inUse.add(f);
    try {
      fs.utimesSync(f, now, now);
    } catch {
      // gone or not ours: it is only a hint for pruning
    }
  }
}

let pruned = false;

/** Prune the cache (pruneCache), once per engine process. */
function pruneOnce(dir: string): void {
  if (pruned) return;
  pruned = true;
  pruneCache(dir, {
    maxAgeMs: Number(process.env.DFLOW_TS_CACHE_DAYS ?? 7) * 86_400_000,
    maxBytes: Number(process.env.DFLOW_TS_CACHE_MB ?? 200) * 1_048_576,
    keep: inUse,
  });
}

/**
 * Keep the cache bounded: delete what no engine used (touched) for
 * `maxAgeMs`, then the least recently used files until the folder holds at
 * most `maxBytes`; never a file in `keep`. A step whose bundle is gone loads
 * its module through tsx; a bundle whose shared zod is gone loads zod from
 * dflow-ts: slower, same result.
 */
export function pruneCache(dir: string, o: { maxAgeMs: number; maxBytes: number; keep?: Set<string>; now?: number }): string[] {
  const now = o.now ?? Date.now();
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const files: Array<{ file: string; used: number; size: number }> = [];
  for (const n of names) {
    const file = path.join(dir, n);
    try {
      const st = fs.statSync(file);
      if (st.isFile()) files.push({ file, used: st.mtimeMs, size: st.size });
    } catch {
      // removed meanwhile
    }
  }
  let total = files.reduce((s, f) => s + f.size, 0);
  const removed: string[] = [];
  files.sort((a, b) => a.used - b.used);
  for (const f of files) {
    if (o.keep?.has(f.file)) continue;
    // A temp file of a writer that died; one being written now is younger than a minute.
    const stale = /\.tmp-\d+(-\d+)?$/.test(f.file) ? now - f.used > 60_000 : now - f.used > o.maxAgeMs;
    if (!stale && total <= o.maxBytes) continue;
    try {
      fs.unlinkSync(f.file);
      total -= f.size;
      removed.push(f.file);
    } catch {
      // another engine pruned it first
    }
  }
  return removed;
}
