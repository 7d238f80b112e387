// Artifacts passed between steps: a TypeScript OP writes a list of files,
// another OP reads them as a list of paths, and a shell step reads the
// report the second OP produced.
//   node dist/src/cli.js run examples/artifacts.ts
import { InputArtifact, Inputs, OutputParameter, Outputs, ShellOPTemplate, Step, TsOPTemplate, Workflow } from "dflow-ts";
import { CountBytes, MakeFiles } from "../fixtures/ops/files.js";

const make = new Step({ name: "make", template: new TsOPTemplate(MakeFiles), parameters: { n: 3 } });
const count = new Step({ name: "count", template: new TsOPTemplate(CountBytes), artifacts: { files: make.outputs.artifacts.files } });
const show = new Step({
  name: "show",
  template: new ShellOPTemplate({
    name: "show",
    image: "alpine",
    // The report arrives as the OP's output directory (file plus catalog).
    script: "cat /tmp/report/report.txt && tail -n 1 /tmp/report/report.txt | cut -d' ' -f2 > /tmp/total",
    inputs: new Inputs({ artifacts: { report: new InputArtifact({ path: "/tmp/report" }) } }),
    outputs: new Outputs({ parameters: { total: new OutputParameter({ value_from_path: "/tmp/total" }) } }),
  }),
  artifacts: { report: count.outputs.artifacts.report },
});

const wf = new Workflow({ name: "artifacts" });
wf.add(make);
wf.add(count);
wf.add(show);
const { id, status } = await wf.submit();
const total = wf.query_step({ name: "count" })[0]?.outputs.parameters.total?.value;
console.log(`workflow ${id}: ${status}; total bytes ${total}`);
if (total !== 9) process.exitCode = 1;
