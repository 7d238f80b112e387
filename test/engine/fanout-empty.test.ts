// Fan-outs over an empty list (spec §4.4, §4.8, §4.9): every kind of
// fan-out — with_param (literal, step output, expression), with_sequence,
// Slices over a parameter, over a step output, in groups, over an artifact —
// succeeds with no items; its output parameters are [] and its output
// artifacts an empty list, and the steps consuming them run and see that,
// in Steps and in DAG.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  DAG, InputParameter, Inputs, OutputArtifact, OutputParameter, Outputs, ShellOPTemplate, Slices, Step, Steps, Task, TsOPTemplate, Workflow, argo_range, argo_sequence,
} from "dflow-ts";
import { ListOf, Report, Size, Square } from "../../fixtures/ops/fanout.js";
import { read, useTempWorkdir } from "../support/workdir.js";

const shellEcho = () =>
  new ShellOPTemplate({
    name: "echo",
    script: "printf '%s' '{{inputs.parameters.x}}' > /tmp/out",
    inputs: new Inputs({ parameters: { x: new InputParameter() } }),
    outputs: new Outputs({ parameters: { out: new OutputParameter({ value_from_path: "/tmp/out" }) } }),
  });

const sliced = (opts: ConstructorParameters<typeof Slices>[0]) => new TsOPTemplate(Square, { slices: new Slices(opts) });

/** One workflow holding every kind of empty fan-out, each with a consumer of its artifact and parameter. */
function build(kind: "steps" | "dag", items: number[] = []): { wf: Workflow; fanouts: string[]; consumed: string[] } {
  const S = (kind === "dag" ? Task : Step) as typeof Step;
  const root = kind === "dag" ? new DAG("main") : new Steps("main");
  const add = (s: Step) => {
    if (root instanceof DAG) root.add(s as Task);
    else root.add(s);
    return s;
  };
  const list = add(new S({ name: "list", template: new TsOPTemplate(ListOf), parameters: { values: items } }));
  const listOut = list.outputs.parameters.list;
  const square = new TsOPTemplate(Square);
  const fanouts: Step[] = [
    new S({ name: "lit", template: square, parameters: { n: "{{item}}" }, with_param: items }),
    new S({ name: "seq", template: square, parameters: { n: "{{item}}" }, with_sequence: argo_sequence({ count: items.length }) }),
    new S({ name: "ref", template: square, parameters: { n: "{{item}}" }, with_param: listOut }),
    new S({ name: "rng", template: square, parameters: { n: "{{item}}" }, with_param: argo_range(items.length) }),
    new S({ name: "sl-par", template: sliced({ input_parameter: ["n"], output_parameter: ["sq"], output_artifact: ["file"] }), parameters: { n: items } }),
    new S({ name: "sl-ref", template: sliced({ input_parameter: ["n"], output_parameter: ["sq"], output_artifact: ["file"] }), parameters: { n: listOut } }),
    new S({ name: "sl-grp", template: sliced({ input_parameter: ["n"], output_parameter: ["sq"], output_artifact: ["file"], group_size: 2 }), parameters: { n: listOut }, with_param: argo_range(items.length) }),
  ];
  // A fan-out over a Steps template, and a Steps template whose outputs are an inner fan-out's.
  const unit = new Steps({ name: "unit", inputs: new Inputs({ parameters: { n: new InputParameter() } }) });
  const one = new Step({ name: "one", template: square, parameters: { n: unit.inputs.parameters.n } });
  unit.add(one);
  unit.outputs.parameters.sq = new OutputParameter({ value_from_parameter: one.outputs.parameters.sq });
  unit.outputs.artifacts.file = new OutputArtifact({ _from: one.outputs.artifacts.file });
  fanouts.push(new S({ name: "tpl", template: unit, parameters: { n: "{{item}}" }, with_param: items }));
  const holder = new Steps({ name: "holder" });
  const inner = new Step({ name: "inner", template: square, parameters: { n: "{{item}}" }, with_param: items });
  holder.add(inner);
  holder.outputs.parameters.sq = new OutputParameter({ value_from_parameter: inner.outputs.parameters.sq });
  holder.outputs.artifacts.file = new OutputArtifact({ _from: inner.outputs.artifacts.file });
  for (const f of fanouts) add(f);
  const sources = [...fanouts, add(new S({ name: "held", template: holder, continue_on_failed: true }))];
  // A sliced step over an artifact that is itself an empty fan-out's output.
  const sizes = add(new S({ name: "sl-art", template: new TsOPTemplate(Size, { slices: new Slices({ input_artifact: ["f"], output_parameter: ["size"] }) }), artifacts: { f: fanouts[4].outputs.artifacts.file } }));
  for (const f of sources) add(new S({ name: `see-${f.name}`, template: new TsOPTemplate(Report), artifacts: { files: f.outputs.artifacts.file }, parameters: { values: f.outputs.parameters.sq }, continue_on_failed: true }));
  add(new S({ name: "see-sl-art", template: shellEcho(), parameters: { x: sizes.outputs.parameters.size } }));
  // `when` can test the empty list.
  add(new S({ name: "if-empty", template: shellEcho(), parameters: { x: "none" }, when: `${fanouts[0].outputs.parameters.sq} == []` }));
  add(new S({ name: "if-some", template: shellEcho(), parameters: { x: "some" }, when: `${fanouts[0].outputs.parameters.sq} != []` }));
  const wf = new Workflow({ name: `empty-${kind}`, ...(root instanceof DAG ? { dag: root } : { steps: root }) });
  return { wf, fanouts: fanouts.map((f) => f.name), consumed: sources.map((f) => f.name) };
}

describe("fan-outs over an empty list", () => {
  const wd = useTempWorkdir();

  for (const kind of ["steps", "dag"] as const) {
    it(`${kind}: every kind of fan-out succeeds with no items; consumers see [] for artifacts and parameters`, async () => {
      const { wf, fanouts, consumed } = build(kind);
      const r = await wf.submit();
      expect(r.status, r.error?.message).toBe("Succeeded");
      for (const f of [...fanouts, "inner"]) expect(wf.query_step({ name: f }).length, f).toBe(0);
      for (const f of consumed) {
        const [see] = wf.query_step({ name: `see-${f}` });
        expect(see?.phase, f).toBe("Succeeded");
        expect(JSON.parse(String(see.outputs.parameters.seen.value)), f).toEqual({ files: [], values: [] });
        expect(read(path.join(see.dir, "inputs/parameters/values")), f).toBe("[]");
        // The consumer was given a directory: an artifact that is an empty list.
        expect(fs.statSync(path.join(see.dir, "inputs/artifacts/files")).isDirectory(), f).toBe(true);
      }
      expect(wf.query_step({ name: "sl-art" }).length).toBe(0);
      expect(wf.query_step({ name: "see-sl-art" })[0].outputs.parameters.out.value).toBe("[]");
      expect(wf.query_step({ name: "if-empty" })[0]?.phase).toBe("Succeeded");
      expect(wf.query_step({ name: "if-some" }).length).toBe(0);
    });
  }

  it("the same workflow over [1, 2, 3]: the sliced fan-outs stack all three items (the empty case is not special-cased away)", async () => {
    const { wf } = build("steps", [1, 2, 3]);
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");
    for (const f of ["sl-par", "sl-ref", "sl-grp"]) {
      const [see] = wf.query_step({ name: `see-${f}` });
      expect(see?.phase, f).toBe("Succeeded");
      expect(JSON.parse(String(see.outputs.parameters.seen.value)), f).toEqual({ files: ["1", "4", "9"], values: [1, 4, 9] });
    }
    // An unsliced fan-out's items' artifacts have no group value (dflow §4.8): its consumer fails, saying so.
    const [lit] = wf.query_step({ name: "see-lit" });
    expect(lit.phase).toBe("Failed");
    expect(lit.message).toMatch(/step lit is a fan-out of 3 items whose output artifact file has no value for the whole fan-out: gather it with Slices/);
  });
});
