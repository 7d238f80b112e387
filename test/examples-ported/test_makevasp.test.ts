// Port of dflow's examples/test_makevasp.py, in its attribute style (the
// Steps' outputs declared at construction, their `_from` assigned later).
import { describe, expect, it } from "vitest";
import { InputParameter, Inputs, OutputArtifact, Outputs, Slices, Step, Steps, TsOPTemplate, Workflow, argo_range, download_artifact } from "dflow-ts";
import { MakePoscar, MakePotcar, RunVasp, ShowResult } from "../../fixtures/ops/examples/test_makevasp.js";
import { read, useTempWorkdir } from "../support/workdir.js";

function run_vasp(numb_vasp = 3): Steps {
  const vasp_steps = new Steps({
    name: "vasp-steps",
    inputs: new Inputs({ parameters: { numb_vasp: new InputParameter({ value: numb_vasp, type: "int" }) } }),
    outputs: new Outputs({ artifacts: { outcar: new OutputArtifact(), log: new OutputArtifact() } }),
  });
  // dflow passes output_artifact_archive={"poscar": None}; TsOPTemplate has no
  // such option (archives are ignored in debug mode, spec §2.8.5), so it is left out.
  const make_poscar = new Step({ name: "make-poscar", template: new TsOPTemplate(MakePoscar, { image: "python:3.8" }), parameters: { numb_vasp: vasp_steps.inputs.parameters.numb_vasp }, artifacts: {} });
  const make_potcar = new Step({ name: "make-potcar", template: new TsOPTemplate(MakePotcar, { image: "python:3.8" }), parameters: { numb_vasp: vasp_steps.inputs.parameters.numb_vasp }, artifacts: {} });
  vasp_steps.add([make_poscar, make_potcar]);

  const vasp_run = new Step({
    name: "vasp-run",
    template: new TsOPTemplate(RunVasp, {
      image: "python:3.8",
      slices: new Slices({ slices: "{{item}}", input_parameter: ["task_subdir"], input_artifact: ["poscar", "potcar"], output_artifact: ["outcar", "log"] }),
    }),
    parameters: { task_subdir: make_poscar.outputs.parameters.task_subdirs },
    artifacts: { poscar: make_poscar.outputs.artifacts.poscar, potcar: make_potcar.outputs.artifacts.potcar },
    with_param: argo_range(vasp_steps.inputs.parameters.numb_vasp),
  });
  vasp_steps.add(vasp_run);

  const vasp_res = new Step({ name: "vasp-res", template: new TsOPTemplate(ShowResult, { image: "python:3.8" }), artifacts: { outcar: vasp_run.outputs.artifacts.outcar, log: vasp_run.outputs.artifacts.log } });
  vasp_steps.add(vasp_res);

  vasp_steps.outputs.artifacts.outcar._from = vasp_run.outputs.artifacts.outcar;
  vasp_steps.outputs.artifacts.log._from = vasp_run.outputs.artifacts.log;
  return vasp_steps;
}

describe("examples/test_makevasp", () => {
  useTempWorkdir();

  it("test_makevasp", async () => {
    const vasp_steps = run_vasp();
    const wf = new Workflow({ name: "vasp", steps: vasp_steps });
    const r = await wf.submit();

    expect(wf.query_status(), r.error?.message).toBe("Succeeded");
    const step = wf.query_step({ name: "vasp-run" })[0];
    expect(step.phase).toBe("Succeeded");
    await download_artifact(step.outputs.artifacts.outcar);
    await download_artifact(step.outputs.artifacts.log);

    // What dflow's closing comment says the downloads hold.
    for (const i of [0, 1, 2]) {
      const d = `task.000${i}`;
      expect(read(`${d}/OUTCAR`)).toBe(`This is poscar ${i}\nThis is potcar ${i}`);
      expect(read(`${d}/log`)).toBe(`this is log\nThis is poscar ${i}\nThis is potcar ${i}`);
    }
  });
});
