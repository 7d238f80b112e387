// The suspend nodes of an Argo run, set from outside (`argo node set`, a
// resume of one node, `dflow resume --node`): picked by a field selector on
// the node fields Argo selects on, checked as Argo checks a set, and told
// through a file the waiting node reads (engine/control.ts setSuspendStep),
// so any process may set them.
import { type SuspendSet, setSuspendStep } from "../control.js";
import { type ArgoRestart, readArgoStatus, templateOfRun } from "../argo/index.js";
import { asList } from "../argo/manifest.js";
import type { ArgoNode } from "../argo/store.js";
import { ArgoApiError, asObj, parseFieldSelector } from "./argo-shapes.js";

export { ArgoApiError } from "./argo-shapes.js";

/** The fields of a node that a nodeFieldSelector may name, beside its input parameters' values. */
const NODE_FIELDS = ["displayName", "templateName", "phase", "name", "id"];

/**
 * A nodeFieldSelector as Argo's util.SelectorMatchesNode applies it: on
 * displayName, name, id, templateName, phase and inputs.parameters.<n>.value
 * (an ArgoApiError, code 3, for what does not parse or names another field).
 */
export function nodeSelector(selector: string): (n: ArgoNode) => boolean {
  const pick = parseFieldSelector(selector, "nodeFieldSelector", (k) => NODE_FIELDS.includes(k) || /^inputs\.parameters\.[^.]+\.value$/.test(k));
  return (n) =>
    pick({
      displayName: n.displayName,
      templateName: n.templateName ?? "",
      phase: n.phase,
      name: n.name,
      id: n.id,
      ...Object.fromEntries((n.inputs?.parameters ?? []).map((p) => [`inputs.parameters.${p.name}.value`, p.value ?? ""])),
    });
}

/** What `argo retry --restart-successful --node-field-selector` runs again (engine/argo/run.ts retryArgoWorkflow). */
export function argoRestart(selector: string): ArgoRestart {
  return { pick: nodeSelector(selector), selector };
}

/**
 * Set the suspend nodes of the Argo run in `dir` that wait now and that
 * `selector` picks (a field selector on displayName, name, id, templateName,
 * phase, inputs.parameters.<n>.value, as Argo's util.SelectorMatchesNode):
 * their `valueFrom.supplied` outputs, message, and a phase that ends their
 * wait; Argo's refusals for outputs they do not expect. Any process may: the
 * values travel as a file the waiting node reads (setSuspendStep). Returns
 * the nodes set.
 */
export function setSuspendNodes(dir: string, selector: string, values: SuspendSet): ArgoNode[] {
  const pick = nodeSelector(selector);
  // A Running suspend node waits (or is about to: what is set now is read when its wait begins).
  const nodes = Object.values(readArgoStatus(dir)?.nodes ?? {}).filter((n) => n.type === "Suspend" && n.phase === "Running" && pick(n));
  if (!nodes.length) throw new ArgoApiError(3, `currently, set only targets suspend nodes: no suspend nodes matching nodeFieldSelector: ${selector}`);
  for (const n of nodes) {
    const declared = asList(asObj(templateOfRun(dir, n.templateName ?? "")?.outputs).parameters);
    for (const p of Object.keys(values.outputParameters ?? {})) {
      const d = declared.find((x) => x.name === p);
      if (!d) throw new ArgoApiError(3, `node is not expecting output parameter '${p}'`);
      if (asObj(d.valueFrom).supplied === undefined) throw new ArgoApiError(3, `cannot set output parameter '${p}' because it does not use valueFrom.raw or it was already set`);
    }
  }
  for (const n of nodes) setSuspendStep(dir, n.id, values);
  return nodes;
}

