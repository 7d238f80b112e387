// Port of dflow's examples/test_dag_slices.py: sliced keyed tasks in a DAG,
// one over two items and one over none, then a resubmission reusing the
// first item.
import { describe, expect, it } from "vitest";
import { DAG, OutputArtifact, Slices, Task, TsOPTemplate, Workflow, argo_range } from "dflow-ts";
import { Check, Hello } from "../../fixtures/ops/examples/slices.js";
import { useTempWorkdir } from "../support/workdir.js";

function sliced() {
  return new TsOPTemplate(Hello, { image: "python:3.8", slices: new Slices({ slices: "{{item}}", input_parameter: ["filename"], output_artifact: ["foo"] }) });
}

describe("examples/test_dag_slices", () => {
  useTempWorkdir();

  // hello1 fans out over argo_range(0): its merged output artifact foo is empty,
  // and check1 and the template's output foo see that, as in dflow's debug mode (spec §4.4, §4.9).
  it("test_dag_slices", async () => {
    const dag = new DAG({ name: "slices-dag" });
    const hello0 = new Task({ name: "hello0", template: sliced(), parameters: { filename: ["f1.txt", "f2.txt"] }, with_param: argo_range(2), key: "hello-0-{{item}}" });
    dag.add(hello0);
    const check0 = new Task({ name: "check0", template: new TsOPTemplate(Check, { image: "python:3.8" }), artifacts: { foo: hello0.outputs.artifacts.foo } });
    dag.add(check0);
    const hello1 = new Task({ name: "hello1", template: sliced(), parameters: { filename: [] }, with_param: argo_range(0), key: "hello-1-{{item}}" });
    dag.add(hello1);
    const check1 = new Task({ name: "check1", template: new TsOPTemplate(Check, { image: "python:3.8" }), artifacts: { foo: hello1.outputs.artifacts.foo } });
    dag.add(check1);
    dag.outputs.artifacts.foo = new OutputArtifact({ _from: hello1.outputs.artifacts.foo });

    const wf = new Workflow({ name: "dag-slices", dag });
    const r = await wf.submit();

    expect(wf.query_status(), r.error?.message).toBe("Succeeded");
    const step0 = wf.query_step({ key: "hello-0-0" })[0];

    const wf2 = new Workflow({ name: "dag-slices-resubmit", dag });
    // dflow stops here (the resubmission must not raise); the port also
    // checks how it ends and that hello-0-0 was reused, not re-run.
    const r2 = await wf2.submit({ reuse_step: [step0] });
    expect(r2.status, r2.error?.message).toBe("Succeeded");
    expect(wf2.query_step({ key: "hello-0-0" })[0].phase).toBe("Succeeded");
    expect(wf2.query_step({ key: "hello-0-1" }).length).toBe(1);
    expect(wf2.query_step({ name: "check0" })[0].phase).toBe("Succeeded");
  });
});
