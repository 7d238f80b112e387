/**
 * `run_submission` (spec §4.10–§4.15): bind, recover, poll, upload, submit, poll until done,
 * resubmit failed jobs up to retry_count, download, clean. The remote state file `S.json` holds
 * every job id, so a client that died comes back to the same jobs instead of submitting again.
 *
 * Where we differ from upstream (each on purpose, see the compat spec §7.2):
 * - Status is asked once per round for all jobs (`pollMode: "batched"`, through a Poller shared by
 *   every submission to the same cluster); "per-job" reproduces upstream's command stream exactly.
 * - Transient scheduler failures are retried with a configurable count and backoff.
 * - Passwords and TOTP secrets are not written to `S.json` nor to the local record.
 * - A download that keeps failing raises instead of giving up silently.
 */
import { setTimeout as sleep } from "node:timers/promises";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { BatchSystem, JobId, JobStatus, PollAnswer } from "./batch/types.js";
import { JOB_STATUS_BY_CODE, JOB_STATUS_CODE } from "./batch/types.js";
import type { DispatcherContext } from "./context/index.js";
import { type BuiltJob, type BuiltSubmission, staticSubmissionDocument, stateDocument } from "./hash.js";
import { jobScripts } from "./index.js";
import { type PyObject, type PyValue, num, parsePyJson, pyJsonDumps, pyJsonDumpsIndent } from "./pyjson.js";
import { newRunCounters, readHeaderTemplate, type RunCounters } from "./scripts/index.js";
import type { Poller } from "./poller.js";
import { purePosix } from "./paths.js";

export interface RetryPolicy {
  /** Attempts of one scheduler command before the submission fails (upstream: 3). */
  attempts: number;
  /** First delay (upstream: 60 s, fixed); doubles up to maxDelayMs. */
  delayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_SCHEDULER_RETRY: RetryPolicy = { attempts: 8, delayMs: 2000, maxDelayMs: 60_000 };

export interface DispatchStats {
  /** Scheduler commands issued, by command name (sbatch, squeue, …). */
  commands: Record<string, number>;
  /** Jobs submitted (resubmissions included). */
  submitted: number;
}

export const newStats = (): DispatchStats => ({ commands: {}, submitted: 0 });

export interface RunSubmissionOptions {
  batch: BatchSystem;
  /** Client cwd (customized header templates are read relative to it). */
  cwd: string;
  dryRun?: boolean;
  exitOnSubmit?: boolean;
  clean?: boolean;
  /** Seconds between status rounds (upstream `check_interval`, default 30). */
  checkInterval?: number;
  /** "batched" (default): one query per round through `poller`; "per-job": upstream's exact commands. */
  pollMode?: "batched" | "per-job";
  poller?: Poller;
  schedulerRetry?: RetryPolicy;
  /** Aborting kills the submission's queued and running jobs, writes `S.json` and rejects. */
  signal?: AbortSignal;
  log?: (msg: string) => void;
  /** Per task (submission order): backward files fetched only when they exist (our addition). */
  optionalBackward?: string[][];
  /** Where the local record goes (`~/.dpdispatcher/submission` by default); null: none. */
  recordDir?: string | null;
  stats?: DispatchStats;
  /** Called after each successful submit command. */
  onSubmitted?: (job: BuiltJob, id: JobId) => void;
  /** Cap on this client's jobs in the queue: a slot is taken before submit and given back when the job ends. */
  slots?: { tryAcquire(): boolean; release(): void };
  /** Fixed pauses of upstream (1 s after the first round, 0.2 s after a resubmission); tests shorten them. */
  pauses?: { afterFirstRoundMs?: number; afterResubmitMs?: number };
}

export interface JobRuntime {
  job: BuiltJob;
  state: JobStatus | null;
  id: JobId;
  failCount: number;
  counters: RunCounters;
  /** The scheduler's last status code (e.g. TO for a Slurm time-out), for messages. */
  lastCode?: string;
  holdsSlot: boolean;
}

export interface SubmissionResult {
  hash: string;
  rr: string;
  recovered: boolean;
  jobs: { hash: string; id: JobId; state: JobStatus | null; failCount: number }[];
}

/** A submission that cannot finish: names RR, S and what to do next. */
export class SubmissionError extends Error {
  constructor(message: string, readonly rr: string, readonly hash: string, readonly recordPath: string | null, readonly retryable = false, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SubmissionError";
  }
}

const SECRET_KEYS = ["password", "totp_secret", "passphrase"];

/** The machine without secrets: what we store (upstream stores them in clear text; §4.14). */
function redact(doc: PyObject): PyObject {
  const m = doc.machine as PyObject | undefined;
  const rp = m?.remote_profile as PyObject | undefined;
  if (!rp || !SECRET_KEYS.some((k) => k in rp && rp[k] !== null)) return doc;
  const remote_profile: PyObject = {};
  for (const [k, v] of Object.entries(rp)) remote_profile[k] = SECRET_KEYS.includes(k) && v !== null ? "<redacted>" : v;
  return { ...doc, machine: { ...m, remote_profile } };
}


const commandName = (cmd: string): string => {
  const last = cmd.split(" && ").pop()!.trim();
  return last.startsWith("{") ? "nohup" : last.split(/\s+/)[0]!;
};

export class Submission {
  readonly jobs: JobRuntime[];
  private recovered = false;
  private readonly stats: DispatchStats;
  private readonly log: (m: string) => void;
  private readonly retry: RetryPolicy;

  constructor(readonly sub: BuiltSubmission, readonly ctx: DispatcherContext, readonly opts: RunSubmissionOptions) {
    this.jobs = sub.jobs.map((job) => ({ job, state: null, id: "", failCount: 0, counters: newRunCounters(), holdsSlot: false }));
    this.stats = opts.stats ?? newStats();
    this.log = opts.log ?? (() => undefined);
    this.retry = opts.schedulerRetry ?? DEFAULT_SCHEDULER_RETRY;
  }

  private get machine() {
    return this.sub.machine!.serialized;
  }

  private async schedulerExec(cmd: string) {
    const name = commandName(cmd);
    this.stats.commands[name] = (this.stats.commands[name] ?? 0) + 1;
    return this.ctx.exec(cmd);
  }

  // ---- state file -------------------------------------------------------------------------

  private runtimeOf = (j: BuiltJob) => {
    const rt = this.jobs[j.index]!;
    return { job_state: rt.state === null ? null : JOB_STATUS_CODE[rt.state], job_id: rt.id, fail_count: rt.failCount };
  };

  async writeState(): Promise<void> {
    await this.ctx.writeFile(`${this.sub.hash}.json`, pyJsonDumpsIndent(redact(stateDocument(this.sub, this.runtimeOf)), 4));
  }

  private writeRecord(): string | null {
    if (this.opts.recordDir === null) return null;
    const dir = this.opts.recordDir ?? path.join(os.homedir(), ".dpdispatcher", "submission");
    const file = path.join(dir, `${this.sub.hash}.json`);
    try {
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(`${file}.tmp`, pyJsonDumpsIndent(redact(stateDocument(this.sub, this.runtimeOf)), 2));
      fs.renameSync(`${file}.tmp`, file);
      return file;
    } catch {
      return null;
    }
  }

  /** §4.15 step 1: adopt the jobs of a state file left by an earlier client. */
  private async tryRecover(): Promise<void> {
    const text = await this.ctx.readFile(`${this.sub.hash}.json`);
    if (text === null) return;
    let stored: PyObject;
    try {
      stored = parsePyJson(text) as PyObject;
    } catch (e) {
      throw new SubmissionError(`Recover failed: the state file ${this.ctx.rr}/${this.sub.hash}.json is not valid JSON (${(e as Error).message}); remove it to start over`, this.ctx.rr, this.sub.hash, null);
    }
    const jobs = (stored.belonging_jobs as PyValue[] | undefined) ?? [];
    const staticOf = (doc: PyObject) => {
      const d = redact({ ...doc });
      d.belonging_jobs = ((d.belonging_jobs as PyObject[] | undefined) ?? []).map((j) => {
        const [h, body] = Object.entries(j)[0]!;
        const { job_state: _s, job_id: _i, fail_count: _f, ...rest } = body as PyObject;
        return { [h]: rest };
      });
      return pyJsonDumps(d);
    };
    if (staticOf(stored) !== staticOf(staticSubmissionDocument(this.sub))) {
      throw new SubmissionError(`Recover failed: ${this.ctx.rr}/${this.sub.hash}.json describes a different submission than this one (same hash, different content); remove it to start over`, this.ctx.rr, this.sub.hash, null);
    }
    for (const j of jobs as PyObject[]) {
      const [h, body] = Object.entries(j)[0]!;
      const rt = this.jobs.find((x) => x.job.hash === h);
      if (!rt) continue;
      const b = body as PyObject;
      rt.state = b.job_state === null || b.job_state === undefined ? null : (JOB_STATUS_BY_CODE[num(b.job_state)] ?? "unknown");
      rt.id = typeof b.job_id === "number" ? b.job_id : String(b.job_id ?? "");
      rt.failCount = b.fail_count === undefined ? 0 : num(b.fail_count);
    }
    this.recovered = true;
    this.log(`recovered submission ${this.sub.hash} in ${this.ctx.describe}: ${this.jobs.map((j) => `${j.job.hash.slice(0, 8)}=${j.id || "-"}(${j.state ?? "new"})`).join(", ")}`);
  }

  // ---- polling ----------------------------------------------------------------------------

  private async finishTagExists(rt: JobRuntime): Promise<boolean> {
    if (this.machine.batch_type === "SlurmJobArray") {
      for (const t of rt.job.tasks) if (!(await this.ctx.exists(`${purePosix(t.task.task_work_path)}/${t.hash}_task_tag_finished`))) return false;
      return true;
    }
    return this.ctx.exists(`${rt.job.hash}_job_tag_finished`);
  }

  private async answerFor(rt: JobRuntime): Promise<PollAnswer> {
    const b = this.opts.batch;
    if (this.opts.pollMode !== "per-job" && this.opts.poller && b.pollManyCommand) return this.opts.poller.status(rt.id);
    const res = await this.schedulerExec(b.pollCommand(rt.id));
    return b.parsePoll(res, rt.id);
  }

  private async pollJob(rt: JobRuntime): Promise<void> {
    if (rt.state === "finished") return;
    if (rt.id === "") {
      rt.state = "unsubmitted";
      return;
    }
    for (let attempt = 1; ; attempt++) {
      const a = await this.answerFor(rt);
      if (a.kind === "retry") {
        if (attempt >= this.retry.attempts) throw new SchedulerTransient(`status of job ${rt.id} could not be read after ${attempt} attempts: ${a.reason}`);
        const wait = Math.min(this.retry.delayMs * 2 ** (attempt - 1), this.retry.maxDelayMs);
        this.log(`status of job ${rt.id}: ${a.reason}; asking again in ${Math.round(wait / 1000)} s (attempt ${attempt}/${this.retry.attempts})`);
        await sleep(wait, undefined, { signal: this.opts.signal });
        continue;
      }
      if (a.kind === "error") throw new Error(`status of job ${rt.id}: ${a.reason}`);
      if (a.code) rt.lastCode = a.code;
      if (a.kind === "state") rt.state = a.state;
      else rt.state = (await this.finishTagExists(rt)) ? "finished" : "terminated";
      break;
    }
    if (rt.state === "finished" || rt.state === "terminated") this.releaseSlot(rt);
  }

  private async pollAll(): Promise<void> {
    await Promise.all(this.jobs.map((rt) => this.pollJob(rt)));
    if (this.jobs.some((j) => j.state === "terminated" || j.state === "unknown")) await this.writeState();
  }

  private releaseSlot(rt: JobRuntime): void {
    if (rt.holdsSlot) {
      rt.holdsSlot = false;
      this.opts.slots?.release();
    }
  }

  // ---- submitting -------------------------------------------------------------------------

  private async submitJob(rt: JobRuntime): Promise<void> {
    const job = rt.job;
    if (!rt.holdsSlot && this.opts.slots) {
      if (!this.opts.slots.tryAcquire()) {
        // The queue cap is reached: stay unsubmitted, try again at the next round.
        if (rt.state !== "unsubmitted") this.log(`job ${job.hash.slice(0, 12)} waits for a free slot (max_queued_jobs reached)`);
        rt.id = "";
        rt.state = "unsubmitted";
        return;
      }
      rt.holdsSlot = true;
    }
    const unfinishedArrayIndices: number[] = [];
    if (this.machine.batch_type === "SlurmJobArray" && rt.failCount > 0) {
      const size = num((job.resources.kwargs as PyObject).slurm_job_size ?? 1);
      for (let i = 0; i < job.tasks.length; i++) {
        const t = job.tasks[i]!;
        if (!(await this.ctx.exists(`${purePosix(t.task.task_work_path)}/${t.hash}_task_tag_finished`))) unfinishedArrayIndices.push(Math.floor(i / size));
      }
    }
    const scripts = jobScripts(this.sub, job, {
      counters: rt.counters,
      failCount: rt.failCount,
      unfinishedArrayIndices: [...new Set(unfinishedArrayIndices)],
      headerTemplate: readHeaderTemplate(job.resources, this.opts.cwd),
    });
    await this.ctx.writeFile(`${job.hash}.sub`, scripts.sub);
    await this.ctx.writeFile(`${job.hash}.sub.run`, scripts.run);
    for (let attempt = 1; ; attempt++) {
      const res = await this.schedulerExec(this.opts.batch.submitCommand(this.ctx.rr, `${job.hash}.sub`));
      const a = this.opts.batch.parseSubmit(res);
      if (a.kind === "id") {
        rt.id = a.id;
        rt.state = "waiting";
        this.stats.submitted++;
        await this.ctx.writeFile(`${job.hash}_job_id`, String(a.id));
        this.log(`job ${job.hash} was submitted as ${a.id}${rt.failCount ? ` (attempt ${rt.failCount + 1})` : ""}`);
        this.opts.onSubmitted?.(job, a.id);
        break;
      }
      if (a.kind === "backoff") {
        // The scheduler refuses more jobs for now: stay unsubmitted, try at the next round.
        this.log(`job ${job.hash.slice(0, 12)} not accepted yet: ${a.reason}`);
        rt.id = "";
        rt.state = "unsubmitted";
        this.releaseSlot(rt);
        return;
      }
      if (a.kind === "error" || attempt >= this.retry.attempts) {
        this.releaseSlot(rt);
        throw new Error(`submitting job ${job.hash} failed${a.kind === "retry" ? ` after ${attempt} attempts` : ""}: ${a.reason}`);
      }
      const wait = Math.min(this.retry.delayMs * 2 ** (attempt - 1), this.retry.maxDelayMs);
      this.log(`submitting job ${job.hash.slice(0, 12)}: ${a.reason}; trying again in ${Math.round(wait / 1000)} s`);
      await sleep(wait, undefined, { signal: this.opts.signal });
    }
    const wt = num(job.resources.wait_time);
    if (wt > 0) await sleep(wt * 1000, undefined, { signal: this.opts.signal });
  }

  /** §4.10 handling of every job after a poll round. */
  private async handleUnexpected(): Promise<void> {
    for (const rt of this.jobs) await this.handleJob(rt);
  }

  private async handleJob(rt: JobRuntime): Promise<void> {
    if (rt.state === "unknown") throw new Error(`job ${rt.job.hash} (scheduler id ${rt.id}) is in a state this client does not know${rt.lastCode ? ` (scheduler code ${rt.lastCode})` : ""}`);
    if (rt.state === "unsubmitted") {
      await this.submitJob(rt);
      return;
    }
    if (rt.state !== "terminated") return;
    rt.failCount++;
    const rc = this.machine.retry_count;
    const R = rc >= 0 ? rc + 1 : 3;
    if (rt.failCount % R === 0) {
      const lastErr = (await this.ctx.readFile(`${rt.job.hash}_last_err_file`)) ?? "";
      const why = rt.lastCode ? ` (the scheduler's last state: ${describeCode(this.machine.batch_type, rt.lastCode)})` : "";
      throw new JobFailed(`job ${rt.job.hash} ${rt.id} failed ${rt.failCount} times${why}.${lastErr ? `\nPossible remote error message: ${lastErr.trim()}` : ""}`, lastErr);
    }
    this.log(`job ${rt.job.hash.slice(0, 12)} (${rt.id}) ended without its finish tag${rt.lastCode ? ` (${describeCode(this.machine.batch_type, rt.lastCode)})` : ""}; resubmitting (failure ${rt.failCount}, retry_count ${rc})`);
    await this.submitJob(rt);
    if (rt.id !== "") {
      await sleep(this.opts.pauses?.afterResubmitMs ?? 200, undefined, { signal: this.opts.signal });
      await this.pollJob(rt);
      await this.handleJob(rt);
    }
  }

  // ---- the loop ---------------------------------------------------------------------------

  private allFinished(): boolean {
    return !this.jobs.some((j) => j.state !== null && j.state !== "finished");
  }

  private async killUnfinished(): Promise<void> {
    for (const rt of this.jobs) {
      if (rt.state === "finished" || rt.id === "") continue;
      const cmd = this.opts.batch.killCommand(rt.id);
      if (cmd) await this.schedulerExec(cmd).catch(() => undefined);
      this.releaseSlot(rt);
    }
  }

  private failure(e: unknown): SubmissionError {
    const record = this.writeRecord();
    const msg = e instanceof Error ? e.message : String(e);
    return new SubmissionError(
      `${msg}\nSubmission ${this.sub.hash} in ${this.ctx.describe} stopped; its state is in ${this.ctx.rr}/${this.sub.hash}.json${record ? ` and ${record} (dpdisp submission ${this.sub.hash} to salvage finished tasks)` : ""}.`,
      this.ctx.rr,
      this.sub.hash,
      record,
      e instanceof SchedulerTransient,
      { cause: e },
    );
  }

  async run(): Promise<SubmissionResult> {
    const o = this.opts;
    const recoverMode = await this.ctx.bind(this.sub);
    this.log(`submission ${this.sub.hash} in ${this.ctx.describe} (${this.jobs.length} job${this.jobs.length === 1 ? "" : "s"}, ${this.sub.tasks.length} task${this.sub.tasks.length === 1 ? "" : "s"})`);
    try {
      await this.tryRecover();
      await this.pollAll();
      if (!this.jobs.every((j) => j.state === "finished")) {
        await this.ctx.upload(this.sub, recoverMode);
        if (o.dryRun) return this.result();
        await this.handleUnexpected();
        await this.writeState();
        await sleep(o.pauses?.afterFirstRoundMs ?? 1000, undefined, { signal: o.signal });
        await this.pollAll();
        await this.handleUnexpected();
        const ratio = num(this.sub.resources.strategy.ratio_unfinished);
        while (!this.allFinished()) {
          if (o.exitOnSubmit) return this.result();
          if (ratio > 0 && (await this.finishedTaskRatio()) >= 1 - ratio) {
            await this.dropUnfinished();
            break;
          }
          await sleep((o.checkInterval ?? 30) * 1000, undefined, { signal: o.signal });
          await this.pollAll();
          await this.handleUnexpected();
        }
      }
      await this.handleUnexpected();
      const done = new Set(this.jobs.flatMap((j) => j.job.tasks.map((t) => t.hash)));
      await this.ctx.download(this.sub, {
        tasks: this.sub.tasks.flatMap((t, i) => (done.has(t.hash) ? [{ task_work_path: t.task.task_work_path, backward_files: t.task.backward_files, optional: o.optionalBackward?.[i] }] : [])),
        backward_common_files: this.sub.backward_common_files,
      });
      await this.writeState();
      if (o.clean ?? true) {
        await this.ctx.clean(this.sub.machine!.cleanAsynchronously);
        const rec = path.join(o.recordDir ?? path.join(os.homedir(), ".dpdispatcher", "submission"), `${this.sub.hash}.json`);
        if (o.recordDir !== null) fs.rmSync(rec, { force: true });
      }
      return this.result();
    } catch (e) {
      if (o.signal?.aborted) {
        // Deleting a step kills its jobs (dflow's SIGTERM handler does the same).
        await this.killUnfinished();
        await this.writeState().catch(() => undefined);
        throw e;
      }
      await this.writeState().catch(() => undefined);
      this.jobs.forEach((rt) => this.releaseSlot(rt));
      throw this.failure(e);
    }
  }

  private async finishedTaskRatio(): Promise<number> {
    let done = 0;
    for (const rt of this.jobs) {
      if (this.sub.resources.group_size === 1) {
        if (rt.state === "finished") done++;
      } else {
        for (const t of rt.job.tasks) if (await this.ctx.exists(`${purePosix(t.task.task_work_path)}/${t.hash}_task_tag_finished`)) done++;
      }
    }
    return done / this.sub.tasks.length;
  }

  /** ratio_unfinished reached: kill the stragglers and forget their tasks (§4.11 step 7). */
  private async dropUnfinished(): Promise<void> {
    await this.killUnfinished();
    const keep = new Set<string>();
    for (const rt of this.jobs) {
      if (rt.state === "finished") rt.job.tasks.forEach((t) => keep.add(t.hash));
      else for (const t of rt.job.tasks) if (await this.ctx.exists(`${purePosix(t.task.task_work_path)}/${t.hash}_task_tag_finished`)) keep.add(t.hash);
      rt.state = "finished";
    }
    for (const rt of this.jobs) rt.job = { ...rt.job, tasks: rt.job.tasks.filter((t) => keep.has(t.hash)) };
  }

  private result(): SubmissionResult {
    return { hash: this.sub.hash, rr: this.ctx.rr, recovered: this.recovered, jobs: this.jobs.map((j) => ({ hash: j.job.hash, id: j.id, state: j.state, failCount: j.failCount })) };
  }
}

/** A transient scheduler failure that outlasted its retries: a retry of the step may succeed. */
export class SchedulerTransient extends Error {
  override name = "SchedulerTransient";
}

/** A job failed retry_count + 1 times; carries the tail of the last failing task's error log. */
export class JobFailed extends Error {
  override name = "JobFailed";
  constructor(message: string, readonly lastErr: string) {
    super(message);
  }
}

const SLURM_CODES: Record<string, string> = { TO: "TIMEOUT: over its time limit", F: "FAILED", CA: "CANCELLED", NF: "NODE_FAIL", OO: "OUT_OF_MEMORY", PR: "PREEMPTED", DL: "DEADLINE", BF: "BOOT_FAIL", CD: "COMPLETED" };

export function describeCode(batchType: string, code: string): string {
  if (batchType.startsWith("Slurm")) return `${code} ${SLURM_CODES[code] ?? ""}`.trim();
  return code;
}
