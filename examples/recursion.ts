// Recursion (dflow's test_recurse): a Steps template that uses itself, with
// `when` as the break condition; the keyed TS-OP steps are iter-0 … iter-4.
//   node dist/src/cli.js run examples/recursion.ts
import { recurseWorkflow } from "../fixtures/workflows/recurse.js";

const wf = recurseWorkflow(5);
const { id, status } = await wf.submit();
const last = wf.query_step({ key: "iter-4" })[0];
console.log(`workflow ${id}: ${status}; keys ${wf.query_keys_of_steps().join(", ")}; iter-4 gave ${last?.outputs.parameters.iter.value}`);
if (last?.outputs.parameters.iter.value !== 5) process.exitCode = 1;
