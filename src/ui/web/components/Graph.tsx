// The workflow's graph: SVG of a dagre layout (lib/layout.ts), nodes coloured
// by phase, boxes for nested Steps/DAG steps and expanded fan-outs, pan (drag,
// arrow keys) and zoom (wheel, +/-, buttons), keyboard focus on every node.
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { phaseClass, phaseSymbol, totalOf, PHASES } from "../lib/format";
import type { GNode, GraphModel } from "../lib/graph";
import { edgePath, type Layout, type Rect } from "../lib/layout";

export interface View {
  x: number;
  y: number;
  k: number;
}

const MIN_K = 0.1;
const MAX_K = 2.5;

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** The view showing the whole graph (no larger than 1:1; no smaller than `minK`, where text stays readable by default). */
function fit(layout: Layout, w: number, h: number, minK = 0.35): View {
  if (!w || !h) return { x: 0, y: 0, k: 1 };
  const k = Math.max(minK, Math.min(1, (w - 20) / layout.width, (h - 20) / layout.height));
  const x = Math.max(10, (w - layout.width * k) / 2);
  const y = layout.height * k < h ? Math.max(10, (h - layout.height * k) / 2) : 10;
  return { x, y, k };
}

export function Graph({ model, layout, selected, onSelect, onToggle, saved }: { model: GraphModel; layout: Layout; selected: string | null; onSelect: (n: GNode) => void; onToggle: (n: GNode) => void; saved?: { current: View | null } }) {
  const box = useRef<HTMLDivElement>(null);
  // The view survives a switch to the timeline and back (kept by the page in `saved`).
  const [view, setView] = useState<View | null>(saved?.current ?? null);
  useEffect(() => {
    if (saved) saved.current = view;
  }, [view]);
  const drag = useRef<{ x: number; y: number; vx: number; vy: number; moved: boolean } | null>(null);
  const fitted = useRef<string | null>(null);
  /** The node the user expanded or collapsed, and where it was on screen (middle of its top edge): it stays there in the new layout. */
  const anchor = useRef<{ id: string; sx: number; sy: number } | null>(null);

  // Fit on first draw; after a change of shape keep the user's view (and the toggled node in place).
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    if (fitted.current === null) {
      if (!saved?.current) setView(fit(layout, el.clientWidth, el.clientHeight));
      fitted.current = layout.signature;
      return;
    }
    const a = anchor.current;
    const r = a ? layout.nodes.get(a.id) : undefined;
    anchor.current = null;
    if (!a || !r) return;
    setView((v) => {
      if (!v) return v;
      // Collapsed into something small that a closer view would show whole: fit it.
      const f = fit(layout, el.clientWidth, el.clientHeight);
      if (f.k > v.k * 1.2 && layout.width * f.k <= el.clientWidth && layout.height * f.k <= el.clientHeight) return f;
      // Its middle stays where it was (it grows to both sides), its top too; but its left edge, where its toggle is, stays on screen.
      let x = a.sx - (r.x + r.width / 2) * v.k;
      if (x + r.x * v.k < 10) x = 10 - r.x * v.k;
      return { k: v.k, x, y: a.sy - r.y * v.k };
    });
  }, [layout]);

  const keepInPlace = (id: string) => {
    const r = layout.nodes.get(id);
    if (r && view) anchor.current = { id, sx: view.x + (r.x + r.width / 2) * view.k, sy: view.y + r.y * view.k };
  };
  const toggleHere = (n: GNode) => {
    keepInPlace(n.id);
    onToggle(n);
  };
  const selectHere = (n: GNode) => {
    if (n.kind === "more" && n.parent) keepInPlace(n.parent);
    onSelect(n);
  };

  // The wheel zooms around the pointer (a non-passive listener, to keep the page from scrolling).
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const r = el.getBoundingClientRect();
      const px = e.clientX - r.left;
      const py = e.clientY - r.top;
      setView((v) => {
        const cur = v ?? { x: 0, y: 0, k: 1 };
        const k = Math.min(MAX_K, Math.max(MIN_K, cur.k * Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0015))));
        return { k, x: px - ((px - cur.x) * k) / cur.k, y: py - ((py - cur.y) * k) / cur.k };
      });
    };
    el.addEventListener("wheel", onWheel, { passive: false });
    return () => el.removeEventListener("wheel", onWheel);
  }, []);

  // Bring the selected node into view when it is outside (selected from the timeline or the table).
  useEffect(() => {
    const el = box.current;
    const r = selected ? layout.nodes.get(selected) : undefined;
    if (!el || !r || !view) return;
    const sx = view.x + r.x * view.k;
    const sy = view.y + r.y * view.k;
    const w = el.clientWidth;
    const h = el.clientHeight;
    if (sx < 0 || sy < 0 || sx + r.width * view.k > w || sy + r.height * view.k > h) {
      setView({ k: view.k, x: w / 2 - (r.x + r.width / 2) * view.k, y: h / 2 - (r.y + r.height / 2) * view.k });
    }
  }, [selected, layout]);

  const zoomBy = (f: number) => {
    const el = box.current;
    const w = el?.clientWidth ?? 0;
    const h = el?.clientHeight ?? 0;
    setView((v) => {
      const cur = v ?? { x: 0, y: 0, k: 1 };
      const k = Math.min(MAX_K, Math.max(MIN_K, cur.k * f));
      return { k, x: w / 2 - ((w / 2 - cur.x) * k) / cur.k, y: h / 2 - ((h / 2 - cur.y) * k) / cur.k };
    });
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.target !== box.current) return;
    const step = 60;
    const pan = (dx: number, dy: number) => setView((v) => (v ? { ...v, x: v.x + dx, y: v.y + dy } : v));
    if (e.key === "+" || e.key === "=") zoomBy(1.25);
    else if (e.key === "-") zoomBy(0.8);
    else if (e.key === "0") setView(fit(layout, box.current!.clientWidth, box.current!.clientHeight, MIN_K));
    else if (e.key === "ArrowLeft") pan(step, 0);
    else if (e.key === "ArrowRight") pan(-step, 0);
    else if (e.key === "ArrowUp") pan(0, step);
    else if (e.key === "ArrowDown") pan(0, -step);
    else return;
    e.preventDefault();
  };

  const onPointerDown = (e: PointerEvent) => {
    if (e.button !== 0 || !view) return;
    const t = e.target as Element;
    if (t.closest(".node, .toggle")) return;
    drag.current = { x: e.clientX, y: e.clientY, vx: view.x, vy: view.y, moved: false };
    (e.currentTarget as Element).setPointerCapture(e.pointerId);
  };
  const onPointerMove = (e: PointerEvent) => {
    const d = drag.current;
    if (!d) return;
    const dx = e.clientX - d.x;
    const dy = e.clientY - d.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) d.moved = true;
    setView((v) => (v ? { ...v, x: d.vx + dx, y: d.vy + dy } : v));
  };
  const onPointerUp = () => {
    drag.current = null;
  };

  const v = view ?? { x: 0, y: 0, k: 1 };
  const clusters = model.nodes.filter((n) => n.cluster).sort((a, b) => a.depth - b.depth);
  const leaves = model.nodes.filter((n) => !n.cluster);
  const byId = new Map(model.nodes.map((n) => [n.id, n]));

  return (
    <div class="graph">
      <div class="graph-tools" role="toolbar" aria-label="graph zoom">
        <button type="button" class="btn small" onClick={() => zoomBy(1.25)} aria-label="zoom in">
          +
        </button>
        <button type="button" class="btn small" onClick={() => zoomBy(0.8)} aria-label="zoom out">
          −
        </button>
        <button type="button" class="btn small" onClick={() => setView(fit(layout, box.current?.clientWidth ?? 0, box.current?.clientHeight ?? 0, MIN_K))}>
          Fit
        </button>
        <button type="button" class="btn small" onClick={() => setView((cur) => ({ x: cur?.x ?? 0, y: cur?.y ?? 0, k: 1 }))}>
          1:1
        </button>
        <span class="muted small">
          {leaves.filter((n) => n.kind !== "junction").length} nodes · {model.stepCount} steps · drag to pan, wheel to zoom
        </span>
      </div>
      <div ref={box} class="graph-canvas" tabIndex={0} aria-label="workflow graph; arrow keys pan, + and - zoom, 0 fits" onKeyDown={onKey} onPointerDown={onPointerDown} onPointerMove={onPointerMove} onPointerUp={onPointerUp} onPointerCancel={onPointerUp}>
        <svg class="graph-svg" width="100%" height="100%" role="group" aria-label="steps">
          <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M0,0 L10,5 L0,10 z" class="arrow-head" />
            </marker>
          </defs>
          <g transform={`translate(${v.x},${v.y}) scale(${v.k})`}>
            {clusters.map((n) => {
              const r = layout.nodes.get(n.id);
              return r ? <Cluster key={n.id} n={n} r={r} selected={selected === n.id} onSelect={selectHere} onToggle={toggleHere} /> : null;
            })}
            <g class="edges">
              {layout.edges.map((e) => {
                if (e.invisible) return null;
                const to = byId.get(e.to);
                return <path key={`${e.from}>${e.to}`} d={edgePath(e.points)} class="edge" marker-end={to?.kind === "junction" ? undefined : "url(#arrow)"} />;
              })}
            </g>
            {leaves.map((n) => {
              const r = layout.nodes.get(n.id);
              return r ? <Node key={n.id} n={n} r={r} selected={selected === n.id} onSelect={selectHere} onToggle={toggleHere} /> : null;
            })}
          </g>
        </svg>
      </div>
      <Legend />
    </div>
  );
}

function activate(fn: () => void) {
  return (e: KeyboardEvent) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      e.stopPropagation();
      fn();
    }
  };
}

function Toggle({ n, x, y, onToggle }: { n: GNode; x: number; y: number; onToggle: (n: GNode) => void }) {
  if (!n.toggle) return null;
  const open = n.toggle === "open";
  const label = `${open ? "collapse" : "expand"} ${n.label}`;
  return (
    <g
      class="toggle"
      transform={`translate(${x},${y})`}
      tabindex={0}
      role="button"
      aria-label={label}
      aria-expanded={open}
      onClick={(e) => {
        e.stopPropagation();
        onToggle(n);
      }}
      onKeyDown={activate(() => onToggle(n))}
    >
      <title>{label}</title>
      <rect x={-9} y={-9} width={18} height={18} rx={4} />
      <path d={open ? "M-4.5,0 H4.5" : "M-4.5,0 H4.5 M0,-4.5 V4.5"} />
    </g>
  );
}

function Cluster({ n, r, selected, onSelect, onToggle }: { n: GNode; r: Rect; selected: boolean; onSelect: (n: GNode) => void; onToggle: (n: GNode) => void }) {
  const title = `${n.label}${n.detail ? ` — ${n.detail}` : ""}`;
  return (
    <g class={`cluster ${phaseClass(n.phase)} ${n.kind === "fanout" ? "cluster-fanout" : ""} ${selected ? "selected" : ""}`}>
      <rect x={r.x} y={r.y} width={r.width} height={r.height} rx={8} class="cluster-bg" />
      <g class="node cluster-head" tabindex={0} role="button" aria-label={`${title}; open its details`} onClick={() => onSelect(n)} onKeyDown={activate(() => onSelect(n))}>
        <title>{title}</title>
        <text x={r.x + 28} y={r.y + 16} class="cluster-label">
          <tspan class={`ph-text ${phaseClass(n.phase)}`}>{phaseSymbol(n.phase)}</tspan> {clip(n.label, Math.max(8, Math.floor((r.width - 90) / 7)))}
          <tspan class="cluster-detail"> {clip(n.detail, 30)}</tspan>
        </text>
      </g>
      {/* At the left: where the box was before it opened (the toggled node keeps its place), so it can be closed again at once. */}
      <Toggle n={n} x={r.x + 13} y={r.y + 12} onToggle={onToggle} />
    </g>
  );
}

function CountsBar({ n, x, y, w }: { n: GNode; x: number; y: number; w: number }) {
  const c = n.counts ?? {};
  const total = totalOf(c);
  if (!total) return null;
  let at = 0;
  const order = [...PHASES, ...Object.keys(c).filter((p) => !(PHASES as readonly string[]).includes(p))];
  return (
    <g class="counts-bar">
      <rect x={x} y={y} width={w} height={4} rx={2} class="counts-track" />
      {order.map((p) => {
        const k = c[p] ?? 0;
        if (!k) return null;
        const seg = (k / total) * w;
        const el = <rect key={p} x={x + at} y={y} width={Math.max(seg, 1.5)} height={4} class={`fill ${phaseClass(p)}`} />;
        at += seg;
        return el;
      })}
    </g>
  );
}

function Node({ n, r, selected, onSelect, onToggle }: { n: GNode; r: Rect; selected: boolean; onSelect: (n: GNode) => void; onToggle: (n: GNode) => void }): JSX.Element {
  if (n.kind === "junction") {
    return <circle cx={r.x + r.width / 2} cy={r.y + r.height / 2} r={4} class="junction" />;
  }
  const cls = `node node-${n.kind} ${phaseClass(n.phase)} ${selected ? "selected" : ""}`;
  const title = `${n.label}${n.detail ? ` — ${n.detail}` : ""}${n.phase ? ` (${n.phase})` : ""}`;
  const handlers = { tabindex: 0, role: "button" as const, "aria-label": n.kind === "more" ? `${n.label}: show more items` : `${title}; open its details`, onClick: () => onSelect(n), onKeyDown: activate(() => onSelect(n)) };
  if (n.kind === "more") {
    return (
      <g class={cls} {...handlers}>
        <title>{`${n.hidden} more items not drawn: show 200 more`}</title>
        <rect x={r.x} y={r.y} width={r.width} height={r.height} rx={r.height / 2} class="node-bg" />
        <text x={r.x + r.width / 2} y={r.y + r.height / 2 + 4} text-anchor="middle" class="node-label">
          {n.label}
        </text>
      </g>
    );
  }
  const maxChars = Math.floor((r.width - (n.toggle ? 58 : 40)) / 7.2);
  return (
    <g class={cls}>
      <g {...handlers}>
        <title>{title}</title>
        {n.kind === "fanout" ? (
          <>
            <rect x={r.x + 8} y={r.y - 6} width={r.width - 16} height={r.height} rx={6} class="node-stack" />
            <rect x={r.x + 4} y={r.y - 3} width={r.width - 8} height={r.height} rx={6} class="node-stack" />
          </>
        ) : null}
        <rect x={r.x} y={r.y} width={r.width} height={r.height} rx={6} class="node-bg" />
        <rect x={r.x} y={r.y} width={5} height={r.height} rx={2} class="node-strip fill" />
        <circle cx={r.x + 20} cy={r.y + 16} r={8} class="node-icon fill" />
        <text x={r.x + 20} y={r.y + 20} text-anchor="middle" class="node-icon-text" aria-hidden="true">
          {phaseSymbol(n.phase)}
        </text>
        <text x={r.x + 34} y={r.y + 20} class="node-label">
          {clip(n.label, maxChars)}
        </text>
        <text x={r.x + 34} y={r.y + 35} class="node-detail">
          {clip(n.detail, maxChars + 2)}
        </text>
        {n.kind === "fanout" ? <CountsBar n={n} x={r.x + 10} y={r.y + r.height - 10} w={r.width - 20} /> : null}
      </g>
      <Toggle n={n} x={r.x + r.width - 14} y={r.y + 14} onToggle={onToggle} />
    </g>
  );
}

function Legend() {
  const items: Array<[string, string]> = [
    ["Succeeded", "Succeeded"],
    ["Running", "Running"],
    ["Pending", "Pending"],
    ["Failed", "Failed / Error"],
    ["Skipped", "Skipped / Omitted"],
    ["none", "not started"],
  ];
  return (
    <div class="legend" aria-label="colours">
      {items.map(([p, label]) => (
        <span key={p} class="legend-item">
          <span class={`legend-swatch ${p === "none" ? "ph-none" : phaseClass(p)}`} aria-hidden="true" /> {label}
        </span>
      ))}
    </div>
  );
}
