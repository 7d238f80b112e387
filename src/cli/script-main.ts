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

/** Loads `load` as the script `script` run with `args`; resolves once its top level has run (its workflows may still be running). */
export async function runWorkflowScript(load: string, script: string, args: string[]): Promise<void> {
  process.argv.splice(1, Infinity, script, ...args);
  // Before the bundle loads: node reads a file's source map when it loads it.
  if (load !== script) process.setSourceMapsEnabled(true);
  process.on("uncaughtException", fail);
  await import(pathToFileURL(load).href).catch(fail);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [load, script, ...args] = process.argv.slice(2) as [string, string, ...string[]];
  await runWorkflowScript(load, script, args);
}
