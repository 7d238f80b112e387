/** Torque (spec §5.4): PBS layout with `nodes=..:ppn=..:gpus=..`. */
import type { BatchScriptGenerator } from "./common.js";

export const torque: BatchScriptGenerator = {
  batchType: "Torque",
  header: ({ resources: r }) => {
    const sel = `#PBS -l nodes=${r.number_node}:ppn=${r.cpu_per_node}` + (r.gpu_per_node !== 0 ? `:gpus=${r.gpu_per_node}` : "");
    return `\n#!/bin/bash -l\n${sel}\n#PBS -j oe\n#PBS -q ${r.queue_name}\n`;
  },
};
