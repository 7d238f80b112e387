// The dflow README's first example: an OP that copies its input artifact
// `foo` to its output artifact `bar` and passes `msg` through, written as a
// class OP and as a function OP, run one after the other.
//   node dist/src/cli.js run examples/simple-example.ts
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Step, TsOPTemplate, Workflow, upload_artifact } from "dflow-ts";
import { SimpleExample, SimpleExampleFn } from "../fixtures/ops/simple.js";

// The input file is made in a temporary directory (the workflow directory
// does not exist yet), so running the example leaves only the workflow's
// directory and upload/ in the current one.
const input = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "simple-example-")), "foo.txt");
fs.writeFileSync(input, "Hello from foo.txt\n");
const foo = await upload_artifact(input);

const step0 = new Step({
  name: "step0",
  template: new TsOPTemplate(SimpleExample, { image: "node:20" }),
  parameters: { msg: "HelloWorld!" },
  artifacts: { foo },
});
const step1 = new Step({
  name: "step1",
  template: new TsOPTemplate(SimpleExampleFn),
  parameters: { msg: step0.outputs.parameters.msg },
  artifacts: { foo: step0.outputs.artifacts.bar },
});

const wf = new Workflow({ name: "simple-example" });
wf.add(step0);
wf.add(step1);
const { id, status } = await wf.submit();
const [s1] = wf.query_step({ name: "step1" });
console.log(`workflow ${id}: ${status}; step1 says ${JSON.stringify(s1?.outputs.parameters.msg?.value)}`);
