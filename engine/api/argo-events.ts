// The Kubernetes Events that Argo's controller records for a workflow, made
// from the run's status: WorkflowRunning, then WorkflowSucceeded or
// WorkflowFailed on the workflow's phase (operator.go markWorkflowPhase), and
// WorkflowNode<Phase> for each node's start and end, with its node
// annotations (operator.go recordNodePhaseEvent; node events are recorded on
// the workflow, not its pod, by default). Argo's UI shows them in its Events
// tabs, from /api/v1/stream/events/{namespace}.
import crypto from "node:crypto";
import { type Obj, asObj, k8sTime, str } from "./argo-shapes.js";

/** The Events of Workflow object `wf` (as the Argo Server API serves it), oldest first. */
export function workflowEvents(wf: Obj): Obj[] {
  const meta = asObj(wf.metadata);
  const status = asObj(wf.status);
  const name = str(meta.name);
  const namespace = str(meta.namespace);
  const involvedObject = { apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", name, namespace, uid: str(meta.uid) };
  const events: Obj[] = [];
  const event = (at: string, type: "Normal" | "Warning", reason: string, message: string, annotations?: Record<string, string>) => {
    if (!at) return;
    const time = k8sTime(at);
    // One name per event, the same at every reading: a stream sends each once.
    const id = crypto.createHash("sha1").update(`${reason}\0${message}\0${time}\0${annotations?.["workflows.argoproj.io/node-id"] ?? ""}`).digest("hex").slice(0, 16);
    events.push({
      metadata: { name: `${name}.${id}`, namespace, creationTimestamp: time, ...(annotations ? { annotations } : {}) },
      involvedObject,
      reason,
      message,
      type,
      firstTimestamp: time,
      lastTimestamp: time,
      count: 1,
      source: { component: "workflow-controller" },
      reportingComponent: "workflow-controller",
    });
  };
  const phase = str(status.phase);
  event(str(status.startedAt), "Normal", "WorkflowRunning", "Workflow Running");
  for (const node of Object.values(asObj(status.nodes)).map(asObj)) {
    const nodePhase = str(node.phase);
    if (nodePhase === "Pending") continue;
    const annotations = {
      "workflows.argoproj.io/node-type": str(node.type),
      "workflows.argoproj.io/node-name": str(node.name),
      "workflows.argoproj.io/node-id": str(node.id),
      "workflows.argoproj.io/node-start-time": String(BigInt(Date.parse(str(node.startedAt)) || 0) * 1_000_000n),
    };
    const about = (p: string) => `${p} node ${str(node.name)}${node.message ? `: ${str(node.message)}` : ""}`;
    // A node that ended is recorded Running first, as the controller records one it finds already
    // ended (a copy of it, its message too).
    event(str(node.startedAt), "Normal", "WorkflowNodeRunning", about("Running"), annotations);
    if (nodePhase !== "Running") event(str(node.finishedAt), nodePhase === "Succeeded" ? "Normal" : "Warning", `WorkflowNode${nodePhase}`, about(nodePhase), annotations);
  }
  if (phase === "Succeeded") event(str(status.finishedAt), "Normal", "WorkflowSucceeded", "Workflow completed");
  else if (phase === "Failed" || phase === "Error") event(str(status.finishedAt), "Warning", "WorkflowFailed", str(status.message));
  return events.sort((a, b) => str(a.lastTimestamp).localeCompare(str(b.lastTimestamp)));
}
