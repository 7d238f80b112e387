/** OpenPBS / PBS Pro (spec §5.3): leading empty line, `select=` line, always-present `-q`. */
import type { BatchScriptGenerator } from "./common.js";

export const pbs: BatchScriptGenerator = {
  batchType: "PBS",
  header: ({ resources: r }) => {
    const sel = `#PBS -l select=${r.number_node}:ncpus=${r.cpu_per_node}` + (r.gpu_per_node !== 0 ? `:ngpus=${r.gpu_per_node}` : "");
    return `\n#!/bin/bash -l\n${sel}\n#PBS -j oe\n#PBS -q ${r.queue_name}\n`;
  },
};
