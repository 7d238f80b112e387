// Runs one step's command as a child process of the engine: cwd = workdir,
// stdout and stderr both written straight into log.txt through one file
// descriptor, so the log holds the bytes exactly as produced and interleaved
// (dflow decodes lines and can crash on bad UTF-8, Q26). node's spawn is used
// directly rather than execa: this is the per-step hot path, and we need
// nothing but the exit status.
import { spawn } from "node:child_process";
import fs from "node:fs";

export interface LocalRun {
  command: string[];
  cwd: string;
  logFile: string;
  env?: Record<string, string>;
  /** Called with the child's pid as soon as it is known. */
  onSpawn?: (pid: number) => void | Promise<void>;
}

export interface LocalResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all. */
  spawnError?: NodeJS.ErrnoException;
}

export function runLocal(run: LocalRun): Promise<LocalResult> {
  return new Promise((resolve) => {
    const fd = fs.openSync(run.logFile, "w");
    let settled = false;
    const done = (r: LocalResult) => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    try {
      const child = spawn(run.command[0], run.command.slice(1), {
        cwd: run.cwd,
        env: run.env ? { ...process.env, ...run.env } : process.env,
        stdio: ["ignore", fd, fd],
      });
      child.once("error", (err: NodeJS.ErrnoException) => done({ exitCode: null, signal: null, spawnError: err }));
      child.once("exit", (code, signal) => done({ exitCode: code, signal }));
      if (child.pid !== undefined && run.onSpawn) void Promise.resolve(run.onSpawn(child.pid)).catch(() => undefined);
    } catch (err) {
      done({ exitCode: null, signal: null, spawnError: err as NodeJS.ErrnoException });
    } finally {
      fs.closeSync(fd);
    }
  });
}
