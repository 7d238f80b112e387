// continue_on_success_ratio (dflow's test_success_ratio): five items, two of
// which fail; the workflow goes on because 3/5 >= 0.6, decided by the
// helper step `hello0-check-success-ratio` that dflow also creates.
//   node dist/src/cli.js run examples/success-ratio.ts
import { Step, TsOPTemplate, Workflow } from "dflow-ts";
import { MaybeFail } from "../fixtures/ops/errors.js";

const wf = new Workflow({ name: "success-ratio" });
wf.add(new Step({ name: "hello0", template: new TsOPTemplate(MaybeFail), parameters: { i: "{{item}}", fail: [1, 3] }, with_param: [0, 1, 2, 3, 4], continue_on_success_ratio: 0.6 }));
const { id, status } = await wf.submit();
const [check] = wf.query_step({ name: "hello0-check-success-ratio" });
console.log(`workflow ${id}: ${status}; items: ${wf.query_step({ name: "hello0" }).map((s) => s.phase).join(" ")}; check: ${check?.phase}`);
