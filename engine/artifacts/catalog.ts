// Artifact catalogs (spec §2.8.2): `<artifact dir>/<catalog_dir_name>/<uuid4>`
// files, each `{"path_list": [{"dflow_list_item": <rel path|null>, "order": <int|string>}]}`.
// The format is shared with dflow's Python OPs, so files are written with
// Python's json spacing and ensure_ascii escaping.
import fsp from "node:fs/promises";
import path from "node:path";
import { config } from "../../src/config.js";
import { DflowConfigError } from "../../src/errors.js";
import { writeAtomic } from "../store/fsx.js";

export type CatalogItem = { dflow_list_item: string | null; order: number | string };

/** Temp files of writeAtomic (`.<name>.tmp-<pid>-<n>`), never catalog files. */
const ATOMIC_TEMP = /^\..*\.tmp-\d+-\d+$/;

function isErrno(e: unknown, ...codes: string[]): boolean {
  return codes.includes((e as NodeJS.ErrnoException)?.code ?? "");
}

function isCatalogItem(x: unknown): x is CatalogItem {
  if (typeof x !== "object" || x === null) return false;
  const it = x as Record<string, unknown>;
  const p = it.dflow_list_item;
  const o = it.order;
  return (p === null || typeof p === "string") && (typeof o === "string" || typeof o === "number");
}

function itemKey(it: CatalogItem): string {
  return JSON.stringify([it.dflow_list_item, typeof it.order, it.order]);
}

function orderKey(order: number | string): string {
  return `${typeof order}:${String(order)}`;
}

/**
 * Merge catalog items: exact duplicates dropped (first occurrence kept), and an
 * item with a null path dropped when a non-null item has the same order.
 * Orders compare as Python does (0 and "0" differ).
 */
export function mergeCatalogItems(items: CatalogItem[]): CatalogItem[] {
  const seen = new Set<string>();
  const unique: CatalogItem[] = [];
  for (const it of items) {
    const k = itemKey(it);
    if (seen.has(k)) continue;
    seen.add(k);
    unique.push({ dflow_list_item: it.dflow_list_item, order: it.order });
  }
  const filled = new Set(unique.filter((it) => it.dflow_list_item !== null).map((it) => orderKey(it.order)));
  return unique.filter((it) => it.dflow_list_item !== null || !filled.has(orderKey(it.order)));
}

/**
 * Read and merge every catalog file of the artifact directory `dir`.
 * A missing catalog dir, or `dir` not being a directory, gives `[]`.
 */
export async function readCatalog(dir: string): Promise<CatalogItem[]> {
  try {
    if (!(await fsp.stat(dir)).isDirectory()) return [];
  } catch {
    return [];
  }
  const catDir = path.join(dir, config.catalog_dir_name);
  let names: string[];
  try {
    names = (await fsp.readdir(catDir)).sort();
  } catch (e) {
    if (isErrno(e, "ENOENT", "ENOTDIR")) return [];
    throw e;
  }
  const all: CatalogItem[] = [];
  for (const name of names) {
    if (ATOMIC_TEMP.test(name)) continue;
    const file = path.join(catDir, name);
    let text: string;
    try {
      if (!(await fsp.stat(file)).isFile()) continue;
      text = await fsp.readFile(file, "utf8");
    } catch (e) {
      if (isErrno(e, "ENOENT")) continue; // removed meanwhile
      throw e;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new DflowConfigError(`invalid artifact catalog ${file}: not JSON (${(e as Error).message})`);
    }
    const list = (parsed as { path_list?: unknown } | null)?.path_list;
    if (!Array.isArray(list)) {
      throw new DflowConfigError(`invalid artifact catalog ${file}: expected {"path_list": [...]}`);
    }
    for (const it of list) {
      if (!isCatalogItem(it)) {
        throw new DflowConfigError(`invalid artifact catalog ${file}: bad item ${JSON.stringify(it)}`);
      }
      all.push(it);
    }
  }
  return mergeCatalogItems(all);
}

/** Python's os.path.join for two POSIX parts (no normalisation). */
export function pyJoin(a: string, b: string): string {
  if (b.startsWith("/") || a === "") return b;
  return a.endsWith("/") ? a + b : `${a}/${b}`;
}

type Tree = Map<string, unknown>;

function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty so a key such as "__proto__" is stored as data.
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function treeToValue(v: unknown): unknown {
  if (!(v instanceof Map)) return v;
  const keys = [...(v as Tree).keys()];
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    return keys.sort((a, b) => Number(a) - Number(b)).map((k) => treeToValue((v as Tree).get(k)));
  }
  const obj: Record<string, unknown> = {};
  for (const k of keys) setKey(obj, k, treeToValue((v as Tree).get(k)));
  return obj;
}

/**
 * The "path object" of a catalog (§2.8.2): `[]` when empty; a list sorted by
 * order when every order is an int; otherwise a dict order → path with dotted
 * orders expanded into nested dicts and all-numeric key sets turned into lists.
 * Null items give null. `join` defaults to path.join (download uses pyJoin).
 */
export function pathObject(
  items: CatalogItem[],
  root: string,
  join: (root: string, item: string) => string = path.join,
): unknown {
  if (items.length === 0) return [];
  const toPath = (it: CatalogItem): string | null => (it.dflow_list_item === null ? null : join(root, it.dflow_list_item));
  if (items.every((it) => typeof it.order === "number" && Number.isInteger(it.order))) {
    return [...items].sort((a, b) => (a.order as number) - (b.order as number)).map(toPath);
  }
  const tree: Tree = new Map();
  for (const it of items) {
    const parts = String(it.order).split(".");
    let cur = tree;
    for (const p of parts.slice(0, -1)) {
      let next = cur.get(p);
      if (!(next instanceof Map)) {
        next = new Map();
        cur.set(p, next);
      }
      cur = next as Tree;
    }
    cur.set(parts[parts.length - 1]!, toPath(it));
  }
  return treeToValue(tree);
}

/** JSON string literal as Python's json.dumps writes it (ensure_ascii=True). */
export function pyJsonString(s: string): string {
  return JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function pyJsonOrder(o: number | string): string {
  if (typeof o === "string") return pyJsonString(o);
  if (Number.isNaN(o)) return "NaN";
  if (!Number.isFinite(o)) return o > 0 ? "Infinity" : "-Infinity";
  return String(o);
}

/** The exact text of a catalog file, as dflow's Python json.dump writes it. */
export function catalogJson(items: CatalogItem[]): string {
  const body = items
    .map(
      (it) =>
        `{"dflow_list_item": ${it.dflow_list_item === null ? "null" : pyJsonString(it.dflow_list_item)}, "order": ${pyJsonOrder(it.order)}}`,
    )
    .join(", ");
  return `{"path_list": [${body}]}`;
}

/** Write `<dir>/<catalog_dir_name>/<uuid4>` (atomically); returns its path. */
export async function writeCatalog(dir: string, items: CatalogItem[]): Promise<string> {
  const catDir = path.join(dir, config.catalog_dir_name);
  await fsp.mkdir(catDir, { recursive: true });
  // The global (Web Crypto) loads node's crypto only when a catalog is written, not in every OP step.
  const file = path.join(catDir, globalThis.crypto.randomUUID());
  await writeAtomic(file, catalogJson(items));
  return file;
}

export type FlatEntry = { value: unknown; order: number | string };

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== "object" || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function isListLike(x: unknown): x is unknown[] | Set<unknown> {
  return Array.isArray(x) || x instanceof Set;
}

function flattenInto(v: unknown, prefix: string, out: FlatEntry[]): void {
  if (isListLike(v)) {
    [...v].forEach((x, i) => flattenInto(x, `${prefix}.${i}`, out));
  } else if (isPlainObject(v)) {
    for (const [k, x] of Object.entries(v)) flattenInto(x, `${prefix}.${k}`, out);
  } else {
    out.push({ value: v, order: prefix.slice(1) });
  }
}

/**
 * Flatten an upload/output value into (leaf, order) pairs as dflow does:
 * a scalar → order 0; a flat list/set → order = index; a dict, or a list
 * holding lists/dicts → dotted string keys ("a.b", "0.1"). Null leaves are
 * kept (callers decide whether to skip them).
 */
export function flattenPathValue(v: unknown): FlatEntry[] {
  if (isListLike(v)) {
    const arr = [...v];
    if (!arr.some((x) => isListLike(x) || isPlainObject(x))) return arr.map((value, order) => ({ value, order }));
    const out: FlatEntry[] = [];
    flattenInto(arr, "", out);
    return out;
  }
  if (isPlainObject(v)) {
    const out: FlatEntry[] = [];
    flattenInto(v, "", out);
    return out;
  }
  return [{ value: v, order: 0 }];
}
