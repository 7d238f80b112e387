// The engine's own bookkeeping for a workflow, in <wfdir>/.engine/ (not
// part of dflow's layout; hidden so it stays out of dflow's views):
//   lock     which engine drives the workflow (pid, host, start time); one at a time
//   journal  every children registration, appended before the step runs, so a
//            killed engine's successor finds every step directory (the
//            children files themselves are rewritten in batches)
//   run.json how the workflow script was started, for `dflow retry` / `resubmit`
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DflowConfigError } from "../../src/errors.js";
import { asStorageError, writeAtomicSync } from "./fsx.js";

export function engineDir(wfdir: string): string {
  return path.join(wfdir, ".engine");
}

export interface LockInfo {
  pid: number;
  host: string;
  started: string;
  /** The process's start time in clock ticks since boot (Linux), so a reused pid is not mistaken for the engine. */
  proc_start?: number;
  /**
   * The engine serves several workflows (`dflow server`): it is stopped by
   * its stop-request file alone, never by a signal, which would end them all.
   */
  requests?: true;
}

/** State letter and start time (clock ticks since boot) of a process, from /proc (Linux). */
function procStat(pid: number): { state: string; start: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0], start: Number(fields[19]) };
  } catch {
    return undefined;
  }
}

function procStart(pid: number): number | undefined {
  return procStat(pid)?.start;
}

/** Whether the engine that wrote `lock` is still running (on this host). */
export function lockAlive(lock: LockInfo): boolean {
  if (lock.host !== os.hostname()) return true; // cannot tell: assume it is
  try {
    process.kill(lock.pid, 0);
  } catch {
    return false;
  }
  const st = procStat(lock.pid);
  // A killed engine its parent has not reaped yet (a zombie) still answers kill(pid, 0), but runs nothing.
  if (st && (st.state === "Z" || st.state === "X")) return false;
  return lock.proc_start === undefined || st === undefined || st.start === lock.proc_start;
}

export function readLock(wfdir: string): LockInfo | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(engineDir(wfdir), "lock"), "utf8")) as LockInfo;
  } catch {
    return null;
  }
}

/**
 * Take the workflow's lock, or throw a DflowConfigError naming the engine
 * that holds it. A lock left by a dead engine is taken over.
 */
export function acquireLock(wfdir: string, wfid: string, opts: { requests?: boolean } = {}): LockInfo {
  try {
    fs.mkdirSync(engineDir(wfdir), { recursive: true });
  } catch (e) {
    throw asStorageError(e, engineDir(wfdir));
  }
  const file = path.join(engineDir(wfdir), "lock");
  const mine: LockInfo = { pid: process.pid, host: os.hostname(), started: new Date().toISOString(), proc_start: procStart(process.pid), ...(opts.requests ? { requests: true as const } : {}) };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, "wx");
      try {
        fs.writeSync(fd, JSON.stringify(mine));
      } finally {
        fs.closeSync(fd);
      }
      return mine;
    } catch (e) {
      // A lock left empty by a full disk reads as no lock: the next engine replaces it.
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw asStorageError(e, file);
    }
    const held = readLock(wfdir);
    if (held && held.pid === process.pid && held.host === mine.host) return held;
    if (held && lockAlive(held)) {
      throw new DflowConfigError(
        `workflow ${wfid} is already being run by engine pid ${held.pid} on ${held.host} (since ${held.started}); wait for it, or stop it with \`${process.env.DFLOW_CLI ?? "npx dflow"} stop ${wfid}\``,
        { workflow: wfid },
      );
    }
    // A dead engine's lock (or a half-written one): replace it, then check we won.
    writeAtomicSync(file, JSON.stringify(mine));
    const now = readLock(wfdir);
    if (now && now.pid === mine.pid && now.host === mine.host) return mine;
  }
  throw new DflowConfigError(`could not take the lock of workflow ${wfid}`, { workflow: wfid });
}

export function releaseLock(wfdir: string): void {
  const held = readLock(wfdir);
  if (held && held.pid === process.pid && held.host === os.hostname()) fs.rmSync(path.join(engineDir(wfdir), "lock"), { force: true });
}

/**
 * Append one registration (parent dir relative to wfdir, order key, step
 * dir). Not fsync'd: the kernel keeps the write when the engine is killed;
 * only a power loss could drop the last lines (those steps then run again).
 */
export class Journal {
  private readonly fd: number;
  constructor(readonly wfdir: string) {
    const file = path.join(engineDir(wfdir), "journal");
    try {
      fs.mkdirSync(engineDir(wfdir), { recursive: true });
      this.fd = fs.openSync(file, "a");
    } catch (e) {
      throw asStorageError(e, file);
    }
  }
  record(parentDir: string, order: string, dirName: string): void {
    const rel = path.relative(this.wfdir, parentDir) || ".";
    try {
      fs.writeSync(this.fd, `${rel}\t${order}\t${dirName}\n`);
    } catch (e) {
      throw asStorageError(e, path.join(engineDir(this.wfdir), "journal"));
    }
  }
  close(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
  }
  /** parent dir (absolute) -> order -> dir name, from an earlier run's journal. */
  static read(wfdir: string): Map<string, Map<string, string>> {
    const out = new Map<string, Map<string, string>>();
    let text = "";
    try {
      text = fs.readFileSync(path.join(engineDir(wfdir), "journal"), "utf8");
    } catch {
      return out;
    }
    for (const line of text.split("\n")) {
      const [rel, order, dir] = line.split("\t");
      if (!dir) continue; // a torn last line
      const parent = rel === "." ? wfdir : path.join(wfdir, rel);
      let m = out.get(parent);
      if (!m) out.set(parent, (m = new Map()));
      if (!m.has(order)) m.set(order, dir);
    }
    return out;
  }
}

export interface RunInfo {
  script: string;
  args: string[];
  cwd: string;
  /** The DFLOW_* settings the script ran with. */
  env: Record<string, string>;
}

export function writeRunInfo(wfdir: string): void {
  const script = process.argv[1];
  if (!script) return;
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith("DFLOW_") && !["DFLOW_CLI_REPORT", "DFLOW_RESUME_ID", "DFLOW_REUSE_FROM", "DFLOW_DETACHED_LOG"].includes(e[0]) && e[1] !== undefined));
  const info: RunInfo = { script: path.resolve(script), args: process.argv.slice(2), cwd: process.cwd(), env };
  writeAtomicSync(path.join(engineDir(wfdir), "run.json"), `${JSON.stringify(info, null, 2)}\n`);
}

export function readRunInfo(wfdir: string): RunInfo | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(engineDir(wfdir), "run.json"), "utf8")) as RunInfo;
  } catch {
    return null;
  }
}
