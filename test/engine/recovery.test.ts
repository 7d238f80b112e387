// Crash recovery, the workflow lock, stop and detach, through real
// processes: the engine is killed with SIGKILL at random moments and
// `dflow retry` continues the workflow; succeeded steps never run again and
// the result equals an uninterrupted run's.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const cli = path.join(root, "dist", "src", "cli.js");
const script = path.join(root, "fixtures", "workflows", "crash.ts");
// What import.meta.resolve("tsx") gives in node (vitest has no import.meta.resolve).
const tsx = pathToFileURL(path.join(root, "node_modules", "tsx", "dist", "loader.mjs")).href;

function tmp(): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-ts-recovery-")));
}

function startEngine(cwd: string, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ["--import", tsx, script], { cwd, env: { ...process.env, COUNTER: path.join(cwd, "counter.txt"), ...env }, stdio: ["ignore", "pipe", "pipe"] });
}

function counts(cwd: string): Map<string, number> {
  const m = new Map<string, number>();
  const f = path.join(cwd, "counter.txt");
  if (!fs.existsSync(f)) return m;
  for (const l of fs.readFileSync(f, "utf8").split("\n").filter(Boolean)) m.set(l, (m.get(l) ?? 0) + 1);
  return m;
}

function succeededDirs(wfdir: string): string[] {
  return fs.readdirSync(wfdir).filter((d) => {
    try {
      return fs.readFileSync(path.join(wfdir, d, "phase"), "utf8") === "Succeeded" && fs.readFileSync(path.join(wfdir, d, "type"), "utf8") === "Pod";
    } catch {
      return false;
    }
  });
}

async function waitExit(p: ChildProcess): Promise<number | null> {
  if (p.exitCode !== null || p.signalCode !== null) return p.exitCode;
  // A process that could not be started emits "error" and never "exit": fail, do not wait forever.
  return new Promise((resolve, reject) => {
    p.once("exit", (c) => resolve(c));
    p.once("error", reject);
  });
}

function wfId(cwd: string): string | undefined {
  return fs.readdirSync(cwd).find((d) => /^crash-[0-9a-z]{5}$/.test(d));
}

/** Wait for a condition; the limit is only a backstop (a busy machine starts node slowly). */
async function waitFor<T>(what: string, fn: () => T | undefined | null | false, ms = 100_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The workflow of an engine started with DFLOW_TEST_GATE, once a step of it runs (and waits for the gate). */
async function runningWorkflow(cwd: string, p: ChildProcess): Promise<string> {
  return waitFor("a step of the workflow to run", () => {
    if (p.exitCode !== null) throw new Error(`the engine ended (${p.exitCode}) before a step ran`);
    return fs.existsSync(path.join(cwd, "counter.txt")) && wfId(cwd);
  });
}

describe("crash recovery", () => {
  // How long a whole run takes here: kills are spread over it, however fast this machine is.
  let runMs = 1500;

  it("an uninterrupted run, for reference", async () => {
    const cwd = tmp();
    const t0 = Date.now();
    const p = startEngine(cwd);
    let out = "";
    p.stdout!.on("data", (d) => (out += d));
    expect(await waitExit(p)).toBe(0);
    runMs = Date.now() - t0;
    expect(out).toMatch(/RESULT crash-\w+ Succeeded 115/);
    // 8 fan-out items, 2 inner steps, 4 DAG tasks, the final step: each ran once.
    expect([...counts(cwd).values()].every((n) => n === 1)).toBe(true);
    expect(counts(cwd).size).toBe(15);
  });

  it("kill -9 at 20+ random moments, then dflow retry: nothing that succeeded runs again, same result", { timeout: 1_200_000 }, async () => {
    let kills = 0;
    let round = 0;
    while (kills < 20) {
      round++;
      const cwd = tmp();
      let p = startEngine(cwd);
      let result = "";
      for (let attempt = 0; ; attempt++) {
        // Kill at a random moment of a run (one took runMs here), once the workflow exists: kills
        // during node's start-up alone test nothing, and on a busy machine that is all they hit.
        const exists = await Promise.race([waitFor("the workflow directory", () => wfId(cwd)).then(() => true, () => false), waitExit(p).then(() => false)]);
        const delay = Math.floor(Math.random() * runMs);
        const killed = exists && (await Promise.race([sleep(delay).then(() => true), waitExit(p).then(() => false)]));
        if (killed && p.exitCode === null) {
          p.kill("SIGKILL");
          await waitExit(p);
          kills++;
        } else {
          let out = "";
          p.stdout!.on("data", (d) => (out += d));
          await waitExit(p);
          result = out;
        }
        const id = wfId(cwd);
        if (!id) {
          // Killed before the workflow had a directory: start again.
          p = startEngine(cwd);
          continue;
        }
        const wfdir = path.join(cwd, id);
        const status = fs.readFileSync(path.join(wfdir, "status"), "utf8");
        if (status === "Succeeded") break;
        const before = counts(cwd);
        const done = succeededDirs(wfdir);
        // Continue it: `dflow retry` runs the script again with DFLOW_RESUME_ID.
        if (attempt >= 6) {
          const r = await execa(process.execPath, [cli, "retry", id], { cwd, reject: false, all: true, env: { COUNTER: path.join(cwd, "counter.txt") } });
          expect(r.exitCode, r.all).toBe(0);
          for (const d of done) expect(counts(cwd).get(d), `${d} ran again after it succeeded`).toBe(before.get(d));
          break;
        }
        p = startEngine(cwd, { DFLOW_RESUME_ID: id });
        p.on("exit", () => {
          for (const d of done) expect(counts(cwd).get(d), `${d} ran again after it succeeded`).toBe(before.get(d));
        });
      }
      const id = wfId(cwd)!;
      const wfdir = path.join(cwd, id);
      expect(fs.readFileSync(path.join(wfdir, "status"), "utf8"), `round ${round}`).toBe("Succeeded");
      const final = fs.readdirSync(wfdir).find((d) => d.startsWith(`${id}-final-`))!;
      expect(fs.readFileSync(path.join(wfdir, final, "outputs/parameters/sum"), "utf8").trim(), `round ${round}`).toBe("115");
      // Every step directory is named in a children file and has a final phase; none left Running.
      const dirs = fs.readdirSync(wfdir).filter((d) => fs.existsSync(path.join(wfdir, d, "name")));
      for (const d of dirs) expect(fs.readFileSync(path.join(wfdir, d, "phase"), "utf8"), d).toBe("Succeeded");
      expect(dirs.length, `round ${round}`).toBe(15 + 2); // 15 Pods + the nest and graph template steps
      void result;
      fs.rmSync(cwd, { recursive: true, force: true });
    }
    expect(kills).toBeGreaterThanOrEqual(20);
  });

  it("a second engine on the same workflow is refused with a clear message", async () => {
    const cwd = tmp();
    // The steps wait for the gate: the first engine is certainly still running when the others try.
    const gate = path.join(cwd, "gate");
    const p = startEngine(cwd, { DFLOW_TEST_GATE: gate });
    const id = await runningWorkflow(cwd, p);
    const second = await execa(process.execPath, ["--import", tsx, script], { cwd, reject: false, all: true, env: { DFLOW_RESUME_ID: id, COUNTER: path.join(cwd, "counter.txt") } });
    expect(second.exitCode).not.toBe(0);
    expect(second.all).toMatch(new RegExp(`workflow ${id} is already being run by engine pid ${p.pid} on ${os.hostname()}`));
    const viaCli = await execa(process.execPath, [cli, "retry", id], { cwd, reject: false, all: true });
    expect(viaCli.exitCode).toBe(2);
    expect(viaCli.stderr.trim()).toMatch(/is being run by engine pid \d+/);
    fs.writeFileSync(gate, "");
    expect(await waitExit(p)).toBe(0);
  });

  it("dflow stop ends a running workflow: steps and workflow Failed with the reason, no process left", async () => {
    const cwd = tmp();
    // The steps wait for the gate (opened only for the retry): stop certainly finds it running.
    const gate = path.join(cwd, "gate");
    const p = startEngine(cwd, { DFLOW_TEST_GATE: gate });
    const id = await runningWorkflow(cwd, p);
    const r = await execa(process.execPath, [cli, "stop", id], { cwd, reject: false, all: true });
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(`Workflow ${id} stopped`);
    expect(await waitExit(p)).toBe(143);
    const wfdir = path.join(cwd, id);
    expect(fs.readFileSync(path.join(wfdir, "status"), "utf8")).toBe("Failed");
    expect(fs.readFileSync(path.join(wfdir, "message"), "utf8")).toMatch(/stopped/);
    const dirs = fs.readdirSync(wfdir).filter((d) => fs.existsSync(path.join(wfdir, d, "name")));
    const phases = dirs.map((d) => (fs.existsSync(path.join(wfdir, d, "phase")) ? fs.readFileSync(path.join(wfdir, d, "phase"), "utf8") : "(none)"));
    expect(phases.filter((ph) => ph !== "Succeeded" && ph !== "Failed")).toEqual([]);
    expect(dirs.some((d) => fs.readFileSync(path.join(wfdir, d, "phase"), "utf8") === "Failed" && /stopped/.test(fs.readFileSync(path.join(wfdir, d, "message"), "utf8")))).toBe(true);
    // dflow retry then finishes it (it runs the script with the recorded environment, gate included).
    fs.writeFileSync(gate, "");
    const again = await execa(process.execPath, [cli, "retry", id], { cwd, reject: false, all: true, env: { COUNTER: path.join(cwd, "counter.txt") } });
    expect(again.exitCode, again.all).toBe(0);
    expect(fs.readFileSync(path.join(wfdir, "status"), "utf8")).toBe("Succeeded");
  });

  it("dflow run --detach returns at once; the workflow finishes in the background with its output in <wfdir>/log.txt", async () => {
    const cwd = tmp();
    const r = await execa(process.execPath, [cli, "run", "--detach", script], { cwd, reject: false, all: true, env: { COUNTER: path.join(cwd, "counter.txt") } });
    expect(r.exitCode, r.all).toBe(0);
    const id = /Workflow (crash-\w{5}) is running in the background/.exec(r.stdout)?.[1];
    expect(id, r.all).toBeDefined();
    const wfdir = path.join(cwd, id!);
    await waitFor("the workflow to end", () => fs.readFileSync(path.join(wfdir, "status"), "utf8") !== "Running");
    expect(fs.readFileSync(path.join(wfdir, "status"), "utf8")).toBe("Succeeded");
    // The script prints its result after submit() returns, a moment after the status is written.
    const log = () => fs.readFileSync(path.join(wfdir, "log.txt"), "utf8");
    await waitFor("the script's result line", () => /RESULT/.test(log()));
    expect(log()).toMatch(/RESULT crash-\w+ Succeeded 115/);
  });
});
