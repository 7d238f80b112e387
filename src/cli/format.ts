// Shared by the read commands (list, get, logs, watch, getkeys, download,
// delete): reading a workflow directory back as a summary and as a tree of
// steps in execution order, step selection, and the human formats
// (durations as `argo get` prints them, tables, progress bars).
import fs from "node:fs";
import path from "node:path";
import { isSuspended } from "../../engine/control.js";
import { lockAlive, readLock } from "../../engine/store/engine-dir.js";
import { readStep, type ArgoStep } from "../query.js";
import { CliError } from "./command.js";

export { command } from "./command.js";

// ---------------------------------------------------------------- reading

export const FINAL_PHASES = new Set(["Succeeded", "Failed", "Error", "Skipped", "Omitted"]);

export function isFinal(phase: string | null): boolean {
  return phase !== null && FINAL_PHASES.has(phase);
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

function mtime(file: string): number | null {
  try {
    return fs.statSync(file).mtimeMs / 1000;
  } catch {
    return null;
  }
}

export interface Progress {
  current: number;
  total: number;
}

export function progressText(p: Progress | null): string {
  return p ? `${p.current}/${p.total}` : "";
}

/** A step's own progress, from `<stepdir>/progress` ("current/total"), when the engine recorded one. */
export function readProgressFile(dir: string): Progress | null {
  const text = readText(path.join(dir, "progress"));
  const m = text === null ? null : /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  return m ? { current: Number(m[1]), total: Number(m[2]) } : null;
}

/** Succeeded Pod steps / all Pod step directories of the workflow. */
export function podProgress(wfdir: string): Progress {
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(wfdir, { withFileTypes: true });
  } catch {
    // gone meanwhile
  }
  const p = { current: 0, total: 0 };
  for (const e of entries) {
    if (!e.isDirectory() || e.name.startsWith(".")) continue;
    const dir = path.join(wfdir, e.name);
    if (readText(path.join(dir, "type")) !== "Pod" || readText(path.join(dir, "name")) === null) continue;
    p.total++;
    if (readText(path.join(dir, "phase")) === "Succeeded") p.current++;
  }
  return p;
}

/** Whether the engine named by `<wfdir>/pid` runs (null when there is no pid file). */
export function engineAlive(wfdir: string): boolean | null {
  // The engine's lock knows its host and start time, so a reused pid is not
  // mistaken for it; without a lock (a finished run) fall back to the pid file.
  const lock = readLock(wfdir);
  if (lock) return lockAlive(lock);
  const text = readText(path.join(wfdir, "pid"));
  const pid = text === null ? NaN : Number.parseInt(text, 10);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface WorkflowInfo {
  id: string;
  dir: string;
  /** The `status` file: Running, Succeeded or Failed. */
  status: string;
  /** Steps or DAG. */
  type: string | null;
  /** Seconds since the epoch: the engine's (last) start (the `type` file, written at each submit). */
  started: number | null;
  /** When the status became final, null while it runs. */
  finished: number | null;
  /** Seconds, to now while running. */
  duration: number | null;
  progress: Progress;
  message: string | null;
  pid: number | null;
  /** Whether the engine process is alive (null: no pid file). */
  engine_alive: boolean | null;
}

export function readWorkflow(id: string, dir: string): WorkflowInfo {
  const status = readText(path.join(dir, "status")) ?? "Unknown";
  const started = mtime(path.join(dir, "type")) ?? mtime(path.join(dir, "pid")) ?? mtime(path.join(dir, "status"));
  const finished = isFinal(status) ? mtime(path.join(dir, "status")) : null;
  const pidText = readText(path.join(dir, "pid"));
  return {
    id,
    dir,
    status,
    type: readText(path.join(dir, "type")),
    started,
    finished,
    duration: started === null ? null : Math.max(0, (finished ?? Date.now() / 1000) - started),
    progress: podProgress(dir),
    message: readText(path.join(dir, "message")),
    pid: pidText === null ? null : Number.parseInt(pidText, 10),
    engine_alive: engineAlive(dir),
  };
}

/** Every workflow directory (one with a `status` file) directly under `root`. */
export function listWorkflowDirs(root: string): { id: string; dir: string }[] {
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith(".") && fs.existsSync(path.join(root, e.name, "status")))
    .map((e) => ({ id: e.name, dir: path.join(root, e.name) }));
}

/** One executed step, placed in the tree of its parents' `children` files. */
export interface StepNode {
  step: ArgoStep;
  /** The order key in its parent's `children` file ("?" for a step not registered there yet). */
  order: string;
  /** The item index of a fan-out (with_param, with_sequence, slices), else null. */
  item: number | null;
  /** The step's own progress (Pod), or its succeeded/all Pod steps below it (Steps, DAG). */
  progress: Progress | null;
  depth: number;
  children: StepNode[];
}

/** The step name as `get` shows it: `name`, or `name(k)` for item k of a fan-out. */
export function label(n: StepNode): string {
  return n.item === null ? n.step.displayName : `${n.step.displayName}(${n.item})`;
}

/** Compare order keys numerically part by part ("1-0-10" after "1-0-2"). */
export function compareOrder(a: string, b: string): number {
  const pa = a.split("-");
  const pb = b.split("-");
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if (pa[i] === undefined) return -1;
    if (pb[i] === undefined) return 1;
    const d = Number(pa[i]) - Number(pb[i]);
    if (d !== 0 && !Number.isNaN(d)) return d;
    if (pa[i] !== pb[i]) return pa[i]! < pb[i]! ? -1 : 1;
  }
  return 0;
}

function readChildren(dir: string): Record<string, string> {
  const text = readText(path.join(dir, "children"));
  if (!text) return {};
  try {
    return JSON.parse(text) as Record<string, string>;
  } catch {
    return {}; // being rewritten: read again on the next look
  }
}

function safeReadStep(wfid: string, dir: string): ArgoStep | null {
  try {
    return readStep(wfid, dir);
  } catch {
    return null; // a file vanished or is half-written: not a step yet
  }
}

/**
 * The steps of a workflow as a tree in execution order: the `children` files
 * from the workflow directory down, order keys sorted numerically, Steps and
 * DAG steps as subtrees. A step directory no `children` file names yet (they
 * are written in batches while the workflow runs) is appended at the top.
 */
export function stepTree(wfid: string, wfdir: string): StepNode[] {
  const seen = new Set<string>();
  const walk = (dir: string, parentType: string | null, depth: number): StepNode[] => {
    // Order keys: "<i>-<j>" in a Steps template, "<i>" in a DAG; a fan-out appends "-<k>".
    const baseParts = parentType === "DAG" ? 1 : 2;
    const entries = Object.entries(readChildren(dir)).sort((a, b) => compareOrder(a[0], b[0]));
    const out: StepNode[] = [];
    for (const [order, name] of entries) {
      const sdir = path.join(wfdir, name);
      if (seen.has(sdir)) continue;
      const step = safeReadStep(wfid, sdir);
      if (!step) continue;
      seen.add(sdir);
      const parts = order.split("-");
      const item = parts.length > baseParts && /^\d+$/.test(parts[baseParts]!) ? Number(parts[baseParts]) : null;
      const node: StepNode = { step, order, item, progress: null, depth, children: [] };
      if (step.type !== "Pod") node.children = walk(sdir, step.type, depth + 1);
      out.push(node);
    }
    return out;
  };
  const top = walk(wfdir, readText(path.join(wfdir, "type")), 0);
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(wfdir, { withFileTypes: true });
  } catch {
    // gone meanwhile
  }
  const orphans: StepNode[] = [];
  for (const e of entries) {
    const sdir = path.join(wfdir, e.name);
    if (!e.isDirectory() || e.name.startsWith(".") || seen.has(sdir)) continue;
    const step = safeReadStep(wfid, sdir);
    if (step) orphans.push({ step, order: "?", item: null, progress: null, depth: 0, children: [] });
  }
  orphans.sort((a, b) => a.step.startedAt - b.step.startedAt);
  const all = [...top, ...orphans];
  const fill = (n: StepNode): Progress => {
    if (n.step.type === "Pod") {
      n.progress = readProgressFile(n.step.dir);
      return { current: n.step.phase === "Succeeded" ? 1 : 0, total: 1 };
    }
    const p = { current: 0, total: 0 };
    for (const c of n.children) {
      const q = fill(c);
      p.current += q.current;
      p.total += q.total;
    }
    n.progress = p;
    return p;
  };
  for (const n of all) fill(n);
  return all;
}

/** The nodes of a tree, depth first (execution order). */
export function flatten(nodes: StepNode[]): StepNode[] {
  return nodes.flatMap((n) => [n, ...flatten(n.children)]);
}

/**
 * The steps `sel` names: the step whose key or directory (id) it is, else
 * every step of that name (or `name(k)` label), in execution order.
 */
export function selectSteps(nodes: StepNode[], sel: string): StepNode[] {
  const all = flatten(nodes);
  const byKey = all.filter((n) => n.step.key === sel || n.step.id === sel);
  if (byKey.length) return byKey;
  const byName = all.filter((n) => n.step.displayName === sel);
  if (byName.length) return byName;
  return all.filter((n) => label(n) === sel);
}

/** The Pod steps at or below the given nodes, in execution order, each once. */
export function podsOf(nodes: StepNode[]): StepNode[] {
  const seen = new Set<string>();
  const out: StepNode[] = [];
  for (const n of nodes) {
    for (const m of flatten([n])) {
      if (m.step.type === "Pod" && !seen.has(m.step.id)) {
        seen.add(m.step.id);
        out.push(m);
      }
    }
  }
  return out;
}

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

export function isoTime(epochSeconds: number | null): string | null {
  return epochSeconds === null ? null : new Date(epochSeconds * 1000).toISOString();
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

/** Steps as JSON: the tree, with every field of the human view. */
export function nodeJson(n: StepNode): Record<string, unknown> {
  const s = n.step;
  return {
    name: s.displayName,
    id: s.id,
    key: s.key,
    type: s.type,
    phase: s.phase,
    order: n.order,
    item: n.item,
    started: isoTime(s.startedAt || null),
    finished: isoTime(s.finishedAt),
    duration: s.startedAt ? s.duration : null,
    progress: n.progress ? progressText(n.progress) : null,
    message: s.message,
    dir: s.dir,
    children: n.children.map(nodeJson),
  };
}

export function workflowJson(w: WorkflowInfo): Record<string, unknown> {
  return {
    id: w.id,
    status: w.status,
    type: w.type,
    started: isoTime(w.started),
    finished: isoTime(w.finished),
    duration: w.duration,
    progress: progressText(w.progress),
    message: w.message,
    dir: w.dir,
    pid: w.pid,
    engine_alive: w.engine_alive,
    suspended: !isFinal(w.status) && isSuspended(w.dir),
  };
}

/** "Running", "Running (suspended)", or "Running (engine gone)" when the engine that ran it is no longer alive. */
export function statusText(w: WorkflowInfo): string {
  if (!isFinal(w.status) && w.engine_alive === false) return `${w.status} (engine gone)`;
  return !isFinal(w.status) && isSuspended(w.dir) ? `${w.status} (suspended)` : w.status;
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

/** The workflow directory of `id`, its summary and its step tree. */
export function snapshot(id: string, dir: string): { info: WorkflowInfo; nodes: StepNode[] } {
  return { info: readWorkflow(id, dir), nodes: stepTree(id, dir) };
}

