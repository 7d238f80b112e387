/** Batch-system adapters: command lines and answer parsing per `batch_type` (spec §4.8–§4.10). */
import type { BatchType } from "../schema.js";
import { fugaku } from "./fugaku.js";
import { jhUniScheduler, lsf } from "./lsf.js";
import { pbs, torque } from "./pbs.js";
import { sge } from "./sge.js";
import { shell } from "./shell.js";
import { slurm, slurmJobArray } from "./slurm.js";
import type { BatchSystem } from "./types.js";

export * from "./types.js";
export { fugaku, FUGAKU_STATES } from "./fugaku.js";
export { jhUniScheduler, JH_STATES, lsf, LSF_STATES } from "./lsf.js";
export { pbs, PBS_STATES, torque } from "./pbs.js";
export { sge, sgeClass, SGE_STATES } from "./sge.js";
export { shell } from "./shell.js";
export { slurm, slurmJobArray, SLURM_STATES } from "./slurm.js";
export type { StatusClass } from "./common.js";

export const BATCH_SYSTEMS: Partial<Record<BatchType, BatchSystem>> = {
  Shell: shell,
  Slurm: slurm,
  SlurmJobArray: slurmJobArray,
  PBS: pbs,
  Torque: torque,
  LSF: lsf,
  SGE: sge,
  JH_UniScheduler: jhUniScheduler,
  Fugaku: fugaku,
};

export function batchSystem(batchType: BatchType): BatchSystem {
  const s = BATCH_SYSTEMS[batchType];
  if (!s) {
    const ok = Object.keys(BATCH_SYSTEMS).join(", ");
    throw new Error(`batch_type ${JSON.stringify(batchType)} has no submit/poll/kill lifecycle in this executor (supported: ${ok})`);
  }
  return s;
}
