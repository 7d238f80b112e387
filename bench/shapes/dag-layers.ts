// dag-layers: n trivial shell tasks (`true`) in 10 layers of n/10; every task
// depends on ALL tasks of the previous layer (n/10 × n/10 edges between two
// layers, 900 edges for n = 100), so a layer starts only when the previous
// one has finished; the tasks of a layer run debug_pool_workers at a time.
import fsp from "node:fs/promises";
import path from "node:path";
import { DAG, ShellOPTemplate, Task, Workflow } from "dflow-ts";
import { runShape } from "../lib/child.js";

const LAYERS = 10;

await runShape({
  shape: "dag-layers",
  build(n) {
    if (n % LAYERS !== 0) throw new Error(`dag-layers: n must be a multiple of ${LAYERS}`);
    const width = n / LAYERS;
    const t = new ShellOPTemplate({ name: "noop", script: "true" });
    const dag = new DAG({ name: "layers" });
    let prev: Task[] = [];
    for (let l = 0; l < LAYERS; l++) {
      const layer = Array.from({ length: width }, (_, k) => new Task({ name: `l${l}-t${k}`, template: t, dependencies: prev }));
      dag.add(layer);
      prev = layer;
    }
    return new Workflow({ name: "bench-dag-layers", dag });
  },
  expectedPods: (n) => n,
  expectedStepDirs: (n) => n,
  fields: (n) => ({ kind: "shell", layers: LAYERS, width: n / LAYERS, deps: "all tasks of the previous layer" }),
  async verify({ n, scan }) {
    // The dependencies held: every task of layer l+1 started (its directory
    // was created) after the last task of layer l had finished.
    const width = n / LAYERS;
    const info = await Promise.all(
      scan.pods.map(async (p) => {
        const name = (await fsp.readFile(path.join(p.dir, "name"), "utf8")).trim();
        const born = (await fsp.stat(path.join(p.dir, "script"))).mtimeMs;
        return { layer: Number(/^l(\d+)-/.exec(name)?.[1]), born, done: p.doneMs };
      }),
    );
    for (let l = 1; l < LAYERS; l++) {
      const lastDone = Math.max(...info.filter((x) => x.layer === l - 1).map((x) => x.done));
      const firstStart = Math.min(...info.filter((x) => x.layer === l).map((x) => x.born));
      if (info.filter((x) => x.layer === l).length !== width) throw new Error(`layer ${l} does not have ${width} tasks`);
      if (firstStart < lastDone) throw new Error(`a task of layer ${l} started before layer ${l - 1} had finished`);
    }
    return {};
  },
});
