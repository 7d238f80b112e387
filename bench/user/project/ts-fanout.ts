// user-ts-op-fanout: a TS OP from the user's own module, fanned out over N
// items, each in a fresh node process (BENCH_WARM=1: in warm workers).
import { Step, TsOPTemplate, Workflow, argo_range } from "dflow-ts";
import { Square } from "./ops.js";
import { N, timed } from "./report.js";

const wf = new Workflow({ name: "ts-fanout" });
wf.add(new Step({ name: "square", template: new TsOPTemplate(Square, { warm: process.env.BENCH_WARM === "1" }), parameters: { i: "{{item}}" }, with_param: argo_range(N) }));
await timed(wf, (w) => {
  const done = w.query_step({ name: "square", phase: "Succeeded" }).length;
  return done === N ? null : `${done} of ${N} items succeeded`;
});
