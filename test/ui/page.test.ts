// The page's own logic, without a browser: the graph model built from
// `GET /api/workflows/<id>` (Steps groups, DAG edges, nested boxes, fan-outs
// collapsed with their counts, the fallback without a recorded graph), its
// dagre layout, the timeline's axis and rows, the patching of live events,
// the routes; and, once `npm run build` made it, the bundle in dist/ui.
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { aggregatePhase, countPhases, countsText, formatDuration, formatValue, parseProgress } from "../../src/ui/web/lib/format.js";
import { buildGraph, flattenSteps, gridColumns, type GNode, type GraphModel } from "../../src/ui/web/lib/graph.js";
import { edgePath, layoutGraph } from "../../src/ui/web/lib/layout.js";
import { filterWorkflows, newestFirst, statusCounts } from "../../src/ui/web/lib/list.js";
import { parseRoute, routeHash } from "../../src/ui/web/lib/route.js";
import { concurrency, fraction, idleGaps, niceTicks, offsetLabel, timelineRows, timeRange, type TimeRow } from "../../src/ui/web/lib/timeline.js";
import { indexSteps, patchSteps } from "../../src/ui/web/lib/tree.js";
import type { StepNode, WorkflowDetail, WorkflowGraph } from "../../src/ui/web/lib/types.js";

const root = path.resolve(import.meta.dirname, "..", "..");
const T0 = Date.parse("2026-01-01T00:00:00Z");
const iso = (s: number) => new Date(T0 + s * 1000).toISOString();

let seq = 0;
function step(name: string, o: Partial<StepNode> = {}): StepNode {
  seq++;
  const start = o.started === undefined ? iso(seq) : o.started;
  return {
    name,
    id: o.id ?? `wf-${name}-${seq}`,
    key: null,
    type: "Pod",
    phase: "Succeeded",
    order: "0-0",
    item: null,
    started: start,
    finished: o.finished === undefined ? iso(seq + 1) : o.finished,
    duration: 1,
    progress: null,
    message: null,
    dir: `/w/${name}`,
    children: [],
    ...o,
  };
}

function wf(steps: StepNode[], graph: WorkflowGraph | null, extra: Partial<WorkflowDetail> = {}): WorkflowDetail {
  return { id: "wf", status: "Succeeded", type: "Steps", started: iso(0), finished: iso(100), duration: 100, progress: "", message: null, dir: "/w", pid: 1, engine_alive: false, suspended: false, steps, graph, ...extra };
}

const pod = (name: string, fanout = false, template = name) => ({ name, template, type: "Pod", fanout });

function node(m: GraphModel, id: string): GNode {
  const n = m.nodes.find((x) => x.id === id);
  if (!n) throw new Error(`no node ${id} in ${m.nodes.map((x) => x.id).join(", ")}`);
  return n;
}

function edgeSet(m: GraphModel): Set<string> {
  return new Set(m.edges.map((e) => `${e.from}>${e.to}`));
}

describe("graph model: Steps", () => {
  const g: WorkflowGraph = { entrypoint: "main", templates: { main: { type: "Steps", groups: [[pod("a")], [pod("b"), pod("c")], [pod("d")]] } } };
  const steps = [step("a", { order: "0-0" }), step("b", { order: "1-0" }), step("c", { order: "1-1" }), step("d", { order: "2-0" })];

  it("draws an edge from each step of a group to each step of the next (Argo)", () => {
    const m = buildGraph(wf(steps, g));
    expect(m.nodes.map((n) => n.id)).toEqual(["/a", "/b", "/c", "/d"]);
    expect(m.order).toEqual([{ left: "/b", right: "/c" }]);
    const l = layoutGraph(m);
    expect(l.nodes.get("/b")!.x).toBeLessThan(l.nodes.get("/c")!.x);
    expect(edgeSet(m)).toEqual(new Set(["/a>/b", "/a>/c", "/b>/d", "/c>/d"]));
    expect(m.stepCount).toBe(4);
    expect(node(m, "/b").step?.id).toBe(steps[1]!.id);
    expect(m.locate.get(steps[2]!.id)).toBe("/c");
  });

  it("draws steps of the graph that have not started: waiting, or not run once the workflow ended", () => {
    const failed = [step("a", { order: "0-0" }), step("b", { order: "1-0", phase: "Failed" })];
    const ended = buildGraph(wf(failed, g, { status: "Failed" }));
    expect(node(ended, "/c").kind).toBe("planned");
    expect(node(ended, "/c").detail).toBe("not run");
    expect(node(ended, "/d").phase).toBeNull();
    expect(edgeSet(ended).has("/c>/d")).toBe(true);
    const running = buildGraph(wf(failed.slice(0, 1), g, { status: "Running", finished: null }));
    expect(node(running, "/b").detail).toBe("waiting");
  });

  it("groups Steps children by their order keys when no graph was recorded", () => {
    const m = buildGraph(wf(steps, null));
    expect(edgeSet(m)).toEqual(new Set(["/a>/b", "/a>/c", "/b>/d", "/c>/d"]));
  });

  it("places a child the graph does not name (a helper step) in the group of its order key", () => {
    const withHelper = [...steps, step("b-check-num-success", { order: "1-2" })];
    const m = buildGraph(wf(withHelper, g));
    expect(edgeSet(m).has("/a>/b-check-num-success")).toBe(true);
    expect(edgeSet(m).has("/b-check-num-success>/d")).toBe(true);
  });

  it("puts a junction between two big groups instead of n×m edges", () => {
    const big: WorkflowGraph = { entrypoint: "main", templates: { main: { type: "Steps", groups: [Array.from({ length: 8 }, (_, i) => pod(`x${i}`)), Array.from({ length: 8 }, (_, i) => pod(`y${i}`))] } } };
    const m = buildGraph(wf([], big));
    const j = m.nodes.filter((n) => n.kind === "junction");
    expect(j).toHaveLength(1);
    expect(m.edges).toHaveLength(16);
  });
});

describe("graph model: DAG and nested templates", () => {
  const g: WorkflowGraph = {
    entrypoint: "main",
    templates: {
      main: {
        type: "DAG",
        tasks: [
          { ...pod("start", false, "add"), dependencies: [] },
          { name: "double", template: "double", type: "Steps", fanout: false, dependencies: ["start"] },
          { ...pod("report", false, "add"), dependencies: ["double"] },
          { ...pod("side", false, "add"), dependencies: ["start"] },
        ],
      },
      double: { type: "Steps", groups: [[pod("twice", false, "add")], [pod("plus-one", false, "add")]] },
    },
  };
  const inner = [step("twice", { order: "0-0" }), step("plus-one", { order: "1-0" })];
  const steps = [step("start", { order: "0" }), step("double", { order: "1", type: "Steps", progress: "2/2", children: inner }), step("report", { order: "2" }), step("side", { order: "3" })];

  it("draws DAG edges from dependencies, and a nested Steps as a box whose first and last steps the edges meet", () => {
    const m = buildGraph(wf(steps, g, { type: "DAG" }));
    const box = node(m, "/double");
    expect(box.kind).toBe("box");
    expect(box.cluster).toBe(true);
    expect(box.toggle).toBe("open");
    expect(node(m, "/double/twice").parent).toBe("/double");
    expect(edgeSet(m)).toEqual(new Set(["/start>/double/twice", "/double/twice>/double/plus-one", "/double/plus-one>/report", "/start>/side"]));
    // No edge touches a box: dagre lays out no edges to compound nodes.
    for (const e of m.edges) expect([e.from, e.to]).not.toContain("/double");
  });

  it("collapses a box on request: one node, its steps located in it", () => {
    const m = buildGraph(wf(steps, g, { type: "DAG" }), { open: { "/double": false } });
    const box = node(m, "/double");
    expect(box.cluster).toBe(false);
    expect(box.toggle).toBe("closed");
    expect(m.nodes.some((n) => n.parent === "/double")).toBe(false);
    expect(m.locate.get(inner[0]!.id)).toBe("/double");
    expect(edgeSet(m)).toEqual(new Set(["/start>/double", "/double>/report", "/start>/side"]));
  });

  it("draws DAG children without edges when no graph was recorded", () => {
    const m = buildGraph(wf(steps, null, { type: "DAG" }));
    expect(m.edges.filter((e) => !e.from.startsWith("/double/"))).toEqual([]);
    expect(node(m, "/double/twice").parent).toBe("/double");
  });
});

describe("graph model: fan-outs", () => {
  const g: WorkflowGraph = { entrypoint: "main", templates: { main: { type: "Steps", groups: [[pod("prep")], [pod("square", true)], [pod("sum")]] } } };
  function fanout(n: number, failed: number): StepNode[] {
    return Array.from({ length: n }, (_, i) => step("square", { order: `1-0-${i}`, item: i, phase: i < n - failed ? "Succeeded" : "Failed", started: iso(10 + i / n), finished: iso(11 + i / n) }));
  }

  it("draws a fan-out as one node with its counts per phase", () => {
    const items = fanout(1000, 10);
    const m = buildGraph(wf([step("prep", { order: "0-0" }), ...items, step("sum", { order: "2-0" })], g));
    const f = node(m, "/square");
    expect(f.kind).toBe("fanout");
    expect(f.label).toBe("square ×1000");
    expect(f.counts).toEqual({ Succeeded: 990, Failed: 10 });
    expect(f.detail).toBe("10 ✖ 990 ✔");
    expect(f.phase).toBe("Failed");
    expect(f.toggle).toBe("closed");
    expect(m.nodes).toHaveLength(3);
    expect(edgeSet(m)).toEqual(new Set(["/prep>/square", "/square>/sum"]));
    expect(m.locate.get(items[500]!.id)).toBe("/square");
    expect(m.stepCount).toBe(1002);
  });

  it("expands a fan-out to its first items and a '+N more' node", () => {
    const items = fanout(1000, 0);
    const m = buildGraph(wf([step("prep", { order: "0-0" }), ...items, step("sum", { order: "2-0" })], g), { open: { "/square": true } });
    const f = node(m, "/square");
    expect(f.cluster).toBe(true);
    const members = m.nodes.filter((n) => n.parent === "/square");
    expect(members.filter((n) => n.kind === "step")).toHaveLength(200);
    const more = members.find((n) => n.kind === "more")!;
    expect(more.hidden).toBe(800);
    expect(more.label).toBe("+800 more");
    expect(node(m, "/square#0").label).toBe("square[0]");
    // Drawn as a grid entered at one point and left at one: two drawn edges, not 2 × 201.
    expect(m.edges.filter((e) => !e.invisible)).toEqual([
      { from: "/prep", to: "/square#in" },
      { from: "/square#out", to: "/sum" },
    ]);
    const cols = gridColumns(201);
    expect(cols).toBeGreaterThanOrEqual(4);
    // Row r+1 hangs below row r: item i+cols below item i.
    expect(m.edges).toContainEqual({ from: "/square#0", to: `/square#${cols}`, invisible: true });
    expect(m.edges).toContainEqual({ from: "/square#in", to: "/square#0", invisible: true });
    const l = layoutGraph(m);
    expect(l.nodes.get(`/square#${cols}`)!.y).toBeGreaterThan(l.nodes.get("/square#0")!.y);
    expect(l.nodes.get("/square#1")!.y).toBe(l.nodes.get("/square#0")!.y);
    // Rows are rows: item i and i+1 in one, unless i+1 starts the next; item cols-1 on the first row too.
    expect(l.nodes.get(`/square#${cols - 1}`)!.y).toBe(l.nodes.get("/square#0")!.y);
    expect(l.nodes.get(`/square#${2 * cols + 3}`)!.y).toBe(l.nodes.get(`/square#${2 * cols}`)!.y);
    // In item order, left to right.
    for (let i = 0; i + 1 < cols; i++) expect(l.nodes.get(`/square#${i + 1}`)!.x).toBeGreaterThan(l.nodes.get(`/square#${i}`)!.x);
    expect(l.width).toBeLessThan(cols * 260 + 400);
    expect(m.locate.get(items[999]!.id)).toBe("/square");
    expect(m.locate.get(items[3]!.id)).toBe("/square#3");
    const more2 = buildGraph(wf([...items], g), { open: { "/square": true }, caps: { "/square": 400 } });
    expect(more2.nodes.filter((n) => n.parent === "/square" && n.kind === "step")).toHaveLength(400);
  });

  it("names keyed items by their key", () => {
    const items = [step("square", { order: "1-0-0", item: 0, key: "sq-a" }), step("square", { order: "1-0-1", item: 1, key: "sq-b" })];
    const m = buildGraph(wf(items, g), { open: { "/square": true } });
    expect(node(m, "/square#1").label).toBe("sq-b");
  });

  it("finds fan-outs from item indexes when no graph was recorded", () => {
    const m = buildGraph(wf([step("prep", { order: "0-0" }), ...fanout(5, 1)], null));
    expect(node(m, "/square").counts).toEqual({ Succeeded: 4, Failed: 1 });
  });

  it("keeps a 10,000-step workflow to a handful of nodes, and lays it out", () => {
    const items = fanout(10_000, 3);
    const t = performance.now();
    const m = buildGraph(wf([step("prep", { order: "0-0" }), ...items, step("sum", { order: "2-0" })], g));
    const l = layoutGraph(m);
    const took = performance.now() - t;
    expect(m.nodes).toHaveLength(3);
    expect(l.nodes.size).toBe(3);
    expect(m.stepCount).toBe(10_002);
    // Not a timing assertion: a log line for whoever reads the output.
    console.log(`10,000-step fan-out: model + layout in ${took.toFixed(0)} ms`);
  });
});

describe("layout", () => {
  it("gives every node a rectangle, puts members inside their box, and routes edges", () => {
    const g: WorkflowGraph = { entrypoint: "main", templates: { main: { type: "Steps", groups: [[pod("a")], [{ name: "inner", template: "inner", type: "Steps", fanout: false }], [pod("z")]] }, inner: { type: "Steps", groups: [[pod("b")], [pod("c")]] } } };
    const m = buildGraph(wf([step("a", { order: "0-0" }), step("inner", { order: "1-0", type: "Steps", children: [step("b", { order: "0-0" }), step("c", { order: "1-0" })] }), step("z", { order: "2-0" })], g));
    const l = layoutGraph(m);
    for (const n of m.nodes) expect(l.nodes.get(n.id), n.id).toBeDefined();
    const box = l.nodes.get("/inner")!;
    for (const id of ["/inner/b", "/inner/c"]) {
      const r = l.nodes.get(id)!;
      expect(r.x).toBeGreaterThanOrEqual(box.x);
      expect(r.y).toBeGreaterThanOrEqual(box.y);
      expect(r.x + r.width).toBeLessThanOrEqual(box.x + box.width);
      expect(r.y + r.height).toBeLessThanOrEqual(box.y + box.height);
    }
    // Top to bottom: a above the box above z.
    expect(l.nodes.get("/a")!.y).toBeLessThan(box.y);
    expect(l.nodes.get("/z")!.y).toBeGreaterThan(box.y + box.height - 1);
    expect(l.edges).toHaveLength(3);
    for (const e of l.edges) expect(e.points.length).toBeGreaterThanOrEqual(2);
    expect(edgePath([{ x: 0, y: 0 }, { x: 10, y: 10 }])).toBe("M0,0 L10,10");
    expect(edgePath([{ x: 0, y: 0 }, { x: 10, y: 10 }, { x: 20, y: 0 }])).toMatch(/^M0,0 Q10,10 20,0$/);
    expect(l.signature).toBe(m.signature);
  });

  it("keeps the signature (and so the layout) when only phases change", () => {
    const g: WorkflowGraph = { entrypoint: "main", templates: { main: { type: "Steps", groups: [[pod("a")], [pod("b")]] } } };
    const a = step("a", { order: "0-0", phase: "Running", finished: null });
    const before = buildGraph(wf([a], g, { status: "Running" }));
    a.phase = "Succeeded";
    const after = buildGraph(wf([a, step("b", { order: "1-0" })], g, { status: "Running" }));
    expect(after.signature).toBe(before.signature);
    expect(node(after, "/b").kind).toBe("step");
  });
});

describe("timeline", () => {
  it("scales times onto the axis and picks round ticks", () => {
    expect(fraction(T0 + 5000, T0, T0 + 10_000)).toBe(0.5);
    expect(fraction(T0 - 1, T0, T0 + 10_000)).toBe(0);
    expect(fraction(T0 + 20_000, T0, T0 + 10_000)).toBe(1);
    expect(niceTicks(T0, T0 + 10_000, 6).map((t) => t.label)).toEqual(["0", "2 s", "4 s", "6 s", "8 s", "10 s"]);
    expect(niceTicks(T0, T0 + 3_600_000, 5).map((t) => t.label)).toEqual(["0", "15 m", "30 m", "45 m", "1 h"]);
    expect(niceTicks(T0, T0 + 187, 4).map((t) => t.t - T0)).toEqual([0, 50, 100, 150]);
    expect(offsetLabel(90_000)).toBe("1 m 30 s");
    expect(offsetLabel(1500)).toBe("1.5 s");
    expect(offsetLabel(2 * 86_400_000)).toBe("2 d");
  });

  it("counts how many items run at once", () => {
    expect(concurrency([[0, 10], [0, 5], [5, 10]], 0, 10, 2)).toEqual([2, 2]);
    expect(concurrency([[0, 2], [8, 10]], 0, 10, 5)).toEqual([1, 0, 0, 0, 1]);
    expect(concurrency([[0, null]], 0, 10, 2)).toEqual([1, 1]);
  });

  it("finds idle stretches, where no step ran", () => {
    const rows = [
      { start: 0, end: 10, kind: "step" },
      { start: 5, end: 20, kind: "step" },
      { start: 50, end: 60, kind: "step" },
      { start: 0, end: 100, kind: "box" },
    ] as TimeRow[];
    expect(idleGaps(rows, 0, 100, 5)).toEqual([
      [20, 50],
      [60, 100],
    ]);
  });

  it("has one row per drawn step, and one per collapsed fan-out with its profile", () => {
    const g: WorkflowGraph = { entrypoint: "main", templates: { main: { type: "Steps", groups: [[pod("prep")], [pod("square", true)]] } } };
    const items = Array.from({ length: 50 }, (_, i) => step("square", { order: `1-0-${i}`, item: i, started: iso(10 + (i % 10)), finished: iso(11 + (i % 10)) }));
    const m = buildGraph(wf([step("prep", { order: "0-0", started: iso(0), finished: iso(10) }), ...items], g));
    const rows = timelineRows(m, T0 + 100_000);
    expect(rows.map((r) => r.label)).toEqual(["prep", "square ×50"]);
    expect(rows[1]!.detail).toBe("50 ✔ · up to 5 at once");
    expect(rows[1]!.start).toBe(T0 + 10_000);
    expect(rows[1]!.end).toBe(T0 + 20_000);
    expect(rows[1]!.profile!.length).toBeGreaterThan(0);
    expect(Math.max(...rows[1]!.profile!)).toBe(5);
    expect(timeRange(rows, iso(0), iso(30), T0 + 100_000)).toEqual([T0, T0 + 30_000]);
    // Still running: the axis reaches now.
    const running = [{ ...rows[0]!, end: null, phase: "Running" }];
    expect(timeRange(running, iso(0), null, T0 + 100_000)).toEqual([T0, T0 + 100_000]);
    const open = timelineRows(buildGraph(wf([step("prep", { order: "0-0" }), ...items], g), { open: { "/square": true } }), T0);
    expect(open).toHaveLength(52);
    expect(open[2]!.stepId).toBe(items[0]!.id);
    expect(open[2]!.depth).toBe(1);
  });
});

describe("formatting and phases", () => {
  it("reads durations as people do", () => {
    expect(formatDuration(0.016)).toBe("16 ms");
    expect(formatDuration(1.0799)).toBe("1.08 s");
    expect(formatDuration(10.63)).toBe("10.6 s");
    expect(formatDuration(185)).toBe("3 m 05 s");
    expect(formatDuration(7380)).toBe("2 h 03 m");
    expect(formatDuration(null)).toBe("");
  });

  it("counts and sums up phases", () => {
    const c = countPhases(["Succeeded", "Succeeded", "Failed", "Running"]);
    expect(countsText(c)).toBe("1 ✖ 1 ● 2 ✔");
    expect(aggregatePhase(c)).toBe("Running");
    expect(aggregatePhase({ Succeeded: 3, Failed: 1 })).toBe("Failed");
    expect(aggregatePhase({ Succeeded: 3, Skipped: 2 })).toBe("Succeeded");
    expect(aggregatePhase({ Pending: 2 })).toBe("Pending");
    expect(aggregatePhase({ Pending: 2, Succeeded: 1 })).toBe("Running");
    expect(aggregatePhase({})).toBeNull();
    expect(parseProgress("3/14")).toEqual([3, 14]);
    expect(parseProgress("")).toBeNull();
    expect(formatValue('{"a":1}')).toBe('{\n  "a": 1\n}');
    expect(formatValue(3)).toBe("3");
    expect(formatValue("plain")).toBe("plain");
  });
});

describe("the workflows list", () => {
  it("sorts newest first, filters by status and name, counts per status", () => {
    const w = (id: string, started: number | null, status = "Succeeded") => ({ ...wf([], null), id, status, started: started === null ? null : iso(started) });
    const all = [w("old-a", 1), w("new-b", 50, "Failed"), w("pending-c", null, "Pending"), w("mid-d", 20, "Failed")];
    expect([...all].sort(newestFirst).map((x) => x.id)).toEqual(["pending-c", "new-b", "mid-d", "old-a"]);
    expect(filterWorkflows(all, "Failed", "").map((x) => x.id)).toEqual(["new-b", "mid-d"]);
    expect(filterWorkflows(all, "", " NEW ").map((x) => x.id)).toEqual(["new-b"]);
    expect(statusCounts(all)).toEqual({ Succeeded: 1, Failed: 2, Pending: 1 });
  });
});

describe("live patches and routes", () => {
  it("patches nodes by id and reports the ids it does not know", () => {
    const kids = [step("x", { phase: "Running", finished: null })];
    const tree = [step("box", { type: "Steps", progress: "0/1", children: kids })];
    const idx = indexSteps(tree);
    expect(idx.size).toBe(2);
    const r = patchSteps(idx, [
      { id: kids[0]!.id, phase: "Succeeded", finished: iso(5) },
      { id: tree[0]!.id, progress: null },
      { id: "wf-new-1", phase: "Running" },
    ]);
    expect(kids[0]!.phase).toBe("Succeeded");
    expect(kids[0]!.finished).toBe(iso(5));
    expect(tree[0]!.progress).toBe("0/1"); // a box's progress is its members' count: kept
    expect(r.unknown).toEqual(["wf-new-1"]);
    expect(flattenSteps(tree).map((s) => s.name)).toEqual(["box", "x"]);
  });

  it("reads and writes the hash routes", () => {
    expect(parseRoute("")).toEqual({ page: "list", status: "", name: "" });
    expect(parseRoute("#/?status=Failed&name=abc")).toEqual({ page: "list", status: "Failed", name: "abc" });
    const r = parseRoute("#/workflows/loops-lezzv?view=timeline&step=loops-lezzv-names-u05w2");
    expect(r).toEqual({ page: "workflow", id: "loops-lezzv", view: "timeline", step: "loops-lezzv-names-u05w2", node: null });
    expect(routeHash(r)).toBe("#/workflows/loops-lezzv?view=timeline&step=loops-lezzv-names-u05w2");
    expect(parseRoute(routeHash({ page: "workflow", id: "a", view: "graph", step: null, node: "/x#1" }))).toMatchObject({ node: "/x#1", view: "graph" });
  });
});

const ui = path.join(root, "dist", "ui");
describe.skipIf(!fs.existsSync(path.join(ui, "index.html")))("the built page (dist/ui)", () => {
  it("is one script and one stylesheet with fixed names, small, and loads nothing from the network", () => {
    const html = fs.readFileSync(path.join(ui, "index.html"), "utf8");
    expect(html).toContain('src="./assets/ui.js"');
    expect(html).toContain('href="./assets/ui.css"');
    expect(fs.readdirSync(path.join(ui, "assets")).sort()).toEqual(["ui.css", "ui.js"]);
    const js = fs.readFileSync(path.join(ui, "assets", "ui.js"));
    const css = fs.readFileSync(path.join(ui, "assets", "ui.css"));
    const gz = zlib.gzipSync(js).length + zlib.gzipSync(css).length;
    expect(gz).toBeLessThan(150 * 1024);
    for (const text of [html, css.toString("utf8")]) expect(text).not.toMatch(/https?:\/\//);
    // The bundle reads the report's data when it is there.
    expect(js.toString("utf8")).toContain("__DFLOW_REPORT__");
  });
});
