// expect-failure
// What a failure looks like: the second step's script exits non-zero, so
// the step and the workflow end Failed, the reason is written to the step's
// `message` file, the third step never runs, and `dflow run` exits 1.
//   node dist/src/cli.js run examples/failure.ts; echo $?
import { ShellOPTemplate, Step, Workflow } from "dflow-ts";

const ok = new ShellOPTemplate({ name: "ok", image: "alpine", script: "echo fine" });
const broken = new ShellOPTemplate({ name: "broken", image: "alpine", script: "echo 'about to fail' >&2\nexit 3" });

const wf = new Workflow({ name: "failure" });
wf.add(new Step({ name: "first", template: ok }));
wf.add(new Step({ name: "second", template: broken }));
wf.add(new Step({ name: "third", template: ok }));
const { id, status } = await wf.submit();
const [second] = wf.query_step({ name: "second" });
console.log(`workflow ${id}: ${status}; step second: ${second?.phase}: ${second?.message?.trim()}`);
console.log(`steps that ran: ${wf.query_step().map((s) => s.displayName).join(", ")}`);
