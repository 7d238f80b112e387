// Port of dflow's examples/test_slices.py. dflow asserts nothing (it only
// submits); the port checks that the run succeeds and what Check received.
import { describe, expect, it } from "vitest";
import { Slices, Step, TsOPTemplate, Workflow, argo_range } from "dflow-ts";
import { Check, Hello } from "../../fixtures/ops/examples/slices.js";
import { read, useTempWorkdir } from "../support/workdir.js";

describe("examples/test_slices", () => {
  useTempWorkdir();

  it("test_slices", async () => {
    const wf = new Workflow({ name: "slices" });
    const hello = new Step({
      name: "hello",
      template: new TsOPTemplate(Hello, { image: "python:3.8", slices: new Slices({ slices: "{{item}}", input_parameter: ["filename"], output_artifact: ["foo"] }) }),
      parameters: { filename: ["f1.txt", "f2.txt"] },
      with_param: argo_range(2),
    });
    wf.add(hello);
    const check = new Step({ name: "check", template: new TsOPTemplate(Check, { image: "python:3.8" }), artifacts: { foo: hello.outputs.artifacts.foo } });
    wf.add(check);
    const r = await wf.submit();

    expect(r.status, r.error?.message).toBe("Succeeded");
    const [c] = wf.query_step({ name: "check" });
    const log = read(c.log_path);
    expect(log).toMatch(/f1\.txt/);
    expect(log).toMatch(/f2\.txt/);
  });
});
