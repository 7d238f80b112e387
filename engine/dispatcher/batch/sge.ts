/** SGE: `qsub` / global `qstat` / `qdel` (spec §4.8, §4.9; MAY). No batched poll: `qstat` is global already. */
import type { ExecResult } from "../context/transport.js";
import { aggregate, fields, idOrError, lines, pollError, q, submitError, type StatusClass } from "./common.js";
import type { BatchSystem, JobId, PollAnswer, SubmitAnswer } from "./types.js";

/** Upstream's table. Eqw/dr/dt are upstream's "terminated": `ended` with the code, the finish tag decides. */
export const SGE_STATES: Readonly<Record<string, StatusClass>> = {
  qw: "waiting",
  hqw: "waiting",
  t: "waiting",
  r: "running",
  Rr: "running",
  Eqw: "ended",
  dr: "ended",
  dt: "ended",
};

/**
 * Deviation (spec §7.2: upstream reads other codes as `unknown`, which aborts the submission):
 * SGE states are letter sets, read them by letter. E(rror)/d(eleting) ended; r(unning),
 * s/S/T (suspended, still holding slots) running; q(ueued)/w(aiting)/t(ransferring) waiting.
 */
export function sgeClass(code: string): StatusClass {
  if (Object.prototype.hasOwnProperty.call(SGE_STATES, code)) return SGE_STATES[code]!;
  if (/[Ed]/.test(code)) return "ended";
  if (/[rsST]/.test(code)) return "running";
  if (/[qwt]/.test(code)) return "waiting";
  return "unknown";
}

function parseSubmit(res: ExecResult): SubmitAnswer {
  if (res.code !== 0) return submitError("qsub failed", res);
  // `Your job 123 ("name") has been submitted`
  return idOrError(fields(res.stdout.split("\n")[0] ?? "")[2], "qsub", res);
}

/**
 * Lines whose first column is the id (deviation: upstream matches the id as a substring anywhere
 * in the line, so job 12 also matches job 1234 or a `12:30:00` timestamp). Array tasks repeat
 * the id and are aggregated. No line ⇒ `ended` without a code: upstream then re-checks the finish
 * tag up to 7 times (`sync`, 10 s apart) before declaring the job terminated; the loop does that.
 */
function parsePoll(res: ExecResult, id: JobId): PollAnswer {
  if (res.code !== 0) return pollError("qstat failed", res);
  const items = [];
  for (const l of lines(res.stdout)) {
    const f = fields(l);
    if (f[0] !== String(id)) continue;
    const code = f[4];
    if (code === undefined) return pollError(`qstat status line not understood: ${JSON.stringify(l)}`, res);
    items.push({ cls: sgeClass(code), code });
  }
  return aggregate(items);
}

export const sge: BatchSystem = {
  batchType: "SGE",
  // Unquoted, exactly as upstream sends it.
  submitCommand: (rr, jobFile) => `cd ${rr} && qsub ${jobFile}`,
  parseSubmit,
  pollCommand: () => "qstat",
  parsePoll,
  killCommand: (id) => `qdel ${q(String(id))}`,
};
