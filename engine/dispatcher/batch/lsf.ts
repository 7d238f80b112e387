/** LSF and its clone JH_UniScheduler: `bsub <` / `bjobs` / `bkill` (spec §4.8, §4.9). */
import type { ExecResult } from "../context/transport.js";
import type { BatchType } from "../schema.js";
import {
  aggregate,
  answerOf,
  classify,
  fields,
  idOrError,
  keyOf,
  lines,
  pollError,
  pollRetry,
  q,
  requireIds,
  showResult,
  submitError,
  type StatusClass,
} from "./common.js";
import type { BatchSystem, JobId, PollAnswer, SubmitAnswer } from "./types.js";

const ENDED = { DONE: "ended", EXIT: "ended" } as const;

/**
 * Upstream's tables, plus (deviation, spec §7.2: upstream reads these as `unknown`, which aborts
 * the whole submission) SSUSP running (suspended by the system, as JH reads it), PROV waiting,
 * ZOMBI ended (killed, host unreachable).
 */
export const LSF_STATES: Readonly<Record<string, StatusClass>> = {
  PEND: "waiting",
  WAIT: "waiting",
  PSUSP: "waiting",
  RUN: "running",
  USUSP: "running",
  ...ENDED,
  // Deviation from upstream (see above).
  SSUSP: "running",
  PROV: "waiting",
  ZOMBI: "ended",
};

export const JH_STATES: Readonly<Record<string, StatusClass>> = {
  PEND: "waiting",
  RUN: "running",
  PSUSP: "running",
  SSUSP: "running",
  USUSP: "running",
  ...ENDED,
  // Deviation from upstream (see LSF_STATES).
  WAIT: "waiting",
  PROV: "waiting",
  ZOMBI: "ended",
};

function parseSubmit(tool: string, res: ExecResult): SubmitAnswer {
  // Upstream retries any failure (3 × 60 s), then errors.
  if (res.code !== 0) return { kind: "retry", reason: `${tool} failed (${showResult(res)})` };
  // `Job <123> is submitted to queue <normal>.`
  const tok = fields(res.stdout.split("\n")[0] ?? "")[1];
  if (tok === undefined || !/^<.+>$/.test(tok)) return submitError(`${tool}: no job id in the answer`, res);
  return idOrError(tok.slice(1, -1), tool, res);
}

function parsePoll(tool: string, table: Readonly<Record<string, StatusClass>>, res: ExecResult, id: JobId): PollAnswer {
  if (res.stderr.includes(`Job <${id}> is not found`)) return { kind: "ended" };
  // Upstream retries any other failure (exit 255 when the master is busy).
  if (res.code !== 0) return pollRetry(`${tool} failed`, res);
  const ls = lines(res.stdout);
  if (ls.length < 2) return { kind: "state", state: "unknown" };
  const code = fields(ls[1]!)[2];
  if (code === undefined) return pollError(`${tool} status line not understood: ${JSON.stringify(ls[1])}`, res);
  return answerOf(classify(table, code), code);
}

/**
 * `bjobs a b c`: header `JOBID USER STAT ...`, one line per job (array elements repeat the id;
 * continuation lines of EXEC_HOST start with blanks); `Job <id> is not found` on stderr.
 */
function parsePollMany(tool: string, table: Readonly<Record<string, StatusClass>>, res: ExecResult, ids: JobId[]): Map<string, PollAnswer> {
  const keys = ids.map(keyOf);
  const items = new Map<string, { cls: StatusClass; code: string }[]>();
  for (const l of lines(res.stdout)) {
    if (/^\s/.test(l)) continue;
    const f = fields(l);
    if (f.length < 3 || f[0] === "JOBID") continue;
    const tok = f[0]!;
    const key = keys.includes(tok) ? tok : tok.replace(/\[\d+\]$/, "");
    if (!keys.includes(key)) continue;
    const code = f[2]!;
    items.set(key, [...(items.get(key) ?? []), { cls: classify(table, code), code }]);
  }
  const gone = new Set<string>();
  for (const m of res.stderr.matchAll(/Job <([^>]*)> is not found/g)) gone.add(m[1]!);
  const out = new Map<string, PollAnswer>();
  for (const key of keys) {
    const it = items.get(key);
    if (it) out.set(key, aggregate(it));
    else if (gone.has(key) || res.code === 0) out.set(key, { kind: "ended" });
    // A failing bjobs that does not name this id: transient, like the per-job poll.
    else out.set(key, pollRetry(`${tool} did not report job ${key}`, res));
  }
  return out;
}

function lsfLike(batchType: BatchType, submitTool: string, pollTool: string, killPrefix: string, table: Readonly<Record<string, StatusClass>>): BatchSystem {
  return {
    batchType,
    // Two spaces after `<`, as upstream sends it.
    submitCommand: (rr, jobFile) => `cd ${q(rr)} && ${submitTool} <  ${q(jobFile)}`,
    parseSubmit: (res) => parseSubmit(submitTool, res),
    pollCommand: (id) => `${pollTool} ${q(String(id))}`,
    parsePoll: (res, id) => parsePoll(pollTool, table, res, id),
    pollManyCommand: (ids) => `${pollTool} ${requireIds(ids, batchType).map(q).join(" ")}`,
    parsePollMany: (res, ids) => parsePollMany(pollTool, table, res, ids),
    killCommand: (id) => `${killPrefix} ${q(String(id))}`,
    // From the generated header: `-o %J.out`, `-e %J.err`.
    schedulerOutputFiles: (_jobHash, id) => [`${id}.out`, `${id}.err`],
  };
}

export const lsf = lsfLike("LSF", "bsub", "bjobs", "bkill", LSF_STATES);
export const jhUniScheduler = lsfLike("JH_UniScheduler", "jsub", "jjobs", "jctrl kill", JH_STATES);
