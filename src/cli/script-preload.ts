// Loaded (`node --import`) before a workflow script that `dflow run` starts:
// its TypeScript files load as ES modules whatever the folder's package.json
// says (engine/ts-esm-hooks.ts), and an error the script does not catch is
// printed as one clear message instead of a node stack trace.
import fs from "node:fs";
import { loadTypeScriptAsEsm } from "../../engine/ts-esm-hooks.js";
import { describeScriptError, verbose } from "./script-errors.js";

loadTypeScriptAsEsm();

// Only in the script's own process: node processes the engine forks (warm
// workers, with an IPC channel) inherit this preload and keep node's reports.
if (!process.send) process.on("uncaughtException", (e) => {
  // Synchronous: the process ends right after, as it would without this handler.
  fs.writeSync(2, `${verbose() && e instanceof Error && e.stack ? `${e.stack}\n` : ""}${describeScriptError(e)}\n`);
  process.exit(1);
});
