// A PythonScriptOPTemplate: a Python script run with the local python3;
// `{{inputs.parameters.n}}` is substituted into the source.
//   node dist/src/cli.js run examples/python-script.ts
import { InputParameter, Inputs, OutputArtifact, OutputParameter, Outputs, PythonScriptOPTemplate, Step, Workflow } from "dflow-ts";

const squares = new PythonScriptOPTemplate({
  name: "squares",
  image: "python:3.11",
  script: [
    "import json",
    "n = int('{{inputs.parameters.n}}')",
    "values = [i * i for i in range(n)]",
    "open('/tmp/values.json', 'w').write(json.dumps(values))",
    "open('/tmp/table.txt', 'w').write('\\n'.join(map(str, values)))",
    "print('squares of', n, '->', values)",
  ].join("\n"),
  inputs: new Inputs({ parameters: { n: new InputParameter() } }),
  outputs: new Outputs({
    parameters: { values: new OutputParameter({ value_from_path: "/tmp/values.json", type: "list" }) },
    artifacts: { table: new OutputArtifact({ path: "/tmp/table.txt" }) },
  }),
});

const wf = new Workflow({ name: "python-script" });
wf.add(new Step({ name: "squares", template: squares, parameters: { n: 5 } }));
const { id, status } = await wf.submit();
const values = wf.query_step({ name: "squares" })[0]?.outputs.parameters.values?.value;
console.log(`workflow ${id}: ${status}; values ${JSON.stringify(values)}`);
if (JSON.stringify(values) !== "[0,1,4,9,16]") process.exitCode = 1;
