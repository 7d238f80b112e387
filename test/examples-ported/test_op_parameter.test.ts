// Port of dflow's examples/test_op_parameter.py: a step that passes no
// parameters runs on the OP's defaults.
import { describe, expect, it } from "vitest";
import { Step, TsOPTemplate, Workflow } from "dflow-ts";
import { Hello } from "../../fixtures/ops/examples/test_op_parameter.js";
import { read, useTempWorkdir } from "../support/workdir.js";

describe("examples/test_op_parameter", () => {
  useTempWorkdir();

  it("test_op_parameter", async () => {
    const wf = new Workflow({ name: "op-parameter" });
    const step = new Step({ name: "step", template: new TsOPTemplate(Hello, { image: "python:3.8" }) });
    wf.add(step);
    await wf.submit();

    expect(wf.query_status()).toBe("Succeeded");
    // Beyond dflow's assertion: the defaults reached the OP, and the output
    // the OP did not return takes its sign's default.
    const [s] = wf.query_step({ name: "step" });
    expect(read(s.log_path)).toBe("hello".repeat(5) + "\n");
    expect(s.outputs.parameters.msg.value).toBe("Hello dflow!");
  });
});
