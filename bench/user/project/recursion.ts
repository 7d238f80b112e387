// user-recursion: dflow's test_recurse pattern with a shell step: a Steps
// template that calls itself until `when` says stop, N levels.
import { InputParameter, Inputs, OutputParameter, Outputs, ShellOPTemplate, Step, Steps, Workflow } from "dflow-ts";
import { N, timed } from "./report.js";

const plus1 = new ShellOPTemplate({
  name: "plus1",
  script: "echo $(( {{inputs.parameters.iter}} + 1 )) > /tmp/iter",
  inputs: new Inputs({ parameters: { iter: new InputParameter() } }),
  outputs: new Outputs({ parameters: { iter: new OutputParameter({ value_from_path: "/tmp/iter" }) } }),
});
const steps = new Steps({ name: "iter" });
steps.inputs.parameters.iter = new InputParameter({ value: 0 });
steps.inputs.parameters.limit = new InputParameter({ value: N });
const p = new Step({ name: "plus1", template: plus1, parameters: { iter: steps.inputs.parameters.iter } });
steps.add(p);
steps.add(new Step({ name: "next", template: steps, parameters: { iter: p.outputs.parameters.iter }, when: `${p.outputs.parameters.iter} < ${steps.inputs.parameters.limit}` }));
await timed(new Workflow({ name: "recurse", steps }), (w) => {
  const deepest = Math.max(...w.query_step({ name: "plus1" }).map((s) => Number(s.outputs.parameters.iter.value)));
  return deepest === N ? null : `deepest level returned ${deepest}, expected ${N}`;
});
