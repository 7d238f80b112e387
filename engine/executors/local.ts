// Runs one step's command as a child process of the engine: cwd = workdir,
// stdout and stderr both written straight into log.txt through one file
// descriptor, so the log holds the bytes exactly as produced and interleaved
// (dflow decodes lines and can crash on bad UTF-8, Q26). node's spawn is used
// directly rather than execa: this is the per-step hot path, and we need
// nothing but the exit status.
//
// Each step runs in its own process group so that a timeout (or the engine
// being interrupted) ends the step's whole process tree, not just its shell.
//
// With `exitFile`, the command's exit status is written to exitFile when it
// ends, from the process side (the leader co-process of spawner.ts, or
// under node's spawn a small sh wrapper, the leader of the group): the
// step's own record, which outlives a killed engine, so that `dflow retry`
// can adopt work that finished instead of doing it twice.
// It is written with one write() and ends with a newline; a reader trusts
// only a complete line (step-dir.ts readExitStatus).
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { killMembers, Spawner } from "./spawner.js";

export interface LocalRun {
  command: string[];
  cwd: string;
  logFile: string;
  env?: Record<string, string>;
  /** Seconds; the process group is killed when it runs longer. */
  timeout?: number;
  /** Called with the child's pid as soon as it is known. */
  onSpawn?: (pid: number) => void | Promise<void>;
  /** Where the process side records the command's exit status when it ends. */
  exitFile?: string;
  /** Whose step this is (a workflow id), so killSteps can end one workflow's steps. */
  owner?: string;
  /** Ends the process group as a timeout does (SIGTERM, then SIGKILL): a sidecar once its main container is done, a daemon once its steps are. */
  signal?: AbortSignal;
}

export interface LocalResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all. */
  spawnError?: NodeJS.ErrnoException;
  timedOut?: boolean;
}

/** Grace period between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 2000;

/** Running step process groups: group id -> owner, and whether its leader is a spawner.ts co-process (to spare). */
const running = new Map<number, { owner: string | undefined; leader: boolean }>();
let cleanupInstalled = false;

/** $0 of the exit-status wrapper; its own messages (command not found) start with it. */
export const WRAPPER_NAME = "dflow-step";
// "$@" is the command; its status is recorded, then passed on.
const WRAPPER = 'f=$1; shift; "$@"; s=$?; printf \'%s\\n\' "$s" >"$f"; exit "$s"';

/**
 * A leader co-process catches SIGTERM; a SIGKILL to its group would take it
 * too, and the step's processes would be left as zombies nobody reaps (where
 * pid 1 does not): its other members are killed one by one instead.
 */
function killGroup(group: number, signal: NodeJS.Signals, leader = false): void {
  if (leader && signal === "SIGKILL") return killMembers([group]);
  try {
    process.kill(-group, signal);
  } catch {
    // already gone
  }
}

/** Kill every step process group still running (engine exit or interrupt). */
export function killAllSteps(signal: NodeJS.Signals = "SIGKILL"): void {
  killGroups([...running.keys()], signal);
}

/** Kill the step process groups of one owner (a workflow that cannot go on). */
export function killSteps(owner: string, signal: NodeJS.Signals = "SIGKILL"): void {
  killGroups([...running].filter(([, r]) => r.owner === owner).map(([g]) => g), signal);
}

/** One pass over /proc for all the leaders' groups, however many steps run. */
function killGroups(groups: number[], signal: NodeJS.Signals): void {
  const leaders = groups.filter((g) => running.get(g)?.leader);
  if (signal === "SIGKILL" && leaders.length) killMembers(leaders);
  for (const g of groups) if (signal !== "SIGKILL" || !running.get(g)?.leader) killGroup(g, signal);
}

// Step process groups are detached from the engine's terminal group, so a
// Ctrl-C reaches only the engine: pass it on, then let the engine die.
function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on("exit", () => killAllSteps("SIGKILL"));
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      killAllSteps("SIGTERM");
      if (process.listenerCount(sig) === 1) process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const)[sig]);
    });
  }
}

/**
 * One running step process group: registered for cleanup, killed
 * (SIGTERM, then SIGKILL after a grace period) when it outlives its
 * timeout, and whatever is left of its group killed when it ends.
 */
class StepProcess {
  timedOut = false;
  private timer?: NodeJS.Timeout;
  private killTimer?: NodeJS.Timeout;
  private signal?: AbortSignal;
  private onAbort?: () => void;

  /**
   * `group`: the process group holding the command: its own pid under
   * node's spawn, its leader's in spawner.ts (`leader`: spared by kills).
   */
  constructor(
    pid: number,
    readonly group: number,
    private readonly leader: boolean,
    run: LocalRun,
  ) {
    running.set(group, { owner: run.owner, leader });
    if (run.onSpawn) void Promise.resolve(run.onSpawn(pid)).catch(() => undefined);
    if (run.timeout && run.timeout > 0) {
      this.timer = setTimeout(() => {
        this.timedOut = true;
        this.stop();
      }, run.timeout * 1000);
    }
    if (run.signal) {
      this.onAbort = () => this.stop();
      this.signal = run.signal;
      if (run.signal.aborted) this.stop();
      else run.signal.addEventListener("abort", this.onAbort, { once: true });
    }
  }

  private stop(): void {
    if (this.killTimer) return;
    killGroup(this.group, "SIGTERM", this.leader);
    this.killTimer = setTimeout(() => killGroup(this.group, "SIGKILL", this.leader), KILL_GRACE_MS);
    this.killTimer.unref();
  }

  /** `leftovers`: kill what is left of the group (spawner.ts's leader did it already). */
  end(leftovers = true): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.killTimer) clearTimeout(this.killTimer);
    if (this.onAbort) this.signal?.removeEventListener("abort", this.onAbort);
    running.delete(this.group);
    // Usually the group is gone: each kill then costs a thrown ESRCH error.
    if (leftovers) killGroup(this.group, "SIGKILL", this.leader);
  }
}

export function runLocal(run: LocalRun): Promise<LocalResult> {
  installCleanup();
  const spawner = Spawner.get();
  // The leader records the exit status itself (spawner.ts): no wrapper to exec.
  const fields = { argv: run.command, cwd: run.cwd, logFile: run.logFile, env: run.env, exitFile: run.exitFile };
  if (spawner && Spawner.accepts(fields)) {
    let proc: StepProcess | undefined;
    const job = spawner.run({ ...fields, onPid: (p, group) => (proc = new StepProcess(p, group, true, run)) });
    if (job) return job.then((code) => spawnerResult(code, proc));
  }
  return runWithNode(run, run.exitFile ? ["/bin/sh", "-c", WRAPPER, WRAPPER_NAME, run.exitFile, ...run.command] : run.command);
}

/** Through a leader co-process (see spawner.ts): the fast path on Linux. */
function spawnerResult(code: number, proc: StepProcess | undefined): LocalResult {
  proc?.end(code === -1);
  const timedOut = proc?.timedOut ?? false;
  if (code === -1) return { exitCode: null, signal: null, spawnError: Object.assign(new Error("the process launcher (sh) died; the step's process was lost"), { code: "ELOST" }) as NodeJS.ErrnoException, timedOut };
  return { ...statusOf(code), timedOut };
}

/** A shell's exit status: 128+n is "killed by signal n". */
function statusOf(code: number): { exitCode: number | null; signal: NodeJS.Signals | null } {
  if (code > 128 && code < 160) return { exitCode: null, signal: (signalNames[code - 128] ?? "SIGKILL") as NodeJS.Signals };
  return { exitCode: code, signal: null };
}

const signalNames: Record<number, string> = Object.fromEntries(Object.entries(os.constants.signals).map(([k, v]) => [v, k]));

/** node's spawn(): where the co-process cannot be used. */
function runWithNode(run: LocalRun, argv: string[]): Promise<LocalResult> {
  return new Promise((resolve) => {
    const fd = fs.openSync(run.logFile, "w");
    let settled = false;
    let proc: StepProcess | undefined;
    const done = (r: LocalResult) => {
      if (settled) return;
      settled = true;
      proc?.end();
      resolve({ ...r, timedOut: proc?.timedOut ?? false });
    };
    try {
      const child = spawn(argv[0], argv.slice(1), {
        cwd: run.cwd,
        env: run.env ? { ...process.env, ...run.env } : process.env,
        stdio: ["ignore", fd, fd],
        detached: true,
      });
      child.once("error", (err: NodeJS.ErrnoException) => done({ exitCode: null, signal: null, spawnError: err }));
      // Through the wrapper, a signal that killed the command shows as the wrapper's 128+n.
      child.once("exit", (code, signal) => done(run.exitFile && code !== null ? statusOf(code) : { exitCode: code, signal }));
      if (child.pid !== undefined) proc = new StepProcess(child.pid, child.pid, false, run);
    } catch (err) {
      done({ exitCode: null, signal: null, spawnError: err as NodeJS.ErrnoException });
    } finally {
      fs.closeSync(fd);
    }
  });
}
