/**
 * Spec §8 items 7–8: the upstream script-generation fixtures (expected/{slurm,lsf,jh_unischeduler}.*)
 * and customized header templates.
 */
import { describe, expect, it } from "vitest";
import {
  buildSubmission,
  jobScripts,
  normalizeMachine,
  normalizeResources,
  normalizeTask,
  shellQuote,
  type PyObject,
} from "../../engine/dispatcher/index.js";
import { assertSameText, readJson, readPyJson, readText } from "./helpers.js";

const FIXTURES = {
  slurm: "machine_lazy_local_slurm.json",
  lsf: "machine_lazy_local_lsf.json",
  jh_unischeduler: "machine_lazy_local_jh_unischeduler.json",
} as const;

/** The objects upstream's test_*_script_generation.py build (resources via the keyword constructor). */
function build(name: keyof typeof FIXTURES, headerTemplate?: string, strategyExtra: PyObject = {}) {
  const fx = readPyJson("tests", "jsons", FIXTURES[name]) as PyObject;
  const res = { ...(fx.resources as PyObject) };
  res.strategy = { ...(res.strategy as PyObject), ...strategyExtra };
  const tasks = ["dir1/", "dir2/", "dir3/", "dir4/"].map((d) =>
    normalizeTask({ command: "cat example.txt", task_work_path: d, forward_files: ["example.txt"], backward_files: ["out.txt"], outlog: "out.txt" }),
  );
  const sub = buildSubmission(
    {
      work_base: "parent_dir/",
      machine: normalizeMachine(fx.machine),
      resources: normalizeResources(res, "resources", { unknownKeysToKwargs: true }),
      task_list: tasks,
      forward_common_files: ["graph.pb"],
      backward_common_files: [],
    },
    { cwd: "/client" },
  );
  expect(sub.jobs).toHaveLength(1);
  const job = sub.jobs[0]!;
  const scripts = jobScripts(sub, job, { headerTemplate });
  const rr = shellQuote(sub.remoteRoot!);
  const unroot = (s: string) => s.split(`readlink -f ${rr})`).join("readlink -f <REMOTE_ROOT>)");
  return { sub, job, scripts, unroot };
}

describe.each(Object.keys(FIXTURES) as (keyof typeof FIXTURES)[])("expected/%s", (name) => {
  const hashes = readJson<{ job_hash: string; task_work_paths: string[]; task_hashes: string[] }>("expected", `${name}.hashes.json`);

  it("job hash, task order and task hashes", () => {
    const { job, sub } = build(name);
    expect(job.hash).toBe(hashes.job_hash);
    expect(job.tasks.map((t) => t.task.task_work_path)).toEqual(hashes.task_work_paths);
    expect(job.tasks.map((t) => t.hash)).toEqual(hashes.task_hashes);
    expect(sub.remoteRoot).toBe("/client/test_" + (name === "jh_unischeduler" ? "jh_unischeduler" : `${name}_dir`) + "/parent_dir/");
  });

  it("header, custom flags, env, end, .sub.run and full .sub byte for byte", () => {
    const { scripts, unroot } = build(name);
    assertSameText(scripts.header, readText("expected", `${name}.header.txt`), `${name}.header.txt`);
    assertSameText(scripts.customFlags, readText("expected", `${name}.custom_flags.txt`), `${name}.custom_flags.txt`);
    assertSameText(unroot(scripts.env), readText("expected", `${name}.env.txt`), `${name}.env.txt`);
    assertSameText(scripts.end, readText("expected", `${name}.end.txt`), `${name}.end.txt`);
    assertSameText(scripts.run, readText("expected", `${name}.run.txt`), `${name}.run.txt`);
    assertSameText(unroot(scripts.sub), readText("expected", `${name}.full_sub.txt`), `${name}.full_sub.txt`);
  });
});

describe("customized header template (str.format semantics)", () => {
  const strategy = { customized_script_header_template_file: "template.slurm" };

  it("a Slurm template reproduces the generated header (upstream template-file variant)", () => {
    const tpl =
      "#!/bin/bash -l\n#SBATCH --nodes {number_node}\n#SBATCH --ntasks-per-node {cpu_per_node}\n" +
      "{kwargs[custom_gpu_line]}\n#SBATCH --partition {queue_name}";
    const { scripts, unroot } = build("slurm", tpl, strategy);
    assertSameText(scripts.header, readText("expected", "slurm.header.txt"), "templated header");
    // the rest of the script is unchanged, only the job hash differs (the strategy is hashed)
    expect(unroot(scripts.sub).startsWith(readText("expected", "slurm.header.txt") + "\n#SBATCH --nice=100\n")).toBe(true);
  });

  it("an LSF template with odd indentation is rendered verbatim", () => {
    const tpl = "#!/bin/bash -l\n  #BSUB -n {cpu_per_node}\n\t#BSUB -q {queue_name}  \n{{literal}} {strategy[if_cuda_multi_devices]}";
    const { scripts } = build("lsf", tpl, strategy);
    expect(scripts.header).toBe("#!/bin/bash -l\n  #BSUB -n 4\n\t#BSUB -q gpu  \n{literal} False");
  });

  it("examples/resources/tiger.json + template.slurm", () => {
    const res = normalizeResources(readPyJson("examples", "resources", "tiger.json"));
    const task = normalizeTask({ command: "echo hi", task_work_path: "t/" });
    const sub = buildSubmission(
      {
        work_base: "w/",
        machine: normalizeMachine({ batch_type: "Slurm", context_type: "LazyLocal", local_root: "/x" }),
        resources: res,
        task_list: [task],
        forward_common_files: [],
        backward_common_files: [],
      },
      { cwd: "/" },
    );
    const s = jobScripts(sub, sub.jobs[0]!, { headerTemplate: readText("examples", "resources", "template.slurm") });
    expect(s.header).toBe(
      "#!/bin/bash -l\n#SBATCH --nodes=1\n#SBATCH --ntasks-per-node=32\n#SBATCH --qos=tiger-vshort\n#SBATCH --time=01:02:00\n#SBATCH --mem-per-cpu=4G\n",
    );
    expect(s.sub.startsWith(s.header + "\n\n\nREMOTE_ROOT=$(readlink -f /x/w/)\n")).toBe(true);
  });

  it("requires the template content when the strategy names one", () => {
    const { sub, job } = build("slurm");
    const res = { ...job.resources, strategy: { ...job.resources.strategy, customized_script_header_template_file: "t" } };
    expect(() => jobScripts(sub, { ...job, resources: res })).toThrow(/headerTemplate/);
  });
});
