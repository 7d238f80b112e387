// Port of dflow's tests/test_recurse.py (spec §13, §4.14), and recursion
// 100 levels deep.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { recurseWorkflow, shellRecurseWorkflow } from "../../fixtures/workflows/recurse.js";
import { read, useTempWorkdir } from "../support/workdir.js";

describe("test_recurse", () => {
  const wd = useTempWorkdir();

  it("test_recurse", async () => {
    const wf = recurseWorkflow();
    await wf.submit();
    expect(wf.query_status()).toBe("Succeeded");
    const step = wf.query_step({ key: "iter-4" })[0];
    expect(step.phase).toBe("Succeeded");
    expect(step.outputs.parameters.iter.value).toBe(5);

    // Layout observed in the reference (§4.14): iter-0…iter-4, four `next` Steps dirs, the fifth skipped.
    const wfdir = path.join(wd.dir, wf.id!);
    const dirs = fs.readdirSync(wfdir).filter((d) => fs.existsSync(path.join(wfdir, d, "name")));
    expect(dirs.filter((d) => d.startsWith("iter-")).sort()).toEqual(["iter-0", "iter-1", "iter-2", "iter-3", "iter-4"]);
    const nexts = wf.query_step({ name: "next" });
    expect(nexts.length).toBe(4);
    // The type of the source travels with the value: {"type": "int"} as in the reference.
    expect(nexts.map((s) => s.inputs.parameters.iter.value).sort()).toEqual([1, 2, 3, 4]);
    const top = JSON.parse(read(path.join(wfdir, "children")));
    expect(top["0-0"]).toBe("iter-0");
    expect(top["1-0"]).toMatch(new RegExp(`^${wf.id}-next-[0-9a-z]{5}$`));
    const last = nexts.find((s) => s.inputs.parameters.iter.value === 4)!;
    expect(last.children).toEqual({ "0-0": "iter-4" });
  });

  it("recurses 100 levels", async () => {
    const wf = shellRecurseWorkflow(100);
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");
    expect(wf.query_step({ name: "plus1" }).length).toBe(100);
    expect(wf.query_step({ name: "next" }).length).toBe(99);
  });
});
