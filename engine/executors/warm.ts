// Warm workers for TypeScript OPs (opt-in: TsOPTemplate({ warm: true }), or
// config.warm_workers / DFLOW_WARM_WORKERS > 0 for every TS OP). Starting
// node and loading an OP's module costs ~100 ms per step; a pool of
// long-lived workers pays it once. A job that times out kills its worker's
// whole process group; a worker that dies (crash, process.exit in the OP)
// fails its job with the exit status, and is replaced for the next job.
//
// A worker's environment is the engine's when it was forked; the engine's
// may change later (a script setting process.env between two submits). Each
// job carries the difference from what that worker was last given, and the
// worker gives each job exactly that environment plus the step's own.
import { type ChildProcess, fork } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import type { OPRunSpec } from "../ts-op-script.js";
import type { LocalResult } from "./local.js";

const WORKER = fileURLToPath(new URL("../warm-worker.js", import.meta.url));

export interface WarmJob {
  spec: OPRunSpec;
  cwd: string;
  logFile: string;
  env?: Record<string, string>;
  timeout?: number;
  onSpawn?: (pid: number) => void | Promise<void>;
  /** Where the worker records the OP's exit status when it ends (step-dir.ts EXIT_FILE). */
  exitFile?: string;
  /** Whose step this is (a workflow id), for killSteps. */
  owner?: string;
}

/** What changed in the engine's environment since `base`: values to set, names to drop. */
export interface EnvDelta {
  set: Record<string, string>;
  unset: string[];
}

function envDelta(base: Map<string, string>): EnvDelta | undefined {
  const set: Record<string, string> = {};
  const unset: string[] = [];
  let changed = false;
  let seen = 0;
  for (const k in process.env) {
    const v = process.env[k];
    if (v === undefined) continue;
    const had = base.get(k);
    if (had !== undefined) seen++;
    if (had === v) continue;
    set[k] = v;
    base.set(k, v);
    changed = true;
  }
  if (seen < base.size) {
    for (const k of [...base.keys()]) {
      if (process.env[k] === undefined) {
        unset.push(k);
        base.delete(k);
        changed = true;
      }
    }
  }
  return changed ? { set, unset } : undefined;
}

interface Worker {
  proc: ChildProcess;
  busy: boolean;
  /** The engine environment this worker was last given. */
  env: Map<string, string>;
  owner?: string;
  /** The log the worker's raw stdout/stderr (an OP's subprocesses) goes to. */
  log: number | null;
  finish?: (r: LocalResult) => void;
}

export class WarmPool {
  private static pools = new Map<number, WarmPool>();
  private readonly workers = new Set<Worker>();
  private readonly queue: Array<{ job: WarmJob; resolve: (r: LocalResult) => void }> = [];
  private counter = 0;

  private constructor(private readonly size: number) {
    process.on("exit", () => {
      for (const w of this.workers) {
        try {
          process.kill(-w.proc.pid!, "SIGKILL");
        } catch {
          // gone
        }
      }
    });
  }

  /** Kill the workers running one owner's jobs (their jobs fail; the workers are replaced). */
  static killJobs(owner: string): void {
    for (const pool of WarmPool.pools.values()) {
      for (const w of pool.workers) {
        if (!w.busy || w.owner !== owner) continue;
        try {
          process.kill(-w.proc.pid!, "SIGKILL");
        } catch {
          // gone
        }
      }
    }
  }

  static get(size = os.availableParallelism()): WarmPool {
    let p = WarmPool.pools.get(size);
    if (!p) WarmPool.pools.set(size, (p = new WarmPool(Math.max(1, size))));
    return p;
  }

  run(job: WarmJob): Promise<LocalResult> {
    return new Promise((resolve) => {
      this.queue.push({ job, resolve });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length) {
      let w = [...this.workers].find((x) => !x.busy);
      if (!w && this.workers.size < this.size) w = this.start();
      if (!w) return;
      const { job, resolve } = this.queue.shift()!;
      this.assign(w, job, resolve);
    }
  }

  private start(): Worker {
    const env = new Map(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
    const proc = fork(WORKER, [], { stdio: ["ignore", "pipe", "pipe", "ipc"], detached: true, cwd: "/", env: Object.fromEntries(env) });
    const w: Worker = { proc, busy: false, log: null, env };
    this.workers.add(w);
    proc.unref();
    proc.channel?.unref();
    const toLog = (chunk: Buffer) => {
      if (w.log !== null) fs.writeSync(w.log, chunk);
    };
    proc.stdout!.on("data", toLog);
    proc.stderr!.on("data", toLog);
    (proc.stdout as unknown as { unref(): void }).unref();
    (proc.stderr as unknown as { unref(): void }).unref();
    proc.on("message", (m: { id: number; code: number; error?: string }) => {
      if (m.error && w.log !== null) fs.writeSync(w.log, `${m.error}\n`);
      w.finish?.({ exitCode: m.code, signal: null });
    });
    proc.on("exit", (code, signal) => {
      this.workers.delete(w);
      w.finish?.({ exitCode: code, signal });
      this.dispatch();
    });
    return w;
  }

  private assign(w: Worker, job: WarmJob, resolve: (r: LocalResult) => void): void {
    w.busy = true;
    w.owner = job.owner;
    fs.writeFileSync(job.logFile, "");
    w.log = fs.openSync(job.logFile, "a");
    // While a job runs the worker keeps the engine alive.
    w.proc.ref();
    w.proc.channel?.ref();
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    if (job.timeout && job.timeout > 0) {
      timer = setTimeout(() => {
        timedOut = true;
        try {
          process.kill(-w.proc.pid!, "SIGKILL");
        } catch {
          // already gone
        }
      }, job.timeout * 1000);
    }
    w.finish = (r) => {
      w.finish = undefined;
      if (timer) clearTimeout(timer);
      if (w.log !== null) fs.closeSync(w.log);
      w.log = null;
      w.busy = false;
      w.proc.unref();
      w.proc.channel?.unref();
      resolve({ ...r, timedOut });
      this.dispatch();
    };
    if (job.onSpawn) void Promise.resolve(job.onSpawn(w.proc.pid!)).catch(() => undefined);
    w.proc.send({ id: ++this.counter, spec: job.spec, cwd: job.cwd, logFile: job.logFile, env: job.env, base: envDelta(w.env), exitFile: job.exitFile });
  }
}
