/**
 * LoopbackTransport: the SSH transport's operations done on the local machine (exec through
 * `/bin/sh -c`, node:fs for files). Used for golden-transcript recording and for running the
 * stand-in schedulers without sshd.
 *
 * Relative paths resolve against `home` (as SFTP paths resolve against the login directory), and
 * commands run in `cwd` (default: `home`), like an SSH exec starts in the home directory.
 */
import { spawn } from "node:child_process";
import { promises as fsp } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ExecResult, FileStat, Transport, TranscriptSink } from "./transport.js";

export interface LoopbackTransportOptions {
  /** What `home()` returns and what relative paths resolve against. Default `os.homedir()`. */
  home?: string;
  /** Extra environment variables for `exec` (e.g. PATH with a stand-in scheduler directory first). */
  env?: Record<string, string>;
  /** Working directory of `exec`. Default: `home`. */
  cwd?: string;
  /** Receives `exec <command>` and `sftp <op> <path>` lines. */
  transcript?: TranscriptSink;
  /** Shell used for exec. Default `/bin/sh`. */
  shell?: string;
}

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

export class LoopbackTransport implements Transport {
  readonly describe: string;
  readonly connections = 1;
  private readonly homeDir: string;
  private readonly env?: Record<string, string>;
  private readonly cwd: string;
  private readonly transcript?: TranscriptSink;
  private readonly shell: string;

  constructor(opts: LoopbackTransportOptions = {}) {
    this.homeDir = path.resolve(opts.home ?? os.homedir());
    this.env = opts.env;
    this.cwd = path.resolve(this.homeDir, opts.cwd ?? ".");
    this.transcript = opts.transcript;
    this.shell = opts.shell ?? "/bin/sh";
    let user = "user";
    try {
      user = os.userInfo().username;
    } catch {
      /* no passwd entry */
    }
    this.describe = `${user}@localhost (loopback)`;
  }

  private abs(p: string): string {
    return path.resolve(this.homeDir, p);
  }

  async home(): Promise<string> {
    return this.homeDir;
  }

  exec(command: string): Promise<ExecResult> {
    this.transcript?.(`exec ${command}`);
    return new Promise<ExecResult>((resolve, reject) => {
      const child = spawn(this.shell, ["-c", command], {
        cwd: this.cwd,
        env: this.env ? { ...process.env, ...this.env } : process.env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (d: Buffer) => out.push(d));
      child.stderr.on("data", (d: Buffer) => err.push(d));
      child.on("error", reject);
      child.on("close", (code) => {
        resolve({
          code: typeof code === "number" ? code : null,
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8"),
        });
      });
    });
  }

  async mkdir(p: string): Promise<void> {
    this.transcript?.(`sftp mkdir ${p}`);
    try {
      await fsp.mkdir(this.abs(p));
    } catch {
      /* ignored, as upstream does */
    }
  }

  async stat(p: string): Promise<FileStat | null> {
    this.transcript?.(`sftp stat ${p}`);
    try {
      const st = await fsp.stat(this.abs(p));
      return { isFile: st.isFile(), isDirectory: st.isDirectory(), size: st.size };
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
  }

  async readFile(p: string): Promise<Buffer> {
    this.transcript?.(`sftp open ${p} r`);
    return fsp.readFile(this.abs(p));
  }

  async writeFile(p: string, data: string | Buffer): Promise<void> {
    this.transcript?.(`sftp open ${p} w`);
    await fsp.writeFile(this.abs(p), data);
  }

  async put(localPath: string, remotePath: string): Promise<void> {
    this.transcript?.(`sftp put ${remotePath}`);
    await fsp.copyFile(localPath, this.abs(remotePath));
  }

  async get(remotePath: string, localPath: string): Promise<void> {
    this.transcript?.(`sftp get ${remotePath}`);
    await fsp.copyFile(this.abs(remotePath), localPath);
  }

  async remove(p: string): Promise<void> {
    this.transcript?.(`sftp remove ${p}`);
    await fsp.unlink(this.abs(p));
  }

  async listdir(p: string): Promise<string[]> {
    this.transcript?.(`sftp listdir ${p}`);
    return (await fsp.readdir(this.abs(p))).sort();
  }

  async walkFiles(dir: string): Promise<string[]> {
    const files: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      const shown = rel ? path.posix.join(dir, rel) : dir;
      this.transcript?.(`sftp listdir ${shown}`);
      const entries = await fsp.readdir(path.join(this.abs(dir), rel), { withFileTypes: true });
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const e of entries) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(r);
        else if (e.isFile()) files.push(r);
      }
    };
    await walk("");
    return files;
  }

  async close(): Promise<void> {
    /* nothing to close */
  }
}
