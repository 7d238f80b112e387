// Slices (dflow's Slices): one list passed to every item of a fan-out, each
// item's OP getting its own element; the items' output files are merged
// into one artifact, and a second sliced step works in groups of 4 slices
// per process, the slices shuffled first (as dflow does, with random_seed)
// so that each process gets a mix of them.
//   node dist/src/cli.js run examples/slices.ts
import { Slices, Step, TsOPTemplate, Workflow, argo_len, argo_range } from "dflow-ts";
import { Check, Hello, PrepareData, Process } from "../fixtures/ops/slices.js";

const wf = new Workflow({ name: "slices" });
const hello = new Step({
  name: "hello",
  template: new TsOPTemplate(Hello, { slices: new Slices({ input_parameter: ["filename"], output_artifact: ["foo"] }) }),
  parameters: { filename: ["f1.txt", "f2.txt"] },
});
wf.add(hello);
wf.add(new Step({ name: "check", template: new TsOPTemplate(Check), artifacts: { foo: hello.outputs.artifacts.foo } }));

const data = new Step({ name: "prepare", template: new TsOPTemplate(PrepareData) });
wf.add(data);
const squares = new Step({
  name: "process",
  template: new TsOPTemplate(Process, { slices: new Slices({ input_parameter: ["data"], output_artifact: ["output"], output_parameter: ["square"], group_size: 4, shuffle: true }) }),
  parameters: { data: data.outputs.parameters.data },
  with_param: argo_range(argo_len(data.outputs.parameters.data)),
});
wf.add(squares);
const { id, status } = await wf.submit();
console.log(`workflow ${id}: ${status}; ${wf.query_step({ name: "process" }).length} processes for 17 slices`);
