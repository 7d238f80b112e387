// expect-statuses: Failed, Succeeded
// Reuse after a failure (dflow's reuse_step): a keyed pipeline fails in its
// middle step; after the fix, a new workflow reuses the step that had
// succeeded and runs only the rest. From the command line the same is
// `dflow resubmit <id>` (a new workflow) or `dflow retry <id>` (the same one).
//   node dist/src/cli.js run examples/reuse-after-failure.ts   (exits 1: the first workflow failed, on purpose)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Workflow } from "dflow-ts";
import { fixableWorkflow } from "../fixtures/workflows/fixable.js";

// The steps log their runs, and "the fix" is a marker file, in a temporary directory removed at the end.
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "reuse-after-failure-"));
process.env.COUNTER = path.join(stateDir, "counter.txt");
process.env.FIXED_MARKER = path.join(stateDir, "fixed");

const first = await fixableWorkflow().submit();
console.log(`first run ${first.id}: ${first.status}`);

fs.writeFileSync(process.env.FIXED_MARKER, ""); // the fix
const succeeded = new Workflow({ id: first.id }).query_step({ phase: "Succeeded" });
const again = fixableWorkflow();
const second = await again.submit({ reuse_step: succeeded });
const ran = fs.readFileSync(process.env.COUNTER, "utf8").trim().split("\n");
console.log(`second run ${second.id}: ${second.status}; steps run in all: ${ran.join(", ")}; result ${String(again.query_step({ key: "last" })[0].outputs.parameters.y.value).trim()}`);
// first ran once (reused the second time); middle twice (failed, then fixed); last once.
if (second.status !== "Succeeded" || ran.join(",") !== "first,middle,middle,last") process.exitCode = 1;
fs.rmSync(stateDir, { recursive: true, force: true });
