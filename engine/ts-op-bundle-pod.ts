// The build of the Argo export's OP bundle (src/argo/export-bundle.ts's
// bundleOPs), in a node process of its own: esbuild's synchronous API takes
// no plugins, and to_dict() is synchronous as dflow's is. The plugins are the
// local bundles' own (ts-op-bundle.ts), with what a pod never reaches left out
// by name. The export names this file by path only (the model imports nothing
// from engine/). argv[2]: the job as JSON.
import { build } from "esbuild";
import { keepImportMeta, podImportsOutside, vendoredZod } from "./ts-op-bundle.js";

const job = JSON.parse(process.argv[2]) as { entry: string; cwd: string };
const out = await build({
  stdin: { contents: job.entry, resolveDir: job.cwd, loader: "js", sourcefile: "dflow-ts-ops.js" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: true,
  keepNames: true,
  write: false,
  logLevel: "silent",
  external: ["ssh2", "cpu-features"],
  banner: { js: 'import { createRequire as __dflowCreateRequire } from "node:module"; const require = __dflowCreateRequire(import.meta.url);' },
  plugins: [keepImportMeta, podImportsOutside, vendoredZod] as never,
});
process.stdout.write(out.outputFiles[0].text);
