// fanout-ts-op: one step fanned out with with_param over n items; each item
// runs the TS OP Noop (fixtures/ops/bench.ts) in its own node child process
// (cold: the child loads tsx, dflow-ts and the OP module every time).
import fsp from "node:fs/promises";
import path from "node:path";
import { Step, TsOPTemplate, Workflow } from "dflow-ts";
import { Noop } from "../../fixtures/ops/bench.js";
import { runShape } from "../lib/child.js";

await runShape({
  shape: "fanout-ts-op",
  build(n) {
    const wf = new Workflow({ name: "bench-fanout-ts-op" });
    wf.add(new Step({ name: "each", template: new TsOPTemplate(Noop), parameters: { i: "{{item}}" }, with_param: Array.from({ length: n }, (_, i) => i) }));
    return wf;
  },
  expectedPods: (n) => n,
  expectedStepDirs: (n) => n,
  fields: () => ({ kind: "ts-op" }),
  async verify({ n, scan }) {
    // Every item's OP really ran: its output o (= its input i) is on disk.
    const outs = await Promise.all(scan.pods.map((p) => fsp.readFile(path.join(p.dir, "outputs", "parameters", "o"), "utf8")));
    const got = outs.map(Number).sort((a, b) => a - b);
    if (got.some((v, i) => v !== i)) throw new Error(`outputs o are not 0..${n - 1}: ${JSON.stringify(got.slice(0, 10))}…`);
    return {};
  },
});
