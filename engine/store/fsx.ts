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

export async function writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempName(file);
  try {
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
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
  await fsp.symlink(target, tmp);
  try {
    await fsp.rename(tmp, linkPath);
  } catch (e) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    // rename cannot replace a real directory; dflow replaces it.
    if ((e as NodeJS.ErrnoException).code === "EISDIR" || (e as NodeJS.ErrnoException).code === "ENOTEMPTY") {
      await fsp.rm(linkPath, { recursive: true, force: true });
      await fsp.symlink(target, linkPath);
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
    await fsp.lstat(p);
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
