/** Slurm (spec §5.1; pinned snapshot behaviour, without v1.0.3's `--parsable` line). */
import { kwarg, type BatchScriptGenerator, type JobScriptInput } from "./common.js";

export function slurmHeader(input: JobScriptInput): string {
  const r = input.resources;
  const custom = kwarg<string | null>(r, "custom_gpu_line", null);
  const gpu = custom !== null ? custom : r.gpu_per_node > 0 ? `#SBATCH --gres=gpu:${r.gpu_per_node}` : "";
  const partition = r.queue_name ? `#SBATCH --partition ${r.queue_name}` : "";
  return `#!/bin/bash -l\n#SBATCH --nodes ${r.number_node}\n#SBATCH --ntasks-per-node ${r.cpu_per_node}\n${gpu}\n${partition}`;
}

export const slurm: BatchScriptGenerator = {
  batchType: "Slurm",
  header: slurmHeader,
};
