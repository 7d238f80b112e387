// user-dag-lattice: an N = k×k lattice DAG; task (i, j) depends on (i-1, j)
// and (i, j-1) through their output parameters, as a user wires a DAG.
import { DAG, InputParameter, Inputs, OutputParameter, Outputs, ShellOPTemplate, Task, Workflow } from "dflow-ts";
import { N, timed } from "./report.js";

const k = Math.round(Math.sqrt(N));
const add = new ShellOPTemplate({
  name: "add",
  script: "echo $(( {{inputs.parameters.a}} + {{inputs.parameters.b}} )) > /tmp/s",
  inputs: new Inputs({ parameters: { a: new InputParameter(), b: new InputParameter() } }),
  outputs: new Outputs({ parameters: { s: new OutputParameter({ value_from_path: "/tmp/s" }) } }),
});
const dag = new DAG({ name: "lattice" });
const grid: Task[][] = [];
for (let i = 0; i < k; i++) {
  grid.push([]);
  for (let j = 0; j < k; j++) {
    const a = i > 0 ? grid[i - 1][j].outputs.parameters.s : 1;
    const b = j > 0 ? grid[i][j - 1].outputs.parameters.s : 0;
    const t = new Task({ name: `t${i}-${j}`, template: add, parameters: { a, b } });
    grid[i].push(t);
    dag.add(t);
  }
}
await timed(new Workflow({ name: "lattice", dag }), (w) => {
  const done = w.query_step({ phase: "Succeeded", type: "Pod" }).length;
  return done === k * k ? null : `${done} of ${k * k} tasks succeeded`;
});
