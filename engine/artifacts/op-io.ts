// Artifact I/O inside an OP child process (spec §6.2, §6.3): the values an OP
// receives for its input artifacts and how its returned output artifacts are
// written to `<workdir>/tmp/outputs/artifacts/<name>/`.
import fsp from "node:fs/promises";
import path from "node:path";
import { config } from "../../src/config.js";
import { DflowConfigError } from "../../src/errors.js";
import { rand5 } from "../store/fsx.js";
import { flattenPathValue, pathObject, readCatalog, writeCatalog, type CatalogItem } from "./catalog.js";
import { copyTree } from "./place.js";

export type ArtifactKind = "path" | "list" | "dict" | "nested_dict";

const EMPTY_DIR_TAG = ".empty_dir";

/** Remove `.empty_dir` markers (written by producers with detect_empty_dir). */
async function removeEmptyDirTags(dir: string): Promise<void> {
  let entries;
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== config.catalog_dir_name) await removeEmptyDirTags(p);
    } else if (e.isFile() && e.name === EMPTY_DIR_TAG) {
      await fsp.rm(p, { force: true }).catch(() => undefined);
    }
  }
}

/** Put a `.empty_dir` marker in every empty directory under `dir` (symlinks not followed). */
async function markEmptyDirs(dir: string): Promise<void> {
  const entries = await fsp.readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (!e.isDirectory() || e.name === config.catalog_dir_name) continue;
    const p = path.join(dir, e.name);
    if ((await fsp.readdir(p)).length === 0) await fsp.writeFile(path.join(p, EMPTY_DIR_TAG), "");
    else await markEmptyDirs(p);
  }
}

function flattenPaths(v: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(v)) for (const x of v) flattenPaths(x, out);
  else if (typeof v === "object" && v !== null) for (const x of Object.values(v)) flattenPaths(x, out);
  else out.push(v);
  return out;
}

/**
 * The value an OP receives for an input artifact placed at `root`
 * (`<workdir>/tmp/inputs/artifacts/<name>`, usually a symlink):
 * - missing (or a dangling link) → null;
 * - root is a file → "path": root, "list": [root], dict kinds: root;
 * - "path": the single catalog path when the catalog is a one-element list
 *   (and subPathMode is not false), else root;
 * - "list": the catalog paths flattened (a directory without catalog gives [],
 *   as in dflow);
 * - "dict"/"nested_dict": the dict path object ({} when the catalog is empty).
 * With config.detect_empty_dir the producers' `.empty_dir` markers are removed first.
 */
export async function inputArtifactValue(
  root: string,
  kind: ArtifactKind,
  opts: { subPathMode?: boolean } = {},
): Promise<unknown> {
  let st;
  try {
    await fsp.lstat(root);
    st = await fsp.stat(root);
  } catch {
    return null;
  }
  if (!st.isDirectory()) return kind === "list" ? [root] : root;
  if (config.detect_empty_dir) await removeEmptyDirTags(root);
  const po = pathObject(await readCatalog(root), root);
  switch (kind) {
    case "path":
      if (opts.subPathMode !== false && Array.isArray(po) && po.length === 1) return po[0];
      return root;
    case "list":
      return flattenPaths(po);
    case "dict":
    case "nested_dict":
      return Array.isArray(po) && po.length === 0 ? {} : po;
    default:
      throw new DflowConfigError(`unknown artifact kind ${JSON.stringify(kind)}`);
  }
}

/** Where a returned path goes inside the output artifact dir (§6.3). */
function outputRel(workdir: string, abs: string): string {
  const inputs = path.join(workdir, "tmp", "inputs", "artifacts") + path.sep;
  if (abs.startsWith(inputs)) {
    const rest = abs.slice(inputs.length);
    const i = rest.indexOf(path.sep);
    const inner = i === -1 ? "" : rest.slice(i + 1);
    return inner === "" ? rand5() : inner;
  }
  if (abs === workdir) return ".";
  if (abs.startsWith(workdir + path.sep)) return path.relative(workdir, abs);
  return abs.replace(/^\/+/, "");
}

/**
 * Write the output artifact `name` returned by an OP (§6.3) into
 * `<workdir>/tmp/outputs/artifacts/<name>/`: each returned path (relative
 * paths are relative to `workdir`) is hard-linked (copy fallback; symlinks
 * followed) under its relative name, one catalog file lists them
 * (string → order opts.order ?? 0; list → index; dict → dotted key; a
 * missing path → a null entry), and with config.detect_empty_dir every empty
 * directory gets a `.empty_dir` marker. null/undefined → an empty catalog.
 */
export async function writeOutputArtifact(
  workdir: string,
  name: string,
  value: unknown,
  opts: { order?: number; sliced?: boolean; subdir?: string } = {},
): Promise<void> {
  // A slice's outputs all take the slice as their order (dflow §6.3), and
  // with create_dir go under a directory named after it (Q23).
  const wd = path.resolve(workdir);
  const target = path.join(wd, "tmp", "outputs", "artifacts", name);
  await fsp.mkdir(target, { recursive: true });
  if (value === null || value === undefined) {
    await writeCatalog(target, []);
    return;
  }
  const entries = typeof value === "string" ? [{ value, order: opts.order ?? 0 }] : flattenPathValue(value).map((e) => (opts.sliced && opts.order !== undefined ? { ...e, order: opts.order } : e));
  const exclude = new Set([await fsp.realpath(target)]);
  const items: CatalogItem[] = [];
  for (const { value: p, order } of entries) {
    if (p === null || p === undefined) {
      items.push({ dflow_list_item: null, order });
      continue;
    }
    if (typeof p !== "string") {
      throw new DflowConfigError(
        `output artifact ${name}: expected a path string, got ${JSON.stringify(p) ?? String(p)}`,
        { artifact: name },
      );
    }
    const abs = path.resolve(wd, p);
    try {
      await fsp.stat(abs);
    } catch {
      items.push({ dflow_list_item: null, order });
      continue;
    }
    let rel = outputRel(wd, abs);
    if (opts.subdir) rel = rel === "." ? opts.subdir : `${opts.subdir}/${rel}`;
    await copyTree(abs, rel === "." ? target : path.join(target, rel), { files: "link", symlinks: "follow", exclude });
    items.push({ dflow_list_item: rel, order });
  }
  await writeCatalog(target, items);
  if (config.detect_empty_dir) await markEmptyDirs(target);
}
