// Port of dflow's examples/test_big_parameter.py: a class instance through a
// Steps (output assigned with value_from_parameter after construction), then
// step1's output changed and a new workflow reusing step1.
import { describe, expect, it } from "vitest";
import { InputParameter, OutputParameter, Step, Steps, TsOPTemplate, Workflow } from "dflow-ts";
import { Duplicate, Hello } from "../../fixtures/ops/test_big_parameter.js";
import { useTempWorkdir } from "../support/workdir.js";

describe("examples/test_big_parameter", () => {
  useTempWorkdir();

  it("test_big_parameter", async () => {
    const wf = new Workflow({ name: "big-param" });
    const steps = new Steps({ name: "hello-steps" });
    steps.inputs.parameters.foo = new InputParameter();
    steps.outputs.parameters.foo = new OutputParameter();

    const step1 = new Step({ name: "step1", template: new TsOPTemplate(Duplicate, { image: "python:3.8" }), parameters: { foo: steps.inputs.parameters.foo }, key: "step1" });
    steps.add(step1);
    const step2 = new Step({ name: "step2", template: new TsOPTemplate(Duplicate, { image: "python:3.8" }), parameters: { foo: step1.outputs.parameters.foo }, key: "step2" });
    steps.add(step2);
    steps.outputs.parameters.foo.value_from_parameter = step2.outputs.parameters.foo;

    const big_step = new Step({ name: "big-step", template: steps, parameters: { foo: new Hello("hello") } });
    wf.add(big_step);
    await wf.submit();

    expect(wf.query_status()).toBe("Succeeded");
    const step = wf.query_step({ name: "step1" })[0];
    expect(step.phase).toBe("Succeeded");
    // dflow prints it; the port checks it.
    expect((step.outputs.parameters.foo.value as Hello).msg).toBe("hellohello");

    step.modify_output_parameter("foo", new Hello("byebye"));
    const wf2 = new Workflow({ name: "big-param-resubmit" });
    wf2.add(big_step);
    // dflow stops after submitting; the port checks that step2 started from
    // the modified, reused step1 output.
    const r2 = await wf2.submit({ reuse_step: [step] });
    expect(r2.status, r2.error?.message).toBe("Succeeded");
    expect((wf2.query_step({ key: "step2" })[0].outputs.parameters.foo.value as Hello).msg).toBe("byebyebyebye");
    expect((wf2.query_step({ name: "big-step" })[0].outputs.parameters.foo.value as Hello).msg).toBe("byebyebyebye");
  });
});
