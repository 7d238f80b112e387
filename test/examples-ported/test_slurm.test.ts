// Port of dflow's examples/test_slurm.py against the local Slurm (see
// test/hpc/README.md): a sliced, keyed fan-out sent to the cluster by a
// SlurmRemoteExecutor (header + script, sbatch over SSH), then a local
// Check that reads both files. Runs when DFLOW_TEST_HPC names the cluster's
// hpc.json; skips otherwise.
//
// dflow logs in with username/password on port 31129 of its docker Slurm;
// the local cluster takes a key. dflow asserts nothing (it only submits).
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import fs from "node:fs";
import path from "node:path";
import { WorkflowStore } from "../../engine/api/workflows.js";
import { Slices, SlurmRemoteExecutor, Step, TsOPTemplate, Workflow, argo_range } from "dflow-ts";
import { CheckRead, Hello } from "../../fixtures/ops/examples/slices.js";
import { announceSkip, hpcInfo } from "../support/hpc.js";
import { read, useTempWorkdir } from "../support/workdir.js";

const hpc = hpcInfo();
if (!hpc) announceSkip();
const d = hpc ? describe : describe.skip;

d("examples/test_slurm", () => {
  useTempWorkdir();

  function run(workdir: string) {
    const slurm_remote_executor = new SlurmRemoteExecutor({
      host: hpc!.host,
      port: hpc!.port,
      username: hpc!.user,
      private_key_file: hpc!.privateKeyPath,
      known_hosts: hpc!.knownHostsPath,
      header: "#!/bin/bash\n#SBATCH -N 1\n#SBATCH -n 1\n",
      workdir,
      poll_interval: 0.5,
    });
    const wf = new Workflow({ name: "slurm-slices" });
    const hello = new Step({
      name: "hello",
      template: new TsOPTemplate(Hello, { slices: new Slices({ slices: "{{item}}", input_parameter: ["filename"], output_artifact: ["foo"] }) }),
      parameters: { filename: ["f1.txt", "f2.txt"] },
      with_param: argo_range(2),
      key: "hello-{{item}}",
      executor: slurm_remote_executor,
    });
    wf.add(hello);
    const check = new Step({ name: "check", template: new TsOPTemplate(CheckRead, { image: "python:3.8" }), artifacts: { foo: hello.outputs.artifacts.foo } });
    wf.add(check);
    return wf;
  }

  it("test_slurm", async () => {
    const wf = run(`${hpc!.homeDir}/dflow-tests/port-slurm`);
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");
    for (const key of ["hello-0", "hello-1"]) {
      const [s] = wf.query_step({ key });
      expect(s.phase).toBe("Succeeded");
      expect(fs.existsSync(`${s.dir}/job_ids`)).toBe(true);
      // Where the job ran, as the UI's step panel shows it.
      const wfdir = path.dirname(s.dir);
      const detail = new WorkflowStore(path.dirname(wfdir)).step(path.basename(wfdir), path.basename(s.dir));
      expect(detail.cluster).toMatchObject({ batch_type: "Slurm", context: "SSHContext" });
      expect(detail.cluster!.host).toMatch(/@.+:\d+$/);
      expect(detail.cluster!.remote_dir).toContain(`${hpc!.homeDir}/dflow-tests/port-slurm/${r.id}/`);
      expect(detail.job_ids).toEqual([fs.readFileSync(`${s.dir}/job_ids`, "utf8").trim()]);
    }
    expect(read(wf.query_step({ name: "check" })[0].log_path)).toMatch(/foo\nfoo\n$/);
  });

  // dflow's workdir is a template, "/data/dflow/workflows/{{workflow.name}}/{{pod.name}}",
  // rendered per step (a workdir without them is a root, and both are appended).
  it("renders {{workflow.name}}/{{pod.name}} in the workdir as dflow does", async () => {
    const root = `${hpc!.homeDir}/dflow-tests/port-slurm-tpl`;
    const wf = run(`${root}/{{workflow.name}}/{{pod.name}}`);
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");
    const [s] = wf.query_step({ key: "hello-0" });
    const ls = await execa("sh", ["-c", `${hpc!.sshCommand} ${JSON.stringify(`ls -d ${root}/*/*`)}`], { reject: false });
    expect(ls.stdout.split("\n")).toContain(`${root}/${r.id}/${s.dir.split("/").pop()}`);
  });
});
