// if_expression with a text condition (dflow's `_if: str` is expression
// text): `${p} > 3` and `${p} == 'heads'` compare the parameter's value, in
// value_from_expression, from_expression and step parameters, through real
// runs with both branches taken. (It used to take the else branch always.)
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { InputParameter, Inputs, OutputArtifact, OutputParameter, Outputs, ShellOPTemplate, Step, Steps, Workflow, if_expression } from "dflow-ts";
import { conditionText } from "../../src/expr.js";
import { useTempWorkdir } from "../support/workdir.js";

const emit = new ShellOPTemplate({
  name: "emit",
  script: "printf '%s' '{{inputs.parameters.v}}' > /tmp/v; printf 'file of %s' '{{inputs.parameters.v}}' > /tmp/f",
  inputs: new Inputs({ parameters: { v: new InputParameter() } }),
  outputs: new Outputs({ parameters: { v: new OutputParameter({ value_from_path: "/tmp/v" }) }, artifacts: { f: new OutputArtifact({ path: "/tmp/f" }) } }),
});
const say = new ShellOPTemplate({
  name: "say",
  script: "printf '%s' '{{inputs.parameters.what}}' > /tmp/said",
  inputs: new Inputs({ parameters: { what: new InputParameter() } }),
  outputs: new Outputs({ parameters: { said: new OutputParameter({ value_from_path: "/tmp/said" }) } }),
});

function game(n: number, side: string): Workflow {
  const g = new Steps({ name: "game" });
  const num = new Step({ name: "num", template: emit, parameters: { v: String(n) } });
  const coin = new Step({ name: "coin-flip", template: emit, parameters: { v: side } });
  g.add([num, coin]);
  const speak = new Step({ name: "speak", template: say, parameters: { what: if_expression({ _if: `${num.outputs.parameters.v} > 3`, _then: "more than three", _else: coin.outputs.parameters.v }) } });
  g.add(speak);
  g.outputs.parameters.size = new OutputParameter({ value_from_expression: if_expression({ _if: `${num.outputs.parameters.v} > 3`, _then: "big", _else: "small" }) });
  g.outputs.parameters.face = new OutputParameter({ value_from_expression: if_expression({ _if: `${coin.outputs.parameters.v} == 'heads'`, _then: coin.outputs.parameters.v, _else: "not heads" }) });
  g.outputs.parameters.said = new OutputParameter({ value_from_parameter: speak.outputs.parameters.said });
  // The quoted form: '{{ref}}' compares the value as text.
  g.outputs.artifacts.res = new OutputArtifact({ from_expression: if_expression({ _if: `'${coin.outputs.parameters.v}' == 'heads' && ${num.outputs.parameters.v} >= 5`, _then: num.outputs.artifacts.f, _else: coin.outputs.artifacts.f }) });
  const wf = new Workflow({ name: "if-text" });
  wf.add(new Step({ name: "game", template: g }));
  return wf;
}

describe("if_expression with a text condition", () => {
  useTempWorkdir();

  it("references in the text become variables; quoted ones compare as text; {{=e}} stays an expression", () => {
    expect(conditionText("{{steps.a.outputs.parameters.x}} > 3")).toBe("steps.a.outputs.parameters.x > 3");
    expect(conditionText("{{ tasks.my-task.outputs.parameters.side }} == 'heads'")).toBe("tasks['my-task'].outputs.parameters.side == 'heads'");
    expect(conditionText("'{{inputs.parameters.p}}' == \"x\" && {{=len('ab')}} == 2")).toBe("string(inputs.parameters.p) == \"x\" && (len('ab')) == 2");
    expect(conditionText("steps.a.outputs.parameters.x > 3")).toBe("steps.a.outputs.parameters.x > 3");
  });

  it("takes the then-branch when the condition holds", async () => {
    const wf = game(5, "heads");
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");
    const [g] = wf.query_step({ name: "game" });
    expect(g.outputs.parameters.size.value).toBe("big");
    expect(g.outputs.parameters.face.value).toBe("heads");
    expect(g.outputs.parameters.said.value).toBe("more than three");
    expect(fs.readFileSync(g.outputs.artifacts.res.local_path, "utf8")).toBe("file of 5");
  });

  it("takes the else-branch when it does not", async () => {
    const wf = game(1, "tails");
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");
    const [g] = wf.query_step({ name: "game" });
    expect(g.outputs.parameters.size.value).toBe("small");
    expect(g.outputs.parameters.face.value).toBe("not heads");
    expect(g.outputs.parameters.said.value).toBe("tails");
    expect(fs.readFileSync(g.outputs.artifacts.res.local_path, "utf8")).toBe("file of tails");
  });
});
