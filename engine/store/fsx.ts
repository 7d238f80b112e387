// Every state file is written whole: write a temp file beside it, then
// rename over the target, so a concurrent reader (or a crash) never sees a
// half-written file.
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";

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
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Create or replace a symlink atomically (link beside, rename over). */
export async function symlinkAtomic(target: string, linkPath: string): Promise<void> {
  const tmp = tempName(linkPath);
  fs.symlinkSync(target, tmp);
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
    throw e;
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
