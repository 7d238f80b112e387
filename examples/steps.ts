// dflow's examples/test_steps.py: shell templates run as Steps, with a
// parallel group — hello0 -> hello1 -> [hello2, hello3]. Each step doubles
// the file and the number it gets from the one before.
//   node dist/src/cli.js run examples/steps.ts
import { buildStepsWorkflow } from "../fixtures/workflows/steps.js";

const wf = buildStepsWorkflow();
const { id, status } = await wf.submit();
console.log(`workflow ${id}: ${status}`);
for (const name of ["hello0", "hello1", "hello2", "hello3"]) {
  const [s] = wf.query_step({ name });
  // The value is what echo wrote, newline included ("4\n"), as in dflow.
  console.log(`  ${name}: ${s?.phase}, msg = ${JSON.stringify(s?.outputs.parameters.msg?.value)}`);
}
