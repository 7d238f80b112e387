// Keys under fan-outs (spec §7.1, §7.2): a key names the step directory, so
// a key that cannot vary with the item would make items share one directory
// and lose all results but one. Refused at submit() when visible in the
// workflow (own item, or the item of a fan-out around the template), and at
// run time, before any item runs, when items render the same key.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  DAG, DflowConfigError, InputParameter, Inputs, OutputParameter, Outputs, ShellOPTemplate, Slices, Step, Steps, Task, TsOPTemplate, Workflow, argo_sequence,
} from "dflow-ts";
import { Square } from "../../fixtures/ops/fanout.js";
import { read, useTempWorkdir } from "../support/workdir.js";

const square = () =>
  new ShellOPTemplate({
    name: "square",
    script: "echo $(( {{inputs.parameters.n}} * {{inputs.parameters.n}} )) > /tmp/sq",
    inputs: new Inputs({ parameters: { n: new InputParameter() } }),
    outputs: new Outputs({ parameters: { sq: new OutputParameter({ value_from_path: "/tmp/sq" }) } }),
  });

const emit = (text: string) =>
  new ShellOPTemplate({
    name: "emit",
    script: `printf '%s' '${text}' > /tmp/v`,
    outputs: new Outputs({ parameters: { v: new OutputParameter({ value_from_path: "/tmp/v" }) } }),
  });

const collect = () =>
  new ShellOPTemplate({
    name: "collect",
    script: "printf '%s' '{{inputs.parameters.all}}' > /tmp/all",
    inputs: new Inputs({ parameters: { all: new InputParameter() } }),
    outputs: new Outputs({ parameters: { all: new OutputParameter({ value_from_path: "/tmp/all" }) } }),
  });

/** A Steps template running `inner` once, with its input n. */
function wrapper(inner: (n: InputParameter) => Step): Steps {
  const t = new Steps({ name: "wrap", inputs: new Inputs({ parameters: { n: new InputParameter() } }) });
  t.add(inner(t.inputs.parameters.n));
  return t;
}

async function refused(wf: Workflow, dir: string): Promise<DflowConfigError> {
  const e = await wf.submit().then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(DflowConfigError);
  // Refused before anything ran: no workflow directory.
  expect(fs.readdirSync(dir).filter((n) => n.startsWith(wf.name))).toEqual([]);
  return e as DflowConfigError;
}

describe("keys of fan-out steps, at submit()", () => {
  const wd = useTempWorkdir();

  it("a fan-out's key without the item is refused, naming workflow, step and key, pointing to {{item}}", async () => {
    const wf = new Workflow({ name: "keys" });
    wf.add(new Step({ name: "sq", template: square(), parameters: { n: "{{item}}" }, with_param: [1, 2, 3], key: "sq" }));
    const e = await refused(wf, wd.dir);
    expect(e.message).toMatch(/^workflow keys, step sq: key "sq" is the same for every item of this fan-out/);
    expect(e.message).toContain('key: "sq-{{item}}"');
  });

  it("every kind of fan-out: with_sequence, Slices (also grouped), DAG tasks, a key from the step's own parameter", async () => {
    const cases: Array<[string, () => Workflow, RegExp]> = [
      ["with_sequence", () => new Workflow({ name: "keys" }).add(new Step({ name: "seq", template: square(), parameters: { n: "{{item}}" }, with_sequence: argo_sequence({ count: 2 }), key: "seq-{{workflow.name}}" })), /step seq: key "seq-\{\{workflow.name\}\}" is the same for every item/],
      ["slices", () => new Workflow({ name: "keys" }).add(new Step({ name: "sl", template: new TsOPTemplate(Square, { slices: new Slices({ input_parameter: ["n"], output_parameter: ["sq"] }) }), parameters: { n: [1, 2] }, key: "sl" })), /step sl: key "sl" is the same for every item/],
      ["grouped slices", () => new Workflow({ name: "keys" }).add(new Step({ name: "gr", template: new TsOPTemplate(Square, { slices: new Slices({ input_parameter: ["n"], output_artifact: ["file"], group_size: 2 }) }), parameters: { n: [1, 2, 3] }, key: "gr" })), /step gr: key "gr" is the same for every item/],
      ["dag", () => new Workflow({ name: "keys", dag: new DAG("main").add(new Task({ name: "t", template: square(), parameters: { n: "{{item}}" }, with_param: [1, 2], key: "t" })) }), /step t: key "t" is the same for every item/],
      // {{inputs.parameters.n}} is the enclosing template's input, not the step's parameter n set from the item.
      ["own parameter", () => new Workflow({ name: "keys" }).add(new Step({ name: "own", template: square(), parameters: { n: "{{item}}" }, with_param: [1, 2], key: "own-{{inputs.parameters.n}}" })), /is the enclosing template's input n, not this step's parameter n/],
    ];
    for (const [what, make, re] of cases) expect((await refused(make(), wd.dir)).message, what).toMatch(re);
  });

  it("a keyed step inside a template run by a fan-out needs that fan-out's item too (through the template's inputs)", async () => {
    // inner step with a constant key: every outer item would reuse the first's directory.
    const constant = new Workflow({ name: "keys" }).add(new Step({ name: "outer", template: wrapper(() => new Step({ name: "inner", template: square(), parameters: { n: 2 }, key: "inner" })), parameters: { n: "{{item}}" }, with_param: [1, 2], key: "outer-{{item}}" }));
    const e1 = await refused(constant, wd.dir);
    expect(e1.message).toMatch(/step inner: key "inner" \(in template wrap\) is the same for every item of the fan-out step outer/);
    expect(e1.message).toContain('key: "inner-{{inputs.parameters.n}}"');
    // an inner fan-out keyed by its own item only: outer items would collide.
    const innerOnly = new Workflow({ name: "keys" }).add(new Step({ name: "outer", template: wrapper((n) => new Step({ name: "inner", template: square(), parameters: { n }, with_param: [1, 2], key: "inner-{{item}}" })), parameters: { n: "{{item}}" }, with_param: [1, 2] }));
    expect((await refused(innerOnly, wd.dir)).message).toMatch(/step inner: .* fan-out step outer/);
  });

  it("keys that do vary are accepted and name one directory per item, nested ones too", async () => {
    const wf = new Workflow({ name: "keys" });
    wf.add(new Step({ name: "sq", template: square(), parameters: { n: "{{item}}" }, with_param: [3, 1, 2], key: "sq-{{item}}" }));
    wf.add(new Step({ name: "ex", template: square(), parameters: { n: "{{item}}" }, with_param: [1, 2], key: "ex-{{=item * 10}}" }));
    wf.add(new Step({ name: "sl", template: new TsOPTemplate(Square, { slices: new Slices({ input_parameter: ["n"], output_parameter: ["sq"] }) }), parameters: { n: [4, 5] }, key: "sl-{{item}}" }));
    wf.add(new Step({ name: "outer", template: wrapper((n) => new Step({ name: "inner", template: square(), parameters: { n }, with_param: [1, 2], key: "in-{{inputs.parameters.n}}-{{item}}" })), parameters: { n: "{{item}}" }, with_param: [7, 8], key: "outer-{{item}}" }));
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");
    const wfdir = path.join(wd.dir, r.id);
    for (const k of ["sq-3", "sq-1", "sq-2", "ex-10", "ex-20", "sl-0", "sl-1", "outer-7", "outer-8", "in-7-1", "in-7-2", "in-8-1", "in-8-2"]) expect(fs.existsSync(path.join(wfdir, k, "phase")), k).toBe(true);
    expect(read(path.join(wfdir, "in-8-2", "outputs/parameters/sq")).trim()).toBe("64");
  });
});

describe("group keys of keyed sliced steps", () => {
  const wd = useTempWorkdir();

  it("each item of an outer fan-out keeps its own merged outputs: the group key is rendered in the step's scope", async () => {
    const t = new Steps({ name: "wrap", inputs: new Inputs({ parameters: { n: new InputParameter() } }) });
    t.add(new Step({ name: "sl", template: new TsOPTemplate(Square, { slices: new Slices({ input_parameter: ["n"], output_artifact: ["file"] }) }), parameters: { n: [1, 2] }, key: "sl-{{inputs.parameters.n}}-{{item}}" }));
    const wf = new Workflow({ name: "groups" });
    wf.add(new Step({ name: "outer", template: t, parameters: { n: "{{item}}" }, with_param: [7, 8] }));
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");
    const inits = wf.query_step({ name: "sl-init-artifact" }).map((s) => s.inputs.parameters.dflow_group_key.value).sort();
    expect(inits).toEqual(["sl-7-group", "sl-8-group"]);
    for (const g of ["sl-7-group", "sl-8-group"]) {
      // Its own two slices beside the empty init catalog: nothing of the other outer item.
      expect(fs.readdirSync(path.join(wd.dir, r.id, g, "file", ".dflow")).length, g).toBe(3);
    }
  });
});

describe("keys of fan-out items, at run time", () => {
  const wd = useTempWorkdir();

  it("items whose keys render equal fail the fan-out before any item runs, naming the key and the items", async () => {
    const wf = new Workflow({ name: "dups" });
    const s = new Step({ name: "x", template: square(), parameters: { n: "{{item}}" }, with_param: ["2", "2", "3"], key: "x-{{item}}" });
    wf.add(s);
    wf.add(new Step({ name: "after", template: collect(), parameters: { all: s.outputs.parameters.sq } }));
    const r = await wf.submit();
    expect(r.status).toBe("Failed");
    expect(r.error?.message).toMatch(/key "x-\{\{item\}\}" renders to the same step directory for several items of this fan-out: "x-2" for items 0 \(2\), 1 \(2\)/);
    const wfdir = path.join(wd.dir, r.id);
    expect(fs.existsSync(path.join(wfdir, "x-2"))).toBe(false);
    expect(fs.existsSync(path.join(wfdir, "x-3"))).toBe(false);
    const [failed] = wf.query_step({ name: "x" });
    expect(failed.phase).toBe("Failed");
    expect(failed.message).toMatch(/"x-2" for items 0 \(2\), 1 \(2\)/);
    expect(wf.query_step({ name: "after" }).length).toBe(0);
  });

  it("a key from a step output (accepted at submit) that renders the same for every item fails the same way", async () => {
    const wf = new Workflow({ name: "dups" });
    const e = new Step({ name: "emit", template: emit("same") });
    wf.add(e);
    wf.add(new Step({ name: "x", template: square(), parameters: { n: "{{item}}" }, with_param: [1, 2], key: `x-${e.outputs.parameters.v}` }));
    const r = await wf.submit();
    expect(r.status).toBe("Failed");
    expect(r.error?.message).toMatch(/"x-same" for items 0 \(1\), 1 \(2\)/);
  });

  it("a key inside a template that renders the same for two items of the fan-out around it fails, not reuses", async () => {
    // The key comes from a step output, so submit() cannot tell; each outer item would reach the same directory.
    const t = new Steps({ name: "wrap", inputs: new Inputs({ parameters: { n: new InputParameter() } }) });
    const e = new Step({ name: "emit", template: emit("same") });
    t.add(e);
    t.add(new Step({ name: "inner", template: square(), parameters: { n: t.inputs.parameters.n }, key: `in-${e.outputs.parameters.v}` }));
    const wf = new Workflow({ name: "nested" });
    wf.add(new Step({ name: "outer", template: t, parameters: { n: "{{item}}" }, with_param: [1, 2] }));
    const r = await wf.submit();
    expect(r.status).toBe("Failed");
    expect(r.error?.message).toMatch(/step inner: key "in-\{\{steps.emit.outputs.parameters.v\}\}" renders to "in-same" for items [01] and [01] of a fan-out this step runs under/);
    // The same template called by two steps (no fan-out) keeps dflow's meaning: the second reuses the first's result.
    const twice = new Workflow({ name: "twice" });
    twice.add(new Step({ name: "a", template: t, parameters: { n: 1 } }));
    twice.add(new Step({ name: "b", template: t, parameters: { n: 1 } }));
    const r2 = await twice.submit();
    expect(r2.status, r2.error?.message).toBe("Succeeded");
    expect(twice.query_step({ name: "inner" }).length).toBe(1);
  });

  it("with unique keys the stacked outputs have one entry per item, in item order; a restart keeps them", async () => {
    const wf = new Workflow({ name: "order" });
    const s = new Step({ name: "sq", template: square(), parameters: { n: "{{item}}" }, with_param: [3, 1, 2, 5], key: "sq-{{item}}" });
    wf.add(s);
    wf.add(new Step({ name: "after", template: collect(), parameters: { all: s.outputs.parameters.sq } }));
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");
    const all = () => JSON.parse(String(wf.query_step({ name: "after" })[0].outputs.parameters.all.value)).map((x: string) => x.trim());
    expect(all()).toEqual(["9", "1", "4", "25"]);
    // Resubmitting the same workflow skips the succeeded items and stacks the same list.
    const again = await new Workflow({ name: "order", id: r.id, steps: wf.entrypoint as Steps }).submit();
    expect(again.status, again.error?.message).toBe("Succeeded");
    expect(all()).toEqual(["9", "1", "4", "25"]);
  });
});
