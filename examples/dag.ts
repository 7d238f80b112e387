// dflow's examples/test_dag.py: the shell templates of examples/steps.ts as
// a DAG of two tasks; hello1 depends on hello0 through its inputs.
//   node dist/src/cli.js run examples/dag.ts
import { buildDagWorkflow } from "../fixtures/workflows/dag.js";

const wf = buildDagWorkflow();
const { id, status } = await wf.submit();
const [hello1] = wf.query_step({ name: "hello1" });
console.log(`workflow ${id}: ${status}; hello1 msg = ${JSON.stringify(hello1?.outputs.parameters.msg?.value)}`);
