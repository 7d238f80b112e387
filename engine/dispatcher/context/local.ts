/**
 * LocalContext and LazyLocalContext (spec §1.3, §4.6, §4.12–§4.13): the job runs on this machine.
 * Local: a separate `remote_root/S` with inputs symlinked (or copied) and outputs moved back.
 * LazyLocal: in place, in the work base itself; nothing moves.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import type { BuiltSubmission } from "../hash.js";
import { BackwardFileMissing, type DispatcherContext, type DownloadRequest, isGlob } from "./index.js";
import { globUnder } from "./files.js";
import type { ExecResult } from "./transport.js";

export function execLocal(command: string, cwd: string, env?: NodeJS.ProcessEnv): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile("/bin/sh", ["-c", command], { cwd, env: env ?? process.env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : null) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) || (err && code === null ? err.message : "") });
    });
  });
}

abstract class OnThisMachine implements DispatcherContext {
  rr = "";
  constructor(readonly env?: NodeJS.ProcessEnv) {}
  get describe(): string {
    return `localhost:${this.rr}`;
  }
  abstract bind(sub: BuiltSubmission): Promise<boolean>;
  exec(command: string): Promise<ExecResult> {
    return execLocal(command, this.rr, this.env);
  }
  async writeFile(name: string, data: string): Promise<void> {
    const dest = path.resolve(this.rr, name);
    await fsp.writeFile(`${dest}_tmp`, data);
    await fsp.rename(`${dest}_tmp`, dest);
  }
  async readFile(name: string): Promise<string | null> {
    return fsp.readFile(path.resolve(this.rr, name), "utf8").catch(() => null);
  }
  async exists(name: string): Promise<boolean> {
    return fs.existsSync(path.resolve(this.rr, name));
  }
  abstract upload(sub: BuiltSubmission, recover: boolean): Promise<void>;
  abstract download(sub: BuiltSubmission, req: DownloadRequest): Promise<void>;
  abstract clean(asynchronously: boolean): Promise<void>;
  async close(): Promise<void> {}
}

export class LocalContext extends OnThisMachine {
  constructor(readonly symlink: boolean, env?: NodeJS.ProcessEnv) {
    super(env);
  }

  async bind(sub: BuiltSubmission): Promise<boolean> {
    this.rr = sub.remoteRoot!;
    const existed = fs.existsSync(this.rr) && fs.readdirSync(this.rr).length > 0;
    await fsp.mkdir(this.rr, { recursive: true });
    return existed;
  }

  private async place(src: string, dest: string): Promise<void> {
    await fsp.mkdir(path.dirname(dest), { recursive: true });
    await fsp.rm(dest, { recursive: true, force: true });
    if (this.symlink) await fsp.symlink(src, dest);
    else await fsp.cp(src, dest, { recursive: true, dereference: true });
  }

  private matches(root: string, pattern: string, what: string): string[] {
    const direct = path.join(root, pattern);
    if (fs.existsSync(direct)) return [direct];
    const m = isGlob(pattern) || pattern.includes("[") ? globUnder(root, pattern) : [];
    if (m.length === 0) throw new Error(`cannot find upload file ${direct} (${what})`);
    return m;
  }

  async upload(sub: BuiltSubmission): Promise<void> {
    const base = sub.abs_work_base;
    for (const { task } of sub.tasks) {
      const tdir = path.join(base, task.task_work_path);
      await fsp.mkdir(path.join(this.rr, task.task_work_path), { recursive: true });
      for (const f of task.forward_files) {
        for (const src of this.matches(tdir, f, "forward file")) await this.place(src, path.join(this.rr, task.task_work_path, path.relative(tdir, src)));
      }
    }
    for (const f of sub.forward_common_files) for (const src of this.matches(base, f, "forward common file")) await this.place(src, path.join(this.rr, path.relative(base, src)));
  }

  private async bring(remote: string, local: string): Promise<void> {
    if (fs.existsSync(local) && fs.realpathSync(local) === fs.realpathSync(remote)) return; // a symlinked input
    await fsp.mkdir(path.dirname(local), { recursive: true });
    await fsp.rm(local, { recursive: true, force: true });
    const lst = await fsp.lstat(remote);
    if (lst.isSymbolicLink()) await fsp.cp(remote, local, { recursive: true, dereference: true });
    else await fsp.rename(remote, local).catch(() => fsp.cp(remote, local, { recursive: true }));
  }

  async download(sub: BuiltSubmission, req: DownloadRequest): Promise<void> {
    const base = sub.abs_work_base;
    const each = async (rroot: string, lroot: string, f: string, optional: boolean) => {
      const found = fs.existsSync(path.join(rroot, f)) ? [path.join(rroot, f)] : isGlob(f) ? globUnder(rroot, f) : [];
      if (found.length === 0) {
        if (optional) return;
        throw new BackwardFileMissing(this.rr, `${path.join(rroot, f)} was not produced`);
      }
      for (const r of found) await this.bring(r, path.join(lroot, path.relative(rroot, r)));
    };
    for (const t of req.tasks) {
      const rroot = path.join(this.rr, t.task_work_path);
      const lroot = path.join(base, t.task_work_path);
      for (const f of t.backward_files) await each(rroot, lroot, f, false);
      for (const f of t.optional ?? []) await each(rroot, lroot, f, true);
    }
    for (const f of req.backward_common_files) await each(this.rr, base, f, false);
  }

  async clean(): Promise<void> {
    await fsp.rm(this.rr, { recursive: true, force: true });
  }
}

export class LazyLocalContext extends OnThisMachine {
  async bind(sub: BuiltSubmission): Promise<boolean> {
    this.rr = sub.remoteRoot!;
    return fs.existsSync(path.join(this.rr, `${sub.hash}.json`));
  }
  async upload(): Promise<void> {}
  async download(_sub: BuiltSubmission, req: DownloadRequest): Promise<void> {
    for (const t of req.tasks) {
      for (const f of t.backward_files) {
        const p = path.join(this.rr, t.task_work_path, f);
        if (!fs.existsSync(p) && !(isGlob(f) && globUnder(path.join(this.rr, t.task_work_path), f).length > 0)) throw new BackwardFileMissing(this.rr, `${p} was not produced`);
      }
    }
  }
  async clean(): Promise<void> {}
}
