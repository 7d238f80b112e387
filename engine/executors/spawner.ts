// Starting step processes cheaply. node's spawn() forks the whole engine,
// whose cost grows with the engine's memory (measured here: 2.5 ms per spawn
// at 50 MB RSS, 6.9 ms at 320 MB, all of it blocking the event loop). So
// steps are started by a tiny long-lived `sh` co-process instead: the engine
// writes a few lines of shell per step to its stdin, which the shell reads as
// its script (in blocks: a `while read` loop would read it one byte per
// system call, about 700 per step). For each job the shell forks a subshell
// (the job's watcher), which starts the step's command under `setsid` (its
// pid is then its process group, so a timeout kills the whole tree), reports
// that pid on fd 3, waits for it, records its exit status in the step's exit
// file (the step side's record, which outlives a killed engine), kills what
// is left of the group (a step's background processes end with it) and
// reports the status on fd 3. Per step that is two forks and two execs
// (setsid, the command); the watcher stays outside the group, so it records
// a status also when a timeout kills the group. Expansions are quoted: the
// engine's environment may set IFS.
//
// The co-process's environment is a copy of the engine's taken when it
// started, but a workflow script may change process.env between two submits
// (or between building and submitting): before each job the engine compares
// process.env with what it last gave the shell and sends only the
// difference (`export`/`unset` in the shell itself, so later jobs inherit
// it). Comparing costs tens of microseconds for a few dozen variables,
// a small part of what a fork from the engine would; nothing is sent when
// nothing changed.
//
// Linux only, and needs the `setsid` program; elsewhere, or for what the
// text protocol cannot carry (newlines, names sh cannot export), the caller
// falls back to node's spawn.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import readline from "node:readline";

export interface SpawnJob {
  argv: string[];
  cwd: string;
  logFile: string;
  env?: Record<string, string>;
  /** Where the watcher records the command's exit status ("<status>\n", one write) when it ends. */
  exitFile?: string;
  onPid: (pid: number) => void;
}

function q(s: string): string {
  return `'${s.replace(/'/g, "'\\''")}'`;
}

function findSetsid(): string | null {
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(":")) {
    const p = `${dir}/setsid`;
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return null;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Set by the shell itself for each job (`cd`), not the engine's to give. */
const SHELL_OWNED = new Set(["PWD", "OLDPWD"]);

function carries(s: string): boolean {
  return !s.includes("\n") && !s.includes("\0");
}

export class Spawner {
  private static instance: Spawner | null | undefined;
  private readonly sh: ChildProcess;
  private readonly waiting = new Map<string, { resolve: (code: number) => void; onPid: (pid: number) => void }>();
  private counter = 0;
  private dead = false;
  private readonly events: NodeJS.ReadableStream & { ref?: () => void; unref?: () => void };
  /** The exported variables the shell has (as far as the engine gave them). */
  private readonly shEnv = new Map<string, string>();

  private constructor(private readonly setsid: string) {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (v === undefined || !NAME.test(k) || SHELL_OWNED.has(k)) continue;
      env[k] = v;
      this.shEnv.set(k, v);
    }
    // `sh -s`: commands come from stdin, as the jobs are written.
    this.sh = spawn("sh", ["-s"], { stdio: ["pipe", "ignore", "inherit", "pipe"], env });
    this.sh.unref();
    (this.sh.stdin as unknown as { unref?: () => void }).unref?.();
    // The co-process must not keep the engine alive on its own, but a job
    // being awaited must: the event stream is ref'd exactly while jobs run.
    const events = this.sh.stdio[3] as NodeJS.ReadableStream & { ref?: () => void; unref?: () => void };
    this.events = events;
    events.unref?.();
    readline.createInterface({ input: events }).on("line", (line) => {
      const [kind, id, value] = line.split(" ");
      const w = this.waiting.get(id);
      if (!w) return;
      if (kind === "P") w.onPid(Number(value));
      else if (kind === "E") {
        this.waiting.delete(id);
        if (this.waiting.size === 0) this.events.unref?.();
        w.resolve(Number(value));
      }
    });
    const die = () => {
      this.dead = true;
      Spawner.instance = null;
      // Jobs already started keep running but cannot be awaited: report them lost.
      for (const [, w] of this.waiting) w.resolve(-1);
      this.waiting.clear();
    };
    this.sh.on("exit", die);
    this.sh.on("error", die);
    this.sh.stdin!.on("error", die);
  }

  /** The shared spawner, or null where it cannot work (then use node's spawn). */
  static get(): Spawner | null {
    if (Spawner.instance !== undefined) return Spawner.instance;
    const setsid = process.platform === "linux" && !process.env.DFLOW_NO_SPAWNER ? findSetsid() : null;
    Spawner.instance = setsid ? new Spawner(setsid) : null;
    return Spawner.instance;
  }

  /** Whether this job's own fields can go through the line protocol. */
  static accepts(job: Omit<SpawnJob, "onPid">): boolean {
    const parts = [...job.argv, job.cwd, job.logFile, job.exitFile ?? "", ...Object.entries(job.env ?? {}).flat()];
    return parts.every(carries) && Object.keys(job.env ?? {}).every((k) => NAME.test(k));
  }

  /**
   * Shell text that brings the co-process's environment up to process.env,
   * "" when nothing changed, null when a change cannot be carried (the job
   * then goes through node's spawn, which passes process.env as it is).
   */
  private envDelta(): string | null {
    let text = "";
    let seen = 0;
    for (const k in process.env) {
      const v = process.env[k];
      if (v === undefined || SHELL_OWNED.has(k)) continue;
      const had = this.shEnv.get(k);
      if (had !== undefined) seen++;
      if (had === v) continue;
      if (!NAME.test(k) || !carries(v)) return null;
      text += `export ${k}=${q(v)}; `;
    }
    if (seen < this.shEnv.size) {
      for (const k of this.shEnv.keys()) if (process.env[k] === undefined) text += `unset ${k}; `;
    }
    return text;
  }

  /**
   * Run a job; resolves with its exit status (128+n when killed by signal n,
   * -1 when lost), or returns null when the engine's environment has a
   * change the line protocol cannot carry.
   */
  run(job: SpawnJob): Promise<number> | null {
    if (this.dead) return Promise.resolve(-1);
    const delta = this.envDelta();
    if (delta === null) return null;
    if (delta) {
      for (const k of this.shEnv.keys()) if (process.env[k] === undefined) this.shEnv.delete(k);
      for (const k in process.env) if (process.env[k] !== undefined && !SHELL_OWNED.has(k)) this.shEnv.set(k, process.env[k]!);
    }
    const id = String(++this.counter);
    const exports = Object.entries(job.env ?? {}).map(([k, v]) => `export ${k}=${q(v)}; `).join("");
    const record = job.exitFile ? `printf '%s\\n' "$s" >${q(job.exitFile)}; ` : "";
    // The delta runs in the shell itself, before the job forks, so this job and every later one has it.
    // A background job's stdin is /dev/null already; the command must not hold the event pipe (fd 3).
    // The watcher's own stderr is dropped (a failed cd, a kill of a group already gone).
    // `jobs` first: a non-interactive sh reaps its finished background jobs only when it waits for
    // something, which this one never does, so without it every step would stay a zombie (pid_max,
    // 32768 here, ran out in a 100k fan-out). The builtin reaps them without a fork or a wait.
    const line =
      `${delta}jobs >/dev/null 2>&1; ( ${exports}if cd ${q(job.cwd)}; then ${q(this.setsid)} ${job.argv.map(q).join(" ")} >${q(job.logFile)} 2>&1 </dev/null 3>&- & ` +
      `echo "P ${id} $!" >&3; wait "$!"; s=$?; ${record}kill -9 -"$!" 2>/dev/null; else s=$?; fi; echo "E ${id} $s" >&3 ) 2>/dev/null &\n`;
    return new Promise((resolve) => {
      this.waiting.set(id, { resolve, onPid: job.onPid });
      this.events.ref?.();
      this.sh.stdin!.write(line);
    });
  }
}
