/** JH_UniScheduler (spec §5.7): LSF layout with `#JSUB`, GPU line `-gpgpu <g>` unless customised. */
import { kwarg, type BatchScriptGenerator } from "./common.js";
import { lsfLikeHeader } from "./lsf.js";

export const jhUniScheduler: BatchScriptGenerator = {
  batchType: "JH_UniScheduler",
  header: (input) => {
    const custom = kwarg<string | null>(input.resources, "custom_gpu_line", null);
    return lsfLikeHeader("JSUB", input, custom ? custom : `#JSUB -gpgpu ${input.resources.gpu_per_node}`);
  },
};
