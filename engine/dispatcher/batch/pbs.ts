/** PBS (OpenPBS / PBS Pro) and Torque: `qsub` / `qstat` / `qdel` (spec §4.8, §4.9). */
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
  q,
  requireIds,
  submitError,
  type StatusClass,
} from "./common.js";
import type { BatchSystem, JobId, PollAnswer, SubmitAnswer } from "./types.js";

/**
 * `S` column. Upstream's table, plus (deviation, spec §7.2: upstream reads these as `unknown`,
 * which aborts the whole submission) W/T/M waiting, S/U/B running (suspended or array begun:
 * still holding the job), X ended.
 */
export const PBS_STATES: Readonly<Record<string, StatusClass>> = {
  Q: "waiting",
  H: "waiting",
  R: "running",
  C: "ended",
  E: "ended",
  K: "ended",
  F: "ended",
  // Deviation from upstream (see above).
  W: "waiting",
  T: "waiting",
  M: "waiting",
  S: "running",
  U: "running",
  B: "running",
  X: "ended",
};

const GONE = /qstat: Unknown Job Id|Job has finished/;

function parseSubmit(res: ExecResult): SubmitAnswer {
  if (res.code !== 0) return submitError("qsub failed", res);
  return idOrError(fields(res.stdout.split("\n")[0] ?? "")[0], "qsub", res);
}

function parsePoll(res: ExecResult): PollAnswer {
  if (res.code !== 0) {
    if (GONE.test(res.stderr)) return { kind: "ended" };
    return pollError("qstat failed", res);
  }
  const last = lines(res.stdout).pop();
  const f = last === undefined ? [] : fields(last);
  if (f.length < 2) return pollError("qstat printed no status line", res);
  const code = f[f.length - 2]!;
  return answerOf(classify(PBS_STATES, code), code);
}

/** `1234.server` and `1234.server.domain` (or a `1234.serv*` truncated column) name the same job. */
function matches(tok: string, key: string): boolean {
  if (tok === key) return true;
  if (tok.endsWith("*") && tok.length > 1 && key.startsWith(tok.slice(0, -1))) return true;
  const seq = (s: string) => s.split(".")[0]!;
  return seq(tok) !== "" && seq(tok) === seq(key);
}

const isHeader = (l: string): boolean => /^\s*job id\b/i.test(l) || /^[\s-]+$/.test(l);

/**
 * `qstat -x a b c` (PBS) / `qstat -l a b c` (Torque): header, dashes, one line per job with the
 * state second to last; unknown ids only on stderr, with a non-zero exit.
 */
function parsePollMany(res: ExecResult, ids: JobId[]): Map<string, PollAnswer> {
  const keys = ids.map(keyOf);
  const items = new Map<string, { cls: StatusClass; code: string }[]>();
  for (const l of lines(res.stdout)) {
    if (isHeader(l)) continue;
    const f = fields(l);
    if (f.length < 3) continue;
    const key = keys.find((k) => matches(f[0]!, k));
    if (key === undefined) continue;
    const code = f[f.length - 2]!;
    items.set(key, [...(items.get(key) ?? []), { cls: classify(PBS_STATES, code), code }]);
  }
  const gone = new Set<string>();
  for (const l of lines(res.stderr)) {
    if (!GONE.test(l)) continue;
    for (const tok of fields(l)) for (const k of keys) if (matches(tok, k)) gone.add(k);
  }
  const out = new Map<string, PollAnswer>();
  for (const key of keys) {
    const it = items.get(key);
    if (it) out.set(key, aggregate(it));
    else if (gone.has(key) || res.code === 0) out.set(key, { kind: "ended" });
    // A failing qstat that does not name this id: do not guess "ended" (that would resubmit).
    else out.set(key, pollError(`qstat did not report job ${key}`, res));
  }
  return out;
}

function pbsLike(batchType: BatchType, statusFlag: "-x" | "-l"): BatchSystem {
  return {
    batchType,
    submitCommand: (rr, jobFile) => `cd ${q(rr)} && qsub ${q(jobFile)}`,
    parseSubmit,
    pollCommand: (id) => `qstat ${statusFlag} ${q(String(id))}`,
    parsePoll: (res) => parsePoll(res),
    pollManyCommand: (ids) => `qstat ${statusFlag} ${requireIds(ids, batchType).map(q).join(" ")}`,
    parsePollMany,
    killCommand: (id) => `qdel ${q(String(id))}`,
    // `#PBS -j oe` output goes to `<job name>.o<seq>`; the name can be changed by custom flags.
    schedulerOutputFiles: () => [],
  };
}

export const pbs = pbsLike("PBS", "-x");
export const torque = pbsLike("Torque", "-l");
