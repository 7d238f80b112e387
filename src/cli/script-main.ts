// The process `dflow run` starts for a workflow script:
//   node script-main.js <module to load> <the script> [args...]
// where the module is the script's bundle (script-bundle.ts) for TypeScript,
// the script itself for JavaScript. The script sees the argv it would have
// seen run by node (process.argv[1] is the script: isMain() and the engine's
// record of what ran need it), stacks are source-mapped to the .ts files,
// and an error the script does not catch is printed as one clear message
// instead of a node stack trace. No module hooks, no command-line flags:
// node processes the engine forks (warm workers) inherit nothing from here.
import fs from "node:fs";
import { pathToFileURL } from "node:url";
import { describeScriptError, verbose } from "./script-errors.js";

const [load, script] = process.argv.splice(2, 2) as [string, string];
process.argv[1] = script;
// Before the bundle loads: node reads a file's source map when it loads it.
if (load !== script) process.setSourceMapsEnabled(true);

function fail(e: unknown): never {
  // Synchronous: the process ends right after, as it would without this handler.
  fs.writeSync(2, `${verbose() && e instanceof Error && e.stack ? `${e.stack}\n` : ""}${describeScriptError(e)}\n`);
  process.exit(1);
}

process.on("uncaughtException", fail);
await import(pathToFileURL(load).href).catch(fail);
