// Port of dflow's examples/test_steps.py, in dflow's attribute-assignment
// style (templates' inputs/outputs assigned after construction).
import { describe, expect, it } from "vitest";
import { InputArtifact, InputParameter, OutputArtifact, OutputParameter, ShellOPTemplate, Step, Workflow, download_artifact } from "dflow-ts";
import { read, useTempWorkdir } from "../support/workdir.js";

describe("examples/test_steps", () => {
  useTempWorkdir();

  it("test_steps", async () => {
    const hello = new ShellOPTemplate({ name: "Hello", image: "alpine:3.15", script: "echo Hello > /tmp/bar.txt && echo 1 > /tmp/result.txt" });
    hello.outputs.parameters = { msg: new OutputParameter({ value_from_path: "/tmp/result.txt" }) };
    hello.outputs.artifacts = { bar: new OutputArtifact({ path: "/tmp/bar.txt" }) };

    const duplicate = new ShellOPTemplate({
      name: "Duplicate",
      image: "alpine:3.15",
      script: "cat /tmp/foo.txt /tmp/foo.txt > /tmp/bar.txt && echo $(({{inputs.parameters.msg}}*2)) > /tmp/result.txt",
    });
    duplicate.inputs.parameters = { msg: new InputParameter() };
    duplicate.outputs.parameters = { msg: new OutputParameter({ value_from_path: "/tmp/result.txt" }) };
    duplicate.inputs.artifacts = { foo: new InputArtifact({ path: "/tmp/foo.txt" }) };
    duplicate.outputs.artifacts = { bar: new OutputArtifact({ path: "/tmp/bar.txt" }) };

    const wf = new Workflow({ name: "steps" });
    const hello0 = new Step({ name: "hello0", template: hello });
    wf.add(hello0);
    const hello1 = new Step({ name: "hello1", template: duplicate, parameters: { msg: hello0.outputs.parameters.msg }, artifacts: { foo: hello0.outputs.artifacts.bar } });
    wf.add(hello1);
    const hello2 = new Step({ name: "hello2", template: duplicate, parameters: { msg: hello1.outputs.parameters.msg }, artifacts: { foo: hello1.outputs.artifacts.bar } });
    const hello3 = new Step({ name: "hello3", template: duplicate, parameters: { msg: hello1.outputs.parameters.msg }, artifacts: { foo: hello1.outputs.artifacts.bar } });
    wf.add([hello2, hello3]);
    await wf.submit();

    expect(wf.query_status()).toBe("Succeeded");
    const step = wf.query_step({ name: "hello3" })[0];
    expect(step.phase).toBe("Succeeded");
    // dflow asserts msg == "4": that holds on Argo only, which trims a
    // value_from_path file. dflow's debug mode (and dflow-ts) keep the file
    // verbatim, echo's newline included (spec §2.7), so this is "4\n" there.
    expect(step.outputs.parameters.msg.value).toBe("4\n");
    await download_artifact(step.outputs.artifacts.bar);
    expect(read("bar.txt")).toBe("Hello\nHello\nHello\nHello\n");
  });
});
