// Argo's artifact garbage collection (docs/walk-through/artifacts.md,
// "Artifact Garbage Collection"): an output artifact whose strategy (its own
// artifactGC, else spec.artifactGC, as Argo's GetArtifactGCStrategy; none is Never) is
// OnWorkflowCompletion is deleted from the local repository when the
// workflow ends, and one whose strategy is OnWorkflowDeletion when the
// workflow is deleted (`dflow delete`, dflow server's delete). The node
// keeps the artifact's name and key, marked `deleted`, as Argo marks it.
// A copy put in a location of the artifact's own (an s3 bucket with an
// endpoint, an http URL) is left there.
import fsp from "node:fs/promises";
import { type Obj, asObj } from "./manifest.js";
import { type ArgoNode, keyFile, readNodes } from "./store.js";

export type GCStrategy = "OnWorkflowCompletion" | "OnWorkflowDeletion";

/** The strategy of an output artifact in a workflow of `spec`, when it is one that deletes (a template has none of its own in Argo). */
export function gcStrategy(artifact: Obj, spec: Obj): GCStrategy | undefined {
  for (const level of [artifact, spec]) {
    const s = asObj(level.artifactGC).strategy;
    if (s !== undefined && s !== "") return s === "OnWorkflowCompletion" || s === "OnWorkflowDeletion" ? s : undefined;
  }
  return undefined;
}

/**
 * Delete from the repository `repo` the output artifacts of `nodes` whose
 * strategy is `when`; `deleted` marks each on its node, and `changed` is
 * told of the nodes that changed.
 */
export async function collectGarbage(nodes: Iterable<ArgoNode>, repo: string, when: GCStrategy, changed: (n: ArgoNode) => void = () => {}): Promise<void> {
  for (const n of nodes) {
    let touched = false;
    for (const a of n.outputs?.artifacts ?? []) {
      if (a.artifactGC?.strategy !== when || a.deleted || !a.key) continue;
      const file = keyFile(repo, a.key);
      if (file !== null) await fsp.rm(file, { recursive: true, force: true });
      a.deleted = true;
      touched = true;
    }
    if (touched) changed(n);
  }
}

/** Before an Argo run's directory is deleted: its OnWorkflowDeletion artifacts, from the work directory's repository. */
export async function collectOnDeletion(wfdir: string, repository: string): Promise<void> {
  await collectGarbage(readNodes(wfdir).values(), repository, "OnWorkflowDeletion");
}
