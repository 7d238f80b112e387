// DispatcherExecutor: a step sent to a batch scheduler instead of a local
// process. Out of the box it uses DPDispatcher's Shell batch with a
// LocalContext (a background job in its own job directory on this machine),
// so it runs anywhere; with HPC_JSON naming test/hpc's hpc.json (or your own
// host/username/key below) the same steps go to Slurm over SSH.
//   node dist/src/cli.js run examples/hpc-dispatcher.ts
//   HPC_JSON=$PWD/.hpc/hpc.json node dist/src/cli.js run examples/hpc-dispatcher.ts
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DispatcherExecutor, OutputParameter, Outputs, ShellOPTemplate, Slices, Step, TsOPTemplate, Workflow } from "dflow-ts";
import { Process } from "../fixtures/ops/slices.js";

const hpc = process.env.HPC_JSON ? JSON.parse(fs.readFileSync(process.env.HPC_JSON, "utf8")) : null;
const options = hpc
  ? {
      host: hpc.host,
      port: hpc.port,
      username: hpc.user,
      private_key_file: hpc.privateKeyPath,
      known_hosts: hpc.knownHostsPath,
      remote_root: `${hpc.homeDir}/dflow-examples`,
      resources_dict: { custom_flags: ["#SBATCH --time=5"] },
      poll_interval: 1,
    }
  : {
      machine_dict: { batch_type: "Shell", context_type: "LocalContext", remote_root: path.join(os.tmpdir(), `dflow-ts-example-jobs-${os.userInfo().uid}`) }, // job directories, outside the current one
      poll_interval: 0.5,
    };
const cluster = new DispatcherExecutor(options);

const wf = new Workflow({ name: "hpc-dispatcher", context: cluster }); // every step goes to the cluster
wf.add(
  new Step({
    name: "hello",
    template: new ShellOPTemplate({
      name: "hello",
      script: 'echo "running in $(pwd)"; echo "hello from ${SLURM_JOB_ID:-a shell job}" > /tmp/msg',
      outputs: new Outputs({ parameters: { msg: new OutputParameter({ value_from_path: "/tmp/msg" }) } }),
    }),
  }),
);
// 12 items, 4 per job: 3 jobs.
wf.add(
  new Step({
    name: "squares",
    template: new TsOPTemplate(Process, { slices: new Slices({ input_parameter: ["data"], output_artifact: ["output"], output_parameter: ["square"], group_size: 4 }) }),
    parameters: { data: Array.from({ length: 12 }, (_, i) => i) },
  }),
);
// The same 12 items as one step (merge_sliced_step): its slices are the tasks of one submission, 4 to a job.
wf.add(
  new Step({
    name: "squares-merged",
    template: new TsOPTemplate(Process, { slices: new Slices({ input_parameter: ["data"], output_artifact: ["output"], output_parameter: ["square"] }) }),
    parameters: { data: Array.from({ length: 12 }, (_, i) => i) },
    executor: new DispatcherExecutor({ ...options, merge_sliced_step: true, resources_dict: { ...options.resources_dict, group_size: 4 } }),
  }),
);
const { id, status } = await wf.submit();
const [hello] = wf.query_step({ name: "hello" });
const [merged] = wf.query_step({ name: "squares-merged" });
console.log(`workflow ${id}: ${status}; hello says ${JSON.stringify(String(hello?.outputs.parameters.msg?.value ?? "").trim())}; ${wf.query_step({ name: "squares" }).length} jobs for 12 items; merged into one step: ${JSON.stringify(merged?.outputs.parameters.square?.value)}`);
