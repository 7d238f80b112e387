// The step tree of an open workflow, kept up to date by the `steps` events
// (patches of nodes, by id) without fetching it again.
import type { StepNode, StepPatch } from "./types";

export function indexSteps(steps: StepNode[]): Map<string, StepNode> {
  const m = new Map<string, StepNode>();
  const walk = (l: StepNode[]) => {
    for (const s of l) {
      m.set(s.id, s);
      if (s.children?.length) walk(s.children);
    }
  };
  walk(steps);
  return m;
}

/**
 * Apply patches to the nodes they name (in place; their children, order and
 * item are kept). Returns the ids of patches no node has: steps that started
 * since the tree was read (the page then reads the tree again).
 */
export function patchSteps(index: Map<string, StepNode>, patches: StepPatch[]): { changed: number; unknown: string[] } {
  let changed = 0;
  const unknown: string[] = [];
  for (const p of patches) {
    const n = index.get(p.id);
    if (!n) {
      unknown.push(p.id);
      continue;
    }
    // Whatever a patch carries beyond its type (a newer server) never moves a node in the tree.
    for (const k of Object.keys(p)) {
      if (k === "children" || k === "order" || k === "item" || k === "id") continue;
      const v = (p as Record<string, unknown>)[k];
      if (v === undefined) continue;
      // A Steps/DAG node's progress is its members' count, which the tree has and a patch has not.
      if (k === "progress" && n.type !== "Pod") continue;
      if ((n as unknown as Record<string, unknown>)[k] !== v) {
        (n as unknown as Record<string, unknown>)[k] = v;
        changed++;
      }
    }
  }
  return { changed, unknown };
}
