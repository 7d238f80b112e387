// The engine's read model of workflows on disk, shared by every façade (the
// CLI's read commands, the `dflow ui` server, reports): a workflow directory
// read back as a summary and as a tree of steps in execution order, and the
// JSON shapes the CLI's --json and the server's /api/ both give. The step
// directories are the only truth: nothing here caches or writes.
import fs from "node:fs";
import path from "node:path";
import { readWorkflowRecord } from "../argo/store.js";
import { awaitsResume } from "../control.js";
import { lockAlive, readLock } from "../store/engine-dir.js";
import { readTextOrSync } from "../store/fsx.js";
import { type ArgoNodes, FINAL_PHASES, argoNodesOf, readStep, type ArgoStep } from "./steps-on-disk.js";
import type { StepNodeJson, WorkflowJson } from "./json.js";

export { FINAL_PHASES };

export function isFinal(phase: string | null): boolean {
  return phase !== null && FINAL_PHASES.has(phase);
}

const readText = (file: string): string | null => readTextOrSync(file, null);

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

/** "current/total" as a step reports it, or null. */
export function parseProgress(text: string | null): Progress | null {
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
  /** Running, and no new step starts until it is resumed. */
  suspended: boolean;
}

/** `progress`: when the caller has read the steps already (a tree), else counted here. */
export function readWorkflow(id: string, dir: string, progress?: Progress): WorkflowInfo {
  const recorded = readText(path.join(dir, "status")) ?? "Unknown";
  const type = readText(path.join(dir, "type"));
  // An Argo run that ended in Error (`status` says Failed, dflow's word for both) shows Argo's phase.
  const status = recorded === "Failed" && type === "Argo" && readWorkflowRecord(dir)?.phase === "Error" ? "Error" : recorded;
  const started = mtime(path.join(dir, "type")) ?? mtime(path.join(dir, "pid")) ?? mtime(path.join(dir, "status"));
  const finished = isFinal(status) ? mtime(path.join(dir, "status")) : null;
  const pidText = readText(path.join(dir, "pid"));
  return {
    id,
    dir,
    status,
    type,
    started,
    finished,
    duration: started === null ? null : Math.max(0, (finished ?? Date.now() / 1000) - started),
    progress: progress ?? podProgress(dir),
    message: readText(path.join(dir, "message")),
    pid: pidText === null ? null : Number.parseInt(pidText, 10),
    engine_alive: engineAlive(dir),
    suspended: !isFinal(status) && awaitsResume(dir),
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
  /** The Steps/DAG node it runs in (undefined at the top). */
  parent?: StepNode;
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

/** `argo`: the nodes of the workflow when it is an Argo run, read once for the steps of one tree (their artifacts). */
function safeReadStep(wfid: string, dir: string, argo: ArgoNodes): ArgoStep | null {
  try {
    // The tree needs phases and keys; a caller that wants a step's values reads them on first use.
    return readStep(wfid, dir, { lazyIO: true, argo });
  } catch {
    return null; // a file vanished or is half-written: not a step yet
  }
}

/** A node for `step`, registered under `order` in a parent of type `parentType`. */
function makeNode(step: ArgoStep, order: string, parentType: string | null, depth: number, parent?: StepNode): StepNode {
  // Order keys: "<i>-<j>" in a Steps template, "<i>" in a DAG; a fan-out appends "-<k>".
  const baseParts = parentType === "DAG" ? 1 : 2;
  const parts = order.split("-");
  const item = parts.length > baseParts && /^\d+$/.test(parts[baseParts]!) ? Number(parts[baseParts]) : null;
  return { step, order, item, progress: null, depth, children: [], parent };
}

/** The steps registered in `dir`'s children file, in order, each with its own subtree. */
function nodesUnder(wfid: string, wfdir: string, dir: string, parentType: string | null, depth: number, seen: Set<string>, argo: ArgoNodes, parent?: StepNode): StepNode[] {
  const entries = Object.entries(readChildren(dir)).sort((a, b) => compareOrder(a[0], b[0]));
  const out: StepNode[] = [];
  for (const [order, name] of entries) {
    const sdir = path.join(wfdir, name);
    if (seen.has(sdir)) continue;
    const step = safeReadStep(wfid, sdir, argo);
    if (!step) continue;
    seen.add(sdir);
    const node = makeNode(step, order, parentType, depth, parent);
    if (step.type !== "Pod") node.children = nodesUnder(wfid, wfdir, sdir, step.type, depth + 1, seen, argo, node);
    out.push(node);
  }
  return out;
}

/** Set every node's progress: a Pod's own report, a Steps/DAG node's succeeded/all Pods below; returns the total. */
function fillProgress(nodes: StepNode[]): Progress {
  const p = { current: 0, total: 0 };
  for (const n of nodes) {
    if (n.step.type === "Pod") {
      n.progress = parseProgress(n.step.progress);
      p.total++;
      if (n.step.phase === "Succeeded") p.current++;
    } else {
      n.progress = fillProgress(n.children);
      p.current += n.progress.current;
      p.total += n.progress.total;
    }
  }
  return p;
}

/**
 * The steps of a workflow as a tree in execution order: the `children` files
 * from the workflow directory down, order keys sorted numerically, Steps and
 * DAG steps as subtrees. A step directory no `children` file names yet (they
 * are written in batches while the workflow runs) is appended at the top.
 */
export function stepTree(wfid: string, wfdir: string): StepNode[] {
  return treeWithProgress(wfid, wfdir).nodes;
}

/** The tree and its succeeded/all Pod steps (a workflow's progress, without reading the steps again). */
function treeWithProgress(wfid: string, wfdir: string): { nodes: StepNode[]; progress: Progress } {
  const seen = new Set<string>();
  const argo = argoNodesOf(wfdir);
  const top = nodesUnder(wfid, wfdir, wfdir, readText(path.join(wfdir, "type")), 0, seen, argo);
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
    const step = safeReadStep(wfid, sdir, argo);
    if (step) orphans.push({ step, order: "?", item: null, progress: null, depth: 0, children: [] });
  }
  orphans.sort((a, b) => a.step.startedAt - b.step.startedAt);
  const nodes = [...top, ...orphans];
  return { nodes, progress: fillProgress(nodes) };
}

/**
 * One step's node, with its subtree and its parents, found through the
 * children files without reading the other steps (a click on one step of a
 * 10,000-step workflow reads its branch, not the tree). A step no children
 * file names yet is returned alone, at the top.
 */
export function findStep(wfid: string, wfdir: string, stepId: string): StepNode | null {
  const argo = argoNodesOf(wfdir);
  const search = (dir: string, parentType: string | null, depth: number, parent?: StepNode): StepNode | null => {
    const entries = Object.entries(readChildren(dir));
    const hit = entries.find(([, name]) => name === stepId);
    if (hit) {
      const step = safeReadStep(wfid, path.join(wfdir, stepId), argo);
      if (!step) return null;
      const node = makeNode(step, hit[0], parentType, depth, parent);
      if (step.type !== "Pod") node.children = nodesUnder(wfid, wfdir, step.dir, step.type, depth + 1, new Set(), argo, node);
      fillProgress([node]);
      return node;
    }
    for (const [order, name] of entries) {
      const sdir = path.join(wfdir, name);
      const type = readText(path.join(sdir, "type"));
      if (type === null || type === "Pod") continue;
      const step = safeReadStep(wfid, sdir, argo);
      if (!step) continue;
      const found = search(sdir, type, depth + 1, makeNode(step, order, parentType, depth, parent));
      if (found) return found;
    }
    return null;
  };
  const found = search(wfdir, readText(path.join(wfdir, "type")), 0);
  if (found) return found;
  const step = safeReadStep(wfid, path.join(wfdir, stepId), argo);
  if (!step) return null;
  const orphan: StepNode = { step, order: "?", item: null, progress: null, depth: 0, children: [] };
  fillProgress([orphan]);
  return orphan;
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

export function isoTime(epochSeconds: number | null): string | null {
  return epochSeconds === null ? null : new Date(epochSeconds * 1000).toISOString();
}

/** Steps as JSON: the tree, with every field of the human view. */
export function nodeJson(n: StepNode): StepNodeJson {
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

export function workflowJson(w: WorkflowInfo): WorkflowJson {
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
    suspended: w.suspended,
  };
}

/** The workflow directory of `id`, its summary and its step tree. */
export function snapshot(id: string, dir: string): { info: WorkflowInfo; nodes: StepNode[] } {
  const { nodes, progress } = treeWithProgress(id, dir);
  return { info: readWorkflow(id, dir, progress), nodes };
}

