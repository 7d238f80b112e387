/**
 * SSHContext (spec §1.3, §4.5–§4.6, §4.12–§4.13): the job working directory lives on the login
 * node; files travel as one tar archive each way; every command runs as `cd q(RR) ;<command>`.
 * The protocol is independent of how bytes move: it runs over any Transport (ssh2 in production,
 * a loopback one for the stand-in scheduler tests).
 */
import { setTimeout as sleep } from "node:timers/promises";
import crypto from "node:crypto";
import fsp from "node:fs/promises";
import path from "node:path";
import type { BuiltSubmission } from "../hash.js";
import { purePosix, shellQuote as q } from "../paths.js";
import { BackwardFileMissing, type DispatcherContext, type DownloadRequest, fnmatch, isGlob } from "./index.js";
import { expandUploads } from "./files.js";
import type { ExecResult, Transport } from "./transport.js";

export interface SSHContextOptions {
  remoteRoot: string;
  /** Gzip the archives (remote_profile.tar_compress). */
  tarCompress: boolean;
  /** Download retries for transfer errors other than a missing file (upstream retries for 24 h, then gives up silently; we raise). */
  downloadAttempts?: number;
  downloadRetryDelayMs?: number;
}

export class SSHContext implements DispatcherContext {
  rr = "";
  constructor(readonly transport: Transport, readonly opts: SSHContextOptions) {}

  get describe(): string {
    return `${this.transport.describe}:${this.rr}`;
  }

  private abs(name: string): string {
    return name.startsWith("/") ? name : `${this.rr}/${name}`;
  }

  async bind(sub: BuiltSubmission): Promise<boolean> {
    this.rr = sub.remoteRoot!;
    // Upstream's mkdir is not recursive, so a fresh remote_root two levels deep fails there; make
    // each ancestor (errors ignored: they exist, or the final stat says what is wrong).
    const parts = this.rr.split("/");
    for (let i = this.rr.startsWith("/") ? 2 : 1; i < parts.length; i++) await this.transport.mkdir(parts.slice(0, i).join("/"));
    const st = await this.transport.stat(this.rr);
    let recover = false;
    if (st) {
      if (!st.isDirectory) throw new Error(`remote job directory ${this.rr} on ${this.transport.describe} exists and is not a directory`);
      recover = (await this.transport.listdir(this.rr)).length > 0;
    } else {
      await this.transport.mkdir(this.rr);
      if (!(await this.transport.stat(this.rr))) {
        throw new Error(`cannot create the remote job directory ${this.rr} on ${this.transport.describe}: check remote_root (${this.opts.remoteRoot}) exists and is writable by the user`);
      }
    }
    return recover;
  }

  exec(command: string): Promise<ExecResult> {
    return this.transport.exec(`cd ${q(this.rr)} ;${command}`);
  }

  async writeFile(name: string, data: string): Promise<void> {
    const dest = this.abs(name);
    await this.transport.writeFile(`${dest}_tmp`, data);
    const r = await this.exec(`mv ${q(`${dest}_tmp`)} ${q(dest)}`);
    if (r.code !== 0) throw new Error(`could not write ${dest} on ${this.transport.describe}: ${r.stderr.trim() || `mv exited ${r.code}`}`);
  }

  async readFile(name: string): Promise<string | null> {
    const p = this.abs(name);
    if (!(await this.transport.stat(p))) return null;
    return (await this.transport.readFile(p)).toString("utf8");
  }

  async exists(name: string): Promise<boolean> {
    return (await this.transport.stat(this.abs(name))) !== null;
  }

  /** Use `rr` as the job directory without a submission (SlurmRemoteExecutor); creates it. */
  async bindTo(rr: string): Promise<boolean> {
    const r = await this.transport.exec(`mkdir -p ${q(rr)} && ls -A ${q(rr)}`);
    if (r.code !== 0) throw new Error(`cannot create ${rr} on ${this.transport.describe}: ${r.stderr.trim()}`);
    this.rr = rr;
    return r.stdout.trim() !== "";
  }

  async upload(sub: BuiltSubmission, recover: boolean): Promise<void> {
    await this.uploadList(sub.abs_work_base, await expandUploads(sub), recover, sub.hash);
  }

  /** Send `files` and `dirs` (relative to `base`) as one archive named `<stem>.tgz`, unpacked in RR. */
  async uploadList(base: string, { files, dirs }: { files: string[]; dirs: string[] }, recover: boolean, stem: string): Promise<void> {
    let send = files;
    if (recover) send = await this.changedFiles(base, files);
    const archive = `${stem}.${this.opts.tarCompress ? "tgz" : "tar"}`;
    const local = path.join(base, archive);
    // Files first, then the directory entries (so empty task directories exist remotely).
    const tar = await import("tar");
    await tar.c({ gzip: this.opts.tarCompress ? { level: 6 } : false, file: local, cwd: base, follow: true, noDirRecurse: true, portable: true }, [...new Set(send), ...new Set(dirs)]);
    try {
      await this.transport.put(local, this.abs(archive));
    } finally {
      await fsp.rm(local, { force: true });
    }
    const r = await this.exec(`tar xf ${q(archive)}`);
    await this.transport.remove(this.abs(archive)).catch(() => undefined);
    if (r.code !== 0) throw new Error(`could not unpack the upload in ${this.rr} on ${this.transport.describe}: ${r.stderr.trim()}`);
  }

  /** Recover mode (§4.6 step 4): only files missing remotely or changed since. */
  private async changedFiles(base: string, files: string[]): Promise<string[]> {
    const lines: string[] = [];
    for (const f of new Set(files)) {
      const h = crypto.createHash("sha256").update(await fsp.readFile(path.join(base, f))).digest("hex");
      lines.push(`${h}  ${f}`);
    }
    const manifest = `.tmp.sha256.${crypto.randomUUID()}`;
    await this.writeFile(manifest, lines.join("\n") + "\n");
    await this.exec(`sha256sum -c ${q(this.abs(manifest))} --quiet >.sha256sum_stdout 2>/dev/null || :`);
    await this.transport.remove(this.abs(manifest)).catch(() => undefined);
    const out = (await this.readFile(".sha256sum_stdout")) ?? "";
    return out.split("\n").filter((l) => l.includes(":")).map((l) => l.slice(0, l.indexOf(":")));
  }

  async download(sub: BuiltSubmission, req: DownloadRequest): Promise<void> {
    const list: string[] = [];
    for (const t of req.tasks) {
      const twp = purePosix(t.task_work_path);
      for (const f of t.backward_files) {
        if (isGlob(f)) {
          const found = await this.transport.walkFiles(`${this.rr}/${twp}`).catch(() => [] as string[]);
          for (const rel of found) if (fnmatch(rel, f)) list.push(`${twp}/${rel}`);
        } else list.push(`${twp}/${f}`);
      }
      // Our addition: files the step may or may not write (optional artifacts, outputs with
      // defaults) come back when they exist and are not an error when they do not.
      for (const f of t.optional ?? []) if (await this.exists(`${twp}/${f}`)) list.push(`${twp}/${f}`);
    }
    list.push(...req.backward_common_files);
    await this.downloadList(sub.abs_work_base, list, sub.hash);
  }

  /** Fetch `list` (relative to RR) as one archive `<stem>.tar.gz` and unpack it into `base`. */
  async downloadList(base: string, list: string[], stem: string): Promise<void> {
    const files = [...new Set(list)];
    if (files.length === 0) return;
    const gz = this.opts.tarCompress;
    const archive = `${stem}.${gz ? "tar.gz" : "tar"}`;
    let cmd: string;
    if (files.length < 100) cmd = `tar ${gz ? "czfh" : "cfh"} ${q(archive)} ${files.map(q).join(" ")}`;
    else {
      const listName = `.tmp_tar_${crypto.randomUUID()}`;
      await this.writeFile(listName, files.join("\n"));
      cmd = `tar ${gz ? "czfh" : "cfh"} ${q(archive)} -T ${q(this.abs(listName))}`;
    }
    const attempts = this.opts.downloadAttempts ?? 5;
    for (let i = 0; ; i++) {
      try {
        const r = await this.exec(cmd);
        if (r.code !== 0) {
          if (r.stderr.includes("No such file or directory")) throw new BackwardFileMissing(this.rr, r.stderr.trim());
          throw new Error(`tar exited ${r.code}: ${r.stderr.trim()}`);
        }
        const local = path.join(base, archive);
        await this.transport.get(this.abs(archive), local);
        await this.transport.remove(this.abs(archive)).catch(() => undefined);
        try {
          await unpackInto(local, base);
        } finally {
          await fsp.rm(local, { force: true });
        }
        return;
      } catch (e) {
        if (e instanceof BackwardFileMissing || i + 1 >= attempts) throw e;
        await sleep((this.opts.downloadRetryDelayMs ?? 2000) * 2 ** i);
      }
    }
  }

  async clean(asynchronously: boolean): Promise<void> {
    await this.exec(asynchronously ? `nohup rm -rf ${q(this.rr)} >/dev/null &` : `rm -rf ${q(this.rr)}`);
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

/**
 * The archive's files unpacked into `base`. node-tar skips every entry when
 * the directory is `/` (its escape check looks for "//" at the start), and
 * says so only in a warning: a pod whose working directory is its root (an
 * exported DispatcherExecutor step, workingDir /) got none of its backward
 * files, and failed later for a missing output. So the archive is unpacked,
 * strictly, into a directory of its own in `base`, then moved into place.
 */
async function unpackInto(file: string, base: string): Promise<void> {
  const staging = await fsp.mkdtemp(path.join(base, ".dflow-unpack-"));
  try {
    await (await import("tar")).x({ file, cwd: staging, strict: true });
    await moveInto(staging, base);
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
}

/** What `src` holds moved under `dest`: directories merged, files replaced (as tar replaces them). */
async function moveInto(src: string, dest: string): Promise<void> {
  for (const e of await fsp.readdir(src, { withFileTypes: true })) {
    const from = path.join(src, e.name);
    const to = path.join(dest, e.name);
    const there = await fsp.lstat(to).catch(() => null);
    if (e.isDirectory() && there?.isDirectory()) await moveInto(from, to);
    else {
      if (there?.isDirectory()) await fsp.rm(to, { recursive: true, force: true });
      // Across mounts (a pod's /tmp is a volume of its own), a copy.
      await fsp.rename(from, to).catch((e: NodeJS.ErrnoException) => (e.code === "EXDEV" ? fsp.cp(from, to, { recursive: true, force: true, verbatimSymlinks: true }) : Promise.reject(e)));
    }
  }
}
