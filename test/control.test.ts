// Workflow.terminate/stop/suspend/resume/delete/resubmit and `dflow
// stop/terminate/suspend/resume/delete`, through real runs: the workflow runs
// in this process (submit() pending) or in another one (a script). Tests
// synchronise on files the steps and the engine write, never on time.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { ShellOPTemplate, Step, Workflow } from "dflow-ts";
import { controlledWorkflow } from "../fixtures/workflows/controlled.js";
import { resumeWorkflow, waitForResume } from "../engine/control.js";
import { useTempWorkdir } from "./support/workdir.js";

const root = path.resolve(import.meta.dirname, "..");
const cli = path.join(root, "dist", "src", "cli.js");
const script = path.join(root, "fixtures", "workflows", "controlled.ts");
const tsx = pathToFileURL(path.join(root, "node_modules", "tsx", "dist", "loader.mjs")).href;

/** Wait until `cond()` holds (generous overall limit: a loaded machine is slow). */
async function until(cond: () => boolean, what: string, limitMs = 180_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const read = (p: string) => fs.readFileSync(p, "utf8");
const phase = (p: string) => (fs.existsSync(path.join(p, "phase")) ? read(path.join(p, "phase")) : null);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function stepDir(wfdir: string, name: string): string | undefined {
  const d = fs.readdirSync(wfdir).find((e) => fs.existsSync(path.join(wfdir, e, "name")) && read(path.join(wfdir, e, "name")) === name);
  return d && path.join(wfdir, d);
}

function startScript(cwd: string): { p: ChildProcess; exited: Promise<number | null>; out: () => string } {
  let out = "";
  const p = spawn(process.execPath, ["--import", tsx, script], { cwd, env: { ...process.env, CONTROL_DIR: cwd, DFLOW_DEBUG_WORKDIR: cwd }, stdio: ["ignore", "pipe", "pipe"] });
  p.stdout!.on("data", (d) => (out += d));
  p.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => p.once("exit", (code, sig) => r(code ?? (sig ? 128 + (sig === "SIGTERM" ? 15 : 9) : null))));
  return { p, exited, out: () => out };
}

function wfIdIn(cwd: string): string | undefined {
  return fs.readdirSync(cwd).find((e) => /^controlled-[0-9a-z]{5}$/.test(e));
}

const dflow = (cwd: string, ...args: string[]) => execa(process.execPath, [cli, ...args], { cwd, reject: false, all: true, env: { DFLOW_DEBUG_WORKDIR: cwd } });

describe("terminate", { timeout: 400_000 }, () => {
  const wd = useTempWorkdir();

  it("in the same process: the running step is killed, the next never starts, submit() resolves Failed; another workflow of the process goes on", async () => {
    const wf = controlledWorkflow(wd.dir);
    const other = new Workflow({ name: "other" }).add(new Step({ name: "wait", template: new ShellOPTemplate({ name: "wait", script: 'while [ ! -e "$CONTROL_DIR/other-go" ]; do sleep 0.05; done', envs: { CONTROL_DIR: wd.dir } }) }));
    const running = wf.submit();
    const otherRunning = other.submit();
    await until(() => fs.existsSync(path.join(wd.dir, "started-hold")), "step hold to start");
    const hold = stepDir(path.join(wd.dir, wf.id!), "hold")!;
    await until(() => fs.existsSync(path.join(hold, "pid")), "hold's pid file");
    const pid = Number(read(path.join(hold, "pid")));
    await wf.terminate();
    // terminate() resolved: the status is final already.
    expect(wf.query_status()).toBe("Failed");
    const r = await running;
    expect(r.status).toBe("Failed");
    expect(r.error?.message).toBe(`workflow ${wf.id} terminated (Workflow.terminate())`);
    expect(read(path.join(wd.dir, wf.id!, "message"))).toMatch(/terminated \(Workflow\.terminate\(\)\)/);
    expect(phase(hold)).toBe("Failed");
    expect(read(path.join(hold, "message"))).toMatch(/terminated \(Workflow\.terminate\(\)\)/);
    expect(alive(pid)).toBe(false);
    expect(stepDir(path.join(wd.dir, wf.id!), "after")).toBeUndefined();
    expect(fs.existsSync(path.join(wd.dir, "ran-after"))).toBe(false);
    // The other workflow of this process was not touched.
    expect(other.query_status()).toBe("Running");
    fs.writeFileSync(path.join(wd.dir, "other-go"), "");
    expect((await otherRunning).status).toBe("Succeeded");
    // Terminating an ended workflow changes nothing.
    await wf.terminate();
    expect(wf.query_status()).toBe("Failed");
  });

  it("stop() is terminate() with its own reason", async () => {
    const wf = controlledWorkflow(wd.dir);
    const running = wf.submit();
    await until(() => fs.existsSync(path.join(wd.dir, "started-hold")), "step hold to start");
    await wf.stop();
    expect((await running).error?.message).toBe(`workflow ${wf.id} stopped (Workflow.stop())`);
  });

  it("of a workflow another process runs: its engine ends it and exits; the steps and the workflow are Failed with the reason", async () => {
    const cwd = wd.dir;
    const run = startScript(cwd);
    await until(() => fs.existsSync(path.join(cwd, "started-hold")), "step hold to start in the script");
    const id = wfIdIn(cwd)!;
    const hold = stepDir(path.join(cwd, id), "hold")!;
    await until(() => fs.existsSync(path.join(hold, "pid")), "hold's pid file");
    const pid = Number(read(path.join(hold, "pid")));
    const wf = new Workflow({ id });
    await wf.terminate();
    expect(await run.exited).toBe(143);
    expect(wf.query_status()).toBe("Failed");
    expect(read(path.join(cwd, id, "message"))).toMatch(new RegExp(`^workflow ${id} terminated \\(Workflow\\.terminate\\(\\), from pid ${process.pid}\\)`));
    expect(phase(hold)).toBe("Failed");
    expect(read(path.join(hold, "message"))).toMatch(/terminated \(Workflow\.terminate\(\), from pid/);
    expect(alive(pid)).toBe(false);
    expect(fs.existsSync(path.join(cwd, "ran-after"))).toBe(false);
    expect(fs.existsSync(path.join(cwd, id, ".engine", "stop-request"))).toBe(false);
  });

  it("dflow terminate <id> is dflow stop <id>", async () => {
    const cwd = wd.dir;
    const run = startScript(cwd);
    await until(() => fs.existsSync(path.join(cwd, "started-hold")), "step hold to start in the script");
    const id = wfIdIn(cwd)!;
    const r = await dflow(cwd, "terminate", id);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toBe(`Workflow ${id} stopped`);
    expect(await run.exited).toBe(143);
    expect(read(path.join(cwd, id, "message"))).toMatch(/stopped \(dflow stop, from pid \d+\)/);
    expect((await dflow(cwd, "stop", id)).stdout).toBe(`Workflow ${id} is not running (Failed)`);
  });
});

describe("suspend / resume", { timeout: 400_000 }, () => {
  const wd = useTempWorkdir();

  it("in the same process: the running step finishes, the next waits Pending until resume(), then the workflow succeeds", async () => {
    const wf = controlledWorkflow(wd.dir);
    const running = wf.submit();
    await until(() => fs.existsSync(path.join(wd.dir, "started-hold")), "step hold to start");
    wf.suspend();
    expect(wf.is_suspended()).toBe(true);
    fs.writeFileSync(path.join(wd.dir, "go"), "");
    const wfdir = path.join(wd.dir, wf.id!);
    await until(() => phase(stepDir(wfdir, "hold")!) === "Succeeded", "hold to finish while suspended");
    // The engine holds `after` at its start and says so with an explicit Pending.
    await until(() => stepDir(wfdir, "after") !== undefined && phase(stepDir(wfdir, "after")!) === "Pending", "after to be held Pending");
    expect(fs.existsSync(path.join(wd.dir, "ran-after"))).toBe(false);
    expect(wf.query_status()).toBe("Running");
    wf.resume();
    expect(wf.is_suspended()).toBe(false);
    expect((await running).status).toBe("Succeeded");
    expect(fs.existsSync(path.join(wd.dir, "ran-after"))).toBe(true);
  });

  it("terminate() of a suspended workflow ends it: the held step never starts", async () => {
    const wf = controlledWorkflow(wd.dir);
    const running = wf.submit();
    await until(() => fs.existsSync(path.join(wd.dir, "started-hold")), "step hold to start");
    wf.suspend();
    fs.writeFileSync(path.join(wd.dir, "go"), "");
    const wfdir = path.join(wd.dir, wf.id!);
    await until(() => stepDir(wfdir, "after") !== undefined && phase(stepDir(wfdir, "after")!) === "Pending", "after to be held Pending");
    await wf.terminate();
    expect((await running).status).toBe("Failed");
    expect(phase(stepDir(wfdir, "after")!)).toBe("Failed");
    expect(fs.existsSync(path.join(wd.dir, "ran-after"))).toBe(false);
  });

  it("dflow suspend / resume a workflow another process runs; dflow get shows it suspended", async () => {
    const cwd = wd.dir;
    const run = startScript(cwd);
    await until(() => fs.existsSync(path.join(cwd, "started-hold")), "step hold to start in the script");
    const id = wfIdIn(cwd)!;
    const s = await dflow(cwd, "suspend", id);
    expect(s.exitCode, s.all).toBe(0);
    expect(s.stdout).toBe(`Workflow ${id} suspended`);
    expect((await dflow(cwd, "suspend", id)).stdout).toBe(`Workflow ${id} was already suspended`);
    fs.writeFileSync(path.join(cwd, "go"), "");
    const wfdir = path.join(cwd, id);
    await until(() => stepDir(wfdir, "after") !== undefined && phase(stepDir(wfdir, "after")!) === "Pending", "after to be held Pending");
    expect((await dflow(cwd, "get", id)).stdout).toMatch(/Status:\s+Running \(suspended\)/);
    expect(JSON.parse((await dflow(cwd, "list", "--json")).stdout)[0]).toMatchObject({ id, status: "Running", suspended: true });
    expect(fs.existsSync(path.join(cwd, "ran-after"))).toBe(false);
    const r = await dflow(cwd, "resume", id);
    expect(r.stdout).toBe(`Workflow ${id} resumed`);
    expect(await run.exited).toBe(0);
    expect(run.out()).toMatch(`RESULT ${id} Succeeded`);
    expect(fs.existsSync(path.join(cwd, "ran-after"))).toBe(true);
    expect((await dflow(cwd, "resume", id)).stdout).toBe(`Workflow ${id} was not suspended`);
    // An ended workflow cannot be suspended: one line, exit status 2.
    const late = await dflow(cwd, "suspend", id);
    expect(late.exitCode).toBe(2);
    expect(late.stderr).toBe(`dflow: workflow ${id} is Succeeded: there is nothing to suspend`);
    expect(() => new Workflow({ id }).suspend()).toThrow(`workflow ${id} is Succeeded: there is nothing to suspend`);
  });
});

describe("a suspend step's wait for a resume (engine/control.ts)", () => {
  it("ends for a resume asked for since the step started, even one that came before its wait began; not for an older one", async () => {
    const wfdir = fs.mkdtempSync(path.join(os.tmpdir(), "resume-"));
    fs.writeFileSync(path.join(wfdir, "status"), "Running");
    const started = Date.now();
    // Nothing waits yet (the step's wait is about to begin): the resume is kept for it.
    expect(resumeWorkflow(wfdir)).toBe(false);
    expect(await waitForResume(wfdir, "first", started, 600_000)).toEqual({});
    // A step that starts after that resume waits for the next one.
    let settled = false;
    const later = waitForResume(wfdir, "second", Date.now() + 1, 600_000).then((v) => ((settled = true), v));
    await until(() => fs.existsSync(path.join(wfdir, ".engine", "suspend-waiting", "second")), "the second step waiting");
    await sleep(50);
    expect(settled).toBe(false);
    resumeWorkflow(wfdir);
    expect(await later).toEqual({});
  });
});

describe("delete / resubmit", { timeout: 400_000 }, () => {
  const wd = useTempWorkdir();

  it("delete() refuses a running workflow, deletes it with force (terminated first), and deletes an ended one", async () => {
    const wf = controlledWorkflow(wd.dir);
    const running = wf.submit();
    await until(() => fs.existsSync(path.join(wd.dir, "started-hold")), "step hold to start");
    await expect(wf.delete()).rejects.toThrow(new RegExp(`^workflow ${wf.id} is Running \\(engine pid ${process.pid}\\): stop it first, or delete it anyway with delete\\(\\{ force: true \\}\\)$`));
    expect(fs.existsSync(path.join(wd.dir, wf.id!))).toBe(true);
    await wf.delete({ force: true });
    expect((await running).status).toBe("Failed");
    expect(fs.existsSync(path.join(wd.dir, wf.id!))).toBe(false);

    fs.writeFileSync(path.join(wd.dir, "go"), "");
    const done = controlledWorkflow(wd.dir);
    expect((await done.submit()).status).toBe("Succeeded");
    await new Workflow({ id: done.id }).delete();
    expect(fs.existsSync(path.join(wd.dir, done.id!))).toBe(false);
    expect(() => new Workflow({ id: done.id }).query_status()).toThrow(/no workflow/);
  });

  it("resubmit() runs a new workflow reusing the succeeded keyed steps", async () => {
    const count = path.join(wd.dir, "count");
    const t = new ShellOPTemplate({ name: "t", script: 'echo ran >> "$COUNT"', envs: { COUNT: count } });
    const wf = new Workflow({ name: "again" }).add(new Step({ name: "a", template: t, key: "a-key" }));
    expect((await wf.submit()).status).toBe("Succeeded");
    const r = await wf.resubmit();
    expect(r.status).toBe("Succeeded");
    expect(r.id).not.toBe(wf.id);
    expect(read(count)).toBe("ran\n");
    expect(new Workflow({ id: r.id }).query_step({ key: "a-key" })[0]!.phase).toBe("Succeeded");
    await expect(new Workflow({ id: wf.id }).resubmit()).rejects.toThrow(/made from an id only.*dflow resubmit/);
  });
});
