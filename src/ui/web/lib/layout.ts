// The layout of a graph model with @dagrejs/dagre (a layered layout, boxes as
// dagre's compound nodes). Pure: positions only, no DOM. Node sizes are fixed
// per kind, so a change of phase or counts never needs a new layout: only a
// change of the model's signature (nodes, boxes, edges) does.
import dagre from "@dagrejs/dagre";
import type { GKind, GNode, GraphModel } from "./graph";

export interface Point {
  x: number;
  y: number;
}

/** A rectangle by its top-left corner. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LaidEdge {
  from: string;
  to: string;
  points: Point[];
  invisible: boolean;
}

export interface Layout {
  nodes: Map<string, Rect>;
  edges: LaidEdge[];
  width: number;
  height: number;
  signature: string;
}

export const NODE_W = 188;

export function nodeSize(kind: GKind): { width: number; height: number } {
  switch (kind) {
    case "junction":
      return { width: 10, height: 10 };
    case "fanout":
      return { width: NODE_W + 12, height: 52 };
    case "more":
      return { width: 120, height: 32 };
    default:
      return { width: NODE_W, height: 42 };
  }
}

export interface LayoutOptions {
  rankdir?: "TB" | "LR";
}

export function layoutGraph(model: GraphModel, opts: LayoutOptions = {}): Layout {
  const g = new dagre.graphlib.Graph({ compound: true, multigraph: false });
  g.setGraph({ rankdir: opts.rankdir ?? "TB", nodesep: 24, ranksep: 52, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  const byId = new Map<string, GNode>();
  for (const n of model.nodes) {
    byId.set(n.id, n);
    // Boxes get their size from their members.
    g.setNode(n.id, n.cluster ? {} : { ...nodeSize(n.kind) });
  }
  for (const n of model.nodes) if (n.parent && byId.has(n.parent)) g.setParent(n.id, n.parent);
  for (const e of model.edges) {
    if (!byId.has(e.from) || !byId.has(e.to) || e.from === e.to) continue;
    if (byId.get(e.from)!.cluster || byId.get(e.to)!.cluster) continue; // dagre draws no edges to boxes
    // Several model edges may join the same two nodes (a junction): one is enough.
    if (!g.hasEdge(e.from, e.to)) g.setEdge(e.from, e.to, { invisible: !!e.invisible, minlen: e.minlen ?? 1 });
    else if (!e.invisible) (g.edge(e.from, e.to) as { invisible?: boolean }).invisible = false;
  }
  // Order hints between nodes dagre knows (of one box, so of one layer subgraph).
  const parentOf = (id: string) => byId.get(id)?.parent ?? null;
  const constraints = model.order.filter((c) => byId.has(c.left) && byId.has(c.right) && parentOf(c.left) === parentOf(c.right) && !byId.get(c.left)!.cluster && !byId.get(c.right)!.cluster);
  dagre.layout(g, { constraints });
  const nodes = new Map<string, Rect>();
  let width = 0;
  let height = 0;
  for (const n of model.nodes) {
    const l = g.node(n.id) as { x?: number; y?: number; width?: number; height?: number } | undefined;
    if (!l || l.x === undefined || l.y === undefined) continue;
    const w = l.width ?? 0;
    const h = l.height ?? 0;
    const r = { x: l.x - w / 2, y: l.y - h / 2, width: w, height: h };
    nodes.set(n.id, r);
    width = Math.max(width, r.x + w);
    height = Math.max(height, r.y + h);
  }
  // A grid's rows in item order: dagre orders a layer to shorten edges, and no drawn edge touches a grid's items.
  for (const row of model.gridRows) {
    const rects = row.map((id) => nodes.get(id));
    if (rects.some((r) => !r)) continue;
    const centers = rects.map((r) => r!.x + r!.width / 2).sort((a, b) => a - b);
    rects.forEach((r, i) => (r!.x = centers[i]! - r!.width / 2));
  }
  const edges: LaidEdge[] = [];
  for (const e of g.edges()) {
    const l = g.edge(e) as { points?: Point[]; invisible?: boolean } | undefined;
    edges.push({ from: e.v, to: e.w, points: l?.points ?? [], invisible: !!l?.invisible });
  }
  const gl = g.graph() as { width?: number; height?: number };
  return { nodes, edges, width: Math.max(width + 20, gl.width ?? 0), height: Math.max(height + 20, gl.height ?? 0), signature: model.signature };
}

/** An SVG path through an edge's points: straight ends, rounded bends. */
export function edgePath(points: Point[]): string {
  if (points.length === 0) return "";
  const f = (p: Point) => `${Math.round(p.x * 10) / 10},${Math.round(p.y * 10) / 10}`;
  if (points.length < 3) return `M${points.map(f).join(" L")}`;
  let d = `M${f(points[0]!)}`;
  for (let i = 1; i < points.length - 1; i++) {
    const p = points[i]!;
    const n = points[i + 1]!;
    const mid = i === points.length - 2 ? n : { x: (p.x + n.x) / 2, y: (p.y + n.y) / 2 };
    d += ` Q${f(p)} ${f(mid)}`;
  }
  return d;
}
