/** Fugaku (spec §5.8): `#PJM` lines, no shebang, trailing space after the node line (quirk). */
import type { BatchScriptGenerator } from "./common.js";

export const fugaku: BatchScriptGenerator = {
  batchType: "Fugaku",
  header: ({ resources: r }) =>
    `#PJM -L "rscgrp=${r.queue_name}"\n#PJM -L "node=${r.number_node}" \n#PJM --mpi "max-proc-per-node=${r.cpu_per_node}"\n`,
};
