// user-fanout-shell: one shell step fanned out over N items; each takes the
// item as an input parameter and writes an output parameter file.
import { InputParameter, Inputs, OutputParameter, Outputs, ShellOPTemplate, Step, Workflow, argo_range } from "dflow-ts";
import { N, timed } from "./report.js";

const square = new ShellOPTemplate({
  name: "square",
  script: "echo $(( {{inputs.parameters.i}} * {{inputs.parameters.i}} )) > /tmp/x",
  inputs: new Inputs({ parameters: { i: new InputParameter() } }),
  outputs: new Outputs({ parameters: { x: new OutputParameter({ value_from_path: "/tmp/x" }) } }),
});
const wf = new Workflow({ name: "fanout" });
wf.add(new Step({ name: "square", template: square, parameters: { i: "{{item}}" }, with_param: argo_range(N) }));
await timed(wf, (w) => {
  const done = w.query_step({ name: "square", phase: "Succeeded" }).length;
  return done === N ? null : `${done} of ${N} items succeeded`;
});
