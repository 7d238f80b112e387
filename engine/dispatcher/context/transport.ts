/**
 * What a DPDispatcher context needs from "the other side": run a shell command and move files.
 * SSHContext speaks this over ssh2 (exec + SFTP); the same protocol can run over a loopback
 * transport that executes locally (how the golden transcripts were recorded, and how the
 * stand-in scheduler tests run without sshd).
 */
export interface ExecResult {
  /** Exit status; null when the remote side gave none (signal, dropped channel). */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface FileStat {
  isFile: boolean;
  isDirectory: boolean;
  size: number;
}

export interface Transport {
  /** Human-readable target, for messages: `user@host:port`. */
  readonly describe: string;
  /** Login (home) directory of the remote user, absolute. */
  home(): Promise<string>;
  /** Run `command` through the remote user's shell (non-login, non-interactive). */
  exec(command: string): Promise<ExecResult>;
  /** `mkdir` (not recursive); errors (e.g. already exists) are ignored, as upstream does. */
  mkdir(path: string): Promise<void>;
  /** `null` when the path does not exist. Follows symlinks. */
  stat(path: string): Promise<FileStat | null>;
  readFile(path: string): Promise<Buffer>;
  /** Plain write (not atomic; callers write `<name>_tmp` and `mv`). */
  writeFile(path: string, data: string | Buffer): Promise<void>;
  /** Upload a local file to a remote path. */
  put(localPath: string, remotePath: string): Promise<void>;
  /** Download a remote file to a local path. */
  get(remotePath: string, localPath: string): Promise<void>;
  remove(path: string): Promise<void>;
  /** Names in a directory (no `.`/`..`). */
  listdir(path: string): Promise<string[]>;
  /** Regular files below `dir`, recursively, as paths relative to `dir` (for wildcard downloads). */
  walkFiles(dir: string): Promise<string[]>;
  /** Number of (re)connections made so far (1 after the first connect). */
  readonly connections?: number;
  close(): Promise<void>;
}

/** One recorded operation, in the golden transcripts' vocabulary (`exec <cmd>`, `sftp <op> <path>`). */
export type TranscriptSink = (line: string) => void;
