// Where a remote step's job ran, kept in <stepdir>/cluster beside job_ids, so
// that `dflow ui` (and anyone reading the step directory) can say on which
// cluster to look for the job after the engine that sent it has gone.
// Written by the step's executor when it first submits the job; read by
// engine/api.
import path from "node:path";
import { readTextOrSync, writeAtomicSync } from "../store/fsx.js";
import type { ClusterJson } from "../api/json.js";

const FILE = "cluster";

export function recordCluster(stepDir: string, c: ClusterJson): void {
  writeAtomicSync(path.join(stepDir, FILE), `${JSON.stringify(c)}\n`);
}

export function readCluster(stepDir: string): ClusterJson | null {
  const text = readTextOrSync(path.join(stepDir, FILE), null);
  if (text === null) return null;
  try {
    const c = JSON.parse(text) as ClusterJson;
    return typeof c?.batch_type === "string" && typeof c.host === "string" ? c : null;
  } catch {
    return null;
  }
}
