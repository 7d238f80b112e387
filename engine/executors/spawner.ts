// Starting step processes cheaply. node's spawn() forks the whole engine,
// whose cost grows with the engine's memory (measured here: 2.5 ms per spawn
// at 50 MB RSS, 6.9 ms at 320 MB, all of it blocking the event loop). So
// steps are started by tiny long-lived `sh` co-processes instead ("leaders"):
// the engine writes a few lines of shell per step to a leader's stdin, which
// the shell reads as its script (in blocks: a `while read` loop would read
// it one byte per system call, about 700 per step).
//
// Each leader is started once with node's spawn `detached`, so it leads a
// session and process group of its own, and runs one step at a time in it:
// it forks the step's command in the background, reports that pid on fd 3,
// waits for it, records its exit status in the step's exit file (the step
// side's record, which outlives a killed engine), sends SIGTERM to its group
// (a step's background processes end with it; the leader itself catches it)
// and reports the status on fd 3. Per step that is one fork and one exec.
// The step's group is its leader's, so a timeout reaches the whole tree: a
// SIGTERM to the group, which the leader catches, then a SIGKILL to each of
// its other members (killMembers), so the leader stays to reap the step and
// record its status. An earlier design (one shared shell; per step a watcher
// subshell that started the command under the `setsid` program) cost two
// forks and two execs per step: measured here 18.7 ms of CPU per step
// against 9-10 ms for this shape, where a bare `sh script` costs 8.9 ms.
//
// A leader's environment is a copy of the engine's taken when it started,
// but a workflow script may change process.env between two submits (or
// between building and submitting): before each job the engine compares
// process.env with what it last gave that leader and sends only the
// difference (`export`/`unset` in the leader itself, so later jobs inherit
// it). Comparing costs tens of microseconds for a few dozen variables,
// a small part of what a fork from the engine would; nothing is sent when
// nothing changed. The step's own variables are assignments in front of its
// command, so they do not stay in the leader. Expansions are quoted: the
// engine's environment may set IFS.
//
// Linux only; elsewhere, for what the text protocol cannot carry (newlines,
// names sh cannot export), or beyond MAX_LEADERS steps at once, the caller
// falls back to node's spawn.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import readline from "node:readline";

export interface SpawnJob {
  argv: string[];
  cwd: string;
  logFile: string;
  env?: Record<string, string>;
  /** Where the leader records the command's exit status ("<status>\n", one write) when it ends. */
  exitFile?: string;
  /** The command's pid, and the process group that holds it and everything it starts. */
  onPid: (pid: number, group: number) => void;
}

function q(s: string): string {
  return `'${s.replace(/'/g, "'\\''")}'`;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Set by the shell itself for each job (`cd`), not the engine's to give. */
const SHELL_OWNED = new Set(["PWD", "OLDPWD"]);

function carries(s: string): boolean {
  return !s.includes("\n") && !s.includes("\0");
}

/**
 * Leaders alive at most: one per step running at once. Each costs a fork of
 * the engine once and a small shell's memory; past this (debug_pool_workers
 * -1 over a large fan-out) steps go through node's spawn.
 */
const MAX_LEADERS = 256;

// The leader's own script, before any job: SIGTERM (the end-of-step sweep of
// its group, or a timeout) is caught, so the leader lives on; a caught signal
// resets to the default in the commands it starts. A `wait` cut short by the
// trap is repeated until the command is really gone.
const PROLOGUE = "trap : TERM\n";

class Leader {
  readonly sh: ChildProcess;
  readonly pid: number;
  dead = false;
  private current: { resolve: (code: number) => void; onPid: (pid: number, group: number) => void } | null = null;
  private readonly events: NodeJS.ReadableStream & { ref?: () => void; unref?: () => void };
  /** The exported variables the shell has (as far as the engine gave them). */
  private readonly shEnv = new Map<string, string>();

  constructor(onDeath: (l: Leader) => void) {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (v === undefined || !NAME.test(k) || SHELL_OWNED.has(k)) continue;
      env[k] = v;
      this.shEnv.set(k, v);
    }
    // `sh -s`: commands come from stdin, as the jobs are written. Its own
    // messages (a kill of a group already gone) are dropped.
    this.sh = spawn("sh", ["-s"], { stdio: ["pipe", "ignore", "ignore", "pipe"], env, detached: true });
    this.pid = this.sh.pid ?? -1;
    this.sh.unref();
    (this.sh.stdin as unknown as { unref?: () => void }).unref?.();
    // The leader must not keep the engine alive on its own, but a job being
    // awaited must: the event stream is ref'd exactly while a job runs.
    const events = this.sh.stdio[3] as NodeJS.ReadableStream & { ref?: () => void; unref?: () => void };
    this.events = events;
    events.unref?.();
    readline.createInterface({ input: events }).on("line", (line) => {
      const w = this.current;
      if (!w) return;
      const [kind, value] = line.split(" ");
      if (kind === "P") w.onPid(Number(value), this.pid);
      else if (kind === "E") {
        this.current = null;
        this.events.unref?.();
        w.resolve(Number(value));
      }
    });
    const die = () => {
      if (this.dead) return;
      this.dead = true;
      onDeath(this);
      // A job started cannot be awaited any more: report it lost.
      const w = this.current;
      this.current = null;
      w?.resolve(-1);
    };
    this.sh.on("exit", die);
    this.sh.on("error", die);
    this.sh.stdin!.on("error", die);
    if (this.pid === -1) die();
    else this.sh.stdin!.write(PROLOGUE);
  }

  /**
   * Shell text that brings the leader's environment up to process.env,
   * "" when nothing changed, null when a change cannot be carried (the job
   * then goes through node's spawn, which passes process.env as it is).
   */
  envDelta(): string | null {
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
    if (text) {
      for (const k of this.shEnv.keys()) if (process.env[k] === undefined) this.shEnv.delete(k);
      for (const k in process.env) if (process.env[k] !== undefined && !SHELL_OWNED.has(k)) this.shEnv.set(k, process.env[k]!);
    }
    return text;
  }

  run(job: SpawnJob, delta: string): Promise<number> {
    const assigns = Object.entries(job.env ?? {}).map(([k, v]) => `${k}=${q(v)} `).join("");
    const record = job.exitFile ? `printf '%s\\n' "$s" >${q(job.exitFile)}; ` : "";
    // The delta runs in the leader itself, so this job and every later one has it.
    // A background job's stdin is /dev/null already; the command must not hold the event pipe (fd 3).
    // `kill -0` tells a wait cut short by the trap (the command still there) from its end.
    const line =
      `${delta}if cd ${q(job.cwd)}; then ${assigns}${job.argv.map(q).join(" ")} >${q(job.logFile)} 2>&1 </dev/null 3>&- & p=$!; ` +
      `echo "P $p" >&3; while :; do wait "$p"; s=$?; kill -0 "$p" 2>/dev/null || break; done; ${record}else s=$?; fi; kill -TERM 0 2>/dev/null; echo "E $s" >&3\n`;
    return new Promise((resolve) => {
      this.current = { resolve, onPid: job.onPid };
      this.events.ref?.();
      this.sh.stdin!.write(line);
    });
  }

}

/**
 * SIGKILL to every process of these leaders' groups but the leaders: a
 * leader stays to reap its step and record its status (a process killed
 * with its parent is left a zombie, which pid 1 may never reap). Read from
 * /proc, again until none is left, as a member may fork meanwhile. Only
 * for what SIGTERM did not end: a timeout's last resort, the engine's exit.
 */
export function killMembers(groups: number[]): void {
  const wanted = new Set(groups.map(String));
  for (let round = 0; round < 10; round++) {
    let found = 0;
    let entries: string[];
    try {
      entries = fs.readdirSync("/proc");
    } catch {
      return;
    }
    for (const d of entries) {
      if (d.charCodeAt(0) > 57 || wanted.has(d)) continue;
      let stat: string;
      try {
        stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
      } catch {
        continue; // ended meanwhile, or not a process
      }
      // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ", 3);
      if (state === "Z" || !wanted.has(pgrp)) continue;
      try {
        process.kill(Number(d), "SIGKILL");
        found++;
      } catch {
        // gone already
      }
    }
    if (!found) return;
  }
}

export class Spawner {
  private static instance: Spawner | null | undefined;
  private readonly idle: Leader[] = [];
  private readonly all = new Set<Leader>();

  private constructor() {
    // What outlived its step's SIGTERM sweep ends with the engine; the idle leaders end at the EOF of their stdin.
    process.on("exit", () => killMembers([...this.all].map((l) => l.pid)));
  }

  /** The shared spawner, or null where it cannot work (then use node's spawn). */
  static get(): Spawner | null {
    if (Spawner.instance !== undefined) return Spawner.instance;
    Spawner.instance = process.platform === "linux" && !process.env.DFLOW_NO_SPAWNER ? new Spawner() : null;
    return Spawner.instance;
  }

  /** Whether this job's own fields can go through the line protocol. */
  static accepts(job: Omit<SpawnJob, "onPid">): boolean {
    const parts = [...job.argv, job.cwd, job.logFile, job.exitFile ?? "", ...Object.entries(job.env ?? {}).flat()];
    return parts.every(carries) && Object.keys(job.env ?? {}).every((k) => NAME.test(k));
  }

  private leader(): Leader | null {
    while (this.idle.length) {
      const l = this.idle.pop()!;
      if (!l.dead) return l;
    }
    if (this.all.size >= MAX_LEADERS) return null;
    const l = new Leader((d) => this.all.delete(d));
    if (l.dead) return null;
    this.all.add(l);
    return l;
  }

  /**
   * Run a job; resolves with its exit status (128+n when killed by signal n,
   * -1 when lost), or returns null when it must go through node's spawn: the
   * engine's environment has a change the line protocol cannot carry, or
   * MAX_LEADERS steps are running.
   */
  run(job: SpawnJob): Promise<number> | null {
    const l = this.leader();
    if (!l) return null;
    const delta = l.envDelta();
    if (delta === null) {
      this.idle.push(l);
      return null;
    }
    return l.run(job, delta).then((code) => {
      if (!l.dead) this.idle.push(l);
      return code;
    });
  }
}
