/** SGE (spec §5.5): `#$` lines, `kwargs.pe_name` / `kwargs.job_name`; nodes and GPUs ignored. */
import { kwarg, type BatchScriptGenerator } from "./common.js";

export const sge: BatchScriptGenerator = {
  batchType: "SGE",
  header: ({ resources: r }) => {
    const q = r.queue_name ? `#$ -q ${r.queue_name}` : "";
    return (
      `\n#!/bin/bash\n#$ -S /bin/bash\n#$ -cwd\n` +
      `#$ -N ${kwarg(r, "job_name", "wDPjob")}\n#$ -pe ${kwarg(r, "pe_name", "mpi")} ${r.cpu_per_node}\n${q}\n`
    );
  },
};
