// Runs a workflow script for `dflow run`: in the CLI's own process
// (runWorkflowScript), or as the process `dflow run --detach` starts:
//   node script-main.js <module to load> <the script> [args...]
// The module is the script's bundle (script-bundle.ts) for TypeScript, the
// script itself for JavaScript. The script sees the argv it would have seen
// run by node (process.argv[1] is the script: isMain() and the engine's
// record of what ran need it), stacks are source-mapped to the .ts files,
// and an error the script does not catch is printed as one clear message
// instead of a node stack trace. No module hooks, no command-line flags:
// node processes the engine forks (warm workers) inherit nothing from here.
import fs from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describeScriptError, verbose } from "./script-errors.js";

function fail(e: unknown): never {
  // Synchronous: the process ends right after, as it would without this handler.
  fs.writeSync(2, `${verbose() && e instanceof Error && e.stack ? `${e.stack}\n` : ""}${describeScriptError(e)}\n`);
  process.exit(1);
}

/** The packages a bundle imports (by file URL, at its top, in the order they load). */
function packagesOf(bundle: string): string[] {
  const code = fs.readFileSync(bundle, "utf8");
  return [...code.matchAll(/^import\s*"(file:[^"]+)"|^import\s[^"';]*?\sfrom\s*"(file:[^"]+)"/gm)].map((m) => (m[1] ?? m[2])!);
}

/** Loads `load` as the script `script` run with `args`; resolves once its top level has run (its workflows may still be running). */
export async function runWorkflowScript(load: string, script: string, args: string[]): Promise<void> {
  process.argv.splice(1, Infinity, script, ...args);
  process.on("uncaughtException", fail);
  if (load !== script) {
    // Node reads the source map of every file it loads once source maps are on (dflow-ts's
    // dist/ alone has ~90): load the bundle's packages first, which it would load before
    // any of its own code anyway, then turn them on for the bundle, whose map names the .ts files.
    for (const url of packagesOf(load)) await import(url).catch(fail);
    process.setSourceMapsEnabled(true);
  }
  await import(pathToFileURL(load).href).catch(fail);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [load, script, ...args] = process.argv.slice(2) as [string, string, ...string[]];
  await runWorkflowScript(load, script, args);
}
