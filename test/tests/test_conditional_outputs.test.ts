// Port of dflow's tests/test_conditional_outputs.py (spec §13), plus the
// fixed quirks: a boolean true flag picks the then-branch (Q6), the ternary
// returns a falsy then-value (Q7), a failing value_from_expression falls back
// to the default (Q5).
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { OutputArtifact, OutputParameter, Outputs, Step, Steps, TsOPTemplate, Workflow, expr, if_expression } from "dflow-ts";
import { Random } from "../../fixtures/ops/test_conditional_outputs.js";
import { useTempWorkdir } from "../support/workdir.js";

function conditionalWorkflow(head?: boolean) {
  // Outputs declared at construction, expressions assigned afterwards, as dflow's test does.
  const steps = new Steps({ name: "steps", outputs: new Outputs({ parameters: { msg: new OutputParameter() }, artifacts: { res: new OutputArtifact() } }) });
  const random_step = new Step({ name: "random", template: new TsOPTemplate(Random), parameters: head === undefined ? {} : { head } });
  steps.add(random_step);
  steps.outputs.parameters.msg.value_from_expression = if_expression({ _if: random_step.outputs.parameters.is_head, _then: random_step.outputs.parameters.msg1, _else: random_step.outputs.parameters.msg2 });
  steps.outputs.artifacts.res.from_expression = if_expression({ _if: random_step.outputs.parameters.is_head, _then: random_step.outputs.artifacts.foo, _else: random_step.outputs.artifacts.bar });
  const wf = new Workflow({ name: "conditional" });
  wf.add(new Step({ name: "conditional", template: steps }));
  return wf;
}

describe("test_conditional_outputs", () => {
  useTempWorkdir();

  it("test_conditional_outputs", async () => {
    const wf = conditionalWorkflow();
    await wf.submit();
    expect(wf.query_status()).toBe("Succeeded");
    const step = wf.query_step({ name: "conditional" })[0];
    expect(step.phase).toBe("Succeeded");
    expect(step.outputs.parameters.msg.value).toBe("tail");
    // An OP output artifact is a directory: the file plus its catalog.
    expect(fs.readFileSync(path.join(step.outputs.artifacts.res.local_path, "bar.txt"), "utf8")).toBe("tail");
  });

  it("a boolean true flag takes the then-branch (Q6)", async () => {
    const wf = conditionalWorkflow(true);
    await wf.submit();
    const step = wf.query_step({ name: "conditional" })[0];
    expect(step.outputs.parameters.msg.value).toBe("head");
    expect(fs.readFileSync(path.join(step.outputs.artifacts.res.local_path, "foo.txt"), "utf8")).toBe("head");
  });

  it("the ternary returns a falsy then-value, and a failing expression falls back to the default (Q7, Q5)", async () => {
    const steps = new Steps({ name: "steps" });
    const r = new Step({ name: "random", template: new TsOPTemplate(Random), parameters: { head: true } });
    steps.add(r);
    steps.outputs.parameters.zero = new OutputParameter({ value_from_expression: if_expression({ _if: r.outputs.parameters.is_head, _then: 0, _else: 5 }) });
    steps.outputs.parameters.empty = new OutputParameter({ value_from_expression: if_expression({ _if: expr`${r.outputs.parameters.msg1} == 'head'`, _then: "", _else: "x" }) });
    steps.outputs.parameters.fallback = new OutputParameter({ value_from_expression: expr`no_such_variable + 1`, default: "D" });
    const wf = new Workflow({ name: "conditional" });
    wf.add(new Step({ name: "conditional", template: steps }));
    const res = await wf.submit();
    expect(res.status).toBe("Succeeded");
    const step = wf.query_step({ name: "conditional" })[0];
    expect(step.outputs.parameters.zero.value).toBe("0");
    expect(step.outputs.parameters.empty.value).toBe("");
    expect(step.outputs.parameters.fallback.value).toBe("D");
  });
});
