// A Steps template used as a task of a DAG, with its own inputs and
// outputs: the DAG's `double` task runs a two-step Steps template whose
// output parameter comes from its last inner step (value_from_parameter),
// and `report` depends on it through that output.
//   node dist/src/cli.js run examples/nested-steps-in-dag.ts
import { DAG, InputParameter, Inputs, OutputParameter, Outputs, ShellOPTemplate, Step, Steps, Task, Workflow } from "dflow-ts";

const add = new ShellOPTemplate({
  name: "add",
  image: "alpine",
  script: "echo $(( {{inputs.parameters.a}} + {{inputs.parameters.b}} )) > /tmp/sum",
  inputs: new Inputs({ parameters: { a: new InputParameter(), b: new InputParameter({ value: 0 }) } }),
  outputs: new Outputs({ parameters: { sum: new OutputParameter({ value_from_path: "/tmp/sum" }) } }),
});

// double(x) = x + x, then + 1
const double = new Steps({ name: "double" });
double.inputs.parameters.x = new InputParameter();
const s1 = new Step({ name: "twice", template: add, parameters: { a: double.inputs.parameters.x, b: double.inputs.parameters.x } });
double.add(s1);
const s2 = new Step({ name: "plus-one", template: add, parameters: { a: s1.outputs.parameters.sum, b: 1 } });
double.add(s2);
double.outputs.parameters.y = new OutputParameter({ value_from_parameter: s2.outputs.parameters.sum });

const dag = new DAG({ name: "main" });
const start = new Task({ name: "start", template: add, parameters: { a: 20, b: 0 } });
const twice = new Task({ name: "double", template: double, parameters: { x: start.outputs.parameters.sum } });
const report = new Task({ name: "report", template: add, parameters: { a: twice.outputs.parameters.y } });
dag.add([start, twice, report]);

const wf = new Workflow({ name: "nested", dag });
const { id, status } = await wf.submit();
const y = wf.query_step({ name: "report" })[0]?.outputs.parameters.sum?.value;
console.log(`workflow ${id}: ${status}; report says ${String(y).trim()}`);
if (String(y).trim() !== "41") process.exitCode = 1;
