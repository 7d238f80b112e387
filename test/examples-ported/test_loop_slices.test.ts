// Port of dflow's examples/test_loop_slices.py: test_dag_slices as Steps,
// with check0 returning the paths it got; the resubmission reusing
// hello-0-0 must still give check0 both files.
import { describe, expect, it } from "vitest";
import { OutputArtifact, Slices, Step, Steps, TsOPTemplate, Workflow, argo_range } from "dflow-ts";
import { CheckPath, Hello } from "../../fixtures/ops/examples/slices.js";
import { useTempWorkdir } from "../support/workdir.js";

function sliced() {
  return new TsOPTemplate(Hello, { image: "python:3.8", slices: new Slices({ slices: "{{item}}", input_parameter: ["filename"], output_artifact: ["foo"] }) });
}

describe("examples/test_loop_slices", () => {
  useTempWorkdir();

  // hello1 fans out over argo_range(0): its merged output artifact foo is empty,
  // and check1 and the template's output foo see that, as in dflow's debug mode (spec §4.4, §4.9).
  it("test_loop_slices", async () => {
    const steps = new Steps({ name: "slices-steps" });
    const hello0 = new Step({ name: "hello0", template: sliced(), parameters: { filename: ["f1.txt", "f2.txt"] }, with_param: argo_range(2), key: "hello-0-{{item}}" });
    steps.add(hello0);
    const check0 = new Step({ name: "check0", template: new TsOPTemplate(CheckPath, { image: "python:3.8" }), artifacts: { foo: hello0.outputs.artifacts.foo } });
    steps.add(check0);
    const hello1 = new Step({ name: "hello1", template: sliced(), parameters: { filename: [] }, with_param: argo_range(0), key: "hello-1-{{item}}" });
    steps.add(hello1);
    const check1 = new Step({ name: "check1", template: new TsOPTemplate(CheckPath, { image: "python:3.8" }), artifacts: { foo: hello1.outputs.artifacts.foo } });
    steps.add(check1);
    steps.outputs.artifacts.foo = new OutputArtifact({ _from: hello1.outputs.artifacts.foo });

    const wf = new Workflow({ name: "loop-slices", steps });
    const r = await wf.submit();

    expect(wf.query_status(), r.error?.message).toBe("Succeeded");
    const step0 = wf.query_step({ key: "hello-0-0" })[0];

    const wf2 = new Workflow({ name: "loop-slices-resubmit", steps });
    const r2 = await wf2.submit({ reuse_step: [step0] });

    expect(wf2.query_status(), r2.error?.message).toBe("Succeeded");
    const c0 = wf2.query_step({ name: "check0" })[0];
    expect((c0.outputs.parameters.path.value as string[]).length).toBe(2);
  });
});
