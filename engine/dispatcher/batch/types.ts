/**
 * A batch system as the submission loop sees it (spec §4.8–§4.9): the exact command lines
 * DPDispatcher sends, and how their answers are read. Pure: no I/O here; the loop runs the
 * commands through a context and feeds the results back.
 */
import type { ExecResult } from "../context/transport.js";
import type { BatchType } from "../schema.js";

/** DPDispatcher's JobStatus, with the integer codes of the state file (§4.10). */
export type JobStatus = "unsubmitted" | "waiting" | "running" | "terminated" | "finished" | "completing" | "unknown";
export const JOB_STATUS_CODE: Record<JobStatus, number> = { unsubmitted: 1, waiting: 2, running: 3, terminated: 4, finished: 5, completing: 6, unknown: 100 };
export const JOB_STATUS_BY_CODE: Record<number, JobStatus> = Object.fromEntries(Object.entries(JOB_STATUS_CODE).map(([k, v]) => [v, k as JobStatus]));

export type JobId = string | number;

export type SubmitAnswer =
  /** Submitted; the scheduler's id (Shell: the PID, a number). */
  | { kind: "id"; id: JobId }
  /** Soft back-pressure (QOS / "temporarily unable"): leave the job unsubmitted, try at the next poll. */
  | { kind: "backoff"; reason: string }
  /** A transient scheduler failure: retry the same command later (§4.8 "retry"). */
  | { kind: "retry"; reason: string }
  | { kind: "error"; reason: string };

export type PollAnswer =
  | { kind: "state"; state: "waiting" | "running" | "completing" | "unknown"; code?: string }
  /** The scheduler no longer runs the job (terminal code, or "unknown job id"): the finish tag decides. */
  | { kind: "ended"; code?: string }
  | { kind: "retry"; reason: string }
  | { kind: "error"; reason: string };

export interface BatchSystem {
  readonly batchType: BatchType;
  /** Exact submit command of §4.8 (`rr` = the job working directory, `jobFile` = `J.sub`). */
  submitCommand(rr: string, jobFile: string): string;
  parseSubmit(res: ExecResult): SubmitAnswer;
  /** Exact per-job status command of §4.9. */
  pollCommand(id: JobId): string;
  parsePoll(res: ExecResult, id: JobId): PollAnswer;
  /**
   * One status query for many jobs (our addition: be kind to the scheduler). Absent when the
   * scheduler has no such query; the loop then polls per job.
   */
  pollManyCommand?(ids: JobId[]): string;
  /** One answer per id; an id missing from the output is `ended` (finished jobs leave the queue). */
  parsePollMany?(res: ExecResult, ids: JobId[]): Map<string, PollAnswer>;
  /** Kill command (§4.9, results ignored), or null when the batch system has none. */
  killCommand(id: JobId): string | null;
  /** Where the scheduler writes the job's own output, relative to `RR` (for logs in messages). */
  schedulerOutputFiles?(jobHash: string, id: JobId): string[];
}
