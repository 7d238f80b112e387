// Live changes of the workflows under a work directory, for every client at
// once: one chokidar watcher per watched workflow (and one for the list),
// shared by all subscribers, started with the first and closed with the
// last. File events are gathered and sent in batches (every FLUSH_MS): the
// engine writes a step's files one after another, and a 10,000-step fan-out
// finishes hundreds of steps a second, which no page wants one by one.
import path from "node:path";
import { type FSWatcher, watch } from "chokidar";
import { readStep } from "./steps-on-disk.js";
import { type StepNode, nodeJson } from "./read.js";
import type { WorkflowStore } from "./workflows.js";
import type { StepPatchJson, WorkflowEventJson, WorkflowJson } from "./json.js";

const FLUSH_MS = 250;
/**
 * A re-read of the summary or the tree touches every step: it is repeated
 * no sooner than HEAVY_FACTOR times what the last one took (every flush for
 * a small workflow, every few seconds at 10,000 steps), so that watching
 * costs the server a few percent of a core at most.
 */
const HEAVY_FACTOR = 20;

/** What a subscriber hears (the server adds "hello" of its own). */
export type WorkflowEvent = Exclude<WorkflowEventJson, { type: "hello" }>;

type Listener = (e: WorkflowEvent) => void;

/** A summary as compared for "changed": without its duration, which moves on by itself while it runs. */
function sameness(w: WorkflowJson): string {
  return JSON.stringify({ ...w, duration: null });
}

function patchOf(wfid: string, dir: string): StepPatchJson | null {
  let s;
  try {
    s = readStep(wfid, dir, { lazyIO: true });
  } catch {
    return null; // half-written: the next event reads it again
  }
  if (!s) return null;
  const { children: _c, order: _o, item: _i, progress: _p, ...n } = nodeJson({ step: s, order: "", item: null, progress: null, depth: 0, children: [] } as StepNode);
  // A Steps/DAG node's progress counts the Pod steps below it, which a patch of the node alone does not know.
  return s.type === "Pod" ? { ...n, progress: s.progress?.trim() || null } : n;
}

/** Directories below a step directory (workdir, inputs, attempts...) and temp files are not watched. */
function ignoredUnder(root: string, maxDirDepth: number) {
  return (p: string, stats?: { isDirectory(): boolean }) => {
    const rel = path.relative(root, p);
    if (!rel) return false;
    const parts = rel.split(path.sep);
    const base = parts[parts.length - 1]!;
    if (base.includes(".tmp-")) return true;
    if (parts.length > maxDirDepth + 1) return true;
    return parts.length === maxDirDepth + 1 && stats?.isDirectory() === true;
  };
}

/** A subscription: `ready` resolves once the watcher sees every later change (chokidar's first scan is done). */
export interface Subscription {
  off: () => void;
  ready: Promise<void>;
}

class Hub {
  private readonly listeners = new Set<Listener>();
  private watcher: FSWatcher | null = null;
  private readyPromise: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private heavyAt = 0;
  /** Milliseconds the last heavy re-read took. */
  heavyCost = 0;
  protected closed = false;

  constructor(private readonly start: (hub: Hub) => FSWatcher) {}

  add(l: Listener): Subscription {
    this.listeners.add(l);
    if (!this.watcher) {
      const w = (this.watcher = this.start(this));
      // A change made while chokidar still scans is not reported: a client reads the state only after this.
      this.readyPromise = new Promise<void>((resolve) => w.once("ready", () => resolve()));
    }
    return {
      ready: this.readyPromise!,
      off: () => {
        this.listeners.delete(l);
        if (this.listeners.size === 0) this.close();
      },
    };
  }

  get size(): number {
    return this.listeners.size;
  }

  emit(e: WorkflowEvent): void {
    for (const l of this.listeners) l(e);
  }

  /** Run `flush` within FLUSH_MS (once, however many events came). */
  schedule(flush: (heavyDue: boolean) => void): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const now = Date.now();
      const heavyDue = now - this.heavyAt >= Math.max(FLUSH_MS, HEAVY_FACTOR * this.heavyCost);
      if (heavyDue) this.heavyAt = now;
      flush(heavyDue);
    }, FLUSH_MS);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    void this.watcher?.close();
    this.watcher = null;
  }
}

export class Watcher {
  private readonly workflows = new Map<string, Hub>();
  private list: Hub | null = null;

  constructor(private readonly store: WorkflowStore) {}

  /** Changes of one workflow: its summary, its steps, its tree, its logs. */
  workflow(id: string, listener: Listener): Subscription {
    const wfdir = this.store.dirOf(id);
    let hub = this.workflows.get(id);
    if (!hub) {
      const dirty = new Set<string>();
      const logs = new Set<string>();
      let tree = false;
      let summary = false;
      let treePending = false;
      let summaryPending = false;
      const flush = (heavyDue: boolean) => {
        const h = hub!;
        const steps = [...dirty].map((d) => patchOf(id, path.join(wfdir, d))).filter((p): p is StepPatchJson => p !== null);
        dirty.clear();
        if (steps.length) h.emit({ type: "steps", data: { steps } });
        for (const s of logs) h.emit({ type: "log", data: { step: s } });
        logs.clear();
        treePending ||= tree;
        summaryPending ||= summary;
        tree = summary = false;
        // The tree and the summary read every step: not more often than HEAVY_FACTOR times their cost; what is left waits.
        if (heavyDue) {
          if (treePending) h.emit({ type: "tree", data: { id } });
          if (summaryPending) {
            const t0 = Date.now();
            try {
              h.emit({ type: "workflow", data: this.store.summary(id, wfdir) });
            } catch {
              h.emit({ type: "removed", data: { id } });
            }
            h.heavyCost = Date.now() - t0;
          }
          treePending = summaryPending = false;
        }
        if (treePending || summaryPending) h.schedule(flush);
      };
      hub = new Hub((h) => {
        const w = watch(wfdir, { ignoreInitial: true, depth: 1, ignored: ignoredUnder(wfdir, 1) });
        // A file gone between its event and chokidar's look at it: the next event tells the rest.
        w.on("error", () => undefined);
        w.on("all", (event, file) => {
          const parts = path.relative(wfdir, file).split(path.sep);
          if (parts.length === 1 && parts[0] === "") {
            if (event === "unlinkDir") h.emit({ type: "removed", data: { id } });
            return;
          }
          if (parts.length === 1) {
            // A file of the workflow (status, message, children) or a new/removed step directory.
            if (event === "addDir" || event === "unlinkDir" || parts[0] === "children") tree = true;
            summary = true;
          } else {
            const [step, name] = parts as [string, string];
            // .engine/: only the suspend marker shows (in the summary); the journal and the lock do not.
            if (step.startsWith(".")) {
              if (step !== ".engine" || name !== "suspended") return;
              summary = true;
            } else if (name === "log.txt") logs.add(step);
            else if (name === "children") tree = true;
            else {
              dirty.add(step);
              if (name === "phase") summary = true;
            }
          }
          h.schedule(flush);
        });
        return w;
      });
      this.workflows.set(id, hub);
    }
    const h = hub;
    const sub = h.add(listener);
    return {
      ready: sub.ready,
      off: () => {
        sub.off();
        if (h.size === 0 && this.workflows.get(id) === h) this.workflows.delete(id);
      },
    };
  }

  /** Changes of the list: a workflow added, changed (status, progress) or removed. */
  workflowList(listener: Listener): Subscription {
    if (!this.list) {
      const root = this.store.root;
      const dirty = new Set<string>();
      /** What each client was last sent of each workflow (a client joining later gets the list by GET first). */
      const last = new Map<string, string>();
      let running = 0;
      const flush = (heavyDue: boolean) => {
        const h = this.list!;
        // Running workflows change their progress without a file of their own changing: re-read them now and then.
        const t0 = Date.now();
        const send = (w: WorkflowJson) => {
          const key = sameness(w);
          if (last.get(String(w.id)) === key) return;
          last.set(String(w.id), key);
          h.emit({ type: "workflow", data: w });
        };
        if (heavyDue) {
          const now = this.store.list({ status: "Running" });
          running = now.length;
          for (const w of now) {
            dirty.delete(String(w.id));
            send(w);
          }
        }
        for (const id of dirty) {
          try {
            send(this.store.summary(id));
          } catch {
            if (last.delete(id)) h.emit({ type: "removed", data: { id } });
          }
        }
        dirty.clear();
        if (heavyDue) h.heavyCost = Date.now() - t0;
        if (running) h.schedule(flush);
      };
      this.list = new Hub((h) => {
        const w = watch(root, { ignoreInitial: true, depth: 1, ignored: ignoredUnder(root, 1) });
        w.on("error", () => undefined);
        w.on("all", (_event, file) => {
          const parts = path.relative(root, file).split(path.sep);
          if (!parts[0] || parts[0].startsWith(".")) return;
          dirty.add(parts[0]);
          h.schedule(flush);
        });
        h.schedule(flush);
        return w;
      });
    }
    const h = this.list;
    const sub = h.add(listener);
    return {
      ready: sub.ready,
      off: () => {
        sub.off();
        if (h.size === 0 && this.list === h) this.list = null;
      },
    };
  }

  close(): void {
    for (const h of this.workflows.values()) h.close();
    this.workflows.clear();
    this.list?.close();
    this.list = null;
  }
}
