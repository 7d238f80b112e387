// Placing artifact trees on disk: input artifacts at their declared paths
// (§2.8.4), saving outputs into explicit storage (§2.8.5), download (§2.8.6).
import fsp from "node:fs/promises";
import type { Stats } from "node:fs";
import path from "node:path";
import { DflowConfigError } from "../../src/errors.js";
import { exists, symlinkAtomic } from "../store/fsx.js";

export type CopyMethod = "symlink" | "link" | "copy";

const METHODS: ReadonlySet<string> = new Set(["symlink", "link", "copy"]);

/** Throws the DflowConfigError of an unsupported copy method. */
export function checkCopyMethod(method: string): asserts method is CopyMethod {
  if (!METHODS.has(method)) {
    throw new DflowConfigError(`Unsupported copy method for debug mode: "${method}" (use symlink, link or copy)`);
  }
}

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}

async function statOrNull(p: string): Promise<Stats | null> {
  try {
    return await fsp.stat(p);
  } catch {
    return null;
  }
}

async function lstatOrNull(p: string): Promise<Stats | null> {
  try {
    return await fsp.lstat(p);
  } catch {
    return null;
  }
}

async function realpathOrSelf(p: string): Promise<string> {
  try {
    return await fsp.realpath(p);
  } catch {
    return path.resolve(p);
  }
}

/**
 * If something exists at `dest` (even a dangling link), rename it to the first
 * free `dest.bk1`, `dest.bk2`, …; returns the new name, or null if nothing was there.
 */
export async function backupExisting(dest: string): Promise<string | null> {
  if (!(await exists(dest))) return null;
  for (let i = 1; ; i++) {
    const bk = `${dest}.bk${i}`;
    if (await exists(bk)) continue;
    try {
      await fsp.rename(dest, bk);
      return bk;
    } catch (e) {
      // A real directory at bk (created meanwhile) makes rename fail; try the next one.
      if (["EEXIST", "ENOTEMPTY", "EISDIR", "ENOTDIR"].includes(errCode(e) ?? "")) continue;
      throw e;
    }
  }
}

let tmpCounter = 0;
function tempBeside(p: string): string {
  tmpCounter = (tmpCounter + 1) % 1e9;
  return path.join(path.dirname(p), `.${path.basename(p)}.tmp-${process.pid}-${tmpCounter}`);
}

/** Remove a real directory at `p` (rename cannot replace one). */
async function clearDirAt(p: string): Promise<void> {
  const st = await lstatOrNull(p);
  if (st?.isDirectory()) await fsp.rm(p, { recursive: true, force: true });
}

/** Hard-link `real` to a temp name beside `dest`; falls back to a copy. */
async function linkOrCopyTo(real: string, tmp: string, st: Stats): Promise<void> {
  try {
    await fsp.link(real, tmp);
  } catch {
    await copyFilePreserving(real, tmp, st);
  }
}

async function copyFilePreserving(src: string, dest: string, st: Stats): Promise<void> {
  await fsp.copyFile(src, dest);
  await fsp.chmod(dest, st.mode & 0o7777);
  await fsp.utimes(dest, st.atime, st.mtime);
}

/**
 * Put the regular file `src` (symlinks followed) at `dest` with `method`,
 * replacing whatever is at `dest`. The replacement is a rename, so a file that
 * is hard-linked elsewhere (or is the target of `src`) is never truncated.
 */
export async function placeFile(src: string, dest: string, method: CopyMethod): Promise<void> {
  const srcAbs = path.resolve(src);
  const st = await fsp.stat(srcAbs);
  const old = await lstatOrNull(dest);
  if (old && !old.isSymbolicLink() && old.isFile() && old.dev === st.dev && old.ino === st.ino) {
    // dest already is this very file (or a hard link of it): replacing it
    // could destroy the data `src` points to.
    if (method !== "copy" || path.resolve(dest) === (await realpathOrSelf(srcAbs))) return;
  }
  if (method === "symlink") {
    await symlinkAtomic(srcAbs, dest);
    return;
  }
  const tmp = tempBeside(dest);
  try {
    if (method === "link") await linkOrCopyTo(await fsp.realpath(srcAbs), tmp, st);
    else await copyFilePreserving(srcAbs, tmp, st);
    await clearDirAt(dest);
    await fsp.rename(tmp, dest);
  } finally {
    // rename is a no-op when tmp and dest are links of the same inode.
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
  }
}

/** Make `p` a real directory (replacing a file or symlink there). */
async function ensureRealDir(p: string): Promise<void> {
  const st = await lstatOrNull(p);
  if (st?.isDirectory()) return;
  if (st) await fsp.rm(p, { force: true, recursive: true });
  await fsp.mkdir(p, { recursive: true });
}

export interface CopyTreeOptions {
  /** "link": hard links with copy fallback; "copy": copies preserving mode and mtime. */
  files: "link" | "copy";
  /** "preserve": symlinks inside are recreated as symlinks; "follow": their targets are copied. */
  symlinks: "preserve" | "follow";
  /** Real paths of directories never descended into (e.g. the destination itself). */
  exclude?: Set<string>;
}

/**
 * Copy the file or directory `src` (the top level is always followed) to
 * `dest`, merging into an existing directory and replacing existing files.
 * Missing `src` → nothing.
 */
export async function copyTree(src: string, dest: string, opts: CopyTreeOptions): Promise<void> {
  const st = await statOrNull(src);
  if (!st) return;
  if (!st.isDirectory()) {
    if (st.isFile()) {
      await fsp.mkdir(path.dirname(dest), { recursive: true });
      await placeFile(src, dest, opts.files);
    }
    return;
  }
  await ensureRealDir(dest);
  const exclude = new Set(opts.exclude ?? []);
  exclude.add(await fsp.realpath(dest));
  await copyDir(src, dest, opts, exclude, new Set([await fsp.realpath(src)]));
  if (opts.files === "copy") await fsp.utimes(dest, st.atime, st.mtime).catch(() => undefined);
}

async function copySymlink(s: string, d: string): Promise<void> {
  await clearDirAt(d);
  await symlinkAtomic(await fsp.readlink(s), d);
}

async function copyDir(
  srcDir: string,
  destDir: string,
  opts: CopyTreeOptions,
  exclude: Set<string>,
  ancestors: Set<string>,
): Promise<void> {
  const srcSt = await fsp.stat(srcDir);
  for (const name of await fsp.readdir(srcDir)) {
    const s = path.join(srcDir, name);
    const d = path.join(destDir, name);
    const lst = await lstatOrNull(s);
    if (!lst) continue;
    let st: Stats | null = lst;
    if (lst.isSymbolicLink()) {
      st = opts.symlinks === "follow" ? await statOrNull(s) : null;
      if (!st) {
        await copySymlink(s, d); // preserved, or dangling
        continue;
      }
    }
    if (st.isDirectory()) {
      const real = await fsp.realpath(s);
      if (exclude.has(real)) continue;
      if (ancestors.has(real)) {
        await copySymlink(s, d); // a link to an ancestor: copying it would never end
        continue;
      }
      await ensureRealDir(d);
      await copyDir(s, d, opts, exclude, new Set([...ancestors, real]));
    } else if (st.isFile()) {
      await placeFile(s, d, opts.files);
    }
    // fifos, sockets and devices are skipped
  }
  if (opts.files === "copy") {
    await fsp.chmod(destDir, srcSt.mode & 0o7777).catch(() => undefined);
    await fsp.utimes(destDir, srcSt.atime, srcSt.mtime).catch(() => undefined);
  }
}

/**
 * Place an input artifact at its declared path (§2.8.4). Whatever is at `dest`
 * is first renamed to `dest.bk<n>`.
 * - symlink: one symlink `dest -> src` (made even when `src` is missing);
 * - link: directories recreated, files hard-linked (copy fallback), symlinks inside kept as symlinks;
 * - copy: full copy preserving mode and mtime (symlinks inside are followed).
 * Missing `src` with link/copy → nothing.
 */
export async function placeTree(src: string, dest: string, method: CopyMethod): Promise<void> {
  checkCopyMethod(method);
  const srcAbs = path.resolve(src);
  if (method !== "symlink" && !(await statOrNull(srcAbs))) return;
  await fsp.mkdir(path.dirname(dest), { recursive: true });
  await backupExisting(dest);
  if (method === "symlink") {
    await fsp.symlink(srcAbs, dest);
    return;
  }
  await copyTree(srcAbs, dest, { files: method, symlinks: method === "link" ? "preserve" : "follow" });
}

/**
 * Merge `src` into `dest` (§2.8.5 saving, §2.8.6 download). A file is placed
 * at `dest` with `method` (replacing an existing file/link); a directory is
 * merged: directories recreated as real dirs, every file placed with `method`
 * (symlink: each file becomes a symlink to the source file), existing files
 * replaced. Symlinks in `src` are followed; dangling ones are skipped.
 * Missing `src` → nothing.
 */
export async function mergeInto(src: string, dest: string, method: CopyMethod, keep?: KeepExisting): Promise<void> {
  // One merge at a time into a destination: fan-out items saving into one
  // shared key finish together, and two merges that both found no directory
  // there raced (one made it, the other then removed "the file" it saw: EISDIR).
  const key = path.resolve(dest);
  const run = (merging.get(key) ?? Promise.resolve()).catch(() => undefined).then(() => mergeIntoNow(src, dest, method, keep));
  merging.set(key, run);
  try {
    await run;
  } finally {
    if (merging.get(key) === run) merging.delete(key);
  }
}

const merging = new Map<string, Promise<void>>();

async function mergeIntoNow(src: string, dest: string, method: CopyMethod, keep?: KeepExisting): Promise<void> {
  checkCopyMethod(method);
  const srcAbs = path.resolve(src);
  const st = await statOrNull(srcAbs);
  if (!st) return;
  if (st.isFile()) {
    await fsp.mkdir(path.dirname(dest), { recursive: true });
    if (!(keep && (await keep(srcAbs, dest)))) await placeFile(srcAbs, dest, method);
    return;
  }
  if (!st.isDirectory()) return;
  const destSt = await statOrNull(dest);
  if (!destSt?.isDirectory()) {
    if (await exists(dest)) await fsp.rm(dest, { force: true });
    await fsp.mkdir(dest, { recursive: true });
  }
  const srcReal = await fsp.realpath(srcAbs);
  const destReal = await fsp.realpath(dest);
  if (srcReal === destReal) return; // merging a directory into itself
  await mergeDir(srcAbs, dest, method, new Set([destReal]), new Set([srcReal]), keep);
}

/** Whether the file already at `dest` stays instead of being replaced by `src` (download's skip_exists). */
export type KeepExisting = (src: string, dest: string) => Promise<boolean>;

async function mergeDir(
  srcDir: string,
  destDir: string,
  method: CopyMethod,
  exclude: Set<string>,
  ancestors: Set<string>,
  keep?: KeepExisting,
): Promise<void> {
  for (const name of await fsp.readdir(srcDir)) {
    const s = path.join(srcDir, name);
    const d = path.join(destDir, name);
    const st = await statOrNull(s);
    if (!st) continue; // dangling link
    if (st.isDirectory()) {
      const real = await fsp.realpath(s);
      if (exclude.has(real) || ancestors.has(real)) continue;
      await ensureRealDir(d);
      await mergeDir(s, d, method, exclude, new Set([...ancestors, real]), keep);
    } else if (st.isFile()) {
      if (!(keep && (await keep(s, d)))) await placeFile(s, d, method);
    }
  }
}
