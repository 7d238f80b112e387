// Small pure helpers of the page: phases (their order, symbols and counts), durations, times.
import type { Phase } from "./types";

/** The phases in the order a count lists them (the ones to look at first). */
export const PHASES = ["Failed", "Error", "Running", "Pending", "Succeeded", "Skipped", "Omitted"] as const;

const FINAL = new Set(["Succeeded", "Failed", "Error", "Skipped", "Omitted"]);

export function isFinal(phase: Phase | null | undefined): boolean {
  return !!phase && FINAL.has(phase);
}

/** A workflow that still runs (or waits to): stop and suspend apply, retry does not. */
export function isActive(status: Phase | null | undefined): boolean {
  return !isFinal(status);
}

export function phaseSymbol(phase: Phase | null | undefined): string {
  switch (phase) {
    case "Succeeded":
      return "✔";
    case "Failed":
      return "✖";
    case "Error":
      return "⚠";
    case "Running":
      return "●";
    case "Pending":
      return "◷";
    case "Skipped":
      return "⤼";
    case "Omitted":
      return "○";
    default:
      return "·";
  }
}

/** A CSS class name for a phase (unknown phases and "not started" share `ph-none`). */
export function phaseClass(phase: Phase | null | undefined): string {
  return phase && /^[A-Za-z]+$/.test(phase) ? `ph-${phase}` : "ph-none";
}

export type PhaseCounts = Record<string, number>;

export function countPhases(phases: Iterable<Phase | null | undefined>): PhaseCounts {
  const c: PhaseCounts = {};
  for (const p of phases) {
    const k = p ?? "Pending";
    c[k] = (c[k] ?? 0) + 1;
  }
  return c;
}

export function totalOf(c: PhaseCounts): number {
  let n = 0;
  for (const k in c) n += c[k]!;
  return n;
}

/**
 * The phase a group of steps shows: running while any member runs or waits
 * and another has started, failed once a member failed and none is left to run,
 * succeeded when all succeeded (skipped members aside).
 */
export function aggregatePhase(c: PhaseCounts): Phase | null {
  const n = (p: string) => c[p] ?? 0;
  const total = totalOf(c);
  if (total === 0) return null;
  if (n("Running") > 0) return "Running";
  if (n("Pending") > 0) return n("Pending") === total ? "Pending" : "Running";
  if (n("Failed") > 0) return "Failed";
  if (n("Error") > 0) return "Error";
  if (n("Succeeded") > 0) return "Succeeded";
  if (n("Skipped") > 0) return "Skipped";
  if (n("Omitted") > 0) return "Omitted";
  // Unknown phases only: show the most common.
  return Object.entries(c).sort((a, b) => b[1] - a[1])[0]![0];
}

/** "990 ✔ 10 ✖" — the non-zero counts, the ones to look at first first. */
export function countsText(c: PhaseCounts): string {
  const known = new Set<string>(PHASES);
  const parts: string[] = [];
  for (const p of PHASES) if (c[p]) parts.push(`${c[p]} ${phaseSymbol(p)}`);
  for (const p of Object.keys(c).sort()) if (!known.has(p) && c[p]) parts.push(`${c[p]} ${p}`);
  return parts.join(" ");
}

/** "3/14" -> [3, 14]; anything else -> null. */
export function parseProgress(p: string | null | undefined): [number, number] | null {
  const m = p ? /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(p) : null;
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/** Seconds, as people read them: "16 ms", "1.08 s", "10.6 s", "3 m 05 s", "2 h 03 m", "3 d 4 h". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "";
  const s = Math.max(0, seconds);
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 60) return `${s.toFixed(1)} s`;
  const t = Math.round(s);
  if (t < 3600) return `${Math.floor(t / 60)} m ${String(t % 60).padStart(2, "0")} s`;
  if (t < 86400) return `${Math.floor(t / 3600)} h ${String(Math.floor((t % 3600) / 60)).padStart(2, "0")} m`;
  return `${Math.floor(t / 86400)} d ${Math.floor((t % 86400) / 3600)} h`;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, "0");
}

/** An ISO time in local time: "12:51:06" today, "2026-12-03 12:51:06" another day. */
export function formatTime(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const sameDay = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  return sameDay ? time : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

/** Milliseconds since the epoch, or null. */
export function ms(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

/** How long something has run: its duration once done, or from its start until now. */
export function elapsed(started: string | null, finished: string | null, duration: number | null, now: number): number | null {
  if (duration !== null && duration !== undefined && finished) return duration;
  const s = ms(started);
  if (s === null) return duration ?? null;
  const f = ms(finished);
  return ((f ?? now) - s) / 1000;
}

/** Bytes: "812 B", "12.3 kB", "4.5 MB". */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "";
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = n;
  let i = -1;
  do {
    v /= 1000;
    i++;
  } while (v >= 1000 && i < units.length - 1);
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** A parameter's value as text: strings as they are, everything else as indented JSON. */
export function formatValue(v: unknown): string {
  if (typeof v === "string") {
    const t = v.trim();
    if ((t.startsWith("{") && t.endsWith("}")) || (t.startsWith("[") && t.endsWith("]"))) {
      try {
        return JSON.stringify(JSON.parse(t), null, 2);
      } catch {
        // not JSON after all
      }
    }
    return v;
  }
  if (v === undefined) return "";
  try {
    return JSON.stringify(v, null, 2);
  } catch {
    return String(v);
  }
}
