// Port of dflow's tests/test_big_parameter.py (spec §13).
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Hello } from "../../fixtures/ops/test_big_parameter.js";
import { bigParameterWorkflow } from "../../fixtures/workflows/ported.js";
import { read, useTempWorkdir } from "../support/workdir.js";

describe("test_big_parameter", () => {
  useTempWorkdir();

  it("test_big_parameter", async () => {
    const wf = bigParameterWorkflow();
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
