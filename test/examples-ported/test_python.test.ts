// Port of dflow's examples/test_python.py (the same workflow as
// tests/test_python.py, whose port in test/tests/ also checks the layout).
import { describe, expect, it } from "vitest";
import { download_artifact } from "dflow-ts";
import { pythonWorkflow } from "../../fixtures/workflows/ported.js";
import { read, useTempWorkdir } from "../support/workdir.js";

describe("examples/test_python", () => {
  useTempWorkdir();

  it("test_python", async () => {
    const wf = await pythonWorkflow();
    await wf.submit();

    expect(wf.query_status()).toBe("Succeeded");
    const step = wf.query_step({ name: "step" })[0];
    expect(step.phase).toBe("Succeeded");
    // dflow prints the downloads; the comment in its code says what they hold.
    expect(await download_artifact(step.outputs.artifacts.bar)).toEqual(["./output.txt"]);
    expect(await download_artifact(step.outputs.artifacts.odir)).toEqual(["./todir"]);
    expect(step.outputs.parameters.msg.value).toBe("HelloHelloHello");
    expect(read("output.txt")).toBe("HiHiHi");
    expect(read("todir/f1")).toBe("foofoofoo");
    expect(read("todir/f2")).toBe("barbarbar");
  });
});
