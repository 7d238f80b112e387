// Shared by the read commands (list, get, logs, watch, getkeys, download,
// delete): the human formats (durations as `argo get` prints them, tables,
// progress bars), over the engine's read model (engine/api/read.ts), which
// this module passes on so that the commands have one place to import from.
import { type Progress, type StepNode, type WorkflowInfo, isFinal, label, progressText } from "../../engine/api/read.js";

export { command } from "./command.js";
// The read model lives in the engine (engine/api/read.ts); the commands take it from here.
export * from "../../engine/api/read.js";

// ---------------------------------------------------------------- formats

/** A duration as `argo get` prints it: "0s", "3s", "1m 5s", "2h 3m", "1d 4h". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "";
  const s = Math.max(0, Math.floor(seconds));
  const units: [string, number][] = [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]];
  const i = units.findIndex(([, n]) => s >= n);
  if (i < 0 || i === units.length - 1) return `${s}s`;
  const [u, n] = units[i]!;
  const [u2, n2] = units[i + 1]!;
  const rest = Math.floor((s % n) / n2);
  return rest ? `${Math.floor(s / n)}${u} ${rest}${u2}` : `${Math.floor(s / n)}${u}`;
}

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

/** Local time "YYYY-MM-DD HH:MM:SS". */
export function formatTime(epochSeconds: number | null): string {
  if (epochSeconds === null) return "";
  const d = new Date(epochSeconds * 1000);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

export function formatClock(d = new Date()): string {
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

const SYMBOLS: Record<string, string> = { Succeeded: "✔", Failed: "✖", Error: "⚠", Running: "●", Pending: "◷" };

export function phaseSymbol(phase: string): string {
  return SYMBOLS[phase] ?? "○";
}

/** `[████░░░░░░] 4/10` */
export function progressBar(p: Progress | null, width = 20): string {
  if (!p || p.total <= 0) return "";
  const frac = Math.min(1, Math.max(0, p.current / p.total));
  const full = Math.round(frac * width);
  return `[${"█".repeat(full)}${"░".repeat(width - full)}] ${p.current}/${p.total}`;
}

/**
 * A step message reduced to its reason for a table cell: the first line,
 * without the "workflow x, step y: " prefix the row already says, and without
 * the "; last lines of <log>:" tail (`dflow logs` shows the log).
 */
export function shortMessage(message: string | null): string {
  if (!message) return "";
  let m = message.trim().split("\n")[0] ?? "";
  m = m.replace(/^(Step \S+ failed: )?workflow \S+, step \S+: /, "");
  m = m.replace(/; last lines of \S+:$/, "");
  return m;
}

function width(s: string): number {
  return [...s].length;
}

/** Rows as left-aligned columns separated by two spaces; trailing blanks trimmed. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, width(c))));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + " ".repeat(widths[i]! - width(c)))).join("  ").trimEnd()).join("\n");
}

/** "Running", "Running (suspended)", or "Running (engine gone)" when the engine that ran it is no longer alive. */
export function statusText(w: WorkflowInfo): string {
  if (!isFinal(w.status) && w.engine_alive === false) return `${w.status} (engine gone)`;
  return w.suspended ? `${w.status} (suspended)` : w.status;
}

/** The `argo get`-like view of a workflow: a header, then the step tree. */
export function renderWorkflow(w: WorkflowInfo, nodes: StepNode[], opts: { bars?: boolean } = {}): string {
  const head: string[][] = [
    ["Name:", w.id],
    ["Status:", statusText(w)],
    ["Type:", w.type ?? ""],
    ["Started:", formatTime(w.started)],
  ];
  if (w.finished !== null) head.push(["Finished:", formatTime(w.finished)]);
  head.push(["Duration:", formatDuration(w.duration)]);
  head.push(["Progress:", opts.bars ? progressBar(w.progress) : progressText(w.progress)]);
  if (w.message) head.push(["Message:", shortMessage(w.message)]);
  const rows: string[][] = [["STEP", "ID", "KEY", "TYPE", "PHASE", "DURATION", "PROGRESS", "MESSAGE"]];
  rows.push([`${phaseSymbol(w.status)} ${w.id}`, "", "", w.type ?? "", w.status, formatDuration(w.duration), progressText(w.progress), ""]);
  const walk = (list: StepNode[], prefix: string): void => {
    list.forEach((n, i) => {
      const last = i === list.length - 1;
      const s = n.step;
      const prog = opts.bars && s.type === "Pod" ? progressBar(n.progress, 10) : progressText(n.progress);
      rows.push([
        `${prefix}${last ? "└─" : "├─"}${phaseSymbol(s.phase)} ${label(n)}`,
        s.id,
        s.key ?? "",
        s.type,
        s.phase,
        s.startedAt ? formatDuration(s.duration) : "",
        prog,
        shortMessage(s.message),
      ]);
      walk(n.children, prefix + (last ? "  " : "│ "));
    });
  };
  walk(nodes, "");
  return `${table(head)}\n\n${table(rows)}\n`;
}

