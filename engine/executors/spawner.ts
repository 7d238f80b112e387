// Starting step processes cheaply. node's spawn() forks the whole engine,
// whose cost grows with the engine's memory (measured here: 2.5 ms per spawn
// at 50 MB RSS, 6.9 ms at 320 MB, all of it blocking the event loop). So
// steps are started by a tiny long-lived `sh` co-process instead: the engine
// writes one line of shell per step, the shell forks (cheap: ~1 MB), the
// job reports its pid, runs `setsid` so its pid is its process group (for
// timeouts), and reports its exit status on fd 3.
//
// Linux only (the job reads its pid from /proc/self/stat) and needs the
// `setsid` program; elsewhere, or for paths the line protocol cannot carry,
// the caller falls back to node's spawn.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import readline from "node:readline";

export interface SpawnJob {
  argv: string[];
  cwd: string;
  logFile: string;
  env?: Record<string, string>;
  onPid: (pid: number) => void;
}

const LOOP = "while IFS= read -r line; do eval \"$line\"; done";

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

export class Spawner {
  private static instance: Spawner | null | undefined;
  private readonly sh: ChildProcess;
  private readonly waiting = new Map<string, { resolve: (code: number) => void; onPid: (pid: number) => void }>();
  private counter = 0;
  private dead = false;
  private readonly events: NodeJS.ReadableStream & { ref?: () => void; unref?: () => void };

  private constructor(private readonly setsid: string) {
    this.sh = spawn("sh", ["-c", LOOP], { stdio: ["pipe", "ignore", "inherit", "pipe"] });
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

  /** Whether this job can go through the line protocol. */
  static accepts(job: Omit<SpawnJob, "onPid">): boolean {
    const parts = [...job.argv, job.cwd, job.logFile, ...Object.entries(job.env ?? {}).flat()];
    return parts.every((p) => !p.includes("\n") && !p.includes("\0")) && Object.keys(job.env ?? {}).every((k) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k));
  }

  /** Run a job; resolves with its exit status (128+n when killed by signal n, -1 when lost). */
  run(job: SpawnJob): Promise<number> {
    if (this.dead) return Promise.resolve(-1);
    const id = String(++this.counter);
    const exports = Object.entries(job.env ?? {}).map(([k, v]) => `export ${k}=${q(v)}; `).join("");
    const line =
      `{ ( read -r p _ </proc/self/stat; echo "P ${id} $p" >&3; ${exports}cd ${q(job.cwd)} && exec ${q(this.setsid)} ${job.argv.map(q).join(" ")} >${q(job.logFile)} 2>&1 </dev/null 3>&- ); ` +
      // The job shell's own stderr is dropped: it would print "Terminated" when a timeout kills the job.
      `echo "E ${id} $?" >&3; } 2>/dev/null &\n`;
    return new Promise((resolve) => {
      this.waiting.set(id, { resolve, onPid: job.onPid });
      this.events.ref?.();
      this.sh.stdin!.write(line);
    });
  }
}
