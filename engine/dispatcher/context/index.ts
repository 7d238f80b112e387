/**
 * DPDispatcher contexts (spec §1.3, §4.5–§4.6, §4.12–§4.13): where a submission's job working
 * directory `RR` lives and how files move there and back. SSHContext speaks over a Transport;
 * LocalContext and LazyLocalContext work on this machine's file system.
 */
import type { BuiltSubmission } from "../hash.js";
import type { ExecResult } from "./transport.js";

export interface DownloadRequest {
  /** Per task (submission order): backward files (may contain `*`/`?`), relative to its task_work_path. */
  tasks: { task_work_path: string; backward_files: string[]; optional?: string[] }[];
  backward_common_files: string[];
}

export interface DispatcherContext {
  /** `RR`, set by bind(). */
  readonly rr: string;
  /** Human-readable target for messages. */
  readonly describe: string;
  /** Create `RR`; true when it already existed and was not empty (recover mode, §4.6 step 2). */
  bind(sub: BuiltSubmission): Promise<boolean>;
  /** Run a command with `RR` as cwd. */
  exec(command: string): Promise<ExecResult>;
  /** Write `RR/<name>` atomically (`<name>_tmp` then `mv`, §4.8). */
  writeFile(name: string, data: string): Promise<void>;
  /** `RR/<name>` as text, or null when missing. */
  readFile(name: string): Promise<string | null>;
  /** Whether `RR/<name>` exists (the finish-tag check). */
  exists(name: string): Promise<boolean>;
  upload(sub: BuiltSubmission, recover: boolean): Promise<void>;
  download(sub: BuiltSubmission, req: DownloadRequest): Promise<void>;
  clean(asynchronously: boolean): Promise<void>;
  close(): Promise<void>;
}

/** A backward file that the job did not produce (§4.12): fatal, never retried. */
export class BackwardFileMissing extends Error {
  constructor(readonly rr: string, detail: string) {
    super(`Backward files do not exist in the remote directory ${rr}: ${detail}`);
    this.name = "BackwardFileMissing";
  }
}

/** Python fnmatch.fnmatch on posix (no case folding; `*` also matches `/`). */
export function fnmatch(name: string, pattern: string): boolean {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const j = pattern.indexOf("]", i + 2);
      if (j < 0) re += "\\[";
      else {
        let body = pattern.slice(i + 1, j);
        if (body.startsWith("!")) body = "^" + body.slice(1);
        re += `[${body.replace(/\\/g, "\\\\")}]`;
        i = j;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^(?:${re})$`, "s").test(name);
}

export const isGlob = (p: string): boolean => p.includes("*") || p.includes("?");
