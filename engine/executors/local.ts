// Runs one step's command as a child process of the engine: cwd = workdir,
// stdout and stderr both written straight into log.txt through one file
// descriptor, so the log holds the bytes exactly as produced and interleaved
// (dflow decodes lines and can crash on bad UTF-8, Q26). node's spawn is used
// directly rather than execa: this is the per-step hot path, and we need
// nothing but the exit status.
//
// Each step runs in its own process group so that a timeout (or the engine
// being interrupted) ends the step's whole process tree, not just its shell.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { Spawner } from "./spawner.js";

export interface LocalRun {
  command: string[];
  cwd: string;
  logFile: string;
  env?: Record<string, string>;
  /** Seconds; the process group is killed when it runs longer. */
  timeout?: number;
  /** Called with the child's pid as soon as it is known. */
  onSpawn?: (pid: number) => void | Promise<void>;
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

const running = new Set<number>();
let cleanupInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Kill every step process group still running (engine exit or interrupt). */
export function killAllSteps(signal: NodeJS.Signals = "SIGKILL"): void {
  for (const pid of running) killGroup(pid, signal);
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

export function runLocal(run: LocalRun): Promise<LocalResult> {
  installCleanup();
  const spawner = Spawner.get();
  if (spawner && Spawner.accepts({ argv: run.command, cwd: run.cwd, logFile: run.logFile, env: run.env })) return runWithSpawner(spawner, run);
  return runWithNode(run);
}

/** Through the sh co-process (see spawner.ts): the fast path on Linux. */
async function runWithSpawner(spawner: Spawner, run: LocalRun): Promise<LocalResult> {
  let pid: number | undefined;
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const code = await spawner.run({
    argv: run.command,
    cwd: run.cwd,
    logFile: run.logFile,
    env: run.env,
    onPid: (p) => {
      pid = p;
      running.add(p);
      if (run.onSpawn) void Promise.resolve(run.onSpawn(p)).catch(() => undefined);
      if (run.timeout && run.timeout > 0) {
        timer = setTimeout(() => {
          timedOut = true;
          killGroup(p, "SIGTERM");
          killTimer = setTimeout(() => killGroup(p, "SIGKILL"), KILL_GRACE_MS);
          killTimer.unref();
        }, run.timeout * 1000);
      }
    },
  });
  if (timer) clearTimeout(timer);
  if (killTimer) clearTimeout(killTimer);
  if (pid !== undefined) {
    running.delete(pid);
    killGroup(pid, "SIGKILL");
  }
  if (code === -1) return { exitCode: null, signal: null, spawnError: Object.assign(new Error("the process launcher (sh) died; the step's process was lost"), { code: "ELOST" }) as NodeJS.ErrnoException, timedOut };
  if (code > 128 && code < 160) return { exitCode: null, signal: (signalNames[code - 128] ?? "SIGKILL") as NodeJS.Signals, timedOut };
  return { exitCode: code, signal: null, timedOut };
}

const signalNames: Record<number, string> = Object.fromEntries(Object.entries(os.constants.signals).map(([k, v]) => [v, k]));

function runWithNode(run: LocalRun): Promise<LocalResult> {
  return new Promise((resolve) => {
    const fd = fs.openSync(run.logFile, "w");
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let timedOut = false;
    let pid: number | undefined;
    const done = (r: LocalResult) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      if (pid !== undefined) {
        running.delete(pid);
        // Whatever the step left running in its group goes with it.
        killGroup(pid, "SIGKILL");
      }
      if (killTimer) clearTimeout(killTimer);
      resolve({ ...r, timedOut });
    };
    try {
      const child = spawn(run.command[0], run.command.slice(1), {
        cwd: run.cwd,
        env: run.env ? { ...process.env, ...run.env } : process.env,
        stdio: ["ignore", fd, fd],
        detached: true,
      });
      pid = child.pid;
      child.once("error", (err: NodeJS.ErrnoException) => done({ exitCode: null, signal: null, spawnError: err }));
      child.once("exit", (code, signal) => done({ exitCode: code, signal }));
      if (pid !== undefined) {
        running.add(pid);
        if (run.onSpawn) void Promise.resolve(run.onSpawn(pid)).catch(() => undefined);
        if (run.timeout && run.timeout > 0) {
          const p = pid;
          timer = setTimeout(() => {
            timedOut = true;
            killGroup(p, "SIGTERM");
            killTimer = setTimeout(() => killGroup(p, "SIGKILL"), KILL_GRACE_MS);
            killTimer.unref();
          }, run.timeout * 1000);
        }
      }
    } catch (err) {
      done({ exitCode: null, signal: null, spawnError: err as NodeJS.ErrnoException });
    } finally {
      fs.closeSync(fd);
    }
  });
}
