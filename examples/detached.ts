// A detached run followed with `dflow watch`: the workflow script starts
// another workflow in the background (as `dflow run --detach` does), then
// watches it from here until it ends, the way a user on an HPC login node
// would after logging out and back in.
//   node dist/src/cli.js run examples/detached.ts
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.resolve(here, "..", "dist", "src", "cli.js");
const out = execFileSync(process.execPath, [cli, "run", "--detach", path.join(here, "loops.ts")], { encoding: "utf8" });
process.stdout.write(out);
const id = /Workflow (\S+) is running in the background/.exec(out)?.[1];
if (!id) throw new Error("no workflow started");
// `dflow watch` exits 0 once the workflow has succeeded (non-zero otherwise), printing a line per change here.
execFileSync(process.execPath, [cli, "watch", id], { stdio: "inherit" });
console.log(`detached workflow ${id} finished; its output is in ${id}/log.txt`);
