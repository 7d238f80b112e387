// Ports of dflow's tests/test_slices.py, test_subpath_slices.py,
// test_group_size.py and test_makevasp.py (spec §13), with what the
// reference observed on disk.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { InputParameter, Inputs, OutputArtifact, Outputs, ShellOPTemplate, Slices, Step, Steps, TsOPTemplate, Workflow, argo_len, argo_range, download_artifact } from "dflow-ts";
import { Check, Hello, MakePoscar, MakePotcar, Prepare, PrepareData, PrintFile, Process, RunVasp, ShowResult } from "../../fixtures/ops/slices.js";
import { read, useTempWorkdir } from "../support/workdir.js";

describe("slices", () => {
  const wd = useTempWorkdir();

  it("test_slices", async () => {
    const wf = new Workflow({ name: "slices" });
    const hello = new Step({
      name: "hello",
      template: new TsOPTemplate(Hello, { slices: new Slices({ slices: "{{item}}", input_parameter: ["filename"], output_artifact: ["foo"] }) }),
      parameters: { filename: ["f1.txt", "f2.txt"] },
      with_param: argo_range(2),
    });
    wf.add(hello);
    wf.add(new Step({ name: "check", template: new TsOPTemplate(Check), artifacts: { foo: hello.outputs.artifacts.foo } }));
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");

    const wfdir = path.join(wd.dir, r.id);
    const kids = JSON.parse(read(path.join(wfdir, "children")));
    expect(Object.keys(kids).sort()).toEqual(["0-0", "1-0-0", "1-0-1", "2-0"]);
    const init = kids["0-0"];
    expect(init).toMatch(new RegExp(`^${r.id}-hello-init-artifact-[0-9a-z]{5}$`));
    // The merged output lives in the init step's directory, with every item's catalog beside the empty `init`.
    const merged = path.join(wfdir, init, "foo");
    expect(fs.readdirSync(merged).sort()).toEqual([".dflow", "f1.txt", "f2.txt"]);
    expect(fs.readdirSync(path.join(merged, ".dflow")).length).toBe(3);
    expect(read(path.join(merged, ".dflow", "init"))).toBe('{"path_list": []}');
    expect(read(path.join(wfdir, init, "outputs/parameters/dflow_artifact_key"))).toBe(`${r.id}/${init}`);
    const items = wf.query_step({ name: "hello" }).sort((a, b) => Number(a.inputs.parameters.dflow_var_0.value) - Number(b.inputs.parameters.dflow_var_0.value));
    expect(items.map((s) => s.inputs.parameters.dflow_var_0.value)).toEqual(["0", "1"]);
    expect(read(path.join(items[0].dir, "inputs/parameters/filename"))).toBe('["f1.txt", "f2.txt"]');
    expect(read(path.join(items[0].dir, "inputs/parameters/.dflow/filename"))).toBe('{"type": "str"}');
    expect(fs.readlinkSync(path.join(items[1].dir, "outputs/artifacts/foo"))).toBe(merged);
    const catalog = fs.readdirSync(path.join(items[1].dir, "workdir/tmp/outputs/artifacts/foo/.dflow"))[0];
    expect(read(path.join(items[1].dir, "workdir/tmp/outputs/artifacts/foo/.dflow", catalog))).toBe('{"path_list": [{"dflow_list_item": "f2.txt", "order": 1}]}');
  });

  it("create_dir puts every slice's files in a directory named after it, slice 0 too (Q23)", async () => {
    const wf = new Workflow({ name: "slices" });
    const hello = new Step({
      name: "hello",
      template: new TsOPTemplate(Hello, { slices: new Slices({ input_parameter: ["filename"], output_artifact: ["foo"], create_dir: true }) }),
      parameters: { filename: ["f1.txt", "f2.txt"] },
    });
    wf.add(hello);
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");
    const [init] = wf.query_step({ name: "hello-init-artifact" });
    expect(fs.existsSync(path.join(init.dir, "foo", "0", "f1.txt"))).toBe(true);
    expect(fs.existsSync(path.join(init.dir, "foo", "1", "f2.txt"))).toBe(true);
  });

  it("test_subpath_slices", async () => {
    const wf = new Workflow({ name: "subpath-slices" });
    const prepare = new Step({ name: "prepare", template: new TsOPTemplate(Prepare) });
    wf.add(prepare);
    const hello = new Step({
      name: "hello",
      template: new TsOPTemplate(PrintFile, { slices: new Slices({ sub_path: true, input_artifact: ["foo"] }) }),
      artifacts: { foo: prepare.outputs.artifacts.foo },
    });
    wf.add(hello);
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");
    const [init] = wf.query_step({ name: "hello-init-artifact" });
    expect(read(path.join(init.dir, "outputs/parameters/dflow_slices_path"))).toBe('[{"order": 0, "foo": "foo1.txt"}, {"order": 1, "foo": "foo2.txt"}]');
    expect(read(path.join(init.dir, "outputs/parameters/.dflow/dflow_slices_path"))).toBe('{"type": "dict"}');
    const items = wf.query_step({ name: "hello" });
    expect(items.map((s) => s.inputs.parameters.dflow_foo_sub_path.value).sort()).toEqual(["foo1.txt", "foo2.txt"]);
    for (const s of items) {
      const sub = s.inputs.parameters.dflow_foo_sub_path.value as string;
      expect(fs.readlinkSync(path.join(s.dir, "inputs/artifacts/foo")).endsWith(`/${sub}`)).toBe(true);
      expect(read(path.join(s.dir, "log.txt"))).toBe(`${sub.replace(".txt", "")}\n`);
    }
  });

  /** dflow's test_group_size: 17 slices of PrepareData's list through Process with these Slices, then a step showing the squares. */
  async function groupSizeRun(slices: Slices) {
    const wf = new Workflow({ name: "slices" });
    const prepare = new Step({ name: "prepare", template: new TsOPTemplate(PrepareData) });
    wf.add(prepare);
    const process_ = new Step({
      name: "process",
      template: new TsOPTemplate(Process, { slices }),
      parameters: { data: prepare.outputs.parameters.data },
      with_param: argo_range(argo_len(prepare.outputs.parameters.data)),
    });
    wf.add(process_);
    const show = new ShellOPTemplate({ name: "show", script: "echo '{{inputs.parameters.v}}'", inputs: new Inputs({ parameters: { v: new InputParameter() } }) });
    wf.add(new Step({ name: "after", template: show, parameters: { v: process_.outputs.parameters.square } }));
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");
    return { wf, r };
  }

  it("test_group_size", async () => {
    const { wf, r } = await groupSizeRun(new Slices({ slices: "{{item}}", input_parameter: ["data"], output_artifact: ["output"], output_parameter: ["square"], pool_size: 1, group_size: 10 }));
    const items = wf.query_step({ name: "process" });
    expect(items.length).toBe(2); // 17 slices, groups of 10: 10 + 7
    const [init] = wf.query_step({ name: "process-init-artifact" });
    const merged = fs.readdirSync(path.join(init.dir, "output")).filter((f) => f !== ".dflow");
    expect(merged.sort((a, b) => parseInt(a) - parseInt(b))).toEqual(Array.from({ length: 17 }, (_, i) => `${i + 1}.txt`));
    expect(read(path.join(wf.query_step({ name: "prepare" })[0].dir, "outputs/parameters/.dflow/data"))).toBe('{"type": "typing.List"}');
    // The group's sliced output parameter is the plain list, in slice order.
    expect(wf.query_step({ name: "after" })[0].inputs.parameters.v.value).toBe(JSON.stringify(Array.from({ length: 17 }, (_, i) => (i + 1) ** 2)).replace(/,/g, ", "));
    const kids = JSON.parse(read(path.join(wd.dir, r.id, "children")));
    expect(Object.keys(kids).sort()).toEqual(["0-0", "1-0", "2-0-0", "2-0-1", "3-0"]);
    expect(read(path.join(wd.dir, r.id, kids["2-0-1"], "inputs/parameters/dflow_group_items"))).toBe("[10, 11, 12, 13, 14, 15, 16]");
  });

  it("group_size with shuffle: the groups are dflow's (its pods' random.seed(random_seed); random.shuffle(list(range(n))))", async () => {
    const { wf, r } = await groupSizeRun(new Slices({ input_parameter: ["data"], output_parameter: ["square"], group_size: 10, shuffle: true, random_seed: 5 }));
    const kids = JSON.parse(read(path.join(wd.dir, r.id, "children")));
    // python3 -c "import random; random.seed(5); x = list(range(17)); random.shuffle(x); print(x)"
    expect(read(path.join(wd.dir, r.id, kids["1-0-0"], "inputs/parameters/dflow_group_items"))).toBe("[14, 2, 4, 6, 1, 9, 5, 3, 7, 0]");
    expect(read(path.join(wd.dir, r.id, kids["1-0-1"], "inputs/parameters/dflow_group_items"))).toBe("[16, 10, 13, 15, 12, 11, 8]");
    // Shuffled or not, the sliced output is in slice order.
    expect(wf.query_step({ name: "after" })[0].inputs.parameters.v.value).toBe(JSON.stringify(Array.from({ length: 17 }, (_, i) => (i + 1) ** 2)).replace(/,/g, ", "));
  });

  it("test_makevasp", async () => {
    const vasp = new Steps({
      name: "vasp-steps",
      inputs: new Inputs({ parameters: { numb_vasp: new InputParameter({ value: 3, type: "int" }) } }),
      outputs: new Outputs({ artifacts: { outcar: new OutputArtifact(), log: new OutputArtifact() } }),
    });
    const poscar = new Step({ name: "make-poscar", template: new TsOPTemplate(MakePoscar), parameters: { numb_vasp: vasp.inputs.parameters.numb_vasp } });
    const potcar = new Step({ name: "make-potcar", template: new TsOPTemplate(MakePotcar), parameters: { numb_vasp: vasp.inputs.parameters.numb_vasp } });
    vasp.add([poscar, potcar]);
    const run = new Step({
      name: "vasp-run",
      template: new TsOPTemplate(RunVasp, { slices: new Slices({ slices: "{{item}}", input_parameter: ["task_subdir"], input_artifact: ["poscar", "potcar"], output_artifact: ["outcar", "log"] }) }),
      parameters: { task_subdir: poscar.outputs.parameters.task_subdirs },
      artifacts: { poscar: poscar.outputs.artifacts.poscar, potcar: potcar.outputs.artifacts.potcar },
      with_param: argo_range(poscar.outputs.parameters.numb_vasp),
    });
    vasp.add(run);
    const res = new Step({ name: "vasp-res", template: new TsOPTemplate(ShowResult), artifacts: { outcar: run.outputs.artifacts.outcar, log: run.outputs.artifacts.log } });
    vasp.add(res);
    // As dflow's test does: the outputs declared above get their source afterwards.
    vasp.outputs.artifacts.outcar._from = run.outputs.artifacts.outcar;
    vasp.outputs.artifacts.log._from = run.outputs.artifacts.log;
    const wf = new Workflow({ name: "vasp", steps: vasp });
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");
    const [s] = wf.query_step({ name: "vasp-run" });
    expect(s.phase).toBe("Succeeded");
    const out = (await download_artifact(s.outputs.artifacts.outcar, { path: "dl" })) as string[];
    expect(out.length).toBe(3);
    expect(read(path.join("dl", "task.0001", "OUTCAR"))).toBe("This is poscar 1\nThis is potcar 1");
    await download_artifact(s.outputs.artifacts.log, { path: "dl" });
    expect(read(path.join("dl", "task.0002", "log"))).toBe("ran task.0002");
    const kids = JSON.parse(read(path.join(wd.dir, r.id, "children")));
    expect(Object.keys(kids).sort()).toEqual(["0-0", "0-1", "1-0", "2-0-0", "2-0-1", "2-0-2", "3-0"]);
    expect(wf.query_step({ name: "vasp-res" })[0].phase).toBe("Succeeded");
  });
});
