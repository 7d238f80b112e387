// Progress (dflow's test_progress): an OP sets progress_total and
// progress_current while it works; the engine keeps it in the step's
// `progress` file, step records expose it, and wf.query_progress() counts
// finished steps.
//   node dist/src/cli.js run examples/progress.ts
import { Step, TsOPTemplate, Workflow } from "dflow-ts";
import { Progress } from "../fixtures/ops/progress.js";

const wf = new Workflow({ name: "progress" });
wf.add(new Step({ name: "work", template: new TsOPTemplate(Progress), parameters: { steps: 5 }, with_param: [1, 2, 3] }));
const { id, status } = await wf.submit();
const p = wf.query_progress();
console.log(`workflow ${id}: ${status}; steps done ${p.done}/${p.total}; progress of each: ${wf.query_step({ name: "work" }).map((s) => s.progress).join(", ")}`);
if (p.done !== 3 || wf.query_step({ name: "work" }).some((s) => s.progress !== "100/100")) process.exitCode = 1;
