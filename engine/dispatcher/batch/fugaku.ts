/** Fugaku: `pjsub` / `pjstat`; no kill command (spec §4.8, §4.9; MAY). */
import type { ExecResult } from "../context/transport.js";
import { answerOf, classify, fields, idOrError, lines, pollError, q, submitError, type StatusClass } from "./common.js";
import type { BatchSystem, JobId, PollAnswer, SubmitAnswer } from "./types.js";

export const FUGAKU_STATES: Readonly<Record<string, StatusClass>> = {
  QUE: "waiting",
  HLD: "waiting",
  RNA: "waiting",
  SPD: "waiting",
  RUN: "running",
  RNE: "running",
};

function parseSubmit(res: ExecResult): SubmitAnswer {
  if (res.code !== 0) return submitError("pjsub failed", res);
  // `[INFO] PJM 0000 pjsub Job 123 submitted.`
  return idOrError(fields(res.stdout.split("\n")[0] ?? "")[5], "pjsub", res);
}

/**
 * `pjstat <id>` lists only waiting/running jobs. Deviation: upstream then asks `pjstat -H  <id>`
 * and, for EXT/CCL/ERR, checks the finish tag; here a job not listed is `ended` straight away
 * (one command per poll; the finish tag decides either way). Like upstream, the exit status is
 * not read, except that a missing `pjstat` (126/127, or no status) is an error.
 */
function parsePoll(res: ExecResult, id: JobId): PollAnswer {
  if (res.code === null || res.code >= 126) return pollError("pjstat failed", res);
  const mine = lines(res.stdout).filter((l) => fields(l)[0] === String(id));
  const last = mine[mine.length - 1];
  if (last === undefined) return { kind: "ended" };
  const code = fields(last)[3];
  if (code === undefined) return pollError(`pjstat status line not understood: ${JSON.stringify(last)}`, res);
  return answerOf(classify(FUGAKU_STATES, code), code);
}

export const fugaku: BatchSystem = {
  batchType: "Fugaku",
  submitCommand: (rr, jobFile) => `cd ${q(rr)} && pjsub ${q(jobFile)}`,
  parseSubmit,
  pollCommand: (id) => `pjstat ${q(String(id))}`,
  parsePoll,
  killCommand: () => null,
};
