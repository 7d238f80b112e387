// Loops: with_param over a list, a step output or an expression, and
// with_sequence; outputs of the items are stacked into a list in item order.
//   node dist/src/cli.js run examples/loops.ts
import { InputParameter, Inputs, OutputParameter, Outputs, ShellOPTemplate, Step, Workflow, argo_len, argo_range, argo_sequence } from "dflow-ts";

const square = new ShellOPTemplate({
  name: "square",
  image: "alpine",
  script: "echo $(( {{inputs.parameters.n}} * {{inputs.parameters.n}} )) > /tmp/sq",
  inputs: new Inputs({ parameters: { n: new InputParameter() } }),
  outputs: new Outputs({ parameters: { sq: new OutputParameter({ value_from_path: "/tmp/sq" }) } }),
});
const names = new ShellOPTemplate({
  name: "names",
  image: "alpine",
  script: `echo '["ada", "grace", "barbara"]' > /tmp/names`,
  outputs: new Outputs({ parameters: { names: new OutputParameter({ value_from_path: "/tmp/names" }) } }),
});
const greet = new ShellOPTemplate({
  name: "greet",
  image: "alpine",
  script: "echo 'hello {{inputs.parameters.who}} (#{{inputs.parameters.i}})'",
  inputs: new Inputs({ parameters: { who: new InputParameter(), i: new InputParameter({ value: "" }) } }),
});

const wf = new Workflow({ name: "loops" });
const squares = new Step({ name: "squares", template: square, parameters: { n: "{{item}}" }, with_param: [1, 2, 3, 4] });
wf.add(squares);
const list = new Step({ name: "names", template: names });
wf.add(list);
wf.add([
  // over a step's output (a JSON list written by a script)
  new Step({ name: "greet", template: greet, parameters: { who: "{{item}}" }, with_param: list.outputs.parameters.names, key: "greet-{{item}}" }),
  // over the indices of that list
  new Step({ name: "index", template: greet, parameters: { who: "index", i: "{{item}}" }, with_param: argo_range(argo_len(list.outputs.parameters.names)) }),
  // a formatted sequence
  new Step({ name: "seq", template: greet, parameters: { who: "{{item}}" }, with_sequence: argo_sequence({ start: 1, count: 3, format: "task-%02d" }) }),
]);
const { id, status } = await wf.submit();
const stacked = wf.query_step({ name: "squares" }).map((s) => Number(s.outputs.parameters.sq.value)).sort((a, b) => a - b);
console.log(`workflow ${id}: ${status}; squares ${stacked.join(" ")}; greeted ${wf.query_keys_of_steps().join(", ")}`);
if (stacked.join(",") !== "1,4,9,16") process.exitCode = 1;
