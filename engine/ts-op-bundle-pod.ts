// The build of the Argo export's OP bundle (src/argo/export-bundle.ts's
// bundleOPs), in a node process of its own: esbuild's synchronous API takes
// no plugins, and to_dict() is synchronous as dflow's is. The plugins are the
// local bundles' own (ts-op-bundle.ts), with what a pod never reaches left out
// by name. The export names this file by path only (the model imports nothing
// from engine/). argv[2]: the job as JSON.
import { build } from "esbuild";
import { keepImportMeta, podImportsOutside, vendoredZod } from "./ts-op-bundle.js";

// "dispatch": the bundle of an exported DispatcherExecutor pod (engine/executors/dispatch-pod.ts), which
// needs what an OP bundle leaves out: the SSH client and tar (its native parts stay out: ssh2 falls
// back to its JavaScript code without them).
const job = JSON.parse(process.argv[2]) as { entry: string; cwd: string; kind?: "ops" | "dispatch" };
const dispatch = job.kind === "dispatch";
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
  external: dispatch ? ["cpu-features", "*.node", "tsx", "esbuild"] : ["ssh2", "cpu-features"],
  // The dispatcher is loaded from a data: URL (export-bundle.ts), which createRequire does not take; what
  // it requires are node's modules (and ssh2's native part, which it does without), found from anywhere.
  // ssh2 also names __dirname (for its optional native part).
  banner: { js: `import { createRequire as __dflowCreateRequire } from "node:module"; const require = __dflowCreateRequire(${dispatch ? 'process.cwd() + "/"' : "import.meta.url"});${dispatch ? " const __dirname = process.cwd();" : ""}` },
  plugins: (dispatch ? [keepImportMeta, vendoredZod] : [keepImportMeta, podImportsOutside, vendoredZod]) as never,
});
process.stdout.write(out.outputFiles[0].text);
