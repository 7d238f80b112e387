/** Slurm and SlurmJobArray: `sbatch --parsable` / `squeue` / `scancel` (spec §4.8, §4.9). */
import type { ExecResult } from "../context/transport.js";
import type { BatchType } from "../schema.js";
import {
  aggregate,
  allSame,
  answerOf,
  classify,
  fields,
  hasAny,
  idOrError,
  isUpper,
  keyOf,
  lines,
  pollError,
  pollRetry,
  q,
  requireIds,
  submitError,
  type StatusClass,
} from "./common.js";
import type { BatchSystem, JobId, PollAnswer, SubmitAnswer } from "./types.js";

const SUBMIT_TRANSIENT = ["Socket timed out on send/recv operation", "Unable to contact slurm controller"];
const POLL_TRANSIENT = [...SUBMIT_TRANSIENT, "Invalid user for SlurmUser"];
const BACKOFF = ["Job violates accounting/QOS policy", "Slurm temporarily unable to accept job, sleeping and retrying"];
const GONE = "Invalid job id specified";

/**
 * `%t` codes. Upstream's table, plus (deviation, spec §7.2: upstream reads these as `unknown`,
 * which aborts the whole submission) OO/DL/RV ended, RQ/RH/RF/RS/RD waiting, SI/SO completing.
 */
export const SLURM_STATES: Readonly<Record<string, StatusClass>> = {
  PD: "waiting",
  CF: "waiting",
  S: "waiting",
  R: "running",
  CG: "completing",
  ...Object.fromEntries(["C", "E", "K", "BF", "CA", "CD", "F", "NF", "PR", "SE", "ST", "TO"].map((c) => [c, "ended" as const])),
  // Deviation from upstream (see above).
  OO: "ended",
  DL: "ended",
  RV: "ended",
  RQ: "waiting",
  RH: "waiting",
  RF: "waiting",
  RS: "waiting",
  RD: "waiting",
  SI: "completing",
  SO: "completing",
};

/** One `<id> <ST>` line; null when malformed (upstream raises). */
function statusOf(line: string): { cls: StatusClass; code: string } | null {
  const f = fields(line);
  const code = f[f.length - 1];
  if (f.length !== 2 || code === undefined || !isUpper(code)) return null;
  return { cls: classify(SLURM_STATES, code), code };
}

function parseSubmit(res: ExecResult): SubmitAnswer {
  if (res.code !== 0) {
    if (hasAny(res.stderr, SUBMIT_TRANSIENT)) return { kind: "retry", reason: `sbatch could not reach the controller: ${res.stderr.trim()}` };
    // Soft back-pressure: the job stays unsubmitted and is tried again at the next poll.
    if (hasAny(res.stderr, BACKOFF)) return { kind: "backoff", reason: res.stderr.trim() };
    return submitError("sbatch failed", res);
  }
  // --parsable prints `<id>[;<cluster>]`.
  const first = res.stdout.split("\n")[0] ?? "";
  return idOrError(first.split(";")[0]!.trim(), "sbatch", res);
}

/** exit≠0 of squeue, shared by per-job and batched polls. */
function squeueFailure(res: ExecResult): PollAnswer {
  if (res.stderr.includes(GONE)) return { kind: "ended" };
  if (hasAny(res.stderr, POLL_TRANSIENT)) return pollRetry("squeue could not reach the controller", res);
  return pollError("squeue failed", res);
}

function parsePollSlurm(res: ExecResult): PollAnswer {
  if (res.code !== 0) return squeueFailure(res);
  // The last line; a header-only answer reads as `ST` (stopped) ⇒ ended (upstream QUIRK, kept).
  const last = lines(res.stdout).pop();
  if (last === undefined) return pollError("squeue printed no status line", res);
  const st = statusOf(last);
  if (!st) return pollError(`squeue status line not understood: ${JSON.stringify(last)}`, res);
  return answerOf(st.cls, st.code);
}

function parsePollArray(res: ExecResult): PollAnswer {
  if (res.code !== 0) return squeueFailure(res);
  const items = [];
  for (const l of lines(res.stdout)) {
    const st = statusOf(l);
    if (!st) return pollError(`squeue status line not understood: ${JSON.stringify(l)}`, res);
    items.push(st);
  }
  // No line: every array task left the queue; the loop checks every task tag.
  return aggregate(items);
}

/** `1234_5`, `1234_[2-5%4]` (array tasks) and `1234+0` (het job components) belong to `1234`. */
function baseId(tok: string, keys: Set<string>): string {
  return keys.has(tok) ? tok : tok.split(/[_+]/)[0]!;
}

/** `squeue -h -t all -o "%i %t" -j a,b,c`: ids that left the queue are simply not listed (exit 0). */
function parsePollMany(res: ExecResult, ids: JobId[]): Map<string, PollAnswer> {
  const keys = new Set(ids.map(keyOf));
  // A lone aged-out id makes squeue exit 1 with "Invalid job id specified": ids not listed are then gone.
  if (res.code !== 0 && !res.stderr.includes(GONE)) return allSame(ids, squeueFailure(res));
  const items = new Map<string, { cls: StatusClass; code: string }[]>();
  const bad = new Map<string, string>();
  for (const l of lines(res.stdout)) {
    const tok = fields(l)[0]!;
    const key = baseId(tok, keys);
    if (!keys.has(key)) continue;
    const st = statusOf(l);
    if (!st) bad.set(key, l);
    else items.set(key, [...(items.get(key) ?? []), st]);
  }
  const out = new Map<string, PollAnswer>();
  for (const key of keys) {
    const b = bad.get(key);
    out.set(key, b !== undefined ? pollError(`squeue status line not understood: ${JSON.stringify(b)}`, res) : aggregate(items.get(key) ?? []));
  }
  return out;
}

function common(batchType: BatchType): Omit<BatchSystem, "pollCommand" | "parsePoll" | "schedulerOutputFiles"> {
  return {
    batchType,
    submitCommand: (rr, jobFile) => `cd ${q(rr)} && sbatch --parsable ${q(jobFile)}`,
    parseSubmit,
    pollManyCommand: (ids) => `squeue -h -t all -o "%i %t" -j ${requireIds(ids, batchType).map(q).join(",")}`,
    parsePollMany,
    killCommand: (id) => `scancel -Q ${q(String(id))}`,
  };
}

export const slurm: BatchSystem = {
  ...common("Slurm"),
  pollCommand: (id) => `squeue -o "%.18i %.2t" -j ${q(String(id))}`,
  parsePoll: (res) => parsePollSlurm(res),
  schedulerOutputFiles: (_jobHash, id) => [`slurm-${id}.out`],
};

export const slurmJobArray: BatchSystem = {
  ...common("SlurmJobArray"),
  pollCommand: (id) => `squeue -h -o "%.18i %.2t" -j ${q(String(id))}`,
  // "ended" here: the loop decides finished/terminated from every task tag.
  parsePoll: (res) => parsePollArray(res),
  // Array tasks write `slurm-<id>_<index>.out`; the indices are not known here.
  schedulerOutputFiles: () => [],
};
