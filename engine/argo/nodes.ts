// The Argo node view of a run (Argo's Workflow `status`): `nodes` keyed by
// node id, phase, message, progress and outputs, read back from the
// workflow's directory (node.json of each step directory, argo.json of the
// workflow). Works from any process; the Argo Server API (issue 12 scope 4)
// serves the same view.
import path from "node:path";
import { readTextOrSync } from "../store/fsx.js";
import { type ArgoNode, PROGRESS_FILE, WORKFLOW_FILE, type WorkflowRecord, readNodes } from "./store.js";

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
  const nodes: Record<string, ArgoNode & { progress?: string }> = Object.fromEntries(readNodes(wfdir));
  const pods = Object.values(nodes).filter((n) => n.type === "Pod");
  const progress = new Map(pods.map((n) => [n.id, podProgress(wfdir, n)]));
  for (const n of Object.values(nodes)) {
    if (n.type === "Pod") {
      n.progress = progress.get(n.id)!.join("/");
      continue;
    }
    // Any other node: the sum of the pods under it, each counted once.
    const seen = new Set<string>();
    const todo = [...n.children];
    const sum = [0, 0];
    while (todo.length) {
      const id = todo.pop()!;
      if (seen.has(id) || !nodes[id]) continue;
      seen.add(id);
      const p = progress.get(id);
      if (p) {
        sum[0] += p[0];
        sum[1] += p[1];
      } else todo.push(...nodes[id].children);
    }
    if (sum[1]) n.progress = sum.join("/");
  }
  const total = [...progress.values()].reduce((a, p) => [a[0] + p[0], a[1] + p[1]], [0, 0]);
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

/**
 * A pod's progress as Argo keeps it: what the pod last wrote to its
 * ARGO_PROGRESS_FILE ("<current>/<total>", dflow's OPs write it), else 0/1;
 * complete (total/total) once it succeeded.
 */
function podProgress(wfdir: string, n: ArgoNode): [number, number] {
  const m = /^(\d+)\/(\d+)$/.exec(readTextOrSync(path.join(wfdir, n.id, PROGRESS_FILE), "").trim());
  const total = m && Number(m[2]) > 0 ? Number(m[2]) : 1;
  if (n.phase === "Succeeded") return [total, total];
  return [m ? Math.min(Number(m[1]), total) : 0, total];
}

/** The node's log (its main process's stdout and stderr), "" when it has none. */
export function nodeLog(wfdir: string, node: ArgoNode): string {
  return readTextOrSync(path.join(wfdir, node.id, "log.txt"), "");
}
