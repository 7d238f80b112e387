// The dflow README's first example: an OP that copies its input artifact
// `foo` to its output artifact `bar` and passes `msg` through, written as a
// class OP and as a function OP, run one after the other.
//   npx dflow run examples/simple-example.ts
import fs from "node:fs";
import { Step, TsOPTemplate, Workflow, upload_artifact } from "dflow-ts";
import { SimpleExample, SimpleExampleFn } from "../fixtures/ops/simple.js";

fs.writeFileSync("foo.txt", "Hello from foo.txt\n");
const foo = await upload_artifact("foo.txt");

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
