// Port of dflow's examples/test_reuse.py (the workflow of tests/test_reuse.py:
// limit 5, keys iter-0 … iter-4). dflow asserts the first run and only
// submits the second; the port also checks that the reused output (3) is
// what the second run continued from.
import { describe, expect, it } from "vitest";
import { recurseWorkflow } from "../../fixtures/workflows/recurse.js";
import { useTempWorkdir } from "../support/workdir.js";

describe("examples/test_reuse", () => {
  useTempWorkdir();

  it("test_reuse", async () => {
    const wf = recurseWorkflow(5, "recurse");
    await wf.submit();
    expect(wf.query_status()).toBe("Succeeded");

    const step0 = wf.query_step({ key: "iter-0" })[0];
    const step1 = wf.query_step({ key: "iter-1" })[0];
    step1.modify_output_parameter("iter", 3);

    const wf2 = recurseWorkflow(5, "recurse-resubmit");
    const r2 = await wf2.submit({ reuse_step: [step0, step1] });
    expect(r2.status, r2.error?.message).toBe("Succeeded");
    expect(wf2.query_keys_of_steps().sort()).toEqual(["iter-0", "iter-1", "iter-3", "iter-4"]);
  });
});
