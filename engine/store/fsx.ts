// Every state file is written whole: write a temp file beside it, then
// rename over the target, so a concurrent reader (or a crash) never sees a
// half-written file.
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { InfrastructureError } from "../../src/errors.js";

// A full or unwritable file system is the machine's doing, not the
// workflow's: every state write that meets one throws a StorageError naming
// the path, and the failure is remembered (and announced) so that the
// workflow that owns the path can stop at once with one clear message
// (workflow-run.ts), even where a step's own bookkeeping swallowed it.
const STORAGE_CODES = new Set(["ENOSPC", "EDQUOT", "EROFS", "EACCES"]);

export class StorageError extends InfrastructureError {
  constructor(
    readonly path: string,
    readonly code: string,
    cause?: unknown,
  ) {
    super(
      code === "ENOSPC" || code === "EDQUOT"
        ? `no space left on the file system of ${path} (${code === "EDQUOT" ? "EDQUOT: disk quota exceeded" : "ENOSPC"})`
        : `${path} cannot be written (${code === "EROFS" ? "EROFS: read-only file system" : "EACCES: permission denied"})`,
      {},
      { cause },
    );
  }
  /** Whether freeing space (rather than restoring write access) is the fix. */
  get full(): boolean {
    return this.code === "ENOSPC" || this.code === "EDQUOT";
  }
}

const failures: StorageError[] = [];
const listeners = new Set<(e: StorageError) => void>();

/** `e` as a StorageError (recorded and announced) when it is one, else `e` itself. */
export function asStorageError(e: unknown, file: string): unknown {
  if (e instanceof StorageError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (!code || !STORAGE_CODES.has(code)) return e;
  const err = new StorageError(file, code, e);
  failures.push(err);
  for (const fn of listeners) fn(err);
  return err;
}

/** `p` is `dir` or below it (both absolute and normalised, as path.resolve gives them). */
export function isUnder(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);
}

/** The regular files below `dir`, as "/"-separated paths relative to it (an S3 prefix's keys, for instance). */
export function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .map((f) => f.split(path.sep).join("/"));
}

/** `p` is strictly below `dir`. */
export function isInside(p: string, dir: string): boolean {
  return p !== dir && isUnder(p, dir);
}

/** The first storage failure met under `dir` (since clearStorageFailures), if any. */
export function storageFailureUnder(dir: string): StorageError | undefined {
  return failures.find((f) => isUnder(f.path, dir));
}

export function clearStorageFailures(dir: string): void {
  for (let i = failures.length - 1; i >= 0; i--) if (isUnder(failures[i].path, dir)) failures.splice(i, 1);
}

/** Called at each storage failure; returns the function that stops listening. */
export function onStorageFailure(fn: (e: StorageError) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/**
 * A StorageError anywhere in `e`'s chain of reasons and causes; a raw file
 * system error counts only for a path under `dir` (an unreadable input
 * elsewhere is the step's problem, not the work directory's).
 */
export function storageErrorIn(e: unknown, dir: string): StorageError | undefined {
  for (let x = e, depth = 0; x && depth < 10; depth++) {
    if (x instanceof StorageError) return isUnder(x.path, dir) ? x : undefined;
    const code = (x as NodeJS.ErrnoException).code;
    const p = (x as NodeJS.ErrnoException).path;
    if (code && STORAGE_CODES.has(code) && p && isUnder(path.resolve(p), dir)) return asStorageError(x, p) as StorageError;
    x = (x as { reason?: unknown }).reason ?? (x as { cause?: unknown }).cause;
  }
  return undefined;
}

let counter = 0;

function tempName(file: string): string {
  counter = (counter + 1) % 1e9;
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${counter}`);
}

// State files are small and written on the scheduler's hot path: synchronous
// calls cost tens of microseconds, where each promise-based call is a
// thread-pool round trip (the profile of a 1000-step fan-out was dominated
// by them). The async signatures stay so callers need not care.
export async function writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
  writeAtomicSync(file, data);
}

export function writeAtomicSync(file: string, data: string | Uint8Array): void {
  const tmp = tempName(file);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // an unwritable directory: there is no temp file either
    }
    throw asStorageError(e, file);
  }
}

/** Create or replace a symlink atomically (link beside, rename over). */
export async function symlinkAtomic(target: string, linkPath: string): Promise<void> {
  symlinkAtomicSync(target, linkPath);
}

export function symlinkAtomicSync(target: string, linkPath: string): void {
  const tmp = tempName(linkPath);
  try {
    fs.symlinkSync(target, tmp);
  } catch (e) {
    throw asStorageError(e, linkPath);
  }
  try {
    fs.renameSync(tmp, linkPath);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    // rename cannot replace a real directory; dflow replaces it.
    if ((e as NodeJS.ErrnoException).code === "EISDIR" || (e as NodeJS.ErrnoException).code === "ENOTEMPTY") {
      fs.rmSync(linkPath, { recursive: true, force: true });
      fs.symlinkSync(target, linkPath);
      return;
    }
    throw asStorageError(e, linkPath);
  }
}

export async function readTextOr<T>(file: string, fallback: T): Promise<string | T> {
  try {
    return await fsp.readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR") return fallback;
    throw e;
  }
}

export function readTextOrSync<T>(file: string, fallback: T): string | T {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR") return fallback;
    throw e;
  }
}

export async function exists(p: string): Promise<boolean> {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Five characters from [0-9a-z], as dflow's randstr(). */
export function rand5(): string {
  const chars = "0123456789abcdefghijklmnopqrstuvwxyz";
  let s = "";
  for (let i = 0; i < 5; i++) s += chars[Math.floor(Math.random() * 36)];
  return s;
}
