// End to end against the real local Slurm over SSH (test/hpc/start-local-hpc.sh): workflows run
// through the `dflow` binary with DispatcherExecutor steps, and the cluster is disturbed the way
// clusters are (engine killed, sshd restarted, slurmctld down). Runs when DFLOW_TEST_HPC names the
// cluster's hpc.json (CI sets it: a broken cluster then fails these tests); skips otherwise.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa, type ResultPromise } from "execa";
import { describe, expect, it } from "vitest";
import { announceSkip, type HpcInfo, hpcInfo } from "../support/hpc.js";

const root = path.resolve(import.meta.dirname, "..", "..");
const cli = path.join(root, "dist", "src", "cli.js");
const hpc = hpcInfo();
if (!hpc) announceSkip();
const d = hpc ? describe : describe.skip;

function freshDir(): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-hpc-")));
}

function run(fixture: string, cwd: string, env: Record<string, string>) {
  return execa(process.execPath, [cli, "run", path.join(root, "fixtures", "workflows", fixture)], {
    cwd,
    reject: false,
    all: true,
    env: { DFLOW_TEST_HPC: process.env.DFLOW_TEST_HPC!, ...env },
  });
}

/** The workflow directory in cwd (one per test). */
function wfDir(cwd: string): string {
  const names = fs.readdirSync(cwd).filter((n) => fs.existsSync(path.join(cwd, n, "status")));
  expect(names.length, `one workflow in ${cwd}`).toBe(1);
  return path.join(cwd, names[0]!);
}

/** Step directories of a workflow that ran remote jobs (they have job_ids). */
function remoteSteps(wf: string): string[] {
  return fs.readdirSync(wf).map((n) => path.join(wf, n)).filter((p) => fs.existsSync(path.join(p, "job_ids")));
}

const jobIds = (step: string): string[] => fs.readFileSync(path.join(step, "job_ids"), "utf8").trim().split("\n");

async function ssh(info: HpcInfo, command: string) {
  return execa("sh", ["-c", `${info.sshCommand} ${JSON.stringify(command)}`], { reject: false, all: true });
}

/** Wait for a condition; the limit is only a backstop (a busy machine is slow, never wrong). */
async function waitFor<T>(what: string, fn: () => T | null | undefined | false | Promise<T | null | undefined | false>, ms = 180_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** Wait until the workflow in `cwd` has submitted its first job; returns [wfdir, step dir, job id]. */
async function firstJob(cwd: string, child: ResultPromise): Promise<[string, string, string]> {
  let exited = false;
  void child.then(() => (exited = true));
  return waitFor("the first Slurm job", () => {
    if (exited) throw new Error("the workflow ended before submitting a job");
    const wf = fs.readdirSync(cwd).find((n) => fs.existsSync(path.join(cwd, n, "status")));
    if (!wf) return null;
    const step = remoteSteps(path.join(cwd, wf))[0];
    return step ? ([path.join(cwd, wf), step, jobIds(step)[0]!] as [string, string, string]) : null;
  });
}

/** The job's Slurm state once it matches `want` (the limit is a backstop), else the last state seen. */
async function slurmStateSettles(info: HpcInfo, id: string, want: RegExp): Promise<string> {
  let state = "";
  await waitFor(`job ${id} to be ${want.source}`, async () => want.test((state = (await ssh(info, `squeue -h -t all -j ${id} -o %T`)).stdout.trim()))).catch(() => undefined);
  return state;
}

function enginePid(wf: string): number {
  return JSON.parse(fs.readFileSync(path.join(wf, ".engine", "lock"), "utf8")).pid as number;
}

/** Restart missing daemons with the project's own start script (idempotent). */
async function restartCluster(info: HpcInfo) {
  const r = await execa("bash", [path.join(root, "test", "hpc", "start-local-hpc.sh"), info.stateDir], { reject: false, all: true, env: { HPC_SMOKE_TEST: "0" } });
  expect(r.exitCode, r.all).toBe(0);
}

/** Kill sshd's listener and the sessions serving process `pid` (other clients are left alone). */
async function killSshdFor(info: HpcInfo, pid: number) {
  const listener = Number(fs.readFileSync(path.join(info.stateDir, "run", "sshd.pid"), "utf8"));
  const ss = (await execa("ss", ["-tnpH", "state", "established"])).stdout.split("\n");
  const ports = ss.filter((l) => l.includes(`pid=${pid},`) && l.includes(`:${info.port} `)).map((l) => l.trim().split(/\s+/)[2]!.split(":").pop());
  expect(ports.length, "the engine's SSH connection").toBeGreaterThan(0);
  const sessions = ss.filter((l) => ports.some((p) => l.includes(`:${p} `) && l.includes('"sshd"'))).flatMap((l) => [...l.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])));
  process.kill(listener, "SIGTERM");
  for (const s of new Set(sessions)) {
    try {
      process.kill(s, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

d("DispatcherExecutor on the local Slurm over SSH", () => {
  const info = hpc!;

  /** A long job is disturbed once it is submitted; the cluster is restarted; the run must still succeed with that one job. */
  async function survives(tag: string, sleep: string, disturb: (wf: string) => Promise<void>) {
    const cwd = freshDir();
    const child = run("hpc-e2e.ts", cwd, { SCENARIO: "long", SLEEP: sleep, HPC_TEST_TAG: `${tag}-${process.pid}` });
    const [wf, step] = await firstJob(cwd, child);
    try {
      await disturb(wf);
    } finally {
      await restartCluster(info);
    }
    const r = await child;
    expect(r.exitCode, r.all).toBe(0);
    expect(jobIds(step)).toHaveLength(1);
    expect(fs.readFileSync(path.join(step, "outputs", "parameters", "out"), "utf8").trim()).toBe("done");
  }

  it("a workflow mixing local and remote steps (a TS OP on a node with only node, a shell step reading its output)", async () => {
    const cwd = freshDir();
    const r = await run("hpc-mixed.ts", cwd, { HPC_TEST_TAG: `mixed-${process.pid}` });
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toContain('remote-shell says "from a local step');
    const wf = wfDir(cwd);
    const steps = remoteSteps(wf);
    expect(steps.map((s) => fs.readFileSync(path.join(s, "name"), "utf8")).sort()).toEqual(["remote-op", "remote-shell"]);
    const shell = steps.find((s) => s.includes("remote-shell"))!;
    // The job's output is the step's log; the remote job directory was cleaned after the download.
    expect(fs.readFileSync(path.join(shell, "log.txt"), "utf8")).toContain(`job ${jobIds(shell)[0]}`);
    const rr = /in \S+?:\d+:(\S+) \(/.exec(fs.readFileSync(path.join(shell, "dispatcher.log"), "utf8"))![1]!;
    expect((await ssh(info, `test -e ${rr} && echo present || echo gone`)).stdout.trim()).toBe("gone");
  });

  it("a fan-out of 20 items with slices group_size 5 runs as 4 Slurm jobs", async () => {
    const cwd = freshDir();
    const r = await run("hpc-e2e.ts", cwd, { SCENARIO: "fanout", HPC_TEST_TAG: `fanout-${process.pid}` });
    expect(r.exitCode, r.all).toBe(0);
    const steps = remoteSteps(wfDir(cwd));
    expect(steps).toHaveLength(4);
    expect(new Set(steps.flatMap(jobIds)).size).toBe(4);
    const squares = steps.flatMap((s) => (JSON.parse(fs.readFileSync(path.join(s, "outputs", "parameters", "square"), "utf8")) as { dflow_list_item: number }[]).map((x) => x.dflow_list_item));
    expect(squares.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i * i).sort((a, b) => a - b));
  });

  it("merge_sliced_step: 20 slices are one step, the tasks of one submission in 4 Slurm jobs (resources group_size 5)", async () => {
    const cwd = freshDir();
    const r = await run("hpc-e2e.ts", cwd, { SCENARIO: "merged", HPC_TEST_TAG: `merged-${process.pid}` });
    expect(r.exitCode, r.all).toBe(0);
    const steps = remoteSteps(wfDir(cwd));
    expect(steps).toHaveLength(1);
    expect(new Set(jobIds(steps[0]!)).size).toBe(4);
    expect(JSON.parse(fs.readFileSync(path.join(steps[0]!, "outputs", "parameters", "square"), "utf8"))).toEqual(Array.from({ length: 20 }, (_, i) => i * i));
    const files = fs.readdirSync(path.join(steps[0]!, "outputs", "artifacts", "output")).filter((f) => f.endsWith(".txt"));
    expect(files.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `${i}.txt`).sort());
  });

  it("a failing task is resubmitted retry_count times, then the step fails with the remote log's tail", async () => {
    const cwd = freshDir();
    const r = await run("hpc-e2e.ts", cwd, { SCENARIO: "fail", HPC_TEST_TAG: `fail-${process.pid}` });
    expect(r.exitCode).not.toBe(0);
    const [step] = remoteSteps(wfDir(cwd));
    expect(jobIds(step!)).toHaveLength(2);
    const message = fs.readFileSync(path.join(step!, "message"), "utf8");
    expect(message).toMatch(/failed 2 times/);
    expect(message).toContain("boom: the input deck is broken");
    expect(fs.readFileSync(path.join(step!, "phase"), "utf8")).toBe("Failed");
  });

  it("a job over its Slurm time limit fails the step and says TIMEOUT", async () => {
    const cwd = freshDir();
    const r = await run("hpc-e2e.ts", cwd, { SCENARIO: "timelimit", HPC_TEST_TAG: `timelimit-${process.pid}` });
    expect(r.exitCode).not.toBe(0);
    const [step] = remoteSteps(wfDir(cwd));
    expect(jobIds(step!)).toHaveLength(1);
    expect(fs.readFileSync(path.join(step!, "message"), "utf8")).toMatch(/TIMEOUT/);
  });

  it("a step timeout cancels its Slurm job", async () => {
    const cwd = freshDir();
    const r = await run("hpc-e2e.ts", cwd, { SCENARIO: "steptimeout", HPC_TEST_TAG: `steptimeout-${process.pid}` });
    expect(r.exitCode).not.toBe(0);
    const [step] = remoteSteps(wfDir(cwd));
    expect(fs.readFileSync(path.join(step!, "message"), "utf8")).toMatch(/timed out after 5s/);
    const id = jobIds(step!)[0]!;
    expect(await slurmStateSettles(info, id, /CANCELLED/)).toMatch(/CANCELLED/);
  });

  it("the engine killed while a job runs: dflow retry re-attaches to the same Slurm job (no second submission)", async () => {
    const cwd = freshDir();
    const child = run("hpc-e2e.ts", cwd, { SCENARIO: "long", SLEEP: "8", HPC_CLEAN: "0", HPC_TEST_TAG: `kill-${process.pid}` });
    const [wf, step, id] = await firstJob(cwd, child);
    // Kill once the job is in the submission's state file on the cluster (what a retry recovers
    // from), not merely submitted: on a busy machine the engine can be a while between the two.
    const rr = await waitFor("the submission's remote directory", () => /in \S+?:\d+:(\S+) \(/.exec(fs.readFileSync(path.join(step, "dispatcher.log"), "utf8"))?.[1]);
    await waitFor(`job ${id} in the state file`, async () => new RegExp(`"job_id": "?${id}"?`).test((await ssh(info, `cat ${rr}/${path.basename(rr)}.json`)).stdout));
    process.kill(enginePid(wf), "SIGKILL");
    await child;
    const r = await execa(process.execPath, [cli, "retry", path.basename(wf)], { cwd, reject: false, all: true, env: { DFLOW_TEST_HPC: process.env.DFLOW_TEST_HPC!, SCENARIO: "long", SLEEP: "8", HPC_CLEAN: "0", HPC_TEST_TAG: `kill-${process.pid}` } });
    expect(r.exitCode, r.all).toBe(0);
    expect(jobIds(step)).toEqual([id]);
    expect(fs.readFileSync(path.join(step, "dispatcher.log"), "utf8")).toMatch(new RegExp(`recovered submission .*=${id}\\(`));
    expect(fs.readFileSync(path.join(step, "outputs", "parameters", "out"), "utf8").trim()).toBe("done");
    // On the cluster: one job output file in the job directory, the one of that id.
    expect((await ssh(info, `cd ${rr} && ls slurm-*.out`)).stdout.trim()).toBe(`slurm-${id}.out`);
  });

  it("merge_sliced_step, the engine killed while its jobs run: dflow retry re-attaches to the same submission (its 2 jobs, none again)", async () => {
    const cwd = freshDir();
    const env = { SCENARIO: "mergedlong", SLEEP: "6", HPC_CLEAN: "0", HPC_TEST_TAG: `mergedkill-${process.pid}` };
    const child = run("hpc-e2e.ts", cwd, env);
    const [wf, step] = await firstJob(cwd, child);
    const rr = await waitFor("the submission's remote directory", () => /in \S+?:\d+:(\S+) \(/.exec(fs.readFileSync(path.join(step, "dispatcher.log"), "utf8"))?.[1]);
    // Both jobs in the submission's state file on the cluster (what a retry recovers from).
    const ids = await waitFor("both jobs in the state file", async () => {
      const state = (await ssh(info, `cat ${rr}/${path.basename(rr)}.json`)).stdout;
      const found = [...state.matchAll(/"job_id": "?(\d+)"?/g)].map((m) => m[1]!);
      return found.length === 2 ? found : null;
    });
    process.kill(enginePid(wf), "SIGKILL");
    await child;
    const r = await execa(process.execPath, [cli, "retry", path.basename(wf)], { cwd, reject: false, all: true, env: { DFLOW_TEST_HPC: process.env.DFLOW_TEST_HPC!, ...env } });
    expect(r.exitCode, r.all).toBe(0);
    expect(jobIds(step).sort()).toEqual([...ids].sort());
    expect(JSON.parse(fs.readFileSync(path.join(step, "outputs", "parameters", "square"), "utf8"))).toEqual([1, 4, 9, 16]);
  });

  it("an unknown host key is refused with its fingerprint and how to add it; nothing is submitted", async () => {
    const cwd = freshDir();
    fs.writeFileSync(path.join(cwd, "empty_known_hosts"), "");
    const r = await run("hpc-e2e.ts", cwd, { SCENARIO: "unknownhost", EMPTY_KNOWN_HOSTS: path.join(cwd, "empty_known_hosts"), HPC_TEST_TAG: `unknownhost-${process.pid}` });
    expect(r.exitCode).not.toBe(0);
    const wf = wfDir(cwd);
    expect(remoteSteps(wf)).toEqual([]);
    const step = fs.readdirSync(wf).map((n) => path.join(wf, n)).find((p) => fs.existsSync(path.join(p, "message")))!;
    const message = fs.readFileSync(path.join(step, "message"), "utf8");
    expect(message).toContain(info.hostKeyFingerprint);
    expect(message).toMatch(/ssh-keyscan -p 2222 127\.0\.0\.1/);
  });

  it("SlurmRemoteExecutor: header + script submitted with sbatch; the job's output is log.txt, outputs come back", async () => {
    const cwd = freshDir();
    const r = await run("hpc-e2e.ts", cwd, { SCENARIO: "slurmremote", SLEEP: "1", HPC_TEST_TAG: `slurmremote-${process.pid}` });
    expect(r.exitCode, r.all).toBe(0);
    const [step] = remoteSteps(wfDir(cwd));
    const [id] = jobIds(step!);
    expect(fs.readFileSync(path.join(step!, "log.txt"), "utf8")).toContain(`job ${id} started`);
    expect(fs.readFileSync(path.join(step!, "outputs", "parameters", "out"), "utf8").trim()).toBe("done");
    expect(fs.existsSync(path.join(step!, "slurm_job_id"))).toBe(false);
    const name = await ssh(info, `sacct -n -X -P -o JobName -j ${id}`);
    expect(name.stdout).toMatch(/dflow-remote|allocation/); // the header's -J (sacct may say "allocation" for a few seconds)
  });

  it("dflow stop cancels the running Slurm job of the workflow", async () => {
    const cwd = freshDir();
    const child = run("hpc-e2e.ts", cwd, { SCENARIO: "long", SLEEP: "120", HPC_TEST_TAG: `stop-${process.pid}` });
    const [wf, step, id] = await firstJob(cwd, child);
    const r = await execa(process.execPath, [cli, "stop", path.basename(wf)], { cwd, reject: false, all: true });
    expect(r.exitCode, r.all).toBe(0);
    await child;
    expect(fs.readFileSync(path.join(step, "phase"), "utf8")).toBe("Failed");
    expect(await slurmStateSettles(info, id, /CANCELLED/)).toMatch(/CANCELLED/);
  });

  it.each(["long", "slurmremote"])("Workflow.terminate() in the script itself cancels the running Slurm job (%s)", async (scenario) => {
    const cwd = freshDir();
    const r = await run("hpc-e2e.ts", cwd, { SCENARIO: scenario, SLEEP: "120", TERMINATE_ON_JOB: "1", HPC_TEST_TAG: `terminate-${scenario}-${process.pid}` });
    expect(r.exitCode, r.all).not.toBe(0);
    const [step] = remoteSteps(wfDir(cwd));
    const [id] = jobIds(step!);
    expect(fs.readFileSync(path.join(step!, "phase"), "utf8")).toBe("Failed");
    expect(fs.readFileSync(path.join(step!, "message"), "utf8")).toMatch(/terminated \(Workflow\.terminate\(\)\)/);
    expect(await slurmStateSettles(info, id!, /CANCELLED/)).toMatch(/CANCELLED/);
  });

  it("sshd restarted while the job runs: the engine reconnects and the run succeeds", async () => {
    await survives("sshd", "10", async (wf) => {
      await killSshdFor(info, enginePid(wf));
      await sleep(3000); // an outage, not a wait for something
    });
  });

  it("slurmctld stopped for a few seconds during polling: the status query is retried and the run succeeds", async () => {
    await survives("ctld", "15", async () => {
      process.kill(Number(fs.readFileSync(path.join(info.stateDir, "run", "slurmctld.pid"), "utf8")), "SIGTERM");
      // squeue itself waits for the controller for ~18 s; a longer outage makes it fail, and our
      // retry of transient scheduler errors is covered with a stand-in in test/dispatcher/standin.test.ts.
      await sleep(8000);
    });
  });
});
