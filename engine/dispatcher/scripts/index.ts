/** Job-script generation per batch type (spec §4.7, §5). */
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { BatchType, SerializedResources } from "../schema.js";
import { generateWith, type BatchScriptGenerator, type JobScriptInput, type JobScripts } from "./common.js";
import { fugaku } from "./fugaku.js";
import { jhUniScheduler } from "./jh-unischeduler.js";
import { lsf } from "./lsf.js";
import { pbs } from "./pbs.js";
import { sge } from "./sge.js";
import { shell } from "./shell.js";
import { slurm } from "./slurm.js";
import { slurmJobArray } from "./slurm-job-array.js";
import { torque } from "./torque.js";

export * from "./common.js";
export { arraySpec } from "./slurm-job-array.js";

export const GENERATORS: Partial<Record<BatchType, BatchScriptGenerator>> = {
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

export function getGenerator(batchType: BatchType): BatchScriptGenerator {
  const g = GENERATORS[batchType];
  if (!g) throw new Error(`batch_type ${batchType} is accepted by DPDispatcher but not supported by this executor`);
  return g;
}

/** Generate header, `J.sub` and `J.sub.run` of one job for the given batch type. */
export function generateJobScripts(batchType: BatchType, input: JobScriptInput): JobScripts {
  return generateWith(getGenerator(batchType), input);
}

/** Read the customized header template named by the resources, relative to the client cwd. */
export function readHeaderTemplate(resources: SerializedResources, cwd: string): string | undefined {
  const f = resources.strategy.customized_script_header_template_file;
  if (typeof f !== "string") return undefined;
  return readFileSync(isAbsolute(f) ? f : join(cwd, f), "utf8");
}
