/**
 * Pure core of a DPDispatcher-compatible HPC executor: input schema and normalisation, hashes and
 * job grouping, and byte-identical job scripts. See the DPDispatcher compatibility spec.
 */
export * from "./pyjson.js";
export * from "./schema.js";
export * from "./paths.js";
export * from "./random.js";
export * from "./pyformat.js";
export * from "./hash.js";
export * from "./scripts/index.js";

import type { BuiltJob, BuiltSubmission } from "./hash.js";
import { generateJobScripts, type JobScripts, type RunCounters } from "./scripts/index.js";

export interface JobScriptOptions {
  counters?: RunCounters;
  failCount?: number;
  unfinishedArrayIndices?: number[];
  headerTemplate?: string;
}

/** Scripts of one job of a built submission (the submission must have a machine). */
export function jobScripts(sub: BuiltSubmission, job: BuiltJob, opts: JobScriptOptions = {}): JobScripts {
  if (!sub.machine || sub.remoteRoot === null) throw new Error("the submission has no machine bound");
  return generateJobScripts(sub.machine.serialized.batch_type, {
    jobHash: job.hash,
    remoteRoot: sub.remoteRoot,
    tasks: job.tasks,
    resources: job.resources,
    ...opts,
  });
}
