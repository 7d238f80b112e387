// Port of dflow's tests/test_reuse.py (spec §13, §7.3): run the recursion
// workflow, change iter-1's output to 3, and submit a new workflow reusing
// iter-0 and iter-1: it skips them and runs iter-3 and iter-4 only.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Workflow } from "dflow-ts";
import { recurseWorkflow } from "../../fixtures/workflows/recurse.js";
import { read, useTempWorkdir } from "../support/workdir.js";

describe("test_reuse", () => {
  const wd = useTempWorkdir();

  it("test_reuse", async () => {
    const wf = recurseWorkflow(5);
    await wf.submit();
    expect(wf.query_status()).toBe("Succeeded");
    const step0 = wf.query_step({ key: "iter-0" })[0];
    const step1 = wf.query_step({ key: "iter-1" })[0];
    step1.modify_output_parameter("iter", 3);

    const wf2 = recurseWorkflow(5, "recurse-resubmit");
    const r = await wf2.submit({ reuse_step: [step0, step1] });
    expect(r.status, r.error?.message).toBe("Succeeded");
    const wfdir = path.join(wd.dir, r.id);
    // Reused directories hold only inputs, outputs, name, phase and type.
    expect(fs.readdirSync(path.join(wfdir, "iter-1")).sort()).toEqual(["inputs", "name", "outputs", "phase", "type"]);
    expect(read(path.join(wfdir, "iter-1", "outputs/parameters/iter"))).toBe("3");
    expect(wf2.query_keys_of_steps().sort()).toEqual(["iter-0", "iter-1", "iter-3", "iter-4"]);
    expect(fs.existsSync(path.join(wfdir, "iter-2"))).toBe(false);
    expect(wf2.query_step({ key: "iter-3" })[0].outputs.parameters.iter.value).toBe(4);
    expect(wf2.query_step({ key: "iter-4" })[0].outputs.parameters.iter.value).toBe(5);
    // iter-3 and iter-4 ran (they have scripts and logs); iter-0 and iter-1 did not.
    expect(fs.existsSync(path.join(wfdir, "iter-3", "script"))).toBe(true);
    expect(fs.existsSync(path.join(wfdir, "iter-0", "script"))).toBe(false);
  });

  it("resubmitting an existing id restarts it: succeeded steps are kept, failed ones re-run in their directories", async () => {
    const wf = recurseWorkflow(3);
    const r = await wf.submit();
    expect(r.status).toBe("Succeeded");
    // Make one step look failed, as after an error: it and the Steps step holding it.
    const s = wf.query_step({ key: "iter-1" })[0];
    fs.writeFileSync(path.join(s.dir, "phase"), "Failed");
    const holder = wf.query_step({ name: "next" }).find((n) => Object.values(n.children).includes("iter-1"))!;
    fs.writeFileSync(path.join(holder.dir, "phase"), "Failed");
    fs.writeFileSync(path.join(wd.dir, r.id, "status"), "Failed");
    const before = fs.statSync(path.join(wf.query_step({ key: "iter-0" })[0].dir, "log.txt")).mtimeMs;
    const again = recurseWorkflow(3);
    again.id = r.id;
    const r2 = await again.submit();
    expect(r2.status, r2.error?.message).toBe("Succeeded");
    expect(r2.id).toBe(r.id);
    expect(fs.statSync(path.join(wf.query_step({ key: "iter-0" })[0].dir, "log.txt")).mtimeMs).toBe(before);
    expect(read(path.join(s.dir, "phase"))).toBe("Succeeded");
    expect(new Workflow({ id: r.id }).query_step({ key: "iter-1" }).length).toBe(1);
  });
});
