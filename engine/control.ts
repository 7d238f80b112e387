// Controlling a workflow while (or after) it runs: terminate/stop,
// suspend/resume, delete. Workflow's methods and the `dflow` commands both
// call these, so a workflow behaves the same whichever way it is controlled.
//
// A workflow is run by one engine (the process holding <wfdir>/.engine/lock):
// - run by THIS process (wf.submit() still pending): terminate stops it here:
//   no step starts any more, running step processes are killed, and submit()
//   resolves Failed with the reason. Other workflows of the process go on.
// - run by another process: that engine is sent SIGTERM (its handler marks the
//   running steps and the workflow Failed and exits), as dflow's debug-mode
//   terminate() kills the workflow's process; a reason left in
//   .engine/stop-request names who asked. All workflows of that process end.
// - run by no live engine but still "Running": its leftover step processes
//   are killed and its phases made final.
// Suspension is a marker file, .engine/suspended, that the engine checks
// before it starts any step process (every attempt): while it exists, steps
// wait unstarted (Pending) and running steps finish. It works across
// processes and survives an engine restart (`dflow retry` stays suspended
// until resumed), as a suspended Argo workflow does.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DflowConfigError, InfrastructureError } from "../src/errors.js";
import type { RunContext } from "./context.js";
import { collectOnDeletion } from "./argo/gc.js";
import { WORKFLOW_FILE, repositoryOf } from "./argo/store.js";
import { writePhase } from "./step-dir.js";
import { engineDir, lockAlive, readLock } from "./store/engine-dir.js";
import { readTextOrSync, writeAtomicSync } from "./store/fsx.js";
import { killStaleSteps, killStepProcess, markStopped } from "./workflow-run.js";

/** Why a step did not start or was cut short: its workflow was terminated or stopped. */
export class WorkflowStopped extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorkflowStopped";
  }
}

const FINAL = new Set(["Succeeded", "Failed", "Error"]);

/** Workflows whose engine is this process: wfdir -> its run. */
const live = new Map<string, { ctx: RunContext; ended: Promise<unknown> }>();

/**
 * Runs of this process that another interpreter runs (the Argo runs of
 * `dflow server`): stopped through `stop`, so that `dflow ui`'s buttons and
 * deleteWorkflow treat them as runs of this process.
 */
const foreign = new Map<string, { stop: (verb: "terminated" | "stopped") => void; ended: Promise<unknown> }>();

export function registerForeignRun(wfdir: string, stop: (verb: "terminated" | "stopped") => void, ended: Promise<unknown>): void {
  foreign.set(wfdir, { stop, ended });
  // Its engine serves other workflows too (its lock says `requests`): another process's
  // dflow stop/terminate leaves a stop request instead of a signal, seen here.
  const poll = setInterval(() => {
    const why = takeStopRequest(wfdir);
    if (why) stop(why.startsWith("stopped") ? "stopped" : "terminated");
  }, STOP_REQUEST_POLL_MS);
  poll.unref();
  void ended.finally(() => {
    clearInterval(poll);
    foreign.delete(wfdir);
  });
}

// How often a server looks for a stop request of one of its runs: a user's action, like resume.
const STOP_REQUEST_POLL_MS = 250;
/** How long dflow stop waits for a server to end a run it asked it to stop. */
const STOP_REQUEST_WAIT_MS = 60_000;

/** Called by runWorkflow while it runs `ctx`; `ended` settles when the run has written its final status. */
export function registerRun(ctx: RunContext, ended: Promise<unknown>): void {
  live.set(ctx.wfdir, { ctx, ended });
  void ended.finally(() => {
    if (live.get(ctx.wfdir)?.ctx === ctx) live.delete(ctx.wfdir);
  });
}

function suspendMarker(wfdir: string): string {
  return path.join(engineDir(wfdir), "suspended");
}

function stopRequest(wfdir: string): string {
  return path.join(engineDir(wfdir), "stop-request");
}

/** Whether the workflow is suspended (its steps do not start until resumed). */
export function isSuspended(wfdir: string): boolean {
  return fs.existsSync(suspendMarker(wfdir));
}

// How often a suspended engine looks for the marker to go: resume is a
// user's action, a fraction of a second is not noticed.
const SUSPEND_POLL_MS = 200;

/**
 * Called before a step process starts (every attempt): throws once the
 * workflow is stopped, waits while it is suspended (the step Pending).
 */
export async function stepGate(ctx: RunContext, stepDir: string): Promise<void> {
  for (let held = false; ; held = true) {
    if (ctx.stopped) throw new WorkflowStopped(`workflow ${ctx.wfid} ${ctx.stopped}`);
    if (!isSuspended(ctx.wfdir)) return;
    // An explicit Pending shows (to `dflow get` and to tests) that the step is held.
    if (!held) await writePhase(stepDir, "Pending");
    await sleep(SUSPEND_POLL_MS);
  }
}

/** The reason another process left for the SIGTERM it sends (read once, by the engine's handler). */
export function takeStopRequest(wfdir: string): string | null {
  const why = readTextOrSync(stopRequest(wfdir), null);
  if (why !== null) fs.rmSync(stopRequest(wfdir), { force: true });
  return why?.trim() || null;
}

function readStatus(wfdir: string, id: string): string {
  const s = readTextOrSync(path.join(wfdir, "status"), null);
  if (s === null) throw new DflowConfigError(`no workflow ${id} in ${path.dirname(wfdir)}`);
  return s;
}

export type StopOutcome =
  /** It was running and is now Failed with the reason. */
  | "stopped"
  /** Its engine was gone; its leftover steps were killed and its phases made final. */
  | "cleaned"
  /** It had already ended (the status says how). */
  | "not-running";

/**
 * Terminate (or stop: locally the same, there are no exit handlers to run)
 * the workflow in `wfdir`, and return once its status is final. `by` names
 * who asked, for the messages ("Workflow.terminate()", "dflow stop").
 */
export async function terminateWorkflow(wfdir: string, by: string, verb: "terminated" | "stopped" = "terminated"): Promise<{ outcome: StopOutcome; status: string }> {
  const id = path.basename(wfdir);
  const here = live.get(wfdir);
  if (here) {
    const why = `${verb} (${by})`;
    if (!here.ctx.stopped) {
      here.ctx.stopped = why;
      // Steps waiting to start see ctx.stopped at their gate; running ones are killed and fail with it.
      for (const dir of here.ctx.active) killStepProcess(dir);
      for (const stop of here.ctx.onStop ?? []) stop();
    }
    await here.ended;
    return { outcome: "stopped", status: readStatus(wfdir, id) };
  }
  const other = foreign.get(wfdir);
  if (other) {
    other.stop(verb);
    await other.ended.catch(() => undefined);
    return { outcome: "stopped", status: readStatus(wfdir, id) };
  }
  const status = readStatus(wfdir, id);
  const lock = readLock(wfdir);
  if (lock && lock.host !== os.hostname() && !FINAL.has(status)) {
    throw new DflowConfigError(`workflow ${id} is run by engine pid ${lock.pid} on host ${lock.host}, not this host (${os.hostname()}): terminate it there`);
  }
  if (lock?.requests && lock.pid !== process.pid && lockAlive(lock)) {
    writeAtomicSync(stopRequest(wfdir), `${verb} (${by}, from pid ${process.pid})`);
    for (let waited = 0; waited < STOP_REQUEST_WAIT_MS && !FINAL.has(readStatus(wfdir, id)); waited += 100) await sleep(100);
    if (!FINAL.has(readStatus(wfdir, id))) {
      throw new InfrastructureError(`workflow ${id}: its engine (pid ${lock.pid}, a dflow server) has not acted on the stop request in ${STOP_REQUEST_WAIT_MS / 1000} s; it stays in ${stopRequest(wfdir)}`, { workflow: id });
    }
    return { outcome: "stopped", status: readStatus(wfdir, id) };
  }
  if (lock && lock.pid !== process.pid && lockAlive(lock)) {
    writeAtomicSync(stopRequest(wfdir), `${verb} (${by}, from pid ${process.pid})`);
    process.kill(lock.pid, "SIGTERM");
    // The engine marks its steps and exits at once; one that does not within 10 s is killed.
    for (let i = 0; i < 100 && lockAlive(lock); i++) await sleep(100);
    if (lockAlive(lock)) {
      process.kill(lock.pid, "SIGKILL");
      killStaleSteps(wfdir);
      markStopped(wfdir, null, `${verb} (${by}; the engine did not stop in 10 s and was killed)`);
    }
    fs.rmSync(stopRequest(wfdir), { force: true });
    return { outcome: "stopped", status: readStatus(wfdir, id) };
  }
  if (!FINAL.has(status)) {
    killStaleSteps(wfdir);
    markStopped(wfdir, null, `${verb} (${by}; its engine was already gone)`);
    return { outcome: "cleaned", status: readStatus(wfdir, id) };
  }
  return { outcome: "not-running", status };
}

/**
 * Suspend the workflow: no new step starts until resumeWorkflow(); running
 * steps finish. Refused for a workflow that has ended. Returns false when it
 * was suspended already.
 */
export function suspendWorkflow(wfdir: string, by: string): boolean {
  const id = path.basename(wfdir);
  const status = readStatus(wfdir, id);
  if (FINAL.has(status)) throw new DflowConfigError(`workflow ${id} is ${status}: there is nothing to suspend`);
  if (isSuspended(wfdir)) return false;
  fs.mkdirSync(engineDir(wfdir), { recursive: true });
  writeAtomicSync(suspendMarker(wfdir), `suspended by ${by} (pid ${process.pid}) at ${new Date().toISOString()}\n`);
  return true;
}

/**
 * A resume asked for: `<ms> <pid> <random>`, rewritten by each. A suspend step
 * that started before it ends (waitForResume): one whose wait was only about
 * to begin when the resume came is resumed too.
 */
function resumeRequest(wfdir: string): string {
  return path.join(engineDir(wfdir), "resume-request");
}

/** When the last resume was asked for (ms), 0 for never. */
function lastResume(wfdir: string): number {
  return Number.parseInt(readTextOrSync(resumeRequest(wfdir), "0"), 10) || 0;
}

/** The suspend steps of the workflow that wait for a resume now (Argo's `suspend: {}`), one file each. */
function waitingSuspends(wfdir: string): string {
  return path.join(engineDir(wfdir), "suspend-waiting");
}

/** A suspend step waits now: its marker was written by the engine that holds the workflow's lock, alive (a killed one's stays behind). */
function suspendStepWaits(wfdir: string): boolean {
  const dir = waitingSuspends(wfdir);
  if (!fs.existsSync(dir)) return false;
  const lock = readLock(wfdir);
  if (!lock || !lockAlive(lock)) return false;
  return fs.readdirSync(dir).some((f) => readTextOrSync(path.join(dir, f), "").trim() === String(lock.pid));
}

/** Whether the workflow waits for a resume: suspended, or a suspend step of it waits for one (the UI's Resume). */
export function awaitsResume(wfdir: string): boolean {
  return isSuspended(wfdir) || suspendStepWaits(wfdir);
}

/**
 * Let a suspended workflow start steps again, and end its suspend steps that
 * wait for a resume, or whose wait is about to begin (as `argo resume` does).
 * Returns false when nothing waited for it.
 */
export function resumeWorkflow(wfdir: string): boolean {
  const status = readStatus(wfdir, path.basename(wfdir));
  const waiting = suspendStepWaits(wfdir);
  const suspended = isSuspended(wfdir);
  // Written even when no step waits yet: a suspend step that started before it ends when its wait begins.
  if (!FINAL.has(status)) {
    fs.mkdirSync(engineDir(wfdir), { recursive: true });
    writeAtomicSync(resumeRequest(wfdir), `${Date.now()} ${process.pid} ${Math.random()}\n`);
  }
  fs.rmSync(suspendMarker(wfdir), { force: true });
  return waiting || suspended;
}

/** What was set on one waiting suspend step (Argo's `argo node set`, a resume of that node): a phase ends its wait. */
export interface SuspendSet {
  phase?: string;
  message?: string;
  /** Values of its `valueFrom.supplied` output parameters. */
  outputParameters?: Record<string, string>;
}

function suspendSet(wfdir: string, step: string): string {
  return path.join(engineDir(wfdir), "suspend-set", `${step}.json`);
}

function readSuspendSet(wfdir: string, step: string): SuspendSet {
  try {
    return JSON.parse(readTextOrSync(suspendSet(wfdir, step), "{}")) as SuspendSet;
  } catch {
    return {};
  }
}

/** Set values of one waiting suspend step, from any process; merged with those set before. */
export function setSuspendStep(wfdir: string, step: string, values: SuspendSet): void {
  const before = readSuspendSet(wfdir, step);
  const merged: SuspendSet = { ...before, ...Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) };
  if (before.outputParameters || values.outputParameters) merged.outputParameters = { ...before.outputParameters, ...values.outputParameters };
  fs.mkdirSync(path.dirname(suspendSet(wfdir, step)), { recursive: true });
  writeAtomicSync(suspendSet(wfdir, step), JSON.stringify(merged));
}

/**
 * A suspend step that started at `since` (ms) waits for a resume of its
 * workflow asked for since then (resumeWorkflow, from any process), or a phase
 * set on it (setSuspendStep), at most `ms`, or until `signal` aborts. Returns
 * what was set on it meanwhile.
 */
export async function waitForResume(wfdir: string, step: string, since: number, ms: number, signal?: AbortSignal): Promise<SuspendSet> {
  const marker = path.join(waitingSuspends(wfdir), step);
  fs.mkdirSync(path.dirname(marker), { recursive: true });
  writeAtomicSync(marker, `${process.pid}\n`);
  const end = Date.now() + ms;
  try {
    for (let left = ms; !signal?.aborted && left > 0 && lastResume(wfdir) < since && !readSuspendSet(wfdir, step).phase; left = end - Date.now()) {
      await sleep(Math.min(SUSPEND_POLL_MS, left), undefined, { signal }).catch(() => undefined);
    }
    return readSuspendSet(wfdir, step);
  } finally {
    fs.rmSync(marker, { force: true });
    fs.rmSync(suspendSet(wfdir, step), { force: true });
  }
}

/** The pid of the live engine running the workflow (this process included), or null. */
function liveEngine(wfdir: string): number | null {
  if (live.has(wfdir) || foreign.has(wfdir)) return process.pid;
  const lock = readLock(wfdir);
  if (lock) return lockAlive(lock) ? lock.pid : null;
  // A run without a lock (an older engine): its pid file.
  const pid = Number.parseInt(readTextOrSync(path.join(wfdir, "pid"), ""), 10);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

/**
 * Throw a DflowConfigError if the workflow may not be deleted: it has not
 * ended and its engine is alive, and not `force` (`forceHint` says how to
 * force, e.g. "--force").
 */
export function checkDeletable(wfdir: string, opts: { force?: boolean; forceHint: string }): void {
  const id = path.basename(wfdir);
  const status = readStatus(wfdir, id);
  if (opts.force || FINAL.has(status)) return;
  const pid = liveEngine(wfdir);
  if (pid !== null) throw new DflowConfigError(`workflow ${id} is ${status} (engine pid ${pid}): stop it first, or delete it anyway with ${opts.forceHint}`);
}

/**
 * Delete the workflow's directory (checkDeletable first). Forced on a
 * workflow whose engine runs on this host, the workflow is terminated first,
 * so that no engine goes on writing into a directory that is going away.
 */
export async function deleteWorkflow(wfdir: string, opts: { force?: boolean; forceHint: string; by: string }): Promise<void> {
  checkDeletable(wfdir, opts);
  const lock = readLock(wfdir);
  if (live.has(wfdir) || foreign.has(wfdir) || (lock && lock.host === os.hostname() && lockAlive(lock) && !FINAL.has(readStatus(wfdir, path.basename(wfdir))))) {
    await terminateWorkflow(wfdir, opts.by);
  }
  // An Argo run's artifacts whose garbage collection is OnWorkflowDeletion go with it.
  if (fs.existsSync(path.join(wfdir, WORKFLOW_FILE))) await collectOnDeletion(wfdir, repositoryOf(wfdir));
  fs.rmSync(wfdir, { recursive: true, force: true });
}
