// Port of dflow's tests/test_big_parameter.py (spec §13).
import path from "node:path";
import { describe, expect, it } from "vitest";
import { InputParameter, OutputParameter, Step, Steps, TsOPTemplate, Workflow } from "dflow-ts";
import { Duplicate, Hello, HelloType } from "../../fixtures/ops/test_big_parameter.js";
import { read, useTempWorkdir } from "../support/workdir.js";

describe("test_big_parameter", () => {
  useTempWorkdir();

  it("test_big_parameter", async () => {
    const steps = new Steps({ name: "hello-steps" });
    steps.inputs.parameters.foo = new InputParameter({ type: HelloType });
    steps.outputs.parameters.foo = new OutputParameter({ type: HelloType });
    const step1 = new Step({ name: "step1", template: new TsOPTemplate(Duplicate), parameters: { foo: steps.inputs.parameters.foo }, key: "step1" });
    steps.add(step1);
    const step2 = new Step({ name: "step2", template: new TsOPTemplate(Duplicate), parameters: { foo: step1.outputs.parameters.foo }, key: "step2" });
    steps.add(step2);
    steps.outputs.parameters.foo.value_from_parameter = step2.outputs.parameters.foo;

    const wf = new Workflow({ name: "big-param" });
    wf.add(new Step({ name: "big-step", template: steps, parameters: { foo: new Hello("hello") } }));
    await wf.submit();

    expect(wf.query_status()).toBe("Succeeded");
    const s1 = wf.query_step({ key: "step1" })[0];
    expect(s1.phase).toBe("Succeeded");
    const foo = s1.outputs.parameters.foo.value;
    expect(foo).toBeInstanceOf(Hello);
    expect((foo as Hello).msg).toBe("hellohello");

    expect(read(path.join(s1.dir, "outputs/parameters/foo"))).toBe('{"py/object": "test_big_parameter.Hello", "msg": "hellohello"}');
    expect(read(path.join(s1.dir, "outputs/parameters/.dflow/foo"))).toBe('{"type": "test_big_parameter.Hello"}');
    expect(read(path.join(s1.dir, "inputs/parameters/dflow_key"))).toBe("step1");
    const big = wf.query_step({ name: "big-step" })[0];
    expect(big.type).toBe("Steps");
    expect(read(path.join(big.dir, "outputs/parameters/foo"))).toBe('{"py/object": "test_big_parameter.Hello", "msg": "hellohellohellohello"}');
    expect(read(path.join(wf.query_step({ key: "step2" })[0].dir, "log.txt"))).toBe("hellohello\n");
  });
});
