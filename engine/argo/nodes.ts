// The Argo node view of a run (Argo's Workflow `status`): `nodes` keyed by
// node id, phase, message, progress and outputs, read back from the
// workflow's directory (node.json of each step directory, argo.json of the
// workflow). Works from any process; the Argo Server API (issue 12 scope 4)
// serves the same view.
import path from "node:path";
import { readTextOrSync } from "../store/fsx.js";
import { type ArgoNode, type WorkflowRecord, podProgress, readNodes, readWorkflowRecord } from "./store.js";

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
  const wf = readWorkflowRecord(wfdir);
  if (wf === null) return null;
  const nodes: Record<string, ArgoNode> = Object.fromEntries(readNodes(wfdir));
  // A pod's progress is recorded when it ends (a running one's, and an older record's, read from its
  // file); any other node's is the sum of the pods under it (nodes form a tree: one parent each).
  const progress = new Map<string, [number, number]>();
  const of = (n: ArgoNode): [number, number] => {
    let p = progress.get(n.id);
    if (p) return p;
    if (n.type === "Pod") p = n.progress ? (n.progress.split("/").map(Number) as [number, number]) : podProgress(path.join(wfdir, n.id), n.phase);
    else p = n.children.map((c) => (nodes[c] ? of(nodes[c]) : ([0, 0] as [number, number]))).reduce((a, x) => [a[0] + x[0], a[1] + x[1]], [0, 0]);
    progress.set(n.id, p);
    return p;
  };
  const total = [0, 0];
  for (const n of Object.values(nodes)) {
    const p = of(n);
    if (n.type === "Pod" || p[1]) n.progress = p.join("/");
    if (n.type !== "Pod") continue;
    total[0] += p[0];
    total[1] += p[1];
  }
  return {
    name: wf.name,
    phase: wf.phase,
    ...(wf.message ? { message: wf.message } : {}),
    startedAt: wf.startedAt,
    finishedAt: wf.finishedAt,
    progress: total.join("/"),
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
