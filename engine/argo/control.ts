// Controlling an Argo run from outside while it runs in this process: Argo's
// spec.shutdown (Stop: no new pod starts, running pods are killed, exit
// handlers still run; Terminate: the same without exit handlers) and
// spec.suspend (no new pod starts until resumed; running pods finish). The
// Argo Server API (engine/api/argo.ts) holds one per run it started; the
// interpreter (run.ts) asks it before each pod starts.
//
// Suspension is the engine's marker file (engine/control.ts), so `dflow
// suspend/resume` and the UI's buttons hold the same Argo run.
import { setTimeout as sleep } from "node:timers/promises";
import { isSuspended } from "../control.js";
import { killSteps } from "../executors/local.js";

export type ShutdownStrategy = "Stop" | "Terminate";

// How often a suspended run looks for the marker to go (as engine/control.ts): resume is a user's action.
const SUSPEND_POLL_MS = 200;
const KILL_GRACE_MS = 2000;

export class ArgoRunControl {
  shutdown?: ShutdownStrategy;
  private readonly abort = new AbortController();
  private wfid?: string;
  private killTimer?: NodeJS.Timeout;
  /** Stop lets the workflow's exit handler run (its pods start); Terminate does not. */
  private exiting = false;
  private wfdir?: string;

  /** Called by the interpreter once the run has its directory. */
  attach(wfid: string, wfdir: string): void {
    this.wfid = wfid;
    this.wfdir = wfdir;
  }

  /** Aborted at shutdown: a suspend template's wait ends then. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Argo's node message for a pod that a shutdown kept from starting or killed. */
  get message(): string | undefined {
    if (this.exiting && this.shutdown === "Stop") return undefined;
    return this.shutdown && `workflow shutdown with strategy: ${this.shutdown}`;
  }

  /**
   * Before a pod starts: waits while the run is suspended (calling `held`
   * once if it has to wait); the shutdown message when the pod must not
   * start, else undefined.
   */
  async beforePod(held: () => void): Promise<string | undefined> {
    for (let first = true; !this.shutdown && this.wfdir && isSuspended(this.wfdir); first = false) {
      if (first) held();
      await sleep(SUSPEND_POLL_MS, undefined, { signal: this.signal }).catch(() => undefined);
    }
    return this.message;
  }

  /** Shut the run down: no new pod starts, running pods are killed (their nodes end Failed). */
  stop(strategy: ShutdownStrategy): void {
    if (this.shutdown) return;
    this.shutdown = strategy;
    this.abort.abort();
    if (!this.wfid) return;
    const wfid = this.wfid;
    killSteps(wfid, "SIGTERM");
    // As Kubernetes does after a pod's grace period: what ignores SIGTERM is killed.
    this.killTimer = setTimeout(() => killSteps(wfid, "SIGKILL"), KILL_GRACE_MS);
    this.killTimer.unref();
  }

  /**
   * The workflow's exit handler starts: every other pod has ended by now,
   * so the pending SIGKILL must not reach the handler's pods.
   */
  enterExitHandler(): void {
    this.exiting = true;
    if (this.killTimer) clearTimeout(this.killTimer);
  }
}
