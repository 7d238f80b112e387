// Port of dflow's examples/test_dag.py: the shell templates of test_steps as
// a DAG built by wf.add(Task) (no DAG object), in dflow's attribute style.
// dflow asserts nothing; the port checks the run and what hello1 got.
import { describe, expect, it } from "vitest";
import { InputArtifact, InputParameter, OutputArtifact, OutputParameter, ShellOPTemplate, Task, Workflow, download_artifact } from "dflow-ts";
import { read, useTempWorkdir } from "../support/workdir.js";

describe("examples/test_dag", () => {
  useTempWorkdir();

  it("test_dag", async () => {
    const hello = new ShellOPTemplate({ name: "Hello", image: "alpine:latest", script: "echo Hello > /tmp/bar.txt && echo 1 > /tmp/result.txt" });
    hello.outputs.parameters = { msg: new OutputParameter({ value_from_path: "/tmp/result.txt" }) };
    hello.outputs.artifacts = { bar: new OutputArtifact({ path: "/tmp/bar.txt" }) };

    const duplicate = new ShellOPTemplate({
      name: "Duplicate",
      image: "alpine:latest",
      script: "cat /tmp/foo.txt /tmp/foo.txt > /tmp/bar.txt && echo $(({{inputs.parameters.msg}}*2)) > /tmp/result.txt",
    });
    duplicate.inputs.parameters = { msg: new InputParameter() };
    duplicate.outputs.parameters = { msg: new OutputParameter({ value_from_path: "/tmp/result.txt" }) };
    duplicate.inputs.artifacts = { foo: new InputArtifact({ path: "/tmp/foo.txt" }) };
    duplicate.outputs.artifacts = { bar: new OutputArtifact({ path: "/tmp/bar.txt" }) };

    const wf = new Workflow({ name: "dag" });
    const hello0 = new Task({ name: "hello0", template: hello });
    wf.add(hello0);
    const hello1 = new Task({ name: "hello1", template: duplicate, parameters: { msg: hello0.outputs.parameters.msg }, artifacts: { foo: hello0.outputs.artifacts.bar } });
    wf.add(hello1);
    const r = await wf.submit();

    expect(r.status, r.error?.message).toBe("Succeeded");
    const [step] = wf.query_step({ name: "hello1" });
    expect(step.phase).toBe("Succeeded");
    expect(step.outputs.parameters.msg.value).toBe("2\n");
    await download_artifact(step.outputs.artifacts.bar);
    expect(read("bar.txt")).toBe("Hello\nHello\n");
  });
});
