// The timeline's model: one row per step the graph shows (a Pod step, a fan-out
// group while collapsed, a box and then its members), each with its start and
// end on one time axis; the axis' ticks; the stretches where nothing ran.
// Pure: components/Timeline.tsx draws it.
import { aggregatePhase, countPhases, countsText, ms, type PhaseCounts } from "./format";
import type { GraphModel } from "./graph";
import type { Phase, StepNode } from "./types";

export interface TimeRow {
  /** The graph node it shows. */
  nodeId: string;
  label: string;
  detail: string;
  depth: number;
  phase: Phase | null;
  /** Milliseconds since the epoch; null: not started. */
  start: number | null;
  /** null with a start: still running (drawn up to now). */
  end: number | null;
  /** The step to open on click, or null (fan-out group, planned). */
  stepId: string | null;
  kind: "step" | "group" | "box" | "planned" | "more";
  counts: PhaseCounts | null;
  /** A collapsed fan-out: how many of its items run at each instant, in `PROFILE_BUCKETS` buckets of its span. */
  profile: number[] | null;
}

export const PROFILE_BUCKETS = 60;

function spanOf(items: StepNode[]): [number | null, number | null, boolean] {
  let start: number | null = null;
  let end: number | null = null;
  let open = false;
  for (const it of items) {
    const s = ms(it.started);
    if (s === null) continue;
    if (start === null || s < start) start = s;
    const f = ms(it.finished);
    if (f === null) open = true;
    else if (end === null || f > end) end = f;
  }
  return [start, end, open];
}

/** How many intervals overlap each of `buckets` equal parts of [t0, t1] (an interval without an end runs to t1). */
export function concurrency(intervals: Array<[number, number | null]>, t0: number, t1: number, buckets: number): number[] {
  const out = new Array<number>(buckets).fill(0);
  const span = t1 - t0;
  if (!(span > 0) || buckets <= 0) {
    if (buckets > 0) out[0] = intervals.length;
    return out;
  }
  // A difference array: +1 where an interval starts, -1 after where it ends.
  const diff = new Array<number>(buckets + 1).fill(0);
  for (const [s, e] of intervals) {
    const a = Math.min(buckets - 1, Math.max(0, Math.floor(((s - t0) / span) * buckets)));
    const b = Math.min(buckets - 1, Math.max(a, Math.floor((((e ?? t1) - t0) / span) * buckets - 1e-9)));
    diff[a]! += 1;
    diff[b + 1]! -= 1;
  }
  let c = 0;
  for (let i = 0; i < buckets; i++) {
    c += diff[i]!;
    out[i] = c;
  }
  return out;
}

/** The rows of the timeline, in the graph's order (groups, then members of a box below it). */
export function timelineRows(model: GraphModel, now: number = Date.now()): TimeRow[] {
  const rows: TimeRow[] = [];
  for (const n of model.nodes) {
    if (n.kind === "junction") continue;
    if (n.kind === "more") {
      rows.push({ nodeId: n.id, label: n.label, detail: "", depth: n.depth, phase: null, start: null, end: null, stepId: null, kind: "more", counts: null, profile: null });
      continue;
    }
    if (n.kind === "planned") {
      rows.push({ nodeId: n.id, label: n.label, detail: n.detail, depth: n.depth, phase: null, start: null, end: null, stepId: null, kind: "planned", counts: null, profile: null });
      continue;
    }
    if (n.kind === "fanout") {
      const items = n.items ?? [];
      const [start, end, open] = spanOf(items);
      const counts = n.counts ?? countPhases(items.map((i) => i.phase));
      let profile: number[] | null = null;
      if (!n.cluster && start !== null) {
        const t1 = open || end === null ? Math.max(start + 1, now) : end;
        profile = concurrency(
          items.flatMap((i): Array<[number, number | null]> => {
            const s = ms(i.started);
            return s === null ? [] : [[s, ms(i.finished)]];
          }),
          start,
          t1,
          PROFILE_BUCKETS,
        );
      }
      const peak = profile ? Math.max(0, ...profile) : 0;
      rows.push({ nodeId: n.id, label: n.label, detail: `${countsText(counts)}${peak > 1 ? ` · up to ${peak} at once` : ""}`, depth: n.depth, phase: aggregatePhase(counts), start, end: open ? null : end, stepId: null, kind: "group", counts, profile });
      continue;
    }
    const s = n.step;
    if (!s) continue;
    rows.push({
      nodeId: n.id,
      label: n.label,
      detail: n.detail,
      depth: n.depth,
      phase: s.phase,
      start: ms(s.started),
      end: ms(s.finished),
      stepId: s.id,
      kind: n.kind === "box" ? "box" : "step",
      counts: null,
      profile: null,
    });
  }
  return rows;
}

/** The axis' range: the workflow's start to its end (or now), widened to every row. */
export function timeRange(rows: TimeRow[], wfStart: string | null, wfEnd: string | null, now: number): [number, number] {
  let t0 = ms(wfStart);
  let t1 = ms(wfEnd);
  let open = t1 === null;
  for (const r of rows) {
    if (r.start !== null && (t0 === null || r.start < t0)) t0 = r.start;
    if (r.start !== null && r.end === null && isRunning(r.phase)) open = true;
    if (r.end !== null && (t1 === null || r.end > t1)) t1 = r.end;
  }
  if (t0 === null) return [now - 1000, now];
  if (open) t1 = Math.max(t1 ?? now, now);
  if (t1 === null || t1 <= t0) t1 = t0 + 1000;
  return [t0, t1];
}

function isRunning(p: Phase | null): boolean {
  return p === "Running" || p === "Pending";
}

/** Where `t` falls on [t0, t1], as a fraction (0..1). */
export function fraction(t: number, t0: number, t1: number): number {
  if (t1 <= t0) return 0;
  return Math.min(1, Math.max(0, (t - t0) / (t1 - t0)));
}

const STEPS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000, 172_800_000, 604_800_000];

/** An offset from the start, short: "0", "250 ms", "1.5 s", "30 s", "2 m", "1 m 30 s", "1 h 15 m", "2 d". */
export function offsetLabel(d: number): string {
  if (d === 0) return "0";
  if (d < 1000) return `${Math.round(d)} ms`;
  if (d < 60_000) return `${Number((d / 1000).toFixed(d % 1000 ? 1 : 0))} s`;
  if (d < 3_600_000) {
    const m = Math.floor(d / 60_000);
    const s = Math.round((d % 60_000) / 1000);
    return s ? `${m} m ${s} s` : `${m} m`;
  }
  if (d < 86_400_000) {
    const h = Math.floor(d / 3_600_000);
    const m = Math.round((d % 3_600_000) / 60_000);
    return m ? `${h} h ${m} m` : `${h} h`;
  }
  const days = Math.floor(d / 86_400_000);
  const h = Math.round((d % 86_400_000) / 3_600_000);
  return h ? `${days} d ${h} h` : `${days} d`;
}

/** Ticks every 1, 2, 5, 10, 15, 30 s... (the smallest step giving at most `maxTicks`), labelled from t0. */
export function niceTicks(t0: number, t1: number, maxTicks: number): Array<{ t: number; label: string }> {
  const span = Math.max(1, t1 - t0);
  const n = Math.max(1, maxTicks);
  const step = STEPS_MS.find((s) => span / s <= n) ?? Math.ceil(span / n / 86_400_000) * 86_400_000;
  const out: Array<{ t: number; label: string }> = [];
  for (let d = 0; d <= span + 1e-6; d += step) out.push({ t: t0 + d, label: offsetLabel(d) });
  return out;
}

/**
 * The stretches of [t0, t1] in which no row ran (idle time: waiting for a queue,
 * a slow engine, a gap between groups), at least `minMs` long.
 */
export function idleGaps(rows: TimeRow[], t0: number, t1: number, minMs: number): Array<[number, number]> {
  const iv: Array<[number, number]> = [];
  for (const r of rows) {
    if (r.start === null || r.kind === "box") continue; // a box spans its members: they tell
    iv.push([r.start, r.end ?? t1]);
  }
  iv.sort((a, b) => a[0] - b[0]);
  const gaps: Array<[number, number]> = [];
  let cursor = t0;
  for (const [s, e] of iv) {
    if (s - cursor >= minMs) gaps.push([cursor, s]);
    cursor = Math.max(cursor, e);
  }
  if (t1 - cursor >= minMs && iv.length) gaps.push([cursor, t1]);
  return gaps;
}
