// A work directory whose file system fills up, or becomes read-only, ends
// the workflow with one clear message (path and fix), stops its steps, and
// `dflow retry` succeeds once the disk is usable again. On a small tmpfs
// through the real binary; needs root (mount), else skipped.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readOr, until } from "../support/wait.js";

const root = path.resolve(import.meta.dirname, "../..");
const cli = path.join(root, "dist", "src", "cli.js");
const script = path.join(root, "fixtures", "workflows", "adopt.ts");

const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-ts-disk-")));
const mnt = path.join(base, "mnt");
fs.mkdirSync(mnt);
let mounted = false;
try {
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt], { stdio: "ignore" });
  mounted = true;
} catch {
  console.warn(`full-disk tests skipped: cannot mount a tmpfs on ${mnt} (they need root)`);
}



/** Fill the file system of `dir` to the last byte. */
function fill(dir: string): void {
  // Never the machine's own disk: if the tmpfs is not (or no longer) mounted there, stop.
  const st = fs.statfsSync(dir);
  if (st.blocks * st.bsize > 64 * 1024 * 1024) throw new Error(`refusing to fill ${dir}: its file system is not the small test tmpfs`);
  const fd = fs.openSync(path.join(dir, "filler"), "w");
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (e) {
    expect((e as NodeJS.ErrnoException).code).toBe("ENOSPC");
  } finally {
    fs.closeSync(fd);
  }
}

function collect(p: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  p.stdout!.on("data", (d) => (stdout += d));
  p.stderr!.on("data", (d) => (stderr += d));
  return new Promise((r) => p.once("close", (code) => r({ code, stdout, stderr })));
}

function noStack(text: string): void {
  expect(text).not.toMatch(/^\s+at .+\(?.*:\d+:\d+\)?$/m);
}

describe.skipIf(!mounted)("a full or read-only work directory", () => {
  beforeAll(() => {
    for (const f of fs.readdirSync(mnt)) fs.rmSync(path.join(mnt, f), { recursive: true, force: true });
  });
  afterAll(() => {
    if (!mounted) return;
    try {
      execFileSync("umount", [mnt], { stdio: "ignore" });
    } catch {
      execFileSync("umount", ["-l", mnt], { stdio: "ignore" });
    }
    fs.rmSync(base, { recursive: true, force: true });
  });

  it("a disk that fills while a step runs: Failed with one message naming the path and the fix, no stack; retry after freeing space succeeds", { timeout: 300_000 }, async () => {
    const p = spawn(process.execPath, [cli, "run", script], { cwd: mnt, stdio: ["ignore", "pipe", "pipe"] });
    const done = collect(p);
    const workName = await until("step work to start", () => readOr(path.join(mnt, "counter.txt"))?.split("\n")[0]);
    const id = fs.readdirSync(mnt).find((d) => /^adopt-[0-9a-z]{5}$/.test(d))!;
    const wfdir = path.join(mnt, id);
    fill(mnt);
    // An empty file needs no data block: the step can still be let go.
    fs.writeFileSync(path.join(mnt, "release"), "");
    const r = await done;
    expect(r.code, r.stderr).toBe(1);
    noStack(r.stderr);
    const message = new RegExp(`no space left on the file system of ${mnt}/\\S+ \\(ENOSPC\\): free space, then \`dflow retry ${id}\``);
    expect(r.stderr).toMatch(message);
    // One line says it (submit's report), besides `dflow run`'s summary.
    expect(r.stderr.split("\n").filter((l) => message.test(l))).toHaveLength(1);
    const status = fs.readFileSync(path.join(wfdir, "status"), "utf8");
    if (status === "Failed") expect(fs.readFileSync(path.join(wfdir, "message"), "utf8")).toMatch(message);
    else expect(r.stderr).toMatch(/status could not be recorded: it still reads Running/);
    // No step process is left running in the workflow.
    const pid = Number(readOr(path.join(wfdir, workName, "pid")));
    if (pid) await until("the step's process to end", () => !fs.existsSync(`/proc/${pid}/cwd`) || !fs.readlinkSync(`/proc/${pid}/cwd`).startsWith(wfdir));
    // Every state file is whole: no temp file was left behind.
    const temps = execFileSync("find", [wfdir, "-name", ".*.tmp-*"], { encoding: "utf8" }).trim();
    expect(temps).toBe("");

    fs.rmSync(path.join(mnt, "filler"));
    const again = await execa(process.execPath, [cli, "retry", id], { cwd: mnt, reject: false, all: true });
    expect(again.exitCode, again.all).toBe(0);
    expect(again.all).toMatch(new RegExp(`RESULT ${id} Succeeded 43`));
    expect(fs.readFileSync(path.join(wfdir, "status"), "utf8")).toBe("Succeeded");
  });

  it("a work directory that became read-only: dflow retry fails with one message naming the path and the fix, no stack; succeeds once writable", { timeout: 300_000 }, async () => {
    for (const f of fs.readdirSync(mnt)) fs.rmSync(path.join(mnt, f), { recursive: true, force: true });
    // A first run that fails (step work exits 3 once), so there is something to retry.
    fs.writeFileSync(path.join(mnt, "fail-first"), "");
    fs.writeFileSync(path.join(mnt, "release"), "");
    const first = await execa(process.execPath, [cli, "run", script], { cwd: mnt, reject: false, all: true });
    expect(first.exitCode, first.all).toBe(1);
    const id = fs.readdirSync(mnt).find((d) => /^adopt-[0-9a-z]{5}$/.test(d))!;
    const wfdir = path.join(mnt, id);
    expect(fs.readFileSync(path.join(wfdir, "status"), "utf8")).toBe("Failed");

    execFileSync("mount", ["-o", "remount,ro", mnt]);
    let r;
    try {
      r = await execa(process.execPath, [cli, "retry", id], { cwd: mnt, reject: false, all: true });
    } finally {
      execFileSync("mount", ["-o", "remount,rw", mnt]);
    }
    expect(r.exitCode, r.all).not.toBe(0);
    noStack(r.all ?? "");
    expect(r.stderr).toMatch(new RegExp(`${wfdir}/\\S+ cannot be written \\(EROFS: read-only file system\\): make ${wfdir} writable again, then \`dflow retry ${id}\``));
    expect(fs.readFileSync(path.join(wfdir, "status"), "utf8")).toBe("Failed");

    const again = await execa(process.execPath, [cli, "retry", id], { cwd: mnt, reject: false, all: true });
    expect(again.exitCode, again.all).toBe(0);
    expect(again.all).toMatch(new RegExp(`RESULT ${id} Succeeded 43`));
  });
});
