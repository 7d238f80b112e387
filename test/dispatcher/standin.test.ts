// The submission lifecycle against STAND-IN schedulers: bash stand-ins for sbatch/squeue,
// qsub/qstat, bsub/bjobs (fixtures/fake-scheduler, from the compat reference) that run the job
// script locally and answer in the real tools' formats. PBS and LSF cannot run on this machine,
// so this is how they are covered; Slurm runs for real in test/hpc/. The SSHContext protocol
// runs over a loopback transport (commands executed locally), as the golden transcripts were
// recorded, and our `exec` lines are compared with golden/dynamic/*.transcript.txt.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { batchSystem } from "../../engine/dispatcher/batch/index.js";
import { LoopbackTransport } from "../../engine/dispatcher/context/loopback.js";
import { SSHContext } from "../../engine/dispatcher/context/ssh-context.js";
import { buildSubmission } from "../../engine/dispatcher/hash.js";
import { normalizeSubmissionInput } from "../../engine/dispatcher/schema.js";
import { newStats, Submission, SubmissionError } from "../../engine/dispatcher/submission.js";

const ROOT = path.resolve(import.meta.dirname, "..", "..");
const DYN = path.join(ROOT, "test", "reference", "dpdispatcher", "golden", "dynamic");
const FAKE = path.join(ROOT, "fixtures", "fake-scheduler");

interface Summary {
  machine: Record<string, unknown>;
  resources: Record<string, unknown>;
  tasks: Record<string, unknown>[];
  work_base: string;
  forward_common_files: string[];
  job_hashes: string[];
  error: string | null;
  local_work_base_tree_after: string[];
}

function setup(scenario: string, env: Record<string, string> = {}) {
  const sum = JSON.parse(fs.readFileSync(path.join(DYN, `${scenario}.summary.json`), "utf8")) as Summary;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `standin-${scenario}-`));
  const client = path.join(tmp, "client");
  const remote = path.join(tmp, "remote");
  const base = path.join(client, sum.work_base);
  for (const t of sum.tasks) {
    const d = path.join(base, t.task_work_path as string);
    fs.mkdirSync(d, { recursive: true });
    for (const f of t.forward_files as string[]) fs.writeFileSync(path.join(d, f), `${f} of ${t.task_work_path}\n`);
  }
  for (const f of sum.forward_common_files) fs.writeFileSync(path.join(base, f), "graph\n");
  const input = normalizeSubmissionInput({
    work_base: sum.work_base,
    forward_common_files: sum.forward_common_files,
    backward_common_files: [],
    machine: { ...sum.machine, local_root: "./", remote_root: remote },
    resources: sum.resources,
    task_list: sum.tasks,
  });
  const sub = buildSubmission(input, { cwd: client });
  const lines: string[] = [];
  const transport = new LoopbackTransport({
    home: tmp,
    env: { ...process.env, PATH: `${FAKE}:${process.env.PATH}`, FAKE_SCHED_STATE: path.join(tmp, "sched"), ...env } as Record<string, string>,
    transcript: (l) => lines.push(l),
  });
  const rr = sub.remoteRoot!;
  const normalise = (l: string) =>
    l
      .split(rr).join("<REMOTE_ROOT>/<SUBMISSION_HASH>")
      .split(remote).join("<REMOTE_ROOT>")
      .split(sub.hash).join("<SUBMISSION_HASH>")
      .replace(/\.tmp\.sha256\.[0-9a-f-]{36}/g, ".tmp.sha256.<UUID>")
      .replace(/-p \d+/g, "-p <PID>");
  const execLines = () => collapse(lines.filter((l) => l.startsWith("exec ")).map(normalise));
  return { sum, tmp, client, base, sub, transport, execLines, lines, normalise };
}

/** Golden exec lines, without upstream's provisional-directory dance (our bind needs none). */
function goldenExec(scenario: string, part?: 0 | 1): string[] {
  let text = fs.readFileSync(path.join(DYN, `${scenario}.transcript.txt`), "utf8");
  if (part !== undefined) text = text.split(/^note ---- client process exits here.*$/m)[part]!;
  text = text.split(/^note ---- explicit clean/m)[0]! + (text.includes("explicit clean") && part !== 0 ? "exec cd <REMOTE_ROOT>/<SUBMISSION_HASH> ;rm -rf <REMOTE_ROOT>/<SUBMISSION_HASH>\n" : "");
  return collapse(
    text
      .split("\n")
      .filter((l) => l.startsWith("exec ") && !l.includes("PROVISIONAL"))
      .map((l) => l.replace(/\.tmp\.sha256\.[0-9a-f-]{36}/g, ".tmp.sha256.<UUID>").replace(/-p \d+/g, "-p <PID>")),
  );
}

/** Upstream de-duplicates the download list through a Python set: its order is unspecified (§4.12). */
const sortDownload = (l: string) =>
  l.replace(/(;tar c(?:z)?fh \S+ )(.*)$/, (_m, head: string, args: string) => head + (args.match(/'[^']*'|\S+/g) ?? []).sort().join(" "));
/**
 * How many status rounds a job needs depends on how fast this machine runs it (a busy one needs
 * more): within a run of consecutive status queries, a query repeated is the same question asked
 * again and is dropped. What is asked, of which jobs, and in what order, is still compared.
 */
const STATUS_QUERY = /;(?:squeue |qstat |bjobs |command -v ps )/;
function dropRepeatedPolls(xs: string[]): string[] {
  const out: string[] = [];
  let block = new Set<string>();
  for (const l of xs) {
    if (!STATUS_QUERY.test(l)) {
      block = new Set();
      out.push(l);
    } else if (!block.has(l)) {
      block.add(l);
      out.push(l);
    }
  }
  return out;
}
const collapse = (xs: string[]) => dropRepeatedPolls(xs.map(sortDownload)).filter((l, i, all) => i === 0 || l !== all[i - 1]);

function submission(s: ReturnType<typeof setup>, extra: Partial<ConstructorParameters<typeof Submission>[2]> = {}) {
  const ctx = new SSHContext(s.transport, { remoteRoot: path.join(s.tmp, "remote"), tarCompress: true });
  return new Submission(s.sub, ctx, {
    batch: batchSystem(s.sub.machine!.serialized.batch_type),
    cwd: s.client,
    pollMode: "per-job",
    checkInterval: 0.3,
    recordDir: path.join(s.tmp, "record"),
    pauses: { afterFirstRoundMs: 1500, afterResubmitMs: 1000 },
    schedulerRetry: { attempts: 2, delayMs: 10, maxDelayMs: 10 },
    ...extra,
  });
}

describe("stand-in schedulers (fixtures/fake-scheduler): the wire protocol of golden/dynamic", () => {
  for (const scenario of ["slurm_success", "pbs_success", "lsf_success", "shell_success"]) {
    it(`${scenario}: same exec lines, same job hashes, outputs back, remote directory cleaned`, async () => {
      const s = setup(scenario);
      expect(s.sub.jobs.map((j) => j.hash)).toEqual(s.sum.job_hashes);
      const res = await submission(s).run();
      expect(res.jobs.every((j) => j.state === "finished")).toBe(true);
      expect(s.execLines()).toEqual(goldenExec(scenario));
      for (const f of s.sum.local_work_base_tree_after) expect(fs.existsSync(path.join(s.base, f)), f).toBe(true);
      expect(fs.existsSync(s.sub.remoteRoot!)).toBe(false);
    });
  }

  it("slurm_ratio_unfinished: with 2 of 3 tasks done the straggler is killed (scancel -Q) and only finished tasks come back", async () => {
    const s = setup("slurm_ratio_unfinished");
    const res = await submission(s).run();
    expect(res.jobs.every((j) => j.state === "finished")).toBe(true);
    expect(s.execLines()).toEqual(goldenExec("slurm_ratio_unfinished"));
    expect(fs.existsSync(path.join(s.base, "bct-1", "log.lammps"))).toBe(true);
    expect(fs.existsSync(path.join(s.base, "dir with space", "out.txt"))).toBe(false);
  });

  it("slurm_fail_retry: retry_count 1 resubmits once, then fails with the task's stderr tail; state and record written", async () => {
    const s = setup("slurm_fail_retry");
    const err = await submission(s).run().catch((e) => e as Error);
    expect(err).toBeInstanceOf(SubmissionError);
    expect(err.message).toMatch(/failed 2 times/);
    expect(err.message).toMatch(/boom\nboom/); // the err file is appended across attempts
    expect(err.message).toContain(s.sub.remoteRoot!);
    const state = JSON.parse(fs.readFileSync(path.join(s.sub.remoteRoot!, `${s.sub.hash}.json`), "utf8"));
    const job = Object.values(state.belonging_jobs[0])[0] as { job_state: number; fail_count: number };
    expect(job).toMatchObject({ job_state: 4, fail_count: 2 });
    expect(fs.existsSync(path.join(s.tmp, "record", `${s.sub.hash}.json`))).toBe(true);
    expect(s.execLines()).toEqual(goldenExec("slurm_fail_retry"));
  });

  it("a password in remote_profile is not written to the state file nor the local record (upstream stores it in clear)", async () => {
    const s = setup("slurm_fail_retry");
    s.sub.machine!.serialized.remote_profile = { ...s.sub.machine!.serialized.remote_profile, password: "hunter2-secret" };
    await submission(s).run().catch(() => undefined);
    const state = fs.readFileSync(path.join(s.sub.remoteRoot!, `${s.sub.hash}.json`), "utf8");
    const record = fs.readFileSync(path.join(s.tmp, "record", `${s.sub.hash}.json`), "utf8");
    for (const text of [state, record]) {
      expect(text).not.toContain("hunter2-secret");
      expect(text).toContain('"password": "<redacted>"');
    }
  });

  it("slurm_recover_after_client_exit: a second client adopts the running job (no second sbatch) and finishes it", async () => {
    // The job (its task sleeps 3 s) counts as running until the hold file exists: the second
    // client certainly finds it running and polls it after its upload, as in the golden run,
    // however long this machine takes between the two clients.
    const hold = path.join(os.tmpdir(), `standin-hold-${process.pid}-${Date.now()}`);
    const s = setup("slurm_recover_after_client_exit", { FAKE_SCHED_HOLD: hold });
    const first = await submission(s, { exitOnSubmit: true }).run();
    const id = first.jobs[0]!.id;
    expect(s.execLines()).toEqual(goldenExec("slurm_recover_after_client_exit", 0));
    s.lines.length = 0;
    const stats = newStats();
    const running = submission(s, { stats }).run();
    const polls = () => s.lines.filter((l) => l.includes("squeue")).length;
    for (const end = Date.now() + 300_000; polls() < 2; await sleep(50)) if (Date.now() > end) throw new Error("the second client never polled twice");
    fs.writeFileSync(hold, "");
    const second = await running;
    fs.rmSync(hold, { force: true });
    expect(second.recovered).toBe(true);
    expect(second.jobs[0]!.id).toBe(id);
    expect(stats.commands.sbatch ?? 0).toBe(0);
    expect(fs.readFileSync(path.join(s.base, "bct-1", "log.lammps"), "utf8")).toContain("conf.lmp of bct-1/");
    const golden = goldenExec("slurm_recover_after_client_exit", 1);
    // Same commands; how many times the running job is polled depends on timing.
    expect(collapse(s.execLines())).toEqual(golden);
  });

  it("a controller that does not answer (squeue fails twice) is asked again, not taken as an error; submission goes on", async () => {
    const s = setup("slurm_success");
    // A stand-in squeue that fails like a Slurm controller outage twice, then answers.
    const flaky = path.join(s.tmp, "flaky");
    fs.mkdirSync(flaky);
    fs.writeFileSync(
      path.join(flaky, "squeue"),
      `#!/bin/bash\nn=$(cat "${s.tmp}/fails" 2>/dev/null || echo 0)\nif [ "$n" -lt 2 ]; then echo $((n+1)) > "${s.tmp}/fails"; echo "slurm_load_jobs error: Unable to contact slurm controller (connect failure)" >&2; exit 1; fi\nexec "${FAKE}/squeue" "$@"\n`,
      { mode: 0o755 },
    );
    const logs: string[] = [];
    const transport = new LoopbackTransport({ home: s.tmp, env: { ...process.env, PATH: `${flaky}:${FAKE}:${process.env.PATH}`, FAKE_SCHED_STATE: path.join(s.tmp, "sched") } as Record<string, string> });
    const ctx = new SSHContext(transport, { remoteRoot: path.join(s.tmp, "remote"), tarCompress: true });
    const res = await new Submission(s.sub, ctx, { batch: batchSystem("Slurm"), cwd: s.client, pollMode: "per-job", checkInterval: 0.2, recordDir: null, pauses: { afterFirstRoundMs: 1500 }, schedulerRetry: { attempts: 5, delayMs: 10, maxDelayMs: 10 }, log: (m) => logs.push(m) }).run();
    expect(res.jobs.every((j) => j.state === "finished")).toBe(true);
    // Two jobs are polled at once, so the stand-in's failure counter may be read by both: 2 or 3 failures.
    expect(logs.filter((l) => /Unable to contact slurm controller.*asking again/.test(l)).length).toBeGreaterThanOrEqual(2);
  });

  it("max_queued_jobs 1: the second job is submitted only after the first one ended, without blocking the loop", async () => {
    const s = setup("slurm_success");
    const { Slots } = await import("../../engine/executors/clusters.js");
    const slots = new Slots(1);
    const res = await submission(s, { slots }).run();
    expect(res.jobs.every((j) => j.state === "finished")).toBe(true);
    const sched = s.execLines().filter((l) => /sbatch|squeue/.test(l));
    const sbatches = sched.map((l, i) => (l.includes("sbatch") ? i : -1)).filter((i) => i >= 0);
    expect(sbatches).toHaveLength(2);
    expect(sched.slice(0, sbatches[1]).some((l) => l.includes("squeue"))).toBe(true);
    expect(slots.inUse).toBe(0);
  });

  it("batched polling: one status query per round for all jobs of a submission", async () => {
    const s = setup("slurm_success");
    const { Poller } = await import("../../engine/dispatcher/poller.js");
    const batch = batchSystem("Slurm");
    const cmds: string[] = [];
    // The stand-in squeue takes one id; a real multi-id squeue runs in test/hpc/. Here we check the protocol.
    const poller = new Poller(async () => ({ code: 0, stdout: "", stderr: "" }), batch, { minGapMs: 100, onCommand: (c) => cmds.push(c) });
    const res = await submission(s, { pollMode: "batched", poller }).run();
    expect(res.jobs.every((j) => j.state === "finished")).toBe(true);
    expect(cmds).toEqual([`squeue -h -t all -o "%i %t" -j ${res.jobs.map((j) => j.id).join(",")}`]);
  });
});
