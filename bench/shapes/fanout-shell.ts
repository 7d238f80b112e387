// fanout-shell: one step fanned out with with_param over a literal list of n
// items; each item is a trivial shell step (`true`) taking the item as an
// input parameter. Runs debug_pool_workers (one per CPU) items at a time.
import { InputParameter, Inputs, ShellOPTemplate, Step, Workflow } from "dflow-ts";
import { runShape } from "../lib/child.js";

await runShape({
  shape: "fanout-shell",
  build(n) {
    const t = new ShellOPTemplate({ name: "noop", script: "true", inputs: new Inputs({ parameters: { i: new InputParameter() } }) });
    const wf = new Workflow({ name: "bench-fanout-shell" });
    wf.add(new Step({ name: "each", template: t, parameters: { i: "{{item}}" }, with_param: Array.from({ length: n }, (_, i) => i) }));
    return wf;
  },
  expectedPods: (n) => n,
  expectedStepDirs: (n) => n,
  fields: () => ({ kind: "shell" }),
});
