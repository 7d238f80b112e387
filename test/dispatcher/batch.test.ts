/** Batch-system adapters (spec §4.8 submit, §4.9 poll/kill, §4.10 states, §7.2 unknown codes). */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ExecResult } from "../../engine/dispatcher/context/transport.js";
import {
  BATCH_SYSTEMS,
  batchSystem,
  fugaku,
  jhUniScheduler,
  lsf,
  pbs,
  sge,
  shell,
  slurm,
  slurmJobArray,
  torque,
  type BatchSystem,
  type JobId,
  type PollAnswer,
  type SubmitAnswer,
} from "../../engine/dispatcher/batch/index.js";
import { BATCH_TYPES, type BatchType } from "../../engine/dispatcher/schema.js";
import { REF } from "./helpers.js";

const r = (code: number | null, stdout = "", stderr = ""): ExecResult => ({ code, stdout, stderr });
const ok = (stdout: string, stderr = "") => r(0, stdout, stderr);

// Slurm error strings as sbatch/squeue print them.
const SOCKET = "slurm_load_jobs error: Socket timed out on send/recv operation\n";
const CONTROLLER = "sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)\n";
const SLURMUSER = "slurm_load_jobs error: Invalid user for SlurmUser slurm, ignored\n";
const QOS = "sbatch: error: Batch job submission failed: Job violates accounting/QOS policy (job submit limit, user's size and/or time limits)\n";
const BUSY = "sbatch: error: Slurm temporarily unable to accept job, sleeping and retrying\n";
const INVALID = "slurm_load_jobs error: Invalid job id specified\n";

const SQ_HEADER = "             JOBID ST\n";
const sq = (id: string, st: string) => `${id.padStart(18)} ${st.padStart(2)}\n`;
const PBS_HEADER =
  "Job id            Name             User              Time Use S Queue\n" +
  "----------------  ---------------- ----------------  -------- - -----\n";
const pbsLine = (id: string, st: string) => `${id.padEnd(17)} job.sub          user              00:00:00 ${st} workq\n`;
const LSF_HEADER = "JOBID   USER    STAT  QUEUE      FROM_HOST   EXEC_HOST   JOB_NAME   SUBMIT_TIME\n";
const lsfLine = (id: string, st: string) => `${id}    user    ${st}   normal     login1      node1       *job.sub   Jan  1 00:00\n`;
const SGE_QSTAT =
  "job-ID  prior   name       user         state submit/start at     queue                          slots ja-task-ID\n" +
  "-----------------------------------------------------------------------------------------------------------------\n" +
  "    123 0.55500 dpjob      user         r     01/01/2024 12:30:00 all.q@node1                        4\n" +
  "   1234 0.55500 dpjob      user         qw    01/01/2024 12:30:00                                    4\n" +
  "    777 0.55500 dpjob      user         Eqw   01/01/2024 12:30:00                                    4\n" +
  "    888 0.55500 dpjob      user         hr    01/01/2024 12:30:00 all.q@node1                        4\n" +
  "    999 0.55500 dpjob      user         Rt    01/01/2024 12:30:00 all.q@node1                        4\n" +
  "    555 0.55500 dpjob      user         zz    01/01/2024 12:30:00 all.q@node1                        4\n" +
  "    321 0.55500 dpjob      user         qw    01/01/2024 12:30:00                                    1 1\n" +
  "    321 0.55500 dpjob      user         r     01/01/2024 12:30:00 all.q@node1                        1 2\n";
const PJSTAT_HEADER = " JOB_ID     JOB_NAME   MD ST  USER     START_DATE      ELAPSE_LIM NODE_REQUIRE    VNODE  CORE V_MEM\n";
const pj = (id: string, st: string) => ` ${id}      job.sub    NM ${st} user     01/01 00:00:00  0001:00:00 1               -      -    -\n`;

type Expect<T> = Partial<T> & { kind: string };

describe("§4.8 submit: id extraction and failure handling", () => {
  const rows: [string, BatchSystem, ExecResult, Expect<SubmitAnswer> & { reason?: any }][] = [
    ["Slurm: plain id", slurm, ok("1000\n"), { kind: "id", id: "1000" }],
    ["Slurm: id;cluster, trimmed", slurm, ok(" 1000;cluster1 \nignored\n"), { kind: "id", id: "1000" }],
    ["Slurm: socket timeout ⇒ retry", slurm, r(1, "", SOCKET), { kind: "retry" }],
    ["Slurm: controller down ⇒ retry", slurm, r(1, "", CONTROLLER), { kind: "retry" }],
    ["Slurm: QOS ⇒ backoff", slurm, r(1, "", QOS), { kind: "backoff" }],
    ["Slurm: temporarily unable ⇒ backoff", slurm, r(1, "", BUSY), { kind: "backoff" }],
    // Not transient at submit time (only squeue retries on it).
    ["Slurm: Invalid user for SlurmUser ⇒ error", slurm, r(1, "", SLURMUSER), { kind: "error" }],
    ["Slurm: other failure ⇒ error", slurm, r(1, "", "sbatch: error: invalid partition specified: gpu\n"), { kind: "error", reason: expect.stringContaining("invalid partition") }],
    ["Slurm: no exit status ⇒ error", slurm, r(null, "", ""), { kind: "error", reason: expect.stringContaining("no exit status") }],
    ["Slurm: exit 0, empty ⇒ error", slurm, ok(""), { kind: "error", reason: expect.stringContaining('stdout: ""') }],
    ["Slurm: exit 0, not an id ⇒ error", slurm, ok("Submitted batch job 1000\n", "warn"), { kind: "error", reason: expect.stringContaining("Submitted batch job 1000") }],
    ["SlurmJobArray: as Slurm", slurmJobArray, ok("1001;c\n"), { kind: "id", id: "1001" }],
    ["SlurmJobArray: QOS ⇒ backoff", slurmJobArray, r(1, "", QOS), { kind: "backoff" }],
    ["SlurmJobArray: controller ⇒ retry", slurmJobArray, r(1, "", CONTROLLER), { kind: "retry" }],
    ["PBS: first token", pbs, ok("1000.pbs_master\n"), { kind: "id", id: "1000.pbs_master" }],
    ["PBS: failure ⇒ error (no retry)", pbs, r(38, "", "qsub: Unknown queue\n"), { kind: "error", reason: expect.stringContaining("Unknown queue") }],
    ["PBS: exit 0, empty ⇒ error", pbs, ok("\n"), { kind: "error" }],
    ["Torque: first token", torque, ok("1234.torque-server extra\n"), { kind: "id", id: "1234.torque-server" }],
    ["Torque: failure ⇒ error", torque, r(1, "", "qsub: submit error\n"), { kind: "error" }],
    ["SGE: third token", sge, ok('Your job 123 ("dpjob") has been submitted\n'), { kind: "id", id: "123" }],
    ["SGE: failure ⇒ error", sge, r(1, "", "Unable to run job\n"), { kind: "error" }],
    ["SGE: exit 0, short line ⇒ error", sge, ok("Your job\n"), { kind: "error" }],
    ["LSF: <id>", lsf, ok("Job <123> is submitted to queue <normal>.\n"), { kind: "id", id: "123" }],
    ["LSF: exit 255 ⇒ retry", lsf, r(255, "", "LSF is processing your request. Please wait ...\n"), { kind: "retry" }],
    ["LSF: any failure ⇒ retry", lsf, r(1, "", "Request aborted by esub. Job not submitted.\n"), { kind: "retry" }],
    ["LSF: exit 0, no <id> ⇒ error", lsf, ok("something else\n"), { kind: "error", reason: expect.stringContaining("something else") }],
    ["JH: <id>", jhUniScheduler, ok("Job <456> is submitted to queue <normal>.\n"), { kind: "id", id: "456" }],
    ["JH: failure ⇒ retry", jhUniScheduler, r(255, "", "jsub: cannot connect\n"), { kind: "retry" }],
    ["Fugaku: sixth token", fugaku, ok("[INFO] PJM 0000 pjsub Job 12345 submitted.\n"), { kind: "id", id: "12345" }],
    ["Fugaku: failure ⇒ error", fugaku, r(1, "", "[ERR.] PJM 0007 pjsub\n"), { kind: "error" }],
    ["Shell: PID is a number", shell, ok("7234\n"), { kind: "id", id: 7234 }],
    ["Shell: failure ⇒ error", shell, r(1, "", "bash: cd: no such dir\n"), { kind: "error" }],
    ["Shell: no PID ⇒ error", shell, ok("\n"), { kind: "error" }],
  ];
  it.each(rows)("%s", (_n, sys, res, want) => {
    expect(sys.parseSubmit(res)).toEqual(want.kind === "id" ? want : expect.objectContaining(want));
  });

  it("Shell id is stored as a JSON number", () => {
    const a = shell.parseSubmit(ok("42\n"));
    expect(JSON.stringify(a)).toBe('{"kind":"id","id":42}');
  });
});

describe("§4.9 poll: per-job interpretation", () => {
  const rows: [string, BatchSystem, JobId, ExecResult, PollAnswer | Expect<PollAnswer>][] = [
    // Slurm
    ["Slurm R", slurm, "1000", ok(SQ_HEADER + sq("1000", "R")), { kind: "state", state: "running", code: "R" }],
    ["Slurm PD", slurm, "1000", ok(SQ_HEADER + sq("1000", "PD")), { kind: "state", state: "waiting", code: "PD" }],
    ["Slurm CF", slurm, "1000", ok(SQ_HEADER + sq("1000", "CF")), { kind: "state", state: "waiting", code: "CF" }],
    ["Slurm S", slurm, "1000", ok(SQ_HEADER + sq("1000", "S")), { kind: "state", state: "waiting", code: "S" }],
    ["Slurm CG", slurm, "1000", ok(SQ_HEADER + sq("1000", "CG")), { kind: "state", state: "completing", code: "CG" }],
    ["Slurm Invalid job id ⇒ ended", slurm, "1000", r(1, "", INVALID), { kind: "ended" }],
    ["Slurm socket timeout ⇒ retry", slurm, "1000", r(1, "", SOCKET), { kind: "retry" }],
    ["Slurm controller ⇒ retry", slurm, "1000", r(1, "", CONTROLLER), { kind: "retry" }],
    ["Slurm Invalid user for SlurmUser ⇒ retry", slurm, "1000", r(1, "", SLURMUSER), { kind: "retry" }],
    ["Slurm other failure ⇒ error", slurm, "1000", r(1, "", "squeue: error: something\n"), { kind: "error" }],
    ["Slurm QUIRK header only ⇒ ST ⇒ ended", slurm, "1000", ok(SQ_HEADER), { kind: "ended", code: "ST" }],
    ["Slurm last line wins", slurm, "1000", ok(SQ_HEADER + sq("999", "R") + sq("1000", "CD")), { kind: "ended", code: "CD" }],
    ["Slurm lower-case word ⇒ error", slurm, "1000", ok(SQ_HEADER + sq("1000", "r")), { kind: "error" }],
    ["Slurm three fields ⇒ error", slurm, "1000", ok("1000 R extra\n"), { kind: "error" }],
    ["Slurm exit 0, empty ⇒ error", slurm, "1000", ok(""), { kind: "error" }],
    ["Slurm unknown letters ⇒ unknown", slurm, "1000", ok(SQ_HEADER + sq("1000", "XX")), { kind: "state", state: "unknown", code: "XX" }],
    // SlurmJobArray
    ["Array: any running ⇒ running", slurmJobArray, "1000", ok(sq("1000_0", "CD") + sq("1000_1", "PD") + sq("1000_2", "R")), { kind: "state", state: "running", code: "R" }],
    ["Array: else waiting", slurmJobArray, "1000", ok(sq("1000_0", "CG") + sq("1000_[1-3]", "PD")), { kind: "state", state: "waiting", code: "PD" }],
    ["Array: else completing", slurmJobArray, "1000", ok(sq("1000_0", "CG") + sq("1000_1", "CD")), { kind: "state", state: "completing", code: "CG" }],
    ["Array: else unknown", slurmJobArray, "1000", ok(sq("1000_0", "XX") + sq("1000_1", "CD")), { kind: "state", state: "unknown", code: "XX" }],
    ["Array: all done ⇒ ended", slurmJobArray, "1000", ok(sq("1000_0", "CD") + sq("1000_1", "F")), { kind: "ended", code: "F" }],
    ["Array: nothing listed ⇒ ended", slurmJobArray, "1000", ok(""), { kind: "ended" }],
    ["Array: Invalid job id ⇒ ended", slurmJobArray, "1000", r(1, "", INVALID), { kind: "ended" }],
    ["Array: socket timeout ⇒ retry", slurmJobArray, "1000", r(1, "", SOCKET), { kind: "retry" }],
    ["Array: SlurmUser ⇒ retry", slurmJobArray, "1000", r(1, "", SLURMUSER), { kind: "retry" }],
    ["Array: other failure ⇒ error", slurmJobArray, "1000", r(1, "", "boom\n"), { kind: "error" }],
    ["Array: malformed line ⇒ error", slurmJobArray, "1000", ok("1000_0 R x\n"), { kind: "error" }],
    // PBS / Torque
    ["PBS Q", pbs, "1000.pbs_master", ok(PBS_HEADER + pbsLine("1000.pbs_master", "Q")), { kind: "state", state: "waiting", code: "Q" }],
    ["PBS H", pbs, "1000.pbs_master", ok(PBS_HEADER + pbsLine("1000.pbs_master", "H")), { kind: "state", state: "waiting", code: "H" }],
    ["PBS R", pbs, "1000.pbs_master", ok(PBS_HEADER + pbsLine("1000.pbs_master", "R")), { kind: "state", state: "running", code: "R" }],
    ["PBS F", pbs, "1000.pbs_master", ok(PBS_HEADER + pbsLine("1000.pbs_master", "F")), { kind: "ended", code: "F" }],
    ["PBS qstat: Unknown Job Id ⇒ ended", pbs, "1000.pbs_master", r(153, "", "qstat: Unknown Job Id 1000.pbs_master\n"), { kind: "ended" }],
    ["PBS Job has finished ⇒ ended", pbs, "1000.pbs_master", r(35, "", "qstat: 1000.pbs_master Job has finished, use -x or -H to obtain historical job information\n"), { kind: "ended" }],
    ["PBS other failure ⇒ error (no retry)", pbs, "1000.pbs_master", r(1, "", "Connection refused\nqstat: cannot connect to server pbs_master (errno=111)\n"), { kind: "error" }],
    ["PBS unknown letter ⇒ unknown", pbs, "1", ok(PBS_HEADER + pbsLine("1", "Z")), { kind: "state", state: "unknown", code: "Z" }],
    ["PBS exit 0, empty ⇒ error", pbs, "1", ok(""), { kind: "error" }],
    ["Torque C ⇒ ended", torque, "1.srv", ok(PBS_HEADER + pbsLine("1.srv", "C")), { kind: "ended", code: "C" }],
    ["Torque E ⇒ ended", torque, "1.srv", ok(PBS_HEADER + pbsLine("1.srv", "E")), { kind: "ended", code: "E" }],
    ["Torque Unknown Job Id ⇒ ended", torque, "1.srv", r(153, "", "qstat: Unknown Job Id Error 1.srv\n"), { kind: "ended" }],
    // LSF / JH
    ["LSF PEND", lsf, "123", ok(LSF_HEADER + lsfLine("123", "PEND")), { kind: "state", state: "waiting", code: "PEND" }],
    ["LSF PSUSP ⇒ waiting", lsf, "123", ok(LSF_HEADER + lsfLine("123", "PSUSP")), { kind: "state", state: "waiting", code: "PSUSP" }],
    ["LSF RUN", lsf, "123", ok(LSF_HEADER + lsfLine("123", "RUN")), { kind: "state", state: "running", code: "RUN" }],
    ["LSF USUSP ⇒ running", lsf, "123", ok(LSF_HEADER + lsfLine("123", "USUSP")), { kind: "state", state: "running", code: "USUSP" }],
    ["LSF DONE ⇒ ended", lsf, "123", ok(LSF_HEADER + lsfLine("123", "DONE")), { kind: "ended", code: "DONE" }],
    ["LSF EXIT ⇒ ended", lsf, "123", ok(LSF_HEADER + lsfLine("123", "EXIT")), { kind: "ended", code: "EXIT" }],
    ["LSF Job <123> is not found ⇒ ended", lsf, "123", r(255, "", "Job <123> is not found\n"), { kind: "ended" }],
    ["LSF another job not found ⇒ retry", lsf, "123", r(255, "", "Job <1234> is not found\n"), { kind: "retry" }],
    ["LSF exit 255 ⇒ retry", lsf, "123", r(255, "", "LSF is processing your request. Please wait ...\n"), { kind: "retry" }],
    ["LSF header only ⇒ unknown", lsf, "123", ok(LSF_HEADER), { kind: "state", state: "unknown" }],
    ["LSF unknown word ⇒ unknown", lsf, "123", ok(LSF_HEADER + lsfLine("123", "UNKWN")), { kind: "state", state: "unknown", code: "UNKWN" }],
    ["JH PEND", jhUniScheduler, "9", ok(LSF_HEADER + lsfLine("9", "PEND")), { kind: "state", state: "waiting", code: "PEND" }],
    ["JH PSUSP ⇒ running", jhUniScheduler, "9", ok(LSF_HEADER + lsfLine("9", "PSUSP")), { kind: "state", state: "running", code: "PSUSP" }],
    ["JH SSUSP ⇒ running", jhUniScheduler, "9", ok(LSF_HEADER + lsfLine("9", "SSUSP")), { kind: "state", state: "running", code: "SSUSP" }],
    ["JH DONE ⇒ ended", jhUniScheduler, "9", ok(LSF_HEADER + lsfLine("9", "DONE")), { kind: "ended", code: "DONE" }],
    ["JH not found ⇒ ended", jhUniScheduler, "9", r(255, "", "Job <9> is not found\n"), { kind: "ended" }],
    ["JH failure ⇒ retry", jhUniScheduler, "9", r(1, "", "x\n"), { kind: "retry" }],
    // SGE
    ["SGE r", sge, "123", ok(SGE_QSTAT), { kind: "state", state: "running", code: "r" }],
    ["SGE qw", sge, "1234", ok(SGE_QSTAT), { kind: "state", state: "waiting", code: "qw" }],
    ["SGE Eqw ⇒ ended (upstream: terminated)", sge, "777", ok(SGE_QSTAT), { kind: "ended", code: "Eqw" }],
    ["SGE id is a column, not a substring (12 ≠ 123, 12:30)", sge, "12", ok(SGE_QSTAT), { kind: "ended" }],
    ["SGE array tasks aggregated", sge, "321", ok(SGE_QSTAT), { kind: "state", state: "running", code: "r" }],
    ["SGE not listed ⇒ ended", sge, "4242", ok(SGE_QSTAT), { kind: "ended" }],
    ["SGE qstat failure ⇒ error", sge, "123", r(1, "", "error: commlib error\n"), { kind: "error" }],
    ["SGE unknown letters ⇒ unknown", sge, "555", ok(SGE_QSTAT), { kind: "state", state: "unknown", code: "zz" }],
    // Fugaku
    ["Fugaku RUN", fugaku, "12345", ok(PJSTAT_HEADER + pj("12345", "RUN")), { kind: "state", state: "running", code: "RUN" }],
    ["Fugaku QUE", fugaku, "12345", ok(PJSTAT_HEADER + pj("12345", "QUE")), { kind: "state", state: "waiting", code: "QUE" }],
    ["Fugaku not listed ⇒ ended", fugaku, "12345", ok(""), { kind: "ended" }],
    ["Fugaku header only ⇒ ended", fugaku, "12345", ok(PJSTAT_HEADER), { kind: "ended" }],
    ["Fugaku EXT in the list ⇒ unknown", fugaku, "12345", ok(PJSTAT_HEADER + pj("12345", "EXT")), { kind: "state", state: "unknown", code: "EXT" }],
    ["Fugaku pjstat missing ⇒ error", fugaku, "12345", r(127, "", "pjstat: command not found\n"), { kind: "error" }],
    // Shell
    ["Shell alive ⇒ running", shell, 7234, ok("1\n"), { kind: "state", state: "running" }],
    ["Shell gone ⇒ ended (loop checks the tag first)", shell, 7234, ok(""), { kind: "ended" }],
    ["Shell no ps ⇒ error", shell, 7234, r(1, "", "I require ps but it's not installed. Aborting.\n"), { kind: "error", reason: expect.stringContaining("I require ps") }],
  ];
  it.each(rows)("%s", (_n, sys, id, res, want) => {
    const got = sys.parsePoll(res, id);
    if (want.kind === "retry" || want.kind === "error") expect(got).toEqual(expect.objectContaining({ ...want, reason: expect.any(String) }));
    else expect(got).toEqual(want);
  });
});

describe("§7.2 deviation: status codes upstream reads as unknown (fatal) are mapped", () => {
  const slurmRows: [string, string][] = [
    ["OO", "ended"],
    ["DL", "ended"],
    ["BF", "ended"],
    ["NF", "ended"],
    ["PR", "ended"],
    ["RV", "ended"],
    ["RQ", "waiting"],
    ["RH", "waiting"],
    ["RF", "waiting"],
    ["RS", "waiting"],
    ["RD", "waiting"],
    ["SI", "completing"],
    ["SO", "completing"],
    ["C", "ended"],
    ["E", "ended"],
    ["K", "ended"],
    ["CA", "ended"],
    ["CD", "ended"],
    ["F", "ended"],
    ["SE", "ended"],
    ["ST", "ended"],
    ["TO", "ended"],
    ["ZZ", "unknown"],
  ];
  const asClass = (a: PollAnswer) => (a.kind === "state" ? a.state : a.kind);
  it.each(slurmRows)("Slurm %s ⇒ %s", (code, cls) => {
    expect(asClass(slurm.parsePoll(ok(SQ_HEADER + sq("1000", code)), "1000"))).toBe(cls);
    expect(asClass(slurmJobArray.parsePoll(ok(sq("1000_0", code)), "1000"))).toBe(cls);
    expect(slurm.parsePoll(ok(SQ_HEADER + sq("1000", code)), "1000")).toMatchObject({ code });
  });
  const pbsRows: [string, string][] = [
    ["W", "waiting"],
    ["T", "waiting"],
    ["M", "waiting"],
    ["S", "running"],
    ["U", "running"],
    ["B", "running"],
    ["X", "ended"],
    ["K", "ended"],
    ["Z", "unknown"],
  ];
  it.each(pbsRows)("PBS/Torque %s ⇒ %s", (code, cls) => {
    for (const sys of [pbs, torque]) expect(asClass(sys.parsePoll(ok(PBS_HEADER + pbsLine("1.s", code)), "1.s"))).toBe(cls);
  });
  it.each([
    ["SSUSP", "running"],
    ["PROV", "waiting"],
    ["ZOMBI", "ended"],
    ["WAIT", "waiting"],
  ])("LSF %s ⇒ %s", (code, cls) => {
    expect(asClass(lsf.parsePoll(ok(LSF_HEADER + lsfLine("1", code)), "1"))).toBe(cls);
  });
  it.each([
    ["hr", "running"],
    ["Rt", "waiting"],
    ["s", "running"],
    ["dr", "ended"],
    ["Rq", "waiting"],
  ])("SGE %s ⇒ %s (by letter)", (code, cls) => {
    const out = `    42 0.5 dpjob user ${code} 01/01/2024 12:30:00 all.q 1\n`;
    expect(asClass(sge.parsePoll(ok(out), "42"))).toBe(cls);
  });
});

describe("batched poll (our addition)", () => {
  const m = (a: Map<string, PollAnswer>) => Object.fromEntries([...a].map(([k, v]) => [k, v.kind === "state" ? `${v.state}:${v.code}` : v.kind === "ended" ? `ended${v.code ? ":" + v.code : ""}` : v.kind]));

  it("commands", () => {
    expect(slurm.pollManyCommand!(["1000", "1001"])).toBe('squeue -h -t all -o "%i %t" -j 1000,1001');
    expect(slurmJobArray.pollManyCommand!(["1000"])).toBe('squeue -h -t all -o "%i %t" -j 1000');
    expect(pbs.pollManyCommand!(["1000.pbs_master", "1001.pbs_master"])).toBe("qstat -x 1000.pbs_master 1001.pbs_master");
    expect(torque.pollManyCommand!(["1.s", "2.s"])).toBe("qstat -l 1.s 2.s");
    expect(lsf.pollManyCommand!(["1", "2"])).toBe("bjobs 1 2");
    expect(jhUniScheduler.pollManyCommand!(["1", "2"])).toBe("jjobs 1 2");
    expect(shell.pollManyCommand!([7234, 7246])).toBe("ps -o pid=,stat= -p 7234,7246");
    expect(pbs.pollManyCommand!(["12[].srv"])).toBe("qstat -x '12[].srv'");
    expect(sge.pollManyCommand).toBeUndefined();
    expect(fugaku.pollManyCommand).toBeUndefined();
    expect(() => slurm.pollManyCommand!([])).toThrow(/at least one/);
  });

  it("Slurm: listed ids read per line, missing ids ended", () => {
    const out = "1000 R\n1001 PD\n1002 CD\n1003 OO\n1004 XX\n999 R\n";
    expect(m(slurm.parsePollMany!(ok(out), ["1000", "1001", "1002", "1003", "1004", "1005"]))).toEqual({
      "1000": "running:R",
      "1001": "waiting:PD",
      "1002": "ended:CD",
      "1003": "ended:OO",
      "1004": "unknown:XX",
      "1005": "ended",
    });
  });

  it("Slurm: array tasks aggregated under the base id", () => {
    const out = "1234_0 CD\n1234_[2-5%2] PD\n1234_1 R\n2000_0 CD\n2000_1 CG\n3000_[0-3] PD\n4000+0 R\n";
    for (const sys of [slurm, slurmJobArray]) {
      expect(m(sys.parsePollMany!(ok(out), ["1234", "2000", "3000", "4000", "5000"]))).toEqual({
        "1234": "running:R",
        "2000": "completing:CG",
        "3000": "waiting:PD",
        "4000": "running:R",
        "5000": "ended",
      });
    }
  });

  it("Slurm: a single aged-out id ⇒ exit 1 Invalid job id ⇒ ended", () => {
    expect(m(slurm.parsePollMany!(r(1, "", INVALID), ["1000"]))).toEqual({ "1000": "ended" });
  });

  it.each([SOCKET, CONTROLLER, SLURMUSER])("Slurm: transient %s⇒ every id retry", (err) => {
    expect(m(slurm.parsePollMany!(r(1, "", err), ["1", "2"]))).toEqual({ "1": "retry", "2": "retry" });
  });

  it("Slurm: other failure ⇒ every id error; malformed line ⇒ that id error", () => {
    expect(m(slurm.parsePollMany!(r(1, "", "squeue: error: bad\n"), ["1", "2"]))).toEqual({ "1": "error", "2": "error" });
    expect(m(slurm.parsePollMany!(ok("1 r\n2 R\n"), ["1", "2"]))).toEqual({ "1": "error", "2": "running:R" });
  });

  it("PBS: data lines read, Unknown Job Id ⇒ ended even with a non-zero exit", () => {
    const out = PBS_HEADER + pbsLine("1000.pbs_master", "R") + pbsLine("1001.pbs_master", "F") + pbsLine("1003.pbs_mas*", "Q");
    const res = r(153, out, "qstat: Unknown Job Id 1002.pbs_master\n");
    expect(m(pbs.parsePollMany!(res, ["1000.pbs_master", "1001.pbs_master", "1002.pbs_master", "1003.pbs_master_long"]))).toEqual({
      "1000.pbs_master": "running:R",
      "1001.pbs_master": "ended:F",
      "1002.pbs_master": "ended",
      "1003.pbs_master_long": "waiting:Q",
    });
  });

  it("PBS: sequence number matches a longer server name; exit 0 missing ⇒ ended", () => {
    const out = PBS_HEADER + pbsLine("1000.srv", "W");
    expect(m(pbs.parsePollMany!(ok(out), ["1000.srv.example.org", "1001.srv"]))).toEqual({ "1000.srv.example.org": "waiting:W", "1001.srv": "ended" });
  });

  it("PBS: a failing qstat that names nobody ⇒ error, not ended", () => {
    const res = r(2, "", "qstat: cannot connect to server pbs_master (errno=111)\n");
    expect(m(pbs.parsePollMany!(res, ["1.s", "2.s"]))).toEqual({ "1.s": "error", "2.s": "error" });
  });

  it("Torque: analogous, Job has finished ⇒ ended", () => {
    const out = PBS_HEADER + pbsLine("1.srv", "C") + pbsLine("2.srv", "R");
    const res = r(153, out, "qstat: Unknown Job Id Error 3.srv\nqstat: 4.srv Job has finished, use -x or -H to obtain historical job information\n");
    expect(m(torque.parsePollMany!(res, ["1.srv", "2.srv", "3.srv", "4.srv"]))).toEqual({ "1.srv": "ended:C", "2.srv": "running:R", "3.srv": "ended", "4.srv": "ended" });
  });

  it("LSF: lines, continuation lines, not found ⇒ ended", () => {
    const out = LSF_HEADER + lsfLine("1", "RUN") + "                                             4*node2\n" + lsfLine("2", "DONE") + lsfLine("3", "PEND") + lsfLine("3", "RUN");
    const res = r(255, out, "Job <4> is not found\n");
    expect(m(lsf.parsePollMany!(res, ["1", "2", "3", "4"]))).toEqual({ "1": "running:RUN", "2": "ended:DONE", "3": "running:RUN", "4": "ended" });
  });

  it("LSF: non-zero exit with nothing parseable ⇒ retry; exit 0 missing ⇒ ended", () => {
    expect(m(lsf.parsePollMany!(r(255, "", "LSF is processing your request. Please wait ...\n"), ["1", "2"]))).toEqual({ "1": "retry", "2": "retry" });
    expect(m(lsf.parsePollMany!(ok(LSF_HEADER + lsfLine("1", "PEND")), ["1", "2"]))).toEqual({ "1": "waiting:PEND", "2": "ended" });
  });

  it("JH_UniScheduler: analogous with JH states", () => {
    const out = LSF_HEADER + lsfLine("1", "PSUSP") + lsfLine("2", "EXIT");
    expect(m(jhUniScheduler.parsePollMany!(r(255, out, "Job <3> is not found\n"), ["1", "2", "3"]))).toEqual({ "1": "running:PSUSP", "2": "ended:EXIT", "3": "ended" });
  });

  it("Shell: listed and not a zombie ⇒ running; zombie or missing ⇒ ended", () => {
    const out = " 7234 S\n 7246 Z+\n 7300 R+\n";
    expect(m(shell.parsePollMany!(ok(out), [7234, 7246, 7300, 7400]))).toEqual({ "7234": "running:S", "7246": "ended:Z+", "7300": "running:R+", "7400": "ended" });
  });

  it("Shell: exit 1 with no output ⇒ none alive; other failures ⇒ error", () => {
    expect(m(shell.parsePollMany!(r(1), [1, 2]))).toEqual({ "1": "ended", "2": "ended" });
    expect(m(shell.parsePollMany!(r(1, "", "error: process ID list syntax error\n"), [1]))).toEqual({ "1": "error" });
    expect(m(shell.parsePollMany!(r(127, "", "sh: ps: not found\n"), [1]))).toEqual({ "1": "error" });
  });
});

describe("commands, kill, output files, lookup", () => {
  it("quotes RR and the script name with shlex.quote (but SGE, unquoted as upstream)", () => {
    const rr = "/home/u/my work/abc";
    expect(slurm.submitCommand(rr, "J.sub")).toBe("cd '/home/u/my work/abc' && sbatch --parsable J.sub");
    expect(pbs.submitCommand(rr, "J.sub")).toBe("cd '/home/u/my work/abc' && qsub J.sub");
    expect(lsf.submitCommand(rr, "J.sub")).toBe("cd '/home/u/my work/abc' && bsub <  J.sub");
    expect(jhUniScheduler.submitCommand(rr, "J.sub")).toBe("cd '/home/u/my work/abc' && jsub <  J.sub");
    expect(fugaku.submitCommand(rr, "J.sub")).toBe("cd '/home/u/my work/abc' && pjsub J.sub");
    expect(shell.submitCommand(rr, "J.sub")).toBe("cd '/home/u/my work/abc' && { nohup bash J.sub 1>>J.out 2>>J.out & } && echo $!");
    expect(sge.submitCommand("/r/abc", "J.sub")).toBe("cd /r/abc && qsub J.sub");
    expect(sge.pollCommand("123")).toBe("qstat");
    expect(fugaku.pollCommand("12345")).toBe("pjstat 12345");
  });

  it("kill commands", () => {
    expect(slurm.killCommand("1000")).toBe("scancel -Q 1000");
    expect(slurmJobArray.killCommand("1000")).toBe("scancel -Q 1000");
    expect(pbs.killCommand("1000.pbs_master")).toBe("qdel 1000.pbs_master");
    expect(torque.killCommand("1.s")).toBe("qdel 1.s");
    expect(sge.killCommand("123")).toBe("qdel 123");
    expect(lsf.killCommand("123")).toBe("bkill 123");
    expect(jhUniScheduler.killCommand("123")).toBe("jctrl kill 123");
    expect(shell.killCommand(7234)).toBe("kill -9 7234");
    expect(fugaku.killCommand("1")).toBeNull();
  });

  it("scheduler output files", () => {
    expect(slurm.schedulerOutputFiles!("J", "1000")).toEqual(["slurm-1000.out"]);
    expect(slurmJobArray.schedulerOutputFiles!("J", "1000")).toEqual([]);
    expect(pbs.schedulerOutputFiles!("J", "1.s")).toEqual([]);
    expect(lsf.schedulerOutputFiles!("J", "123")).toEqual(["123.out", "123.err"]);
    expect(jhUniScheduler.schedulerOutputFiles!("J", "123")).toEqual(["123.out", "123.err"]);
    expect(shell.schedulerOutputFiles!("abc", 7234)).toEqual(["abc.out"]);
  });

  it("batchSystem covers every scriptable batch type and names the others", () => {
    for (const b of ["Shell", "Slurm", "SlurmJobArray", "PBS", "Torque", "LSF", "SGE", "JH_UniScheduler", "Fugaku"] as BatchType[]) {
      expect(batchSystem(b).batchType).toBe(b);
    }
    for (const b of BATCH_TYPES.filter((t) => !BATCH_SYSTEMS[t])) {
      expect(() => batchSystem(b)).toThrow(new RegExp(`"${b}"`));
    }
    expect(BATCH_TYPES.filter((t) => !BATCH_SYSTEMS[t]).sort()).toEqual(["Bohrium", "DistributedShell", "OpenAPI"]);
  });
});

// ---------------------------------------------------------------------------------------------
// Golden transcripts: the scheduler command lines upstream sent, byte for byte.

const DYNAMIC = [join(REF, "golden", "dynamic")].find((d) => existsSync(d));
const RR_PLACEHOLDER = "<REMOTE_ROOT>/<SUBMISSION_HASH>";
const RR = "/home/user/dp_work/0123456789abcdef";

interface Summary {
  batch_type: BatchType;
  job_hashes: string[];
  scheduler_output_files: Record<string, string>;
  final_state_file: { belonging_jobs: Record<string, { job_id: JobId }>[] } | null;
}

describe("golden/dynamic transcripts", () => {
  it("the transcripts are available", () => {
    expect(DYNAMIC, "golden/dynamic not found under test/reference/dpdispatcher").toBeDefined();
  });
  if (!DYNAMIC) return;
  const scenarios = readdirSync(DYNAMIC)
    .filter((f) => f.endsWith(".transcript.txt"))
    .map((f) => f.slice(0, -".transcript.txt".length))
    .sort();

  it("has the 8 recorded scenarios", () => {
    expect(scenarios).toHaveLength(8);
  });

  describe.each(scenarios)("%s", (name) => {
    const summary = JSON.parse(readFileSync(join(DYNAMIC, `${name}.summary.json`), "utf8")) as Summary;
    const sys = batchSystem(summary.batch_type);
    const raw = readFileSync(join(DYNAMIC, `${name}.transcript.txt`), "utf8")
      .split("\n")
      .filter((l) => l.startsWith("exec "));
    const execs = raw.map((l) => l.slice(l.indexOf(" ;") + 2).split(RR_PLACEHOLDER).join(RR));
    const idOf = (s: string): JobId => (summary.batch_type === "Shell" ? Number(s) : s);
    const pollId = (line: string): JobId | null => {
      const shellPoll = /^command -v ps .* ps -p (\d+) /.exec(line);
      if (shellPoll) return idOf(shellPoll[1]!);
      return /^(squeue|qstat|bjobs|jjobs|pjstat) /.test(line) ? idOf(line.split(" ").pop()!) : null;
    };
    const polled = execs.map(pollId).filter((x): x is JobId => x !== null);

    it("every command runs in RR (`cd RR ;` prefix of the context)", () => {
      for (const l of raw) expect(l.startsWith(`exec cd ${RR_PLACEHOLDER} ;`)).toBe(true);
    });

    it("every scheduler command line is what the adapter sends", () => {
      let n = 0;
      for (const line of execs) {
        const sub = /^cd \S+ && .*\b([0-9a-f]{40}\.sub)\b/.exec(line);
        const id = pollId(line);
        if (sub) {
          expect(line).toBe(sys.submitCommand(RR, sub[1]!));
        } else if (id !== null) {
          expect(line).toBe(sys.pollCommand(id));
        } else if (/^(scancel|qdel|bkill|jctrl kill|kill -9) /.test(line)) {
          expect(line).toBe(sys.killCommand(idOf(line.split(" ").pop()!)));
        } else {
          // Context commands (not ours), listed so that no scheduler line slips through unchecked.
          expect(line).toMatch(/^(mv|tar|rm|sha256sum) /);
          continue;
        }
        n++;
      }
      expect(n).toBeGreaterThanOrEqual(2);
    });

    it("every job was submitted with the adapter's command", () => {
      for (const h of summary.job_hashes) expect(execs).toContain(sys.submitCommand(RR, `${h}.sub`));
    });

    it("the final job ids were polled with the adapter's command", () => {
      const jobs = summary.final_state_file?.belonging_jobs ?? [];
      for (const j of jobs) for (const v of Object.values(j)) if (v.job_id !== "") expect(execs).toContain(sys.pollCommand(v.job_id));
    });

    it("the scheduler's own output files are among the adapter's (where it names any)", () => {
      const files = new Set(summary.job_hashes.flatMap((h) => polled.flatMap((id) => sys.schedulerOutputFiles?.(h, id) ?? [])));
      const golden = Object.keys(summary.scheduler_output_files);
      // PBS (name set by the job) and array tasks (indices unknown here) are not named.
      const named = summary.batch_type === "PBS" ? [] : golden.filter((f) => !/^slurm-\d+_\d+\.out$/.test(f));
      if (summary.batch_type === "SlurmJobArray") return;
      for (const f of named) expect([...files]).toContain(f);
    });
  });
});
