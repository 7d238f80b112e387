// slurm-fanout: a TS OP sliced over n numbers with group_size 10, every group
// sent to the local Slurm over SSH with DispatcherExecutor (n/10 jobs). Reports
// the jobs submitted and the scheduler commands issued (one squeue per round
// for all jobs, not one per job). Needs the local HPC (HPC_JSON).
import fs from "node:fs";
import { DispatcherExecutor, Slices, Step, TsOPTemplate, Workflow, dispatcher_stats } from "dflow-ts";
import { Noop } from "../../fixtures/ops/bench.js";
import { runShape } from "../lib/child.js";

const GROUP = 10;
const hpc = JSON.parse(fs.readFileSync(process.env.HPC_JSON!, "utf8"));

await runShape({
  shape: "slurm-fanout",
  build(n) {
    const wf = new Workflow({ name: "bench-slurm" });
    wf.add(
      new Step({
        name: "each",
        template: new TsOPTemplate(Noop, { slices: new Slices({ input_parameter: ["i"], output_parameter: ["o"], group_size: GROUP }) }),
        parameters: { i: Array.from({ length: n }, (_, i) => i) },
        executor: new DispatcherExecutor({
          host: hpc.host,
          port: hpc.port,
          username: hpc.user,
          private_key_file: hpc.privateKeyPath,
          known_hosts: hpc.knownHostsPath,
          remote_root: `${hpc.homeDir}/dflow-bench`,
          poll_interval: 1,
        }),
      }),
    );
    return wf;
  },
  expectedPods: (n) => Math.ceil(n / GROUP),
  expectedStepDirs: (n) => Math.ceil(n / GROUP),
  verify() {
    const stats = dispatcher_stats().map((c) => c.stats);
    const commands: Record<string, number> = {};
    for (const s of stats) for (const [k, v] of Object.entries(s.commands)) commands[k] = (commands[k] ?? 0) + v;
    return {
      jobs_submitted: stats.reduce((a, s) => a + s.submitted, 0),
      scheduler_commands: Object.values(commands).reduce((a, b) => a + b, 0),
      by_command: Object.entries(commands).map(([k, v]) => `${k}=${v}`).join(" "),
    };
  },
  fields: () => ({ kind: "ts-op on Slurm", group_size: GROUP, jobs: "n/10" }),
});
