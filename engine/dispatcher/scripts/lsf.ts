/** LSF (spec §5.6): `-n` = nodes × cpus, three GPU-line variants. */
import { kwarg, type BatchScriptGenerator, type JobScriptInput } from "./common.js";

/** The LSF-style header shared with JH_UniScheduler. */
export function lsfLikeHeader(prefix: string, input: JobScriptInput, gpuLine: string): string {
  const r = input.resources;
  const X = prefix;
  return (
    `#!/bin/bash -l\n#${X} -e %J.err\n#${X} -o %J.out\n#${X} -n ${r.number_node * r.cpu_per_node}\n` +
    `#${X} -R 'span[ptile=${r.cpu_per_node}]'\n#${X} -q ${r.queue_name}\n${gpuLine}`
  );
}

export const lsf: BatchScriptGenerator = {
  batchType: "LSF",
  header: (input) => {
    const r = input.resources;
    const custom = kwarg<string | null>(r, "custom_gpu_line", null);
    let gpu = "";
    if (custom) gpu = custom;
    else if (kwarg(r, "gpu_usage", false)) {
      gpu = kwarg(r, "gpu_new_syntax", false)
        ? `#BSUB -gpu 'num=${r.gpu_per_node}:mode=shared:j_exclusive=${kwarg(r, "gpu_exclusive", true) ? "yes" : "no"}'`
        : `#BSUB -R "select[ngpus >0] rusage[ngpus_excl_p=${r.gpu_per_node}]"`;
    }
    return lsfLikeHeader("BSUB", input, gpu);
  },
};
