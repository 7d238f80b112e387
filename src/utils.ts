// dflow.utils helpers a dflow user calls in OPs and scripts, with dflow's
// names and behaviour (src/dflow/utils.py), for artifacts on the local disk.
// Not here: upload_s3/download_s3/copy_s3 and the storage clients (no object
// store locally), get_key/set_key (a LocalArtifact's key is a property).
import crypto from "node:crypto";
import fsp from "node:fs/promises";
import path from "node:path";
import { config } from "./config.js";
import { DflowConfigError, OPFailure } from "./errors.js";
import { type CatalogItem, mergeCatalogItems, pathObject, pyJoin, readCatalog, writeCatalog } from "../engine/artifacts/catalog.js";
import { copyTree } from "../engine/artifacts/place.js";
import { LocalArtifact, isLocalArtifact } from "../engine/artifacts/upload.js";

export type { CatalogItem };

type ArtifactLike = LocalArtifact | { local_path: string };

function artifactPath(art: ArtifactLike): string {
  if (!art || typeof art.local_path !== "string") throw new DflowConfigError(`expected an artifact with a local_path (upload_artifact's result, or a step's artifact), got ${JSON.stringify(art)}`);
  const sub = isLocalArtifact(art) ? art.subPath : undefined;
  return path.resolve(sub ? path.join(art.local_path, sub) : art.local_path);
}

/**
 * The catalog of an artifact: its items `{dflow_list_item, order}`, every
 * catalog file merged (duplicates dropped, a null item overridden by another
 * of the same order). `[]` for an artifact without a catalog (a single file,
 * a directory a script wrote).
 */
export async function catalog_of_artifact(art: ArtifactLike): Promise<CatalogItem[]> {
  return readCatalog(artifactPath(art));
}

/** The items of a catalog sorted by order (sorts `dflow_list` in place, as dflow does). */
export function convert_dflow_list(dflow_list: CatalogItem[]): (string | null)[] {
  dflow_list.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
  return dflow_list.map((x) => x.dflow_list_item);
}

/** The relative paths of an artifact's items, in order. */
export async function path_list_of_artifact(art: ArtifactLike): Promise<(string | null)[]> {
  return convert_dflow_list(await catalog_of_artifact(art));
}

/** The path object (list or nested dict) an artifact was uploaded or returned as, with relative paths. */
export async function path_object_of_artifact(art: ArtifactLike): Promise<unknown> {
  return pathObject(await catalog_of_artifact(art), "", (_root, item) => item);
}

/**
 * The path object of the artifact directory `art_path`, its entries joined
 * to `art_path`; `remove` deletes the catalog directory afterwards.
 */
export async function assemble_path_object(art_path: string, remove = false): Promise<unknown> {
  const items = await readCatalog(art_path);
  if (remove) await fsp.rm(path.join(art_path, config.catalog_dir_name), { recursive: true, force: true });
  return pathObject(items, art_path, pyJoin);
}

/**
 * Copy the content of artifact `src` into artifact `dst` (both on the local
 * disk) and return `dst`. With `sort`, src's items come after dst's: their
 * orders are offset past dst's largest (integer orders, as dflow requires).
 */
export async function copy_artifact(src: ArtifactLike, dst: ArtifactLike, opts: { sort?: boolean } = {}): Promise<LocalArtifact> {
  const from = artifactPath(src);
  const to = artifactPath(dst);
  let catalog: CatalogItem[] | null = null;
  if (opts.sort) {
    const [s, d] = await Promise.all([readCatalog(from), readCatalog(to)]);
    if (s.length && d.length) {
      const orders = d.map((it) => it.order);
      if (![...orders, ...s.map((it) => it.order)].every((o) => typeof o === "number")) {
        throw new DflowConfigError("copy_artifact(sort): both artifacts need list catalogs (integer orders); a dict artifact cannot be appended to");
      }
      const offset = Math.max(...(orders as number[])) + 1;
      catalog = s.map((it) => ({ dflow_list_item: it.dflow_list_item, order: (it.order as number) + offset }));
    }
  }
  const exclude = new Set<string>();
  if (catalog) exclude.add(await fsp.realpath(path.join(from, config.catalog_dir_name)).catch(() => path.join(from, config.catalog_dir_name)));
  // Uploaded artifacts hold symlinks to their sources: copied as symlinks, the sources are shared, not duplicated.
  await copyTree(from, to, { files: "link", symlinks: "preserve", exclude });
  if (catalog) await writeCatalog(to, mergeCatalogItems(catalog));
  const out = new LocalArtifact(isLocalArtifact(dst) ? dst.local_path : to, isLocalArtifact(dst) && dst.subPath ? { sub_path: dst.subPath } : {});
  return out;
}

/**
 * A dict or list flattened to one level with dotted keys:
 * `flatten({a: {b: 1}, c: [2, 3]})` is `{"a.b": 1, "c.0": 2, "c.1": 3}`.
 */
export function flatten(d: Record<string, unknown> | unknown[]): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  const handle = (obj: unknown, prefix: string): void => {
    const entries: [string, unknown][] = Array.isArray(obj) ? obj.map((v, i) => [String(i), v]) : Object.entries(obj as Record<string, unknown>);
    for (const [k, v] of entries) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (v !== null && typeof v === "object") handle(v, key);
      else Object.defineProperty(flat, key, { value: v, enumerable: true, writable: true, configurable: true });
    }
  };
  handle(d, "");
  return flat;
}

/** `length` random characters from [0-9a-z] (dflow's ids: `<name>-<randstr()>`). */
export function randstr(length = 5): string {
  const chars = "0123456789abcdefghijklmnopqrstuvwxyz";
  let s = "";
  for (let i = 0; i < length; i++) s += chars[crypto.randomInt(chars.length)];
  return s;
}

/**
 * Run `fn` with the current directory set to `dirname` (created first with
 * `mkdir`), and change back afterwards, also when `fn` throws: dflow's
 * `with set_directory(dirname) as path:`. `fn` gets the absolute path and
 * may be async; its result is returned. The current directory is the
 * process's: do not run two of these at once in one process.
 */
export async function set_directory<T>(dirname: string, fn: (dir: string) => T | Promise<T>, opts: { mkdir?: boolean } = {}): Promise<T> {
  const pwd = process.cwd();
  const dir = path.resolve(dirname);
  if (opts.mkdir) await fsp.mkdir(dir, { recursive: true });
  process.chdir(dir);
  try {
    return await fn(dir);
  } finally {
    process.chdir(pwd);
  }
}

export interface RunCommandOptions {
  /** Throw (an OPFailure with the command's stderr) when the command exits non-zero. Default true. */
  raise_error?: boolean;
  /** Text written to the command's standard input. */
  input?: string;
  /** Run through `bash -lc` (`bash -c` unless login and interactive) when bash exists, else sh. */
  try_bash?: boolean;
  login?: boolean;
  interactive?: boolean;
  /** A string command is run by the shell as it is (otherwise it is split on white space). */
  shell?: boolean;
  /** Also print the command's output and errors as they come (they are returned all the same). */
  print_oe?: boolean;
  cwd?: string;
  env?: Record<string, string>;
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Run a command and return `[return_code, out, err]` (dflow's run_command).
 * A string is split on white space unless `shell`; a list is run as is.
 */
export async function run_command(cmd: string | unknown[], opts: RunCommandOptions = {}): Promise<[number, string, string]> {
  const { raise_error = true, input, try_bash = false, login = true, interactive = true, print_oe = false } = opts;
  let shell = opts.shell ?? false;
  let argv = typeof cmd === "string" ? (shell ? [cmd] : cmd.split(/\s+/).filter(Boolean)) : cmd.map(String);
  if (try_bash) {
    const arg = login && interactive ? "-lc" : "-c";
    argv = [`if command -v bash 2>&1 >/dev/null; then bash ${arg} ${shQuote(argv.join(" "))}; else ${argv.join(" ")}; fi`];
    shell = true;
  }
  if (!argv.length) throw new DflowConfigError("run_command: an empty command");
  // Loaded here, not at the top: execa is ~125 modules that every `import "dflow-ts"` would pay for.
  const { execa } = await import("execa");
  const sub = shell
    ? execa(argv[0]!, { shell: true, reject: false, stripFinalNewline: false, input, cwd: opts.cwd, env: opts.env })
    : execa(argv[0]!, argv.slice(1), { reject: false, stripFinalNewline: false, input, cwd: opts.cwd, env: opts.env });
  if (print_oe) {
    sub.stdout?.on("data", (d: Buffer) => process.stdout.write(d));
    sub.stderr?.on("data", (d: Buffer) => process.stderr.write(d));
  }
  const r = await sub;
  if (r.failed && r.exitCode === undefined) throw new DflowConfigError(`run_command: could not run ${JSON.stringify(argv)}: ${r.shortMessage}`);
  const code = r.exitCode ?? 1;
  const out = String(r.stdout ?? "");
  const err = String(r.stderr ?? "");
  if (raise_error && code !== 0) throw new OPFailure(`Command ${JSON.stringify(argv)} failed with exit code ${code}:\n${err}`, {}, { exitCode: code });
  return [code, out, err];
}
