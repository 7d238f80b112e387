/**
 * SlurmJobArray (spec §5.2, §4.7.4): one Slurm array per job, `kwargs.slurm_job_size` tasks per
 * array element, a `case $SLURM_ARRAY_TASK_ID` run file and a footer without flag check / job tag.
 */
import { genTaskBlock, kwarg, type BatchScriptGenerator, type JobScriptInput, type RunCounters } from "./common.js";
import { slurmHeader } from "./slurm.js";

function jobSize(input: JobScriptInput): number {
  const s = kwarg<number>(input.resources, "slurm_job_size", 1);
  if (!Number.isInteger(s) || s < 1) throw new Error(`resources.kwargs.slurm_job_size must be an int >= 1, got ${String(s)}`);
  return s;
}

/** The `--array=` value: `0-<n-1>` on first submission, else the unfinished indices. */
export function arraySpec(input: JobScriptInput): string {
  if ((input.failCount ?? 0) > 0) {
    if (!input.unfinishedArrayIndices) throw new Error("SlurmJobArray resubmission needs unfinishedArrayIndices");
    return [...input.unfinishedArrayIndices].sort((a, b) => a - b).join(",");
  }
  return `0-${Math.ceil(input.tasks.length / jobSize(input)) - 1}`;
}

export const slurmJobArray: BatchScriptGenerator = {
  batchType: "SlurmJobArray",
  header: (input) => `${slurmHeader(input)}\n#SBATCH --array=${arraySpec(input)}`,
  // the array line is appended to a customized template too (it is added after the base header)
  templatedHeader: (input, rendered) => `${rendered}\n#SBATCH --array=${arraySpec(input)}`,
  runFile(input: JobScriptInput, c: RunCounters): string {
    const size = jobSize(input);
    let out = "case $SLURM_ARRAY_TASK_ID in\n";
    input.tasks.forEach((t, i) => {
      if (i % size === 0) out += `${Math.floor(i / size)})\n`;
      out += genTaskBlock(input, t, c) + "\n";
      if (i % size === size - 1 || i === input.tasks.length - 1) out += ";;\n";
    });
    return out + "*)\nexit 1\n;;\nesac\n";
  },
  end: (input) => `\nwait\n\n${input.resources.append_script.join("\n")}\n`,
};

