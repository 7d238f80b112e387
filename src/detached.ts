// `dflow run --detach`: the run's own output (what the engine prints) is
// written to a temporary log until the workflow has a directory, then moves
// into <wfdir>/log.txt, as dflow keeps it.
import fs from "node:fs";
import path from "node:path";

/** Move the detached run's log (DFLOW_DETACHED_LOG) into the workflow's directory, once. */
export function takeDetachedLog(wfdir: string): void {
  const detachedLog = process.env.DFLOW_DETACHED_LOG;
  if (!detachedLog || !fs.existsSync(detachedLog)) return;
  fs.renameSync(detachedLog, path.join(wfdir, "log.txt"));
  delete process.env.DFLOW_DETACHED_LOG;
}
