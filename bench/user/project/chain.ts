// user-chain-shell: N shell steps one after the other, each adding one to the
// previous step's output parameter (the sequential latency a user pays).
import { InputParameter, Inputs, OutputParameter, Outputs, ShellOPTemplate, Step, Workflow } from "dflow-ts";
import { N, timed } from "./report.js";

const plus1 = new ShellOPTemplate({
  name: "plus1",
  script: "echo $(( {{inputs.parameters.x}} + 1 )) > /tmp/x",
  inputs: new Inputs({ parameters: { x: new InputParameter() } }),
  outputs: new Outputs({ parameters: { x: new OutputParameter({ value_from_path: "/tmp/x" }) } }),
});
const wf = new Workflow({ name: "chain" });
let prev: Step | null = null;
for (let i = 0; i < N; i++) {
  const s: Step = new Step({ name: `s${i}`, template: plus1, parameters: { x: prev ? prev.outputs.parameters.x : 0 } });
  wf.add(s);
  prev = s;
}
await timed(wf, (w) => {
  const v = w.query_step({ name: `s${N - 1}` })[0]?.outputs.parameters.x.value;
  return String(v).trim() === String(N) ? null : `last step returned ${v}, expected ${N}`;
});
