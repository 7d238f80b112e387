// TypeScript OPs start faster from one plain JS file: once per engine
// process the OP's module is bundled with esbuild (a dependency of tsx, which
// otherwise compiles it in every step's child: ~280 ms a step measured, vs
// ~90 ms for `node -e 0`), together with the OP runner and dflow-ts, so
// the child loads no compiler and one file. Content-addressed in a cache
// directory; when bundling fails (e.g. a native addon), steps load the
// module through tsx as before.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const RUNNER = fileURLToPath(new URL("./op-runner.js", import.meta.url));
const bundles = new Map<string, Promise<string | null>>();

function cacheDir(): string {
  return path.join(process.env.DFLOW_TS_CACHE ?? path.join(os.tmpdir(), `dflow-ts-${os.userInfo().uid}`), "ops");
}

const LOADERS: Record<string, "ts" | "tsx" | "js" | "jsx"> = { ".ts": "ts", ".mts": "ts", ".cts": "ts", ".tsx": "tsx", ".js": "js", ".mjs": "js", ".cjs": "js", ".jsx": "jsx" };

/**
 * Every bundled file keeps its own import.meta.url/dirname/filename (the
 * original file's, not the bundle's): OPs use them for type names
 * (instanceOf(Hello, import.meta.url)) and packages to find their files.
 */
const keepImportMeta = {
  name: "dflow-keep-import-meta",
  setup(build: { onLoad(o: { filter: RegExp }, cb: (a: { path: string }) => Promise<{ contents: string; loader: "ts" | "tsx" | "js" | "jsx" } | undefined>): void }) {
    build.onLoad({ filter: /\.(c|m)?[jt]sx?$/ }, async (args) => {
      // Packages are left as they are: a text rewrite can break minified code
      // (it broke tsx's), and they rarely depend on their import.meta.url.
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const contents = await fs.promises.readFile(args.path, "utf8");
      if (!contents.includes("import.meta")) return undefined;
      return {
        contents: contents
          .replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(args.path).href))
          .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(path.dirname(args.path)))
          .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(args.path)),
        loader: LOADERS[path.extname(args.path)] ?? "js",
      };
    });
  },
};

/** The bundle of an OP module for this engine run, or null (then tsx loads it). */
export function bundleFor(module: string): Promise<string | null> {
  let p = bundles.get(module);
  if (!p) bundles.set(module, (p = build(module)));
  return p;
}

async function build(module: string): Promise<string | null> {
  if (process.env.DFLOW_NO_BUNDLE) return null;
  try {
    const esbuild = await import("esbuild");
    const entry = [
      `import { setBundledModule } from ${JSON.stringify(RUNNER)};`,
      `import * as ns from ${JSON.stringify(module)};`,
      `setBundledModule({ path: ${JSON.stringify(module)}, ns });`,
      `export { main, runOP } from ${JSON.stringify(RUNNER)};`,
    ].join("\n");
    const out = await esbuild.build({
      stdin: { contents: entry, resolveDir: path.dirname(module), loader: "js", sourcefile: "dflow-op-entry.js" },
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      write: false,
      logLevel: "silent",
      // CommonJS dependencies may call require(); give the ESM bundle one.
      banner: { js: 'import { createRequire as __dflowCreateRequire } from "node:module"; const require = __dflowCreateRequire(import.meta.url);' },
      plugins: [keepImportMeta],
      // The SSH client is the engine's, never an OP's: it has native parts esbuild cannot bundle,
      // and it is loaded lazily (engine/dispatcher/context/ssh.ts), so OPs never reach it.
      external: ["ssh2", "cpu-features"],
    });
    const code = out.outputFiles[0].contents;
    const file = path.join(cacheDir(), `${path.basename(module).replace(/\W/g, "_")}-${crypto.createHash("sha256").update(code).digest("hex").slice(0, 16)}.mjs`);
    if (!fs.existsSync(file)) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, code);
      fs.renameSync(tmp, file);
    }
    return file;
  } catch (e) {
    // Steps then load the module through tsx: slower, same result. Say why once.
    if (process.env.DFLOW_DEBUG_BUNDLE) process.stderr.write(`dflow-ts: could not bundle ${module}: ${(e as Error).message}\n`);
    return null;
  }
}
