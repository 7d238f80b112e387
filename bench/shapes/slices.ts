// slices: a TS OP sliced over a list of n numbers with group_size 10, so
// n/10 OP processes each run 10 slices; plus dflow's init-artifact helper.
import { Slices, Step, TsOPTemplate, Workflow } from "dflow-ts";
import { Noop } from "../../fixtures/ops/bench.js";
import { runShape } from "../lib/child.js";

const GROUP = 10;

await runShape({
  shape: "slices",
  build(n) {
    const wf = new Workflow({ name: "bench-slices" });
    wf.add(
      new Step({
        name: "each",
        template: new TsOPTemplate(Noop, { slices: new Slices({ input_parameter: ["i"], output_parameter: ["o"], group_size: GROUP }) }),
        parameters: { i: Array.from({ length: n }, (_, i) => i) },
      }),
    );
    return wf;
  },
  expectedPods: (n) => Math.ceil(n / GROUP),
  expectedStepDirs: (n) => Math.ceil(n / GROUP),
  fields: () => ({ kind: "ts-op", group_size: GROUP, processes: "n/10" }),
});
