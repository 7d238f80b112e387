// upload_artifact / download_artifact in debug mode (spec §2.8.1, §2.8.6).
import crypto from "node:crypto";
import fsp from "node:fs/promises";
import path from "node:path";
import { config } from "../../src/config.js";
import { DflowConfigError } from "../../src/errors.js";
import { isInside, symlinkAtomic } from "../store/fsx.js";
import { flattenPathValue, pathObject, pyJoin, readCatalog, writeCatalog, type CatalogItem } from "./catalog.js";
import { checkCopyMethod, copyTree, mergeInto, placeFile } from "./place.js";

const BRAND = Symbol.for("dflow-ts.LocalArtifact");

/** An artifact stored on the local disk (the result of upload_artifact). */
export class LocalArtifact {
  readonly [BRAND] = true;
  /** Sub-path inside `local_path` (from `.sub_path()`), "/"-joined; undefined when none. */
  readonly subPath: string | undefined;
  key?: string;

  constructor(
    public local_path: string,
    opts: { sub_path?: string } = {},
  ) {
    this.subPath = opts.sub_path;
  }

  /** A new LocalArtifact for `p` inside this one (sub-paths accumulate). */
  sub_path(p: string): LocalArtifact {
    const art = new LocalArtifact(this.local_path, { sub_path: this.subPath ? pyJoin(this.subPath, p) : p });
    if (this.key !== undefined) art.key = this.key;
    return art;
  }
}

export function isLocalArtifact(x: unknown): x is LocalArtifact {
  return x instanceof LocalArtifact || (typeof x === "object" && x !== null && (x as Record<symbol, unknown>)[BRAND] === true);
}

/** Python's tempfile.mkdtemp() name: "tmp" + 8 chars from [a-z0-9_]. */
function mkdtempName(): string {
  const chars = "abcdefghijklmnopqrstuvwxyz0123456789_";
  let s = "tmp";
  for (let i = 0; i < 8; i++) s += chars[crypto.randomInt(chars.length)];
  return s;
}

/** The artifact root, `<debug_workdir>/<debug_artifact_dir>`, resolved now. */
export function artifactRoot(): string {
  return path.resolve(config.debug_workdir, config.debug_artifact_dir);
}

async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [x, y] = await Promise.all([fsp.stat(a), fsp.stat(b)]);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/**
 * Upload local files/directories as an artifact (§2.8.1): a directory under
 * `<artroot>/upload/<uuid4>/tmpXXXXXXXX/` holding symlinks to the sources at
 * their relative paths plus a catalog `.dflow/<uuid4>`. `archive` is ignored.
 */
export async function upload_artifact(
  pathOrPaths: string | string[] | Set<string> | Record<string, unknown> | unknown[],
  opts: { archive?: unknown; cwd?: string } = {},
): Promise<LocalArtifact> {
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const entries = flattenPathValue(pathOrPaths);

  // Validate everything before creating anything.
  const todo: { abs: string; rel: string; order: number | string }[] = [];
  for (const { value, order } of entries) {
    if (value === null || value === undefined) continue;
    if (typeof value !== "string") {
      throw new DflowConfigError(`upload_artifact: expected a path string, got ${JSON.stringify(value) ?? String(value)}`);
    }
    const abs = path.resolve(cwd, value);
    try {
      await fsp.stat(abs);
    } catch {
      throw new DflowConfigError(`upload_artifact: file or directory ${value} not found`);
    }
    const rel = abs === cwd ? "." : isInside(abs, cwd) ? path.relative(cwd, abs) : abs.replace(/^\/+/, "");
    todo.push({ abs, rel: rel === "" ? "." : rel, order });
  }

  const uuidDir = path.join(artifactRoot(), "upload", crypto.randomUUID());
  await fsp.mkdir(uuidDir, { recursive: true });
  const name = mkdtempName();
  const staging = path.join(uuidDir, `.${name}.partial`);
  const final = path.join(uuidDir, name);
  try {
    await fsp.mkdir(staging);
    const exclude = new Set([await fsp.realpath(uuidDir), await fsp.realpath(staging)]);
    const items: CatalogItem[] = [];
    for (const { abs, rel, order } of todo) {
      const target = rel === "." ? staging : path.join(staging, rel);
      await fsp.mkdir(path.dirname(target), { recursive: true });
      if (cwd === abs || isInside(cwd, abs)) {
        // Uploading the cwd or an ancestor: a symlink would contain itself; hard-link copy.
        await copyTree(abs, target, { files: "link", symlinks: "preserve", exclude });
      } else {
        const old = await fsp.lstat(target).catch(() => null);
        if (!old) await fsp.symlink(abs, target);
        else if (!(await sameFile(target, abs))) await symlinkAtomic(abs, target); // replaces a dir too
      }
      items.push({ dflow_list_item: rel, order });
    }
    await writeCatalog(staging, items);
    await fsp.rename(staging, final);
  } catch (e) {
    await fsp.rm(uuidDir, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
  return new LocalArtifact(final);
}

/**
 * The name dflow gives a single-file artifact when it downloads it: the
 * file's own name where the step wrote it (Argo archives the file under its
 * basename), not the name of the step's record. The records
 * (<step>/outputs/artifacts/<name>, inputs/artifacts/<name>) are symlinks,
 * possibly chained; they are followed to the first path that is not one.
 */
async function sourceName(file: string): Promise<string> {
  let p = file;
  for (let i = 0; i < 40; i++) {
    const parent = path.dirname(p);
    const isRecord = path.basename(parent) === "artifacts" && ["inputs", "outputs"].includes(path.basename(path.dirname(parent)));
    if (!isRecord || !(await fsp.lstat(p)).isSymbolicLink()) break;
    p = path.resolve(parent, await fsp.readlink(p));
  }
  return path.basename(p);
}

/** Same content (dflow's skip_exists compares MD5s; locally the bytes are at hand). */
async function sameContent(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([fsp.stat(a), fsp.stat(b).catch(() => null)]);
  if (!y?.isFile() || x.size !== y.size) return false;
  if (x.dev === y.dev && x.ino === y.ino) return true;
  const hash = async (f: string) => crypto.createHash("md5").update(await fsp.readFile(f)).digest("hex");
  return (await hash(a)) === (await hash(b));
}

/**
 * Download an artifact into `path` (default ".") with config.debug_copy_method
 * (§2.8.6, with the TS fixes): `path` is created if missing; a single-file
 * artifact is placed as `<path>/<its file name>` (see sourceName) and
 * `[that path]` is returned; a directory's content is merged into `path`, its
 * catalog read (and the catalog dir removed unless remove_catalog === false)
 * and the path object returned with entries joined to `path` as Python's
 * os.path.join does. `skip_exists`: a file already there with the same
 * content is left as it is (not replaced, its mtime and links kept).
 */
export async function download_artifact(art: LocalArtifact | { local_path: string }, opts: DownloadOptions = {}): Promise<unknown> {
  return downloadArtifact(art, opts, config.debug_copy_method);
}

type DownloadOptions = { path?: string; remove_catalog?: boolean; skip_exists?: boolean };

/** download_artifact with a copy method of its own (`dflow download --method`) instead of config.debug_copy_method. */
export async function downloadArtifact(art: LocalArtifact | { local_path: string }, opts: DownloadOptions, method: string): Promise<unknown> {
  checkCopyMethod(method);
  const dest = opts.path ?? ".";
  const sub = isLocalArtifact(art) ? art.subPath : undefined;
  const src = path.resolve(sub ? path.join(art.local_path, sub) : art.local_path);
  let st;
  try {
    st = await fsp.stat(src);
  } catch {
    throw new DflowConfigError(`download_artifact: artifact path ${src} not found`);
  }
  await fsp.mkdir(dest, { recursive: true });
  const keep = opts.skip_exists ? sameContent : undefined;
  if (!st.isDirectory()) {
    const out = pyJoin(dest, await sourceName(src));
    if (!(keep && (await keep(src, out)))) await placeFile(src, out, method);
    return [out];
  }
  await mergeInto(src, dest, method, keep);
  const items = await readCatalog(dest);
  if (opts.remove_catalog !== false) {
    await fsp.rm(path.join(dest, config.catalog_dir_name), { recursive: true, force: true });
  }
  return pathObject(items, dest, pyJoin);
}
