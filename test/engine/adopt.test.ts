// Work that finished while its engine was dead is not done twice: each step
// process records its exit status in <stepdir>/.dflow-ts-exit, and `dflow
// retry` adopts a step that finished with 0 (collecting its outputs) and
// re-runs one that failed. A killed engine that is still a zombie does not
// block the retry. Real processes throughout; every wait is for a file or a
// process state, never a fixed time.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { readOr, until } from "../support/wait.js";

const root = path.resolve(import.meta.dirname, "../..");
const cli = path.join(root, "dist", "src", "cli.js");
const script = path.join(root, "fixtures", "workflows", "adopt.ts");
const tsx = pathToFileURL(path.join(root, "node_modules", "tsx", "dist", "loader.mjs")).href;

function tmp(): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-ts-adopt-")));
}



function lines(cwd: string): string[] {
  return (readOr(path.join(cwd, "counter.txt")) ?? "").split("\n").filter(Boolean);
}

function exited(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((r) => p.once("exit", () => r()));
}

/** Start the workflow, wait for step "work" to be running; returns its workflow id and step directory. */
async function startAndWaitForWork(cwd: string, spawnIt: () => ChildProcess): Promise<{ p: ChildProcess; id: string; wfdir: string; workDir: string }> {
  const p = spawnIt();
  const workName = await until("step work to start", () => lines(cwd)[0]);
  const id = fs.readdirSync(cwd).find((d) => /^adopt-[0-9a-z]{5}$/.test(d))!;
  const wfdir = path.join(cwd, id);
  return { p, id, wfdir, workDir: path.join(wfdir, workName) };
}

async function retry(cwd: string, id: string) {
  return execa(process.execPath, [cli, "retry", id], { cwd, reject: false, all: true });
}

function engine(cwd: string): ChildProcess {
  return spawn(process.execPath, ["--import", tsx, script], { cwd, stdio: "ignore" });
}

describe("finished work after a crash", () => {
  it("a step that finished with 0 after the engine was killed is adopted by dflow retry, not run again", { timeout: 300_000 }, async () => {
    const cwd = tmp();
    const { p, id, wfdir, workDir } = await startAndWaitForWork(cwd, () => engine(cwd));
    p.kill("SIGKILL");
    await exited(p);
    expect(fs.readFileSync(path.join(wfdir, "status"), "utf8")).toBe("Running");
    fs.writeFileSync(path.join(cwd, "release"), "");
    // The orphaned step finishes on its own and records how it ended.
    expect(await until("the step's exit record", () => readOr(path.join(workDir, ".dflow-ts-exit")))).toBe("0\n");
    expect(fs.readFileSync(path.join(workDir, "phase"), "utf8")).toBe("Running");
    const r = await retry(cwd, id);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.all).toMatch(new RegExp(`RESULT ${id} Succeeded 43`));
    // "work" ran once (its orphaned run), "after" once.
    expect(lines(cwd).filter((l) => l === path.basename(workDir))).toHaveLength(1);
    expect(lines(cwd)).toHaveLength(2);
    expect(fs.readFileSync(path.join(workDir, "phase"), "utf8")).toBe("Succeeded");
    expect(fs.readFileSync(path.join(workDir, "outputs", "parameters", "out"), "utf8").trim()).toBe("42");
    expect(fs.readFileSync(path.join(wfdir, "status"), "utf8")).toBe("Succeeded");
    fs.rmSync(cwd, { recursive: true, force: true });
  });

  it("a step that finished with a non-zero status after the engine was killed runs again", { timeout: 300_000 }, async () => {
    const cwd = tmp();
    fs.writeFileSync(path.join(cwd, "fail-first"), "");
    const { p, id, wfdir, workDir } = await startAndWaitForWork(cwd, () => engine(cwd));
    p.kill("SIGKILL");
    await exited(p);
    fs.writeFileSync(path.join(cwd, "release"), "");
    expect(await until("the step's exit record", () => readOr(path.join(workDir, ".dflow-ts-exit")))).toBe("3\n");
    const r = await retry(cwd, id);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.all).toMatch(new RegExp(`RESULT ${id} Succeeded 43`));
    expect(lines(cwd).filter((l) => l === path.basename(workDir))).toHaveLength(2);
    expect(fs.readFileSync(path.join(wfdir, "status"), "utf8")).toBe("Succeeded");
    fs.rmSync(cwd, { recursive: true, force: true });
  });

  it("a killed engine its parent has not reaped (a zombie) does not block dflow retry", { timeout: 300_000 }, async () => {
    const cwd = tmp();
    // The engine's parent execs `sleep`, which never waits for it: killed, the engine stays a zombie.
    const parent = spawn("sh", ["-c", `"$0" --import "$1" "$2" >/dev/null 2>&1 & exec sleep 100000`, process.execPath, tsx, script], { cwd, stdio: "ignore" });
    try {
      const { id, wfdir, workDir } = await startAndWaitForWork(cwd, () => parent);
      const lock = JSON.parse(await until("the engine's lock", () => readOr(path.join(wfdir, ".engine", "lock")))) as { pid: number };
      process.kill(lock.pid, "SIGKILL");
      await until("the engine to be a zombie", () => /^\d+ \(.*\) Z /.test(readOr(`/proc/${lock.pid}/stat`) ?? ""));
      fs.writeFileSync(path.join(cwd, "release"), "");
      await until("the step's exit record", () => readOr(path.join(workDir, ".dflow-ts-exit")));
      const r = await retry(cwd, id);
      expect(r.all).not.toMatch(/being run by engine/);
      expect(r.exitCode, r.all).toBe(0);
      expect(fs.readFileSync(path.join(wfdir, "status"), "utf8")).toBe("Succeeded");
      expect(lines(cwd).filter((l) => l === path.basename(workDir))).toHaveLength(1);
    } finally {
      parent.kill("SIGKILL");
    }
    fs.rmSync(cwd, { recursive: true, force: true });
  });
});
