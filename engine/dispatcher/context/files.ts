/**
 * The upload file list of §4.6 step 3: forward files per task (files, directories expanded with
 * their empty sub-directories, globs), common files, and every task directory as an entry of its
 * own. Paths are relative to the work base, posix.
 */
import fs from "node:fs";
import path from "node:path";
import type { BuiltSubmission } from "../hash.js";
import { fnmatch, isGlob } from "./index.js";

export interface UploadList {
  files: string[];
  dirs: string[];
}

function rel(base: string, p: string): string {
  return path.relative(base, p).split(path.sep).join("/");
}

/** Files below a directory (symlinks followed) plus its empty sub-directories. */
function addTree(base: string, dir: string, out: UploadList): void {
  const entries = fs.readdirSync(dir);
  if (entries.length === 0 && dir !== base) out.dirs.push(rel(base, dir));
  for (const name of entries) {
    const p = path.join(dir, name);
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      throw new Error(`cannot upload ${p}: it is a broken symbolic link; fix or remove it`);
    }
    if (st.isDirectory()) addTree(base, p, out);
    else out.files.push(rel(base, p));
  }
}

/** Python glob.glob for a relative pattern under `root` (segment-wise, `*` does not cross `/`). */
export function globUnder(root: string, pattern: string): string[] {
  let current = [root];
  for (const seg of pattern.split("/").filter((s) => s !== "" && s !== ".")) {
    const next: string[] = [];
    for (const dir of current) {
      if (!isGlob(seg) && !seg.includes("[")) {
        const p = path.join(dir, seg);
        if (fs.existsSync(p)) next.push(p);
        continue;
      }
      let names: string[] = [];
      try {
        names = fs.readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names) if ((seg.startsWith(".") || !n.startsWith(".")) && fnmatch(n, seg)) next.push(path.join(dir, n));
    }
    current = next;
  }
  return current.filter((p) => p !== root);
}

function addPath(base: string, p: string, what: string, out: UploadList): void {
  let lst: fs.Stats | undefined;
  try {
    lst = fs.lstatSync(p);
  } catch {
    lst = undefined;
  }
  if (lst) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      throw new Error(`cannot upload ${what} ${p}: it is a broken symbolic link; fix or remove it`);
    }
    if (st.isDirectory()) addTree(base, p, out);
    else out.files.push(rel(base, p));
    return;
  }
  const matches = globUnder(path.dirname(p) === p ? p : "/", p.replace(/^\//, ""));
  if (matches.length === 0) throw new Error(`cannot find upload file ${p} (${what}): it does not exist and matches nothing as a pattern`);
  for (const m of matches) addPath(base, m, what, out);
}

/** Paths relative to `base` (files, directories, patterns) as an upload list. */
export function expandPaths(base: string, paths: string[], what: string): UploadList {
  const out: UploadList = { files: [], dirs: [] };
  for (const p of paths) addPath(base, path.join(base, p), what, out);
  return out;
}

export async function expandUploads(sub: BuiltSubmission): Promise<UploadList> {
  const base = sub.abs_work_base;
  const out: UploadList = { files: [], dirs: [] };
  for (const { task } of sub.tasks) {
    const tdir = path.join(base, task.task_work_path);
    for (const f of task.forward_files) addPath(base, path.join(tdir, f), `forward file of task ${JSON.stringify(task.command)}`, out);
  }
  for (const f of sub.forward_common_files) addPath(base, path.join(base, f), "forward common file", out);
  for (const { task } of sub.tasks) {
    const tdir = path.join(base, task.task_work_path);
    if (!fs.existsSync(tdir)) throw new Error(`task directory ${tdir} does not exist locally: create it (every task_work_path must exist, even without forward files)`);
    const r = rel(base, tdir);
    out.dirs.push(r === "" ? "." : r);
  }
  return out;
}
