// recursion: shellRecurseWorkflow (fixtures/workflows/recurse.ts), a Steps
// template that calls itself with `when` as the break condition, one shell
// step (plus1) per level. n = levels. Each level leaves a Pod directory
// (plus1) and each level but the last a Steps directory (next); the last
// `next` is skipped and leaves none. per_level_ms = wall / levels; compare it
// across n = 10, 100, 1000 (and first/last 10%) to see whether it stays flat.
import fsp from "node:fs/promises";
import path from "node:path";
import { shellRecurseWorkflow } from "../../fixtures/workflows/recurse.js";
import { runShape } from "../lib/child.js";

await runShape({
  shape: "recursion",
  build: (n) => shellRecurseWorkflow(n, "bench-recursion"),
  expectedPods: (n) => n,
  expectedStepDirs: (n) => 2 * n - 1,
  perStepAlias: "per_level_ms",
  fields: () => ({ kind: "shell" }),
  async verify({ n, scan, wfdir }) {
    // The recursion reached the bottom: some plus1 returned n.
    const outs = await Promise.all(scan.pods.map((p) => fsp.readFile(path.join(p.dir, "outputs", "parameters", "iter"), "utf8")));
    const max = Math.max(...outs.map(Number));
    if (max !== n) throw new Error(`deepest plus1 returned ${max}, expected ${n} (${wfdir})`);
    return {};
  },
});
