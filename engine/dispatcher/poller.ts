/**
 * One status query per round for every job this client has on a cluster, whichever submission
 * (workflow step) owns it: requests that arrive while a round is pending join it, and rounds are
 * at least `minGapMs` apart. Thousands of steps then cost one `squeue` per interval, not one each.
 */
import type { BatchSystem, JobId, PollAnswer } from "./batch/types.js";
import type { ExecResult } from "./context/transport.js";

export interface PollerOptions {
  /** Minimum time between two rounds. */
  minGapMs: number;
  /** How long a round waits for more requests to join (default 50 ms). */
  coalesceMs?: number;
  /** Counts each status command (for the benchmark and the tests). */
  onCommand?: (cmd: string) => void;
}

export class Poller {
  private pending = new Map<string, { id: JobId; waiters: ((a: PollAnswer) => void)[] }>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private lastRound = 0;
  /** Rounds run so far. */
  rounds = 0;

  constructor(private readonly exec: (cmd: string) => Promise<ExecResult>, private readonly batch: BatchSystem, private readonly opts: PollerOptions) {
    if (!batch.pollManyCommand || !batch.parsePollMany) throw new Error(`${batch.batchType} has no batched status query`);
  }

  status(id: JobId): Promise<PollAnswer> {
    return new Promise((resolve) => {
      const key = String(id);
      const e = this.pending.get(key);
      if (e) e.waiters.push(resolve);
      else this.pending.set(key, { id, waiters: [resolve] });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer || this.running || this.pending.size === 0) return;
    const wait = Math.max(this.opts.coalesceMs ?? 50, this.lastRound + this.opts.minGapMs - Date.now());
    this.timer = setTimeout(() => void this.round(), wait);
  }

  private async round(): Promise<void> {
    this.timer = null;
    this.running = true;
    this.lastRound = Date.now();
    this.rounds++;
    const batch = [...this.pending.values()];
    this.pending.clear();
    const ids = batch.map((b) => b.id);
    let answers: Map<string, PollAnswer>;
    try {
      const cmd = this.batch.pollManyCommand!(ids);
      this.opts.onCommand?.(cmd);
      answers = this.batch.parsePollMany!(await this.exec(cmd), ids);
    } catch (e) {
      // The connection itself failed after the transport's own reconnects: transient for everyone.
      answers = new Map(ids.map((id) => [String(id), { kind: "retry", reason: (e as Error).message } as PollAnswer]));
    }
    this.running = false;
    for (const b of batch) {
      const a = answers.get(String(b.id)) ?? { kind: "ended" };
      for (const w of b.waiters) w(a);
    }
    this.schedule();
  }
}
