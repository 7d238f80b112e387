// Sub-path slices (dflow's Slices(sub_path=True)): each item receives only
// its own file of the sliced artifact, not the whole directory; the list of
// slices comes from the artifact's catalog.
//   node dist/src/cli.js run examples/subpath-slices.ts
import { Slices, Step, TsOPTemplate, Workflow } from "dflow-ts";
import { Prepare, PrintFile } from "../fixtures/ops/slices.js";

const wf = new Workflow({ name: "subpath-slices" });
const prepare = new Step({ name: "prepare", template: new TsOPTemplate(Prepare) });
wf.add(prepare);
wf.add(new Step({
  name: "hello",
  template: new TsOPTemplate(PrintFile, { slices: new Slices({ sub_path: true, input_artifact: ["foo"] }) }),
  artifacts: { foo: prepare.outputs.artifacts.foo },
}));
const { id, status } = await wf.submit();
console.log(`workflow ${id}: ${status}; items got ${wf.query_step({ name: "hello" }).map((s) => s.inputs.parameters.dflow_foo_sub_path.value).sort().join(", ")}`);
