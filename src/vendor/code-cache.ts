// Running a large script from a V8 code cache. Node 20 has no compile cache
// for modules (module.enableCompileCache came in Node 22), so a file that
// every start-up parses and compiles again (zod, see zod.ts) is run through
// vm.Script with `cachedData`: V8 then skips parsing and compiling whatever
// the cache holds. The cache is written once, after the script has been
// used (so the functions it compiled lazily are in it too), and again only
// when V8 rejects it (another node, other V8 flags).
//
// Where: $DFLOW_TS_CACHE/v8 (default <tmpdir>/dflow-ts-<uid>/v8), one file
// per script content and V8 version. V8 trusts a cache whose source has the
// same length, so the folder must be this user's alone: one that is not
// (another user created it first in a shared /tmp, or it is group- or
// world-writable) is not used, and the script is compiled as without a
// cache. Files of other scripts or V8 versions unused for 30 days are
// deleted when a new one is written.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import vm from "node:vm";

const STALE_MS = 30 * 86_400_000;

export function codeCacheDir(): string {
  const uid = process.getuid?.() ?? os.userInfo().uid;
  return path.join(process.env.DFLOW_TS_CACHE ?? path.join(os.tmpdir(), `dflow-ts-${uid}`), "v8");
}

/** The folder, if it is safe to read a cache from: created for this user only, or already so. */
function privateDir(dir: string): boolean {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.statSync(dir);
    const uid = process.getuid?.();
    return st.isDirectory() && (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

function writeAtomic(file: string, data: Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(tmp, data, { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch {
    // a read-only or full disk: the next start compiles again, nothing else
    fs.rmSync(tmp, { force: true });
  }
}

function pruneOthers(dir: string, keep: string): void {
  const now = Date.now();
  for (const n of fs.readdirSync(dir)) {
    const f = path.join(dir, n);
    if (f === keep) continue;
    try {
      if (now - fs.statSync(f).mtimeMs > STALE_MS) fs.unlinkSync(f);
    } catch {
      // another process pruned it first
    }
  }
}

export interface CompiledModule {
  exports: Record<string, unknown>;
  /** "hit": run from the cache; "written": compiled, cache to be written at exit; "off": no cache usable. */
  cache: "hit" | "written" | "off";
}

/**
 * Run `file`, a CommonJS module written as one function expression
 * `(function (module, exports, require) {...})`, and return its exports;
 * null when the file does not exist (the caller then imports the original).
 */
export function runCompiled(file: string): CompiledModule | null {
  let code: string;
  try {
    code = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  const dir = codeCacheDir();
  const usable = privateDir(dir);
  // The file name says which script (its content's hash) and which V8 the cache is for.
  const hash = crypto.createHash("sha256").update(code).digest("hex").slice(0, 16);
  const cacheFile = path.join(dir, `${path.basename(file).replace(/\.[^.]*$/, "")}-${hash}.v8-${process.versions.v8.replace(/[^\w.-]/g, "_")}-${process.arch}.cache`);
  let cachedData: Buffer | undefined;
  if (usable) {
    try {
      cachedData = fs.readFileSync(cacheFile);
    } catch {
      // first run with this script and this node
    }
  }
  const script = new vm.Script(code, { filename: file, cachedData });
  const module = { exports: {} as Record<string, unknown> };
  (script.runInThisContext() as (m: unknown, e: unknown, r: unknown) => void)(module, module.exports, undefined);
  if (!usable) return { exports: module.exports, cache: "off" };
  if (cachedData && !script.cachedDataRejected) return { exports: module.exports, cache: "hit" };
  // At exit the process has used the script as it does: what V8 compiled on the way goes in too.
  process.once("exit", () => {
    writeAtomic(cacheFile, script.createCachedData());
    try {
      pruneOthers(dir, cacheFile);
    } catch {
      // the folder is gone: nothing to prune
    }
  });
  return { exports: module.exports, cache: "written" };
}
