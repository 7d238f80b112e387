// The Argo node view of a run (Argo's Workflow `status`): `nodes` keyed by
// node id, phase, message, progress and outputs, read back from the
// workflow's directory (node.json of each step directory, argo.json of the
// workflow). Works from any process; the Argo Server API (issue 12 scope 4)
// serves the same view.
import path from "node:path";
import { readTextOrSync } from "../store/fsx.js";
import { type ArgoNode, WORKFLOW_FILE, type WorkflowRecord, readNodes } from "./store.js";

export interface ArgoStatus {
  name: string;
  phase: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  /** "<succeeded pods>/<all pods>", as Argo's status.progress. */
  progress: string;
  nodes: Record<string, ArgoNode>;
  outputs?: WorkflowRecord["outputs"];
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Read a run's Argo status from its workflow directory; null when it is not an Argo run. */
export function readArgoStatus(wfdir: string): ArgoStatus | null {
  const rec = readTextOrSync(path.join(wfdir, WORKFLOW_FILE), null);
  if (rec === null) return null;
  const wf = JSON.parse(rec) as WorkflowRecord;
  const nodes: Record<string, ArgoNode> = Object.fromEntries(readNodes(wfdir));
  const pods = Object.values(nodes).filter((n) => n.type === "Pod");
  return {
    name: wf.name,
    phase: wf.phase,
    ...(wf.message ? { message: wf.message } : {}),
    startedAt: wf.startedAt,
    finishedAt: wf.finishedAt,
    progress: `${pods.filter((n) => n.phase === "Succeeded").length}/${pods.length}`,
    nodes,
    ...(wf.outputs ? { outputs: wf.outputs } : {}),
    labels: wf.labels,
    annotations: wf.annotations,
  };
}

/** The node's log (its main process's stdout and stderr), "" when it has none. */
export function nodeLog(wfdir: string, node: ArgoNode): string {
  return readTextOrSync(path.join(wfdir, node.id, "log.txt"), "");
}
