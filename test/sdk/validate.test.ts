// Submit-time validation (src/validate.ts): each class of mistake visible in
// the workflow object is refused by submit() before any step runs, with a
// message naming workflow, step and field and saying how to fix it; several
// mistakes are reported together. No false positives: the examples and the
// fixture workflows validate (test/examples.test.ts, test/tests/ run them).
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  Artifact,
  DAG,
  DflowConfigError,
  InputArtifact,
  InputParameter,
  Inputs,
  OP,
  OutputArtifact,
  OutputParameter,
  Outputs,
  ShellOPTemplate,
  Step,
  Steps,
  Task,
  TsOPTemplate,
  Workflow,
  WorkflowValidationError,
  expr,
  if_expression,
  upload_artifact,
  z,
} from "dflow-ts";
import type { RunContext, Scope } from "../../engine/context.js";
import { resolveParam } from "../../engine/scope.js";
import { StepOutputArtifact as SrcStepOutputArtifact } from "../../src/io.js";
import { SimpleExample } from "../../fixtures/ops/simple.js";
import { Duplicate } from "../../fixtures/ops/test_python.js";
import { recurseWorkflow } from "../../fixtures/workflows/recurse.js";
import { useTempWorkdir } from "../support/workdir.js";

const wd = useTempWorkdir();

/** A shell template: input parameter `msg` (no default), output parameter `out`, output artifact `file`. */
function echo(name = "echo"): ShellOPTemplate {
  return new ShellOPTemplate({
    name,
    script: "echo {{inputs.parameters.msg}} > /tmp/out; cp /tmp/out /tmp/file",
    inputs: new Inputs({ parameters: { msg: new InputParameter() } }),
    outputs: new Outputs({ parameters: { out: new OutputParameter({ value_from_path: "/tmp/out" }) }, artifacts: { file: new OutputArtifact({ path: "/tmp/file" }) } }),
  });
}

/** A first step that would leave a file behind if anything ran. */
function sentinel(): Step {
  const t = new ShellOPTemplate({ name: "sentinel", script: `touch ${path.join(wd.dir, "ran")}` });
  return new Step({ name: "sentinel", template: t });
}

/** submit() must reject with a WorkflowValidationError before anything ran or any directory was made. */
async function refused(wf: Workflow): Promise<WorkflowValidationError> {
  const before = fs.readdirSync(wd.dir);
  const e = await wf.submit().then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(DflowConfigError);
  expect(e).toBeInstanceOf(WorkflowValidationError);
  expect(fs.existsSync(path.join(wd.dir, "ran")), "a step ran").toBe(false);
  expect(fs.readdirSync(wd.dir), "a workflow or step directory was made").toEqual(before);
  return e as WorkflowValidationError;
}

/** The problem lines of the error (after the header line when there are several). */
function lines(e: WorkflowValidationError): string[] {
  const ls = e.message.split("\n");
  expect(ls.length).toBe(e.problems.length === 1 ? 1 : e.problems.length + 1);
  return e.problems.length === 1 ? ls : ls.slice(1);
}

describe("submit-time validation", () => {
  it("a missing input parameter: no value, no default, not passed", async () => {
    const wf = new Workflow({ name: "hello" });
    wf.add(sentinel());
    wf.add(new Step({ name: "step1", template: echo() }));
    const e = await refused(wf);
    expect(e.message).toBe("workflow hello, step step1, parameter msg: no value: pass parameters: { msg: ... } to the step, or give the template's input parameter a default (new InputParameter({ value }))");
    expect(e.problems).toEqual([expect.objectContaining({ workflow: "hello", step: "step1", field: "parameter msg" })]);
  });

  it("a parameter declared after the step was made is checked as it is at submit", async () => {
    const t = new ShellOPTemplate({ name: "late", script: "echo {{inputs.parameters.a}}" });
    const wf = new Workflow({ name: "late" });
    wf.add(new Step({ name: "s", template: t }));
    t.inputs.parameters.a = new InputParameter();
    const e = await refused(wf);
    expect(e.message).toMatch(/^workflow late, step s, parameter a: no value: pass parameters: \{ a: \.\.\. \}/);
  });

  it("a required input artifact not passed", async () => {
    const wf = new Workflow({ name: "art" });
    wf.add(new Step({ name: "simple", template: new TsOPTemplate(SimpleExample), parameters: { msg: "hi" } }));
    const e = await refused(wf);
    expect(e.message).toMatch(/^workflow art, step simple, artifact foo: not passed: pass artifacts: \{ foo: \.\.\. \}.*or declare the input artifact optional/);
  });

  it("Steps: a reference to a step not in the template, in the same parallel group, or later", async () => {
    const other = new Step({ name: "elsewhere", template: echo(), parameters: { msg: "x" } });
    const wf = new Workflow({ name: "order" });
    const a = new Step({ name: "a", template: echo(), parameters: { msg: "a" } });
    const b = new Step({ name: "b", template: echo(), parameters: { msg: a.outputs.parameters.out } });
    const c = new Step({ name: "c", template: echo(), parameters: { msg: other.outputs.parameters.out } });
    const later = new Step({ name: "later", template: echo(), parameters: { msg: "z" } });
    const d = new Step({ name: "d", template: echo(), parameters: { msg: `${later.outputs.parameters.out}` } });
    wf.add(sentinel());
    wf.add([a, b]);
    wf.add([c, d]);
    wf.add(later);
    const e = await refused(wf);
    const ls = lines(e);
    expect(ls).toEqual([
      expect.stringMatching(/^workflow order, step b, parameter msg: refers to step a, which runs in the same parallel group as b.*add a in an earlier wf\.add/),
      expect.stringMatching(/^workflow order, step c, parameter msg: refers to step elsewhere, which is not in Steps order-steps \(steps: sentinel, a, b, c, d, later\).*pass other values in as input parameters/),
      expect.stringMatching(/^workflow order, step d, parameter msg: refers to step later, which runs later.*add later before d/),
    ]);
  });

  it("DAG: a reference to a task not in the DAG, and a dependency cycle", async () => {
    const dag = new DAG("loop");
    const outside = new Task({ name: "outside", template: echo(), parameters: { msg: "x" } });
    const a = new Task({ name: "a", template: echo(), parameters: { msg: "a" } });
    const b = new Task({ name: "b", template: echo(), parameters: { msg: a.outputs.parameters.out } });
    a.parameters.msg = b.outputs.parameters.out; // a <-> b
    const c = new Task({ name: "c", template: echo(), parameters: { msg: outside.outputs.parameters.out }, dependencies: ["ghost"] });
    dag.add([a, b, c]);
    const wf = new Workflow({ name: "dag", dag });
    const e = await refused(wf);
    expect(e.message).toMatch(/^workflow dag, template loop: DAG loop has a dependency cycle: (a -> b -> a|b -> a -> b)/m);
    expect(e.message).toMatch(/^workflow dag, step c, parameter msg: refers to task outside, which is not in DAG loop \(tasks: a, b, c\)/m);
    expect(e.message).toMatch(/^workflow dag, step c, dependencies: task ghost is not in DAG loop/m);
  });

  it("with_param literals that are not lists", async () => {
    const wf = new Workflow({ name: "fan" });
    wf.add(sentinel());
    wf.add([
      new Step({ name: "text", template: echo(), parameters: { msg: "{{item}}" }, with_param: "abc" }),
      new Step({ name: "json-dict", template: echo(), parameters: { msg: "{{item}}" }, with_param: '{"a": 1}' }),
      new Step({ name: "number", template: echo(), parameters: { msg: "{{item}}" }, with_param: 3 }),
      new Step({ name: "fine", template: echo(), parameters: { msg: "{{item}}" }, with_param: "[1, 2]" }),
    ]);
    const e = await refused(wf);
    const ls = lines(e);
    expect(ls).toHaveLength(3);
    expect(ls[0]).toMatch(/^workflow fan, step text, with_param: cannot parse "abc" as a list.*: pass a list, a JSON list text, or a parameter/);
    expect(ls[1]).toMatch(/^workflow fan, step json-dict, with_param: "\{\\"a\\": 1\}" is not a list: pass a list/);
    expect(ls[2]).toMatch(/^workflow fan, step number, with_param: 3 is not a list/);
  });

  it("malformed when: text that does not parse, unknown steps and outputs, bad expressions", async () => {
    const wf = new Workflow({ name: "cond" });
    const a = new Step({ name: "a", template: echo(), parameters: { msg: "a" } });
    wf.add(sentinel());
    wf.add(a);
    wf.add([
      new Step({ name: "garbled", template: echo(), parameters: { msg: "x" }, when: `${a.outputs.parameters.out} == == 3` }),
      new Step({ name: "unknown-step", template: echo(), parameters: { msg: "x" }, when: "{{steps.nope.outputs.parameters.out}} == 1" }),
      new Step({ name: "unknown-output", template: echo(), parameters: { msg: "x" }, when: "{{steps.a.outputs.parameters.missing}} == 1" }),
      new Step({ name: "bad-expr", template: echo(), parameters: { msg: "x" }, when: expr`${a.outputs.parameters.out} >` }),
      new Step({ name: "fine", template: echo(), parameters: { msg: "x" }, when: `${a.outputs.parameters.out} == hello` }),
    ]);
    const e = await refused(wf);
    const ls = lines(e);
    expect(ls).toHaveLength(4);
    expect(ls[0]).toMatch(/^workflow cond, step garbled, when: cannot parse "\{\{steps\.a\.outputs\.parameters\.out\}\} == == 3": .*write a condition such as/);
    expect(ls[1]).toMatch(/^workflow cond, step unknown-step, when: refers to step nope, which is not in Steps/);
    expect(ls[2]).toMatch(/^workflow cond, step unknown-output, when: refers to output parameter missing of step a, whose template echo declares no such output \(declared: out\)/);
    expect(ls[3]).toMatch(/^workflow cond, step bad-expr, when: cannot parse the expression/);
  });

  it("a literal of the wrong type for a typed OP input, checked against the OP's sign", async () => {
    fs.writeFileSync("foo.txt", "Hi");
    const foo = await upload_artifact("foo.txt");
    const wf = new Workflow({ name: "typed" });
    wf.add(new Step({ name: "dup", template: new TsOPTemplate(Duplicate), parameters: { msg: "hi", num: "three" }, artifacts: { foo, idir: foo } }));
    wf.add(new Step({ name: "dup-ok", template: new TsOPTemplate(Duplicate), parameters: { msg: "hi", num: "3" }, artifacts: { foo, idir: foo } }));
    const e = await refused(wf);
    expect(e.message).toMatch(/^workflow typed, step dup, parameter num: OP Duplicate expects int, got "three" .*: pass a value of that type$/);
    expect(e.problems).toHaveLength(1);
  });

  it("an OP module that does not exist", async () => {
    const wf = new Workflow({ name: "module" });
    wf.add(new Step({ name: "s", template: new TsOPTemplate(SimpleExample, { name: "simple", module: "/nonexistent/ops.ts" }), parameters: { msg: "x" }, artifacts: { foo: "text" } }));
    const e = await refused(wf);
    expect(e.message).toBe(
      "workflow module, step s, template simple: the module of OP SimpleExample, /nonexistent/ops.ts, does not exist: pass { module: import.meta.url } to TsOPTemplate from the OP's file, or declare its signs there",
    );
  });

  it("TsOPTemplate given something that is not an OP class fails at construction, naming it", () => {
    const make = (x: unknown) => () => new TsOPTemplate(x as typeof SimpleExample);
    expect(make(new SimpleExample())).toThrow(/TsOPTemplate takes an OP class .*got an instance of OP SimpleExample \(pass the class itself/);
    expect(make(function helper() {})).toThrow(/got the function helper, which is not an OP class/);
    expect(make(undefined)).toThrow(/TsOPTemplate takes an OP class.*got undefined/);
    expect(make({ name: "x" })).toThrow(DflowConfigError);
    expect(make("SimpleExample")).toThrow(/got a string \("SimpleExample"\)/);
  });

  it("an artifact passed where a parameter is expected, and the reverse", async () => {
    const wf = new Workflow({ name: "kinds" });
    const prev = new Step({ name: "prev", template: echo(), parameters: { msg: "x" } });
    const takesArt = new ShellOPTemplate({ name: "takes-art", script: "cat /tmp/in", inputs: new Inputs({ artifacts: { in: new InputArtifact({ path: "/tmp/in" }) } }) });
    wf.add(sentinel());
    wf.add(prev);
    wf.add([
      new Step({ name: "art-as-param", template: echo(), parameters: { msg: prev.outputs.artifacts.file } }),
      new Step({ name: "art-text-as-param", template: echo(), parameters: { msg: "{{steps.prev.outputs.artifacts.file}}" } }),
      new Step({ name: "param-as-art", template: takesArt, artifacts: { in: prev.outputs.parameters.out } }),
    ]);
    const e = await refused(wf);
    const ls = lines(e);
    expect(ls).toEqual([
      expect.stringMatching(/^workflow kinds, step art-as-param, parameter msg: is given an artifact where a parameter is expected: pass artifacts in artifacts: \{ \.\.\. \}/),
      expect.stringMatching(/^workflow kinds, step art-text-as-param, parameter msg: is given an artifact where a parameter is expected/),
      expect.stringMatching(/^workflow kinds, step param-as-art, artifact in: is given a parameter where an artifact is expected: pass parameters in parameters: \{ \.\.\. \}/),
    ]);
  });

  it("the engine, too, refuses an artifact as a parameter value with a clear error (it used to overflow the stack serialising the step graph)", () => {
    const step = { name: "prev", isTask: false };
    const art = new SrcStepOutputArtifact(step, "bar");
    const scope: Scope = { kind: "steps", inputs: { parameters: new Map(), artifacts: new Map() }, results: new Map() };
    const ctx = { wfid: "w" } as RunContext;
    expect(() => resolveParam(art, scope, ctx)).toThrow(/^\{\{steps\.prev\.outputs\.artifacts\.bar\}\} is an artifact, given where a parameter is expected: pass it in the step's artifacts/);
    expect(() => resolveParam([1, { x: art }], scope, ctx)).toThrow(/is an artifact, given where a parameter is expected/);
  });

  it("a reference to an output the step's template does not declare (also when removed after the reference was made)", async () => {
    const t = echo();
    const wf = new Workflow({ name: "outs" });
    const a = new Step({ name: "a", template: t, parameters: { msg: "x" } });
    const ref = a.outputs.parameters.out;
    wf.add(a);
    wf.add(new Step({ name: "b", template: echo(), parameters: { msg: ref } }));
    wf.add(new Step({ name: "c", template: echo(), parameters: { msg: "{{steps.a.outputs.parameters.nope}}" } }));
    delete t.outputs.parameters.out;
    const e = await refused(wf);
    const ls = lines(e);
    expect(ls).toEqual([
      "workflow outs, step b, parameter msg: refers to output parameter out of step a, whose template echo declares no such output (declared: none)",
      "workflow outs, step c, parameter msg: refers to output parameter nope of step a, whose template echo declares no such output (declared: none)",
    ]);
  });

  it("references into a Steps/DAG template's inputs that do not exist, with the path of nested templates", async () => {
    const inner = new Steps({ name: "inner" });
    inner.inputs.parameters.given = new InputParameter();
    inner.add(new Step({ name: "leaf", template: echo(), parameters: { msg: "{{inputs.parameters.nope}}" } }));
    inner.add(new Step({ name: "leaf2", template: echo(), parameters: { msg: inner.inputs.parameters.given } }));
    inner.outputs.parameters.res = new OutputParameter({ value_from_parameter: "{{steps.ghost.outputs.parameters.out}}" });
    const dag = new DAG("middle");
    dag.add(new Task({ name: "mid", template: inner, parameters: { given: "yes" } }));
    const wf = new Workflow({ name: "nested" });
    wf.add(new Step({ name: "top", template: dag }));
    const e = await refused(wf);
    const ls = lines(e);
    expect(ls).toEqual([
      expect.stringMatching(/^workflow nested, step top\/mid, template inner, output parameter res: refers to step ghost, which is not in Steps inner/),
      expect.stringMatching(/^workflow nested, step top\/mid\/leaf, parameter msg: refers to input parameter nope of Steps inner, which declares none by that name \(declared: given\): declare inner\.inputs\.parameters\.nope or fix the name$/),
    ]);
  });

  it("a malformed if_expression condition text is refused at submit", async () => {
    const steps = new Steps({ name: "pick" });
    const a = new Step({ name: "a", template: echo(), parameters: { msg: "5" } });
    steps.add(a);
    steps.outputs.parameters.res = new OutputParameter({ value_from_expression: if_expression({ _if: `${a.outputs.parameters.out} >> > 3`, _then: "big", _else: "small" }) });
    steps.outputs.parameters.res2 = new OutputParameter({ value_from_expression: if_expression({ _if: "{{steps.b.outputs.parameters.out}} > 3", _then: "big", _else: "small" }) });
    const wf = new Workflow({ name: "ifexpr" });
    wf.add(sentinel());
    wf.add(new Step({ name: "pick", template: steps }));
    const e = await refused(wf);
    const ls = lines(e);
    expect(ls).toEqual([
      expect.stringMatching(/^workflow ifexpr, step pick, template pick, output parameter res \(value_from_expression\): cannot parse the expression/),
      expect.stringMatching(/^workflow ifexpr, step pick, template pick, output parameter res2 \(value_from_expression\): refers to step b, which is not in Steps pick/),
    ]);
  });

  it("several mistakes in one workflow are reported together, one per line", async () => {
    const inner = new Steps({ name: "inner" });
    inner.add(new Step({ name: "deep", template: echo() }));
    const wf = new Workflow({ name: "many" });
    const a = new Step({ name: "a", template: echo() });
    wf.add(sentinel());
    wf.add(a);
    wf.add(new Step({ name: "b", template: echo(), parameters: { msg: "x" }, with_param: 7, when: "{{steps.zz.outputs.parameters.out}} == 1" }));
    wf.add(new Step({ name: "c", template: inner }));
    const e = await refused(wf);
    const msg = e.message.split("\n");
    expect(msg[0]).toBe("workflow many has 4 problems (nothing was run):");
    expect(msg.slice(1)).toEqual([
      expect.stringMatching(/^workflow many, step a, parameter msg: no value/),
      expect.stringMatching(/^workflow many, step b, with_param: 7 is not a list/),
      expect.stringMatching(/^workflow many, step b, when: refers to step zz/),
      expect.stringMatching(/^workflow many, step c\/deep, parameter msg: no value/),
    ]);
    expect(e.problems.map((p) => [p.step, p.field])).toEqual([
      ["a", "parameter msg"],
      ["b", "with_param"],
      ["b", "when"],
      ["c/deep", "parameter msg"],
    ]);
  });

  it("a script using an undeclared input parameter", async () => {
    const t = new ShellOPTemplate({ name: "typo", script: "echo {{inputs.parameters.mgs}}", inputs: new Inputs({ parameters: { msg: new InputParameter({ value: "x" }) } }) });
    const wf = new Workflow({ name: "script" });
    wf.add(new Step({ name: "s", template: t }));
    const e = await refused(wf);
    expect(e.message).toBe("workflow script, step s, template typo, script: uses {{inputs.parameters.mgs}}, but the template declares no input parameter mgs (declared: msg)");
  });

  it("no false positives: recursion, fan-out items, typed ops, expressions and class OP signs validate", () => {
    expect(() => recurseWorkflow(3).validate()).not.toThrow();
    const Typed = OP.function({ name: "Typed", inputs: { n: z.number(), flag: z.boolean(), tags: z.array(z.string()), out: Artifact("path", { optional: true }) }, outputs: {} }, () => ({}));
    const wf = new Workflow({ name: "fine" });
    const a = new Step({ name: "a", template: echo(), parameters: { msg: "1" } });
    wf.add(a);
    wf.add(new Step({ name: "t", template: new TsOPTemplate(Typed), parameters: { n: 2, flag: "true", tags: ["a"] } }));
    wf.add(new Step({ name: "u", template: new TsOPTemplate(Typed), parameters: { n: a.outputs.parameters.out, flag: expr`${a.outputs.parameters.out} == '1'`, tags: "{{item}}" }, with_param: [["x"], ["y"]] }));
    wf.add(new Step({ name: "v", template: echo(), parameters: { msg: if_expression({ _if: `${a.outputs.parameters.out} == 'heads'`, _then: a.outputs.parameters.out, _else: "tails" }) } }));
    expect(() => wf.validate()).not.toThrow();
  });
});
