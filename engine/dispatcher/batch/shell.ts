/** Shell: `nohup bash` in the background, job id = PID (spec §4.8, §4.9). */
import type { ExecResult } from "../context/transport.js";
import { fields, keyOf, lines, pollError, q, requireIds, submitError } from "./common.js";
import type { BatchSystem, JobId, PollAnswer, SubmitAnswer } from "./types.js";

/** `J.sub` ⇒ `J` (the output file is `J.out`). */
const stem = (jobFile: string): string => (jobFile.endsWith(".sub") ? jobFile.slice(0, -".sub".length) : jobFile);

function parseSubmit(res: ExecResult): SubmitAnswer {
  if (res.code !== 0) return submitError("starting the job script failed", res);
  const s = res.stdout.trim();
  // Stored as a JSON number, as upstream does.
  if (!/^\d+$/.test(s)) return submitError("no PID in the answer", res);
  return { kind: "id", id: Number(s) };
}

function parsePoll(res: ExecResult): PollAnswer {
  if (res.code !== 0) return pollError("the ps probe failed", res);
  // The finish tag is checked before this answer (upstream order); the loop does that.
  return res.stdout.trim() !== "" ? { kind: "state", state: "running" } : { kind: "ended" };
}

/** `ps -o pid=,stat= -p a,b`: a listed pid is alive unless a zombie; exit 1 with no output = none alive. */
function parsePollMany(res: ExecResult, ids: JobId[]): Map<string, PollAnswer> {
  const keys = ids.map(keyOf);
  const noneAlive = res.code === 1 && res.stdout.trim() === "" && res.stderr.trim() === "";
  if (res.code !== 0 && !noneAlive) {
    const err = pollError("ps failed", res);
    return new Map(keys.map((k) => [k, err]));
  }
  const stat = new Map<string, string>();
  for (const l of lines(res.stdout)) {
    const [pid, st] = fields(l);
    if (pid !== undefined) stat.set(pid, st ?? "");
  }
  const out = new Map<string, PollAnswer>();
  for (const key of keys) {
    const st = stat.get(key);
    if (st === undefined) out.set(key, { kind: "ended" });
    else if (st.startsWith("Z")) out.set(key, { kind: "ended", code: st });
    else out.set(key, { kind: "state", state: "running", code: st });
  }
  return out;
}

export const shell: BatchSystem = {
  batchType: "Shell",
  // The script and output names are not quoted, as upstream sends them (job hashes are hex).
  submitCommand: (rr, jobFile) => {
    const out = `${stem(jobFile)}.out`;
    return `cd ${q(rr)} && { nohup bash ${jobFile} 1>>${out} 2>>${out} & } && echo $!`;
  },
  parseSubmit,
  pollCommand: (id) => {
    const pid = q(String(id));
    return (
      `command -v ps >/dev/null 2>&1 || { echo >&2 "I require ps but it's not installed. Aborting."; exit 1; };` +
      `if ps -p ${pid} > /dev/null && ! (ps -o command -p ${pid} | grep defunct >/dev/null) ; then echo 1; fi`
    );
  },
  parsePoll: (res) => parsePoll(res),
  pollManyCommand: (ids) => `ps -o pid=,stat= -p ${requireIds(ids, "Shell").map(q).join(",")}`,
  parsePollMany,
  killCommand: (id) => `kill -9 ${q(String(id))}`,
  schedulerOutputFiles: (jobHash) => [`${jobHash}.out`],
};
