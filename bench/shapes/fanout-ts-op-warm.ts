// fanout-ts-op-warm: the fanout-ts-op shape in warm worker mode: a pool of
// long-lived node workers (one per CPU) runs the TS OP Noop for n items, so
// node start and module loading are paid once per worker, not per step.
import fsp from "node:fs/promises";
import path from "node:path";
import { Step, TsOPTemplate, Workflow } from "dflow-ts";
import { Noop } from "../../fixtures/ops/bench.js";
import { runShape } from "../lib/child.js";

await runShape({
  shape: "fanout-ts-op-warm",
  build(n) {
    const wf = new Workflow({ name: "bench-fanout-ts-op-warm" });
    wf.add(new Step({ name: "each", template: new TsOPTemplate(Noop, { warm: true }), parameters: { i: "{{item}}" }, with_param: Array.from({ length: n }, (_, i) => i) }));
    return wf;
  },
  expectedPods: (n) => n,
  expectedStepDirs: (n) => n,
  fields: () => ({ kind: "ts-op-warm" }),
  async verify({ n, scan }) {
    const outs = await Promise.all(scan.pods.map((p) => fsp.readFile(path.join(p.dir, "outputs", "parameters", "o"), "utf8")));
    const got = outs.map(Number).sort((a, b) => a - b);
    if (got.some((v, i) => v !== i)) throw new Error(`outputs o are not 0..${n - 1}`);
    return {};
  },
});
