// The timeline: one bar per step the graph shows (per fan-out group while it is
// collapsed, with how many of its items ran at each moment drawn inside), on
// one time axis from the workflow's start, so that slow steps stand out and
// idle stretches (nothing running) show hatched.
import { useEffect, useRef, useState } from "preact/hooks";
import { formatDuration, formatTime, phaseClass, phaseSymbol } from "../lib/format";
import type { GNode, GraphModel } from "../lib/graph";
import { fraction, idleGaps, niceTicks, type TimeRow } from "../lib/timeline";

function pct(f: number): string {
  return `${(f * 100).toFixed(3)}%`;
}

export function Timeline({ rows, range, now, selected, onSelect, model, onToggle }: { rows: TimeRow[]; range: [number, number]; now: number; selected: string | null; onSelect: (n: GNode) => void; model: GraphModel; onToggle: (n: GNode) => void }) {
  const track = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(800);
  useEffect(() => {
    const el = track.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(el.clientWidth || 800));
    ro.observe(el);
    setWidth(el.clientWidth || 800);
    return () => ro.disconnect();
  }, []);
  const [t0, t1] = range;
  const ticks = niceTicks(t0, t1, Math.max(2, Math.floor(width / 90)));
  const gaps = idleGaps(rows, t0, t1, Math.max(50, (t1 - t0) * 0.02));
  const byId = new Map(model.nodes.map((n) => [n.id, n]));
  const idle = gaps.reduce((s, [a, b]) => s + (b - a), 0);

  return (
    <div class="timeline">
      <div class="tl-summary muted small">
        {formatTime(new Date(t0).toISOString())} → {formatTime(new Date(t1).toISOString())} · {formatDuration((t1 - t0) / 1000)}
        {gaps.length ? ` · idle ${formatDuration(idle / 1000)} (hatched: no step running)` : ""}
      </div>
      <div class="tl-grid">
        <div class="tl-head tl-label">Step</div>
        <div class="tl-head tl-axis" ref={track}>
          {ticks.map((t) => (
            <span key={t.t} class="tl-tick" style={{ left: pct(fraction(t.t, t0, t1)) }}>
              {t.label}
            </span>
          ))}
        </div>
        <div class="tl-rows">
          <div class="tl-overlay" aria-hidden="true">
            {ticks.map((t) => (
              <span key={t.t} class="tl-gridline" style={{ left: pct(fraction(t.t, t0, t1)) }} />
            ))}
            {gaps.map(([a, b]) => (
              <span key={a} class="tl-idle" style={{ left: pct(fraction(a, t0, t1)), width: pct(fraction(b, t0, t1) - fraction(a, t0, t1)) }} title={`idle ${formatDuration((b - a) / 1000)}`} />
            ))}
          </div>
          {rows.map((r) => {
            const n = byId.get(r.nodeId);
            return <Row key={r.nodeId} r={r} n={n} t0={t0} t1={t1} now={now} selected={selected === r.nodeId} onSelect={onSelect} onToggle={onToggle} />;
          })}
        </div>
      </div>
      {rows.length === 0 ? <p class="empty">No step has started yet.</p> : null}
    </div>
  );
}

function Row({ r, n, t0, t1, now, selected, onSelect, onToggle }: { r: TimeRow; n: GNode | undefined; t0: number; t1: number; now: number; selected: boolean; onSelect: (n: GNode) => void; onToggle: (n: GNode) => void }) {
  const end = r.end ?? (r.start !== null ? Math.min(now, t1) : null);
  const a = r.start !== null ? fraction(r.start, t0, t1) : 0;
  const b = end !== null ? fraction(end, t0, t1) : a;
  const dur = r.start !== null && end !== null ? (end - r.start) / 1000 : null;
  const tip = r.start !== null ? `${r.label}: ${r.phase ?? ""} · ${formatTime(new Date(r.start).toISOString())} → ${r.end ? formatTime(new Date(r.end).toISOString()) : "running"} · ${formatDuration(dur)}${r.detail ? ` · ${r.detail}` : ""}` : `${r.label}: ${r.detail || "not started"}`;
  const click = () => n && onSelect(n);
  const maxProfile = r.profile ? Math.max(1, ...r.profile) : 1;
  return (
    <div class={`tl-row tl-${r.kind} ${selected ? "selected" : ""}`}>
      <div class="tl-label" style={{ paddingLeft: `${6 + r.depth * 14}px` }}>
        {n?.toggle ? (
          <button type="button" class="tl-toggle" aria-expanded={n.toggle === "open"} aria-label={`${n.toggle === "open" ? "collapse" : "expand"} ${n.label}`} onClick={() => onToggle(n)}>
            {n.toggle === "open" ? "▾" : "▸"}
          </button>
        ) : (
          <span class="tl-toggle-space" />
        )}
        <button type="button" class="tl-name" onClick={click} title={tip}>
          <span class={`ph-text ${phaseClass(r.phase)}`} aria-hidden="true">
            {phaseSymbol(r.phase)}
          </span>{" "}
          {r.label}
          {r.kind === "group" && r.detail ? <span class="muted small"> {r.detail}</span> : null}
        </button>
      </div>
      <div class="tl-track" onClick={click} title={tip}>
        {r.start !== null ? (
          <span class={`tl-bar ${phaseClass(r.phase)} ${r.end === null ? "tl-open" : ""}`} style={{ left: pct(a), width: `max(2px, ${pct(b - a)})` }}>
            {r.profile ? (
              <svg class="tl-profile" viewBox={`0 0 ${r.profile.length} ${maxProfile}`} preserveAspectRatio="none" aria-hidden="true">
                <path d={`M0,${maxProfile} ${r.profile.map((v, i) => `L${i},${maxProfile - v} L${i + 1},${maxProfile - v}`).join(" ")} L${r.profile.length},${maxProfile} Z`} />
              </svg>
            ) : null}
          </span>
        ) : null}
        {dur !== null && r.kind !== "box" ? (
          <span class={`tl-dur ${b > 0.85 && a < 0.15 ? "tl-dur-in" : ""}`} style={b <= 0.85 ? { left: `calc(${pct(b)} + 4px)` } : a >= 0.15 ? { right: `calc(${pct(1 - a)} + 4px)` } : { left: `calc(${pct(a)} + 6px)` }}>
            {formatDuration(dur)}
          </span>
        ) : null}
      </div>
    </div>
  );
}
