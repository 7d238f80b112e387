// The graph the page draws, built from `GET /api/workflows/<id>` (the step tree
// and the Steps/DAG shape the engine recorded): what is a node, what is a box
// around nodes, which edges join them. Pure (no DOM, no layout): the layout is
// lib/layout.ts, the drawing components/Graph.tsx.
//
// - A Steps template is drawn as Argo draws it: its groups one below the other,
//   an edge from each step of a group to each step of the next (through one
//   junction point when that would be too many edges).
// - A DAG: an edge from each dependency to its task.
// - A nested Steps/DAG step is a box around its own graph (collapsible); edges
//   into a box go to its first steps, edges out of it leave from its last.
// - A fan-out (with_param, with_sequence, slices) is ONE node with its counts
//   per phase ("square ×1000: 990 ✔ 10 ✖"), expandable to its items (the
//   first `cap` of them, then a "+N more" node). A 10,000-step fan-out is then
//   one node, and the layout never sees 10,000 nodes.
// - Without a recorded graph (an older engine): Steps children grouped by their
//   order keys ("i-j": group i), DAG children without edges.
// - Steps of the graph that have not started have no step directory yet: they
//   are drawn as planned nodes ("waiting", or "not run" once the workflow ended).
import { aggregatePhase, countPhases, countsText, formatDuration, type PhaseCounts } from "./format";
import type { GraphStep, GraphTemplate, Phase, StepNode, WorkflowGraph } from "./types";

export type GKind = "step" | "planned" | "fanout" | "box" | "more" | "junction";

export interface GNode {
  /** Stable across refreshes: the path of step names ("/double/twice", "/squares#3"). */
  id: string;
  kind: GKind;
  label: string;
  /** The second line: template, counts, progress. */
  detail: string;
  /** null: not started. */
  phase: Phase | null;
  /** Pod, Steps or DAG. */
  type: string;
  /** The box this node is drawn in, or null. */
  parent: string | null;
  /** Drawn as a box around its members (an expanded Steps/DAG step or fan-out). */
  cluster: boolean;
  /** Whether it can be expanded ("closed") or collapsed ("open"). */
  toggle: "open" | "closed" | null;
  /** The step it stands for (a step, a box), or null (fan-out group, planned, more, junction). */
  step: StepNode | null;
  /** A fan-out's items (all of them, shown or not). */
  items: StepNode[] | null;
  counts: PhaseCounts | null;
  /** "more" nodes: how many items are not shown. */
  hidden: number;
  /** How deep in boxes (0: the workflow's own steps). */
  depth: number;
}

export interface GEdge {
  from: string;
  to: string;
  /** Only for the layout (the rows of an expanded fan-out's grid): not drawn. */
  invisible?: boolean;
  /** Ranks it spans at least (1 by default). */
  minlen?: number;
}

export interface GraphModel {
  nodes: GNode[];
  edges: GEdge[];
  /** Step id -> the node that shows it (its group node when a fan-out is collapsed). */
  locate: Map<string, string>;
  /** Identifies what the layout depends on (nodes, boxes, edges): equal signatures, equal layouts. */
  signature: string;
  /** Every step of the tree (depth first). */
  stepCount: number;
  /** Left-to-right hints for the layout: members of a Steps group, items of a fan-out, in their order. */
  order: Array<{ left: string; right: string }>;
  /** The rows of expanded fan-outs drawn as grids, each in item order (joined by no drawn edge: the layout may reorder them). */
  gridRows: string[][];
}

export interface GraphOptions {
  /** Expanded (true) or collapsed (false) by the user, by node id; otherwise the default applies. */
  open?: Record<string, boolean>;
  /** How many items of a fan-out to show once expanded, by node id (default: `itemCap`). */
  caps?: Record<string, number>;
  itemCap?: number;
  /** The workflow ended: steps that never started are "not run" rather than "waiting". */
  finished?: boolean;
  /** Past this product of group sizes, two Steps groups are joined through one junction point. */
  junctionAbove?: number;
  /** Boxes this deep or deeper start collapsed. */
  openDepth?: number;
  /** An expanded fan-out of more items than this is drawn as a grid, entered and left through one point each. */
  gridAbove?: number;
}

export const DEFAULT_ITEM_CAP = 200;
const JUNCTION_ABOVE = 48;
const OPEN_DEPTH = 4;
const GRID_ABOVE = 8;

/** Columns of an expanded fan-out's grid: about as wide as tall on screen (a node is ~2.2 times wider than a rank is tall). */
export function gridColumns(n: number): number {
  return Math.min(n, Math.max(4, Math.min(16, Math.ceil(Math.sqrt(n * 0.6)))));
}

interface Unit {
  entries: string[];
  exits: string[];
}

/** The first part of an order key ("2-0-1" -> 2), or null ("?"). */
function groupOf(order: string): number | null {
  const m = /^(\d+)/.exec(order);
  return m ? Number(m[1]) : null;
}

function itemLabel(n: StepNode, name: string, i: number): string {
  return n.key ?? `${name}[${n.item ?? i}]`;
}

/** A step node's second line: its phase, then its own progress or its duration. */
function stepDetail(n: StepNode): string {
  const extra = n.progress ? n.progress : n.finished && n.duration !== null && n.duration !== undefined ? formatDuration(n.duration) : "";
  return extra ? `${n.phase} · ${extra}` : n.phase;
}

function isFanout(nodes: StepNode[]): boolean {
  return nodes.length > 1 || nodes.some((n) => n.item !== null && n.item !== undefined);
}

class Builder {
  readonly nodes: GNode[] = [];
  readonly edges: GEdge[] = [];
  readonly locate = new Map<string, string>();
  readonly order: Array<{ left: string; right: string }> = [];
  readonly gridRows: string[][] = [];
  private readonly ids = new Set<string>();
  stepCount = 0;

  constructor(
    private readonly graph: WorkflowGraph | null,
    private readonly o: Required<Pick<GraphOptions, "itemCap" | "junctionAbove" | "openDepth" | "gridAbove">> & GraphOptions,
  ) {}

  private uniqueId(id: string): string {
    let u = id;
    for (let i = 2; this.ids.has(u); i++) u = `${id}~${i}`;
    this.ids.add(u);
    return u;
  }

  private add(n: Omit<GNode, "cluster" | "toggle" | "step" | "items" | "counts" | "hidden" | "detail"> & Partial<GNode>): GNode {
    const node: GNode = { cluster: false, toggle: null, step: null, items: null, counts: null, hidden: 0, detail: "", ...n };
    this.nodes.push(node);
    if (node.step) this.locate.set(node.step.id, node.id);
    return node;
  }

  private isOpen(id: string, byDefault: boolean): boolean {
    const v = this.o.open?.[id];
    return v === undefined ? byDefault : v;
  }

  /** Every step below `n` (itself included) counts, and points at `nodeId` unless drawn itself. */
  private hideUnder(n: StepNode, nodeId: string): void {
    this.stepCount++;
    this.locate.set(n.id, nodeId);
    for (const c of n.children ?? []) this.hideUnder(c, nodeId);
  }

  /** The children of a Steps/DAG step (or of the workflow), drawn inside `parent`. */
  template(children: StepNode[], tmplName: string | null, kind: string, parent: string | null, prefix: string, depth: number): Unit {
    const tmpl: GraphTemplate | null = (tmplName && this.graph?.templates[tmplName]) || null;
    const byName = new Map<string, StepNode[]>();
    for (const c of children) {
      const l = byName.get(c.name);
      if (l) l.push(c);
      else byName.set(c.name, [c]);
    }
    const used = new Set<StepNode>();
    const take = (gs: GraphStep): StepNode[] => {
      const all = (byName.get(gs.name) ?? []).filter((c) => !used.has(c));
      const got = gs.fanout ? all : all.slice(0, 1);
      for (const c of got) used.add(c);
      return got;
    };
    const ctx = { parent, prefix, depth };

    if (tmpl && tmpl.type === "Steps") {
      const groups: Unit[][] = tmpl.groups.map((g) => g.map((gs) => this.unit(gs.name, gs.type, gs.template, take(gs), gs.fanout, ctx)));
      // Children the recorded graph does not name (helpers of an older engine, renamed steps): by their order keys.
      const rest = children.filter((c) => !used.has(c));
      for (const [gi, members] of this.byOrderGroups(rest)) {
        const units = this.unnamedUnits(members, ctx);
        if (gi !== null) {
          while (groups.length <= gi) groups.push([]);
          groups[gi]!.push(...units);
        }
      }
      return this.chain(groups.filter((g) => g.length > 0), prefix, parent, depth);
    }

    if (tmpl && tmpl.type === "DAG") {
      const units = new Map<string, Unit>();
      for (const t of tmpl.tasks) units.set(t.name, this.unit(t.name, t.type, t.template, take(t), t.fanout, ctx));
      const depended = new Set<string>();
      for (const t of tmpl.tasks) {
        const to = units.get(t.name)!;
        for (const d of t.dependencies) {
          const from = units.get(d);
          if (!from) continue;
          depended.add(d);
          this.connect(from.exits, to.entries, `${prefix}/${d}>${t.name}`, parent, depth);
        }
      }
      const rest = children.filter((c) => !used.has(c));
      // Children the graph does not name: drawn, without edges.
      this.unnamedUnits(rest, ctx);
      const entries = tmpl.tasks.filter((t) => !t.dependencies.some((d) => units.has(d))).flatMap((t) => units.get(t.name)!.entries);
      const exits = tmpl.tasks.filter((t) => !depended.has(t.name)).flatMap((t) => units.get(t.name)!.exits);
      return { entries, exits };
    }

    // No recorded graph.
    if (kind === "DAG") {
      const units = this.unnamedUnits(children, ctx);
      return { entries: units.flatMap((u) => u.entries), exits: units.flatMap((u) => u.exits) };
    }
    const groups: Unit[][] = [];
    for (const [gi, members] of this.byOrderGroups(children)) {
      const units = this.unnamedUnits(members, ctx);
      if (gi !== null) groups.push(units);
    }
    return this.chain(groups, prefix, parent, depth);
  }

  /** Children grouped by the first part of their order keys, in order; "?" (orphans) last, as null. */
  private byOrderGroups(children: StepNode[]): Array<[number | null, StepNode[]]> {
    const m = new Map<number | null, StepNode[]>();
    for (const c of children) {
      const g = groupOf(c.order);
      const l = m.get(g);
      if (l) l.push(c);
      else m.set(g, [c]);
    }
    return [...m.entries()].sort((a, b) => (a[0] ?? Infinity) - (b[0] ?? Infinity));
  }

  /** Units of children no graph step names: one per name (items of a fan-out together). */
  private unnamedUnits(children: StepNode[], ctx: { parent: string | null; prefix: string; depth: number }): Unit[] {
    const byName = new Map<string, StepNode[]>();
    for (const c of children) {
      const l = byName.get(c.name);
      if (l) l.push(c);
      else byName.set(c.name, [c]);
    }
    const out: Unit[] = [];
    for (const [name, nodes] of byName) {
      const fan = nodes.filter((n) => n.item !== null && n.item !== undefined);
      const single = nodes.filter((n) => n.item === null || n.item === undefined);
      if (fan.length) out.push(this.unit(name, fan[0]!.type, null, fan, true, ctx));
      for (const s of single) out.push(this.unit(name, s.type, null, [s], false, ctx));
    }
    return out;
  }

  /** Steps groups one after another: every exit of a group to every entry of the next. */
  private chain(groups: Unit[][], prefix: string, parent: string | null, depth: number): Unit {
    for (const g of groups) this.hint(g);
    for (let i = 0; i + 1 < groups.length; i++) {
      const from = groups[i]!.flatMap((u) => u.exits);
      const to = groups[i + 1]!.flatMap((u) => u.entries);
      this.connect(from, to, `${prefix}/g${i}>`, parent, depth);
    }
    return {
      entries: groups.length ? groups[0]!.flatMap((u) => u.entries) : [],
      exits: groups.length ? groups[groups.length - 1]!.flatMap((u) => u.exits) : [],
    };
  }

  /** Keep units left to right in the order given (by their first entries). */
  private hint(units: Unit[]): void {
    for (let i = 0; i + 1 < units.length; i++) {
      const l = units[i]!.entries[0];
      const r = units[i + 1]!.entries[0];
      if (l && r && l !== r) this.order.push({ left: l, right: r });
    }
  }

  private connect(from: string[], to: string[], junctionId: string, parent: string | null, depth: number): void {
    if (from.length * to.length > this.o.junctionAbove && from.length > 1 && to.length > 1) {
      const j = this.add({ id: this.uniqueId(junctionId), kind: "junction", label: "", phase: null, type: "", parent, depth });
      for (const f of from) this.edges.push({ from: f, to: j.id });
      for (const t of to) this.edges.push({ from: j.id, to: t });
      return;
    }
    for (const f of from) for (const t of to) this.edges.push({ from: f, to: t });
  }

  /** One step of a template: a node, a box, a fan-out group, or a planned node when nothing ran yet. */
  unit(name: string, type: string, tmplName: string | null, nodes: StepNode[], fanout: boolean, ctx: { parent: string | null; prefix: string; depth: number }): Unit {
    const { parent, prefix, depth } = ctx;
    const id = this.uniqueId(`${prefix}/${name}`);
    if (nodes.length === 0) {
      const detail = this.o.finished ? "not run" : "waiting";
      this.add({ id, kind: "planned", label: fanout ? `${name} ×?` : name, detail: type === "Pod" ? detail : `${type} · ${detail}`, phase: null, type, parent, depth });
      return { entries: [id], exits: [id] };
    }
    if (fanout || isFanout(nodes)) return this.fanout(id, name, type, tmplName, nodes, ctx);
    return this.single(id, nodes[0]!, name, tmplName, ctx, true);
  }

  /** A step: a node, or a Steps/DAG box (expanded unless deep or collapsed by the user). */
  private single(id: string, n: StepNode, label: string, tmplName: string | null, ctx: { parent: string | null; prefix: string; depth: number }, openByDefault: boolean): Unit {
    const { parent, depth } = ctx;
    if (n.type === "Pod" || !n.type) {
      this.stepCount++;
      this.add({ id, kind: "step", label, detail: stepDetail(n), phase: n.phase, type: n.type, parent, depth, step: n });
      return { entries: [id], exits: [id] };
    }
    const hasChildren = (n.children?.length ?? 0) > 0;
    const open = hasChildren && this.isOpen(id, openByDefault && depth + 1 < this.o.openDepth);
    const box = this.add({ id, kind: "box", label, detail: `${n.type}${n.progress ? ` · ${n.progress}` : ""}`, phase: n.phase, type: n.type, parent, depth, step: n, toggle: hasChildren ? (open ? "open" : "closed") : null });
    if (!open) {
      this.hideUnder(n, id);
      return { entries: [id], exits: [id] };
    }
    this.stepCount++;
    box.cluster = true;
    const before = this.nodes.length;
    const inner = this.template(n.children, tmplName, n.type, id, id, depth + 1);
    if (this.nodes.length === before) {
      // Nothing drawn inside after all: a plain node.
      box.cluster = false;
      return { entries: [id], exits: [id] };
    }
    if (!inner.entries.length || !inner.exits.length) {
      // Only steps without known edges inside: edges meet all of them (never the box itself).
      const leaves = this.nodes.slice(before).filter((x) => x.parent === id && !x.cluster && x.kind !== "junction").map((x) => x.id);
      return { entries: inner.entries.length ? inner.entries : leaves, exits: inner.exits.length ? inner.exits : leaves };
    }
    return inner;
  }

  /** A fan-out: one group node, or (expanded) a box of its first `cap` items and a "+N more" node. */
  private fanout(id: string, name: string, type: string, tmplName: string | null, nodes: StepNode[], ctx: { parent: string | null; prefix: string; depth: number }): Unit {
    const { parent, depth } = ctx;
    const items = [...nodes].sort((a, b) => (a.item ?? 0) - (b.item ?? 0));
    const counts = countPhases(items.map((n) => n.phase));
    const open = this.isOpen(id, false);
    const label = `${name} ×${items.length}`;
    const group = this.add({ id, kind: "fanout", label, detail: countsText(counts), phase: aggregatePhase(counts), type, parent, depth, items, counts, toggle: open ? "open" : "closed" });
    if (!open) {
      for (const it of items) this.hideUnder(it, id);
      return { entries: [id], exits: [id] };
    }
    group.cluster = true;
    const cap = Math.max(1, this.o.caps?.[id] ?? this.o.itemCap);
    const shown = items.slice(0, cap);
    const inner = { parent: id, prefix: id, depth: depth + 1 };
    const units: Unit[] = shown.map((it, i) => this.single(this.uniqueId(`${id}#${it.item ?? i}`), it, itemLabel(it, name, i), tmplName, inner, false));
    for (const it of items.slice(cap)) this.hideUnder(it, id);
    if (items.length > cap) {
      const more = this.add({ id: this.uniqueId(`${id}#more`), kind: "more", label: `+${items.length - cap} more`, detail: "show more", phase: null, type, parent: id, depth: depth + 1, hidden: items.length - cap });
      units.push({ entries: [more.id], exits: [more.id] });
    }
    if (units.length <= this.o.gridAbove) {
      // A few items: side by side, each joined to what comes before and after.
      this.hint(units);
      return { entries: units.flatMap((u) => u.entries), exits: units.flatMap((u) => u.exits) };
    }
    // Many: a grid of rows (invisible edges hold the rows apart), entered at one point above it and left at one below.
    const cols = gridColumns(units.length);
    const top = this.add({ id: this.uniqueId(`${id}#in`), kind: "junction", label: "", phase: null, type: "", parent: id, depth: depth + 1 });
    const bottom = this.add({ id: this.uniqueId(`${id}#out`), kind: "junction", label: "", phase: null, type: "", parent: id, depth: depth + 1 });
    units.forEach((u, i) => {
      const above = i < cols ? [top.id] : units[i - cols]!.exits;
      for (const f of above) for (const t of u.entries) this.edges.push({ from: f, to: t, invisible: true });
      // The last of each column reaches the bottom point through as many ranks as rows are left: every column then
      // spans exactly the grid's height and none can slide down a row.
      const rowsLeft = Math.ceil(units.length / cols) - Math.floor(i / cols);
      if (i + cols >= units.length) for (const f of u.exits) this.edges.push({ from: f, to: bottom.id, invisible: true, ...(rowsLeft > 1 ? { minlen: rowsLeft } : {}) });
    });
    const leaf = (u: Unit) => u.entries.length === 1 && u.exits.length === 1 && u.entries[0] === u.exits[0];
    for (let r = 0; r < units.length; r += cols) {
      const row = units.slice(r, r + cols);
      if (row.every(leaf)) this.gridRows.push(row.map((u) => u.entries[0]!));
    }
    return { entries: [top.id], exits: [bottom.id] };
  }
}

/** Build the graph of a workflow (`GET /api/workflows/<id>`). */
export function buildGraph(wf: { steps: StepNode[]; graph: WorkflowGraph | null; type?: string | null; status?: string | null }, opts: GraphOptions = {}): GraphModel {
  const o = { itemCap: DEFAULT_ITEM_CAP, junctionAbove: JUNCTION_ABOVE, openDepth: OPEN_DEPTH, gridAbove: GRID_ABOVE, ...opts };
  if (o.finished === undefined && wf.status) o.finished = ["Succeeded", "Failed", "Error"].includes(wf.status);
  const b = new Builder(wf.graph, o);
  const kind = wf.graph?.templates[wf.graph.entrypoint]?.type ?? wf.type ?? "Steps";
  b.template(wf.steps, wf.graph?.entrypoint ?? null, kind, null, "", 0);
  return { nodes: b.nodes, edges: b.edges, locate: b.locate, signature: signatureOf(b.nodes, b.edges), stepCount: b.stepCount, order: b.order, gridRows: b.gridRows };
}

/** What of a node the layout sees: planned, step and collapsed box nodes have one size (a step that starts keeps its place). */
function sizeClass(k: GKind): string {
  return k === "fanout" || k === "more" || k === "junction" ? k : "node";
}

export function signatureOf(nodes: GNode[], edges: GEdge[]): string {
  const parts: string[] = [];
  for (const n of nodes) parts.push(`${n.id}|${sizeClass(n.kind)}|${n.parent ?? ""}|${n.cluster ? 1 : 0}`);
  parts.push("--");
  for (const e of edges) parts.push(`${e.from}>${e.to}${e.invisible ? "~" : ""}`);
  return parts.join("\n");
}

/** Every step of a tree, depth first. */
export function flattenSteps(steps: StepNode[]): StepNode[] {
  const out: StepNode[] = [];
  const walk = (l: StepNode[]) => {
    for (const s of l) {
      out.push(s);
      if (s.children?.length) walk(s.children);
    }
  };
  walk(steps);
  return out;
}
