// Port of dflow's examples/test_subpath_slices.py (the same workflow as
// tests/test_subpath_slices.py, whose port in test/tests/test_slices.test.ts
// also checks the layout).
import { describe, expect, it } from "vitest";
import { Slices, Step, TsOPTemplate, Workflow } from "dflow-ts";
import { Prepare, PrintFile as Hello } from "../../fixtures/ops/slices.js";
import { read, useTempWorkdir } from "../support/workdir.js";

describe("examples/test_subpath_slices", () => {
  useTempWorkdir();

  it("test_subpath_slices", async () => {
    const wf = new Workflow({ name: "subpath-slices" });
    const prepare = new Step({ name: "prepare", template: new TsOPTemplate(Prepare, { image: "python:3.8" }) });
    wf.add(prepare);
    const hello = new Step({
      name: "hello",
      template: new TsOPTemplate(Hello, { image: "python:3.8", slices: new Slices({ sub_path: true, input_artifact: ["foo"] }) }),
      artifacts: { foo: prepare.outputs.artifacts.foo },
    });
    wf.add(hello);
    const r = await wf.submit();

    expect(wf.query_status(), r.error?.message).toBe("Succeeded");
    // Each item printed its own file.
    expect(wf.query_step({ name: "hello" }).map((s) => read(s.log_path)).sort()).toEqual(["foo1\n", "foo2\n"]);
  });
});
