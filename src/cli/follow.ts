// What `dflow watch <id>` and `dflow run --watch` show of a workflow while
// it runs: on a terminal the `get` view redrawn, with progress bars; else
// (or as JSON) one line per change of the workflow or of a step.
import { setTimeout as sleep } from "node:timers/promises";
import { readReportLines } from "../detached.js";
import type { WorkflowStore } from "../../engine/api/workflows.js";
import { printJson } from "./command.js";
import type { StepNode, WorkflowInfo } from "./format.js";

type Format = typeof import("./format.js");

export interface FollowOptions {
  json?: boolean;
  /** Redraw the view (a terminal) rather than print changes. */
  live: boolean;
}

/** Follows one workflow: each look() shows what changed since the last, and says whether it has ended and whether its engine is there. */
export class Follower {
  private readonly seen = new Map<string, string>();
  private lastWf = "";

  constructor(
    private readonly store: WorkflowStore,
    readonly id: string,
    private readonly f: Format,
    private readonly o: FollowOptions,
  ) {}

  look(): { info: WorkflowInfo; alive: boolean | null } {
    const { f, o } = this;
    const alive = this.store.engineAlive(this.id);
    const { info, nodes } = this.store.snapshot(this.id);
    if (o.live) {
      process.stdout.write(`\x1b[H\x1b[2J${f.renderWorkflow(info, nodes, { bars: true })}`);
      return { info, alive };
    }
    const time = new Date();
    const wfState = `${info.status}|${f.progressText(info.progress)}|${info.engine_alive}`;
    const wfEvent = () => {
      if (wfState === this.lastWf) return;
      this.lastWf = wfState;
      if (o.json) printJson({ time: time.toISOString(), workflow: info.id, status: info.status, progress: f.progressText(info.progress), duration: info.duration, message: f.isFinal(info.status) ? info.message : null, engine_alive: info.engine_alive });
      else process.stdout.write(`[${f.formatClock(time)}] ${this.workflowLine(info)}\n`);
    };
    if (!this.lastWf) wfEvent();
    for (const n of f.flatten(nodes)) {
      const s = n.step;
      const state = `${s.phase}|${f.progressText(n.progress)}`;
      if (this.seen.get(s.id) === state) continue;
      this.seen.set(s.id, state);
      if (o.json) printJson({ time: time.toISOString(), step: f.label(n), id: s.id, key: s.key, type: s.type, phase: s.phase, progress: n.progress ? f.progressText(n.progress) : null, started: f.isoTime(s.startedAt || null), duration: f.isFinal(s.phase) ? s.duration : null, message: s.message });
      else process.stdout.write(`[${f.formatClock(time)}] ${"  ".repeat(n.depth)}${this.stepLine(n)}\n`);
    }
    wfEvent();
    return { info, alive };
  }

  private stepLine(n: StepNode): string {
    const { f } = this;
    const s = n.step;
    const parts = [`${f.label(n)} (${s.id}): ${s.phase}`];
    if (n.progress && s.type === "Pod") parts.push(f.progressText(n.progress));
    if (f.isFinal(s.phase) && s.startedAt) parts.push(`in ${f.formatDuration(s.duration)}`);
    const msg = f.shortMessage(s.message);
    if (msg) parts.push(`- ${msg}`);
    return parts.join(" ");
  }

  private workflowLine(w: WorkflowInfo): string {
    const { f } = this;
    const parts = [`workflow ${w.id}: ${f.statusText(w)}`, `${f.progressText(w.progress)} steps`];
    if (f.isFinal(w.status)) parts.push(`in ${f.formatDuration(w.duration)}`);
    const msg = f.shortMessage(w.message);
    if (msg && f.isFinal(w.status)) parts.push(`- ${msg}`);
    return parts.join(" ");
  }
}

/**
 * `dflow run --watch`: follows each workflow the run starts (as its report
 * file names them, src/detached.ts) until stop(), which looks a last time.
 * On a terminal the latest started one is redrawn; else every change of each
 * is a line.
 */
export function followRun(report: string, store: WorkflowStore, f: Format, intervalMs = 500): { stop(): Promise<void> } {
  const live = process.stdout.isTTY === true;
  const followers = new Map<string, Follower>();
  const started = () => readReportLines(report).filter((l) => l.event === "started").map((l) => l.id);
  const wake = new AbortController();
  let stopping = false;
  const look = () => {
    for (const id of started()) if (!followers.has(id)) followers.set(id, new Follower(store, id, f, { live }));
    const all = [...followers.values()];
    for (const w of live ? all.slice(-1) : all) w.look();
  };
  const loop = (async () => {
    while (!stopping) {
      look();
      await sleep(intervalMs, undefined, { signal: wake.signal }).catch(() => undefined);
    }
    look();
  })();
  return {
    stop: async () => {
      stopping = true;
      wake.abort();
      await loop;
    },
  };
}
