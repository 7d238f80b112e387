// chain-shell: n trivial shell steps (`true`) one after the other in a Steps
// template (each its own group), so nothing runs in parallel.
import { ShellOPTemplate, Step, Workflow } from "dflow-ts";
import { runShape } from "../lib/child.js";

await runShape({
  shape: "chain-shell",
  build(n) {
    const t = new ShellOPTemplate({ name: "noop", script: "true" });
    const wf = new Workflow({ name: "bench-chain-shell" });
    for (let i = 0; i < n; i++) wf.add(new Step({ name: `s${i}`, template: t }));
    return wf;
  },
  expectedPods: (n) => n,
  expectedStepDirs: (n) => n,
  fields: () => ({ kind: "shell" }),
});
