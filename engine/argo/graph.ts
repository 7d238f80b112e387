// Argo's node graph: the `children` and `outboundNodes` of status.nodes as
// Argo's controller links them, from the run's node tree. The engine keeps a
// tree (each node under the node that started it: a Steps node over its step
// groups, a DAG over its tasks) because the engine's layout, `dflow get` and
// the UI are trees; Argo's clients draw a graph instead (the argo UI walks
// `children` from the node named after the workflow; `argo get` uses them
// with boundaryID), so the Argo Server API serves this one.
//
// As the controller makes it (workflow/controller at f016ad89):
// - steps.go executeSteps: a Steps node's child is its first step group;
//   group i+1 is a child of the outbound nodes of group i's steps (of group i
//   itself when it has none); a group's children are its steps.
// - dag.go executeDAGTask: a task with no dependencies is a child of the
//   DAG; another, of its dependencies' outbound nodes; a loop's items are
//   children of its TaskGroup.
// - container_set_template.go: likewise for a container set's containers.
// - exit_handler.go / hooks.go: a step's or task's onExit and hooks are
//   children of its node; the workflow's hooks, of the root node; the
//   workflow's onExit is nobody's child.
// - operator.go getOutboundNodes, steps.go updateOutboundNodes, dag.go
//   updateOutboundNodesForTargetTasks: a finished Steps node's outbound
//   nodes are its last group's steps', a DAG's its target tasks'.
import type { ArgoNode } from "./store.js";

export type GraphNode = Omit<ArgoNode, "dependencies" | "targets"> & { outboundNodes?: string[] };

/** The node a hook node (`<base>.onExit`, `<base>.hooks.<name>`) belongs to, by name. */
function hookBase(name: string): string | undefined {
  if (name.endsWith(".onExit")) return name.slice(0, -".onExit".length);
  const i = name.lastIndexOf(".hooks.");
  return i > 0 ? name.slice(0, i) : undefined;
}

/**
 * `nodes` (the engine's tree, keyed by id) with Argo's `children` and, on
 * finished Steps and DAG nodes, `outboundNodes`; the engine's own graph facts
 * (`dependencies`, `targets`) left out. `wfName` is the root node's name.
 */
export function argoGraph(nodes: Record<string, ArgoNode>, wfName: string): Record<string, GraphNode> {
  const byName = new Map<string, ArgoNode>();
  for (const n of Object.values(nodes)) byName.set(n.name, n);
  const hookOf = (n: ArgoNode): ArgoNode | undefined => {
    const base = hookBase(n.name);
    // The workflow's own exit handler stands alone (the argo UI links it to the root's outbound nodes).
    return base === undefined || n.name === `${wfName}.onExit` ? undefined : byName.get(base);
  };
  // The tree's children that are its own (hooks hang from the node they belong to). A pod's are the
  // containers of a container set.
  const members = (n: ArgoNode) => n.children.map((c) => nodes[c]).filter((c): c is ArgoNode => c !== undefined && hookOf(c) === undefined);

  const outboundMemo = new Map<string, string[]>();
  /** A Steps or DAG node's outboundNodes: set once it has finished, as the controller sets them. */
  const outboundNodesOf = (n: ArgoNode): string[] | undefined => {
    if (n.phase === "Running" || n.phase === "Pending") return undefined;
    if (n.type === "Steps") {
      const last = members(n)
        .filter((c) => c.type === "StepGroup")
        .at(-1);
      return last ? members(last).flatMap(outbound) : undefined;
    }
    if (n.type !== "DAG") return undefined;
    const targets = n.targets ?? leaves(n, members(n)).map((c) => c.name.slice(n.name.length + 1));
    return targets.flatMap((t) => {
      const task = byName.get(`${n.name}.${t}`);
      return task ? outbound(task) : [];
    });
  };
  /** operator.go getOutboundNodes: the nodes a node's successors hang from. */
  function outbound(n: ArgoNode): string[] {
    let out = outboundMemo.get(n.id);
    if (out) return out;
    outboundMemo.set(n.id, []); // a cycle cannot be, but must not recurse for ever
    switch (n.type) {
      case "Skipped":
      case "Suspend":
      case "HTTP":
      case "Plugin":
        out = [n.id];
        break;
      case "Pod":
      case "TaskGroup":
      case "Container": {
        // A container set's pod leads out through its last containers; a loop through its items.
        const inner = members(n);
        out = !inner.length ? [n.id] : (n.type === "Pod" ? leaves(n, inner) : inner).flatMap(outbound);
        break;
      }
      case "Retry": {
        const attempts = members(n);
        out = attempts.length ? [attempts[attempts.length - 1]!.id] : [];
        break;
      }
      default:
        out = n.memoizationStatus?.hit && (n.type === "Steps" || n.type === "DAG") ? [n.id] : (outboundNodesOf(n) ?? []).flatMap((id) => (nodes[id] ? outbound(nodes[id]) : []));
    }
    outboundMemo.set(n.id, out);
    return out;
  }
  /** The members of a node with dependencies (a DAG, a container set) that no other member depends on. */
  function leaves(n: ArgoNode, inner: ArgoNode[]): ArgoNode[] {
    const deps = n.dependencies ?? {};
    const needed = new Set(Object.values(deps).flat());
    return inner.filter((c) => !needed.has(c.name.slice(n.name.length + 1)));
  }

  const children = new Map<string, string[]>(Object.keys(nodes).map((id) => [id, []]));
  const link = (from: string, to: string) => {
    const list = children.get(from);
    if (list && !list.includes(to)) list.push(to);
  };
  /** Members with dependencies among them: roots hang from `n`, the others from their dependencies' outbound nodes. */
  const linkDependent = (n: ArgoNode, inner: ArgoNode[]) => {
    const deps = n.dependencies ?? {};
    for (const c of inner) {
      const own = deps[c.name.slice(n.name.length + 1)] ?? [];
      const from = own.map((d) => byName.get(`${n.name}.${d}`)).filter((d): d is ArgoNode => d !== undefined);
      if (!from.length) link(n.id, c.id);
      // A container hangs from its dependencies themselves (they are its pod's, not outbound of anything).
      for (const d of from) for (const o of n.type === "Pod" ? [d.id] : outbound(d)) link(o, c.id);
    }
  };
  for (const n of Object.values(nodes)) {
    const hookedTo = hookOf(n);
    if (hookedTo) link(hookedTo.id, n.id);
    const inner = members(n);
    if (n.type === "Steps") {
      const groups = inner.filter((c) => c.type === "StepGroup");
      groups.forEach((g, i) => {
        if (i === 0) return link(n.id, g.id);
        const prev = groups[i - 1]!;
        const steps = members(prev);
        if (!steps.length) link(prev.id, g.id);
        for (const s of steps) for (const o of outbound(s)) link(o, g.id);
      });
    } else if (n.type === "DAG" || n.type === "Pod") linkDependent(n, inner);
    else for (const c of inner) link(n.id, c.id);
  }

  return Object.fromEntries(
    Object.entries(nodes).map(([id, n]) => {
      const { dependencies: _d, targets: _t, ...rest } = n;
      const outboundNodes = n.type === "Steps" || n.type === "DAG" ? outboundNodesOf(n) : undefined;
      return [id, { ...rest, children: children.get(id) ?? [], ...(outboundNodes ? { outboundNodes } : {}) }];
    }),
  );
}
