import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { config } from "../../src/config.js";
import { DflowConfigError } from "../../src/errors.js";
import {
  catalogJson,
  pathObject,
  pyJoin,
  readCatalog,
  writeCatalog,
  type CatalogItem,
} from "../../engine/artifacts/catalog.js";
import { backupExisting, mergeInto, placeTree } from "../../engine/artifacts/place.js";
import { LocalArtifact, download_artifact, isLocalArtifact, upload_artifact } from "../../engine/artifacts/upload.js";
import { inputArtifactValue, writeOutputArtifact } from "../../engine/artifacts/op-io.js";

const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let tmp: string;
let saved: Record<string, unknown>;
let savedCwd: string;

function write(p: string, content = "x"): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content);
}

/** The single catalog file of an artifact dir: [name, text]. */
function onlyCatalog(dir: string): [string, string] {
  const names = fs.readdirSync(path.join(dir, ".dflow"));
  expect(names).toHaveLength(1);
  return [names[0]!, fs.readFileSync(path.join(dir, ".dflow", names[0]!), "utf8")];
}

beforeEach(async () => {
  tmp = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), "dflow-art-")));
  saved = { ...config };
  savedCwd = process.cwd();
  config.debug_workdir = tmp;
  config.debug_artifact_dir = ".";
  config.debug_copy_method = "symlink";
  config.catalog_dir_name = ".dflow";
  config.detect_empty_dir = true;
});

afterEach(async () => {
  process.chdir(savedCwd);
  Object.assign(config, saved);
  await fsp.rm(tmp, { recursive: true, force: true });
});

describe("upload_artifact", () => {
  it("uploads a single file as a directory with a symlink and a catalog", async () => {
    const src = path.join(tmp, "src");
    write(path.join(src, "foo.txt"), "hello");
    const art = await upload_artifact("foo.txt", { cwd: src });
    expect(isLocalArtifact(art)).toBe(true);
    expect(art.key).toBeUndefined();
    const rel = path.relative(tmp, art.local_path).split(path.sep);
    expect(rel).toHaveLength(3);
    expect(rel[0]).toBe("upload");
    expect(rel[1]).toMatch(UUID4);
    expect(rel[2]).toMatch(/^tmp[a-z0-9_]{8}$/);
    // nothing else (no half-built staging dir) beside it
    expect(fs.readdirSync(path.dirname(art.local_path))).toEqual([rel[2]]);
    expect(fs.readlinkSync(path.join(art.local_path, "foo.txt"))).toBe(path.join(src, "foo.txt"));
    const [name, text] = onlyCatalog(art.local_path);
    expect(name).toMatch(UUID4);
    expect(text).toBe('{"path_list": [{"dflow_list_item": "foo.txt", "order": 0}]}');
  });

  it("uploads a list: symlinks at relative paths, real parent dirs, exact catalog", async () => {
    const src = path.join(tmp, "src");
    write(path.join(src, "b.txt"));
    write(path.join(src, "d1", "a.txt"));
    const art = await upload_artifact(["b.txt", "d1/a.txt"], { cwd: src });
    const root = art.local_path;
    expect(fs.lstatSync(path.join(root, "b.txt")).isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(path.join(root, "b.txt"))).toBe(path.join(src, "b.txt"));
    const d1 = fs.lstatSync(path.join(root, "d1"));
    expect(d1.isDirectory() && !d1.isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(path.join(root, "d1", "a.txt"))).toBe(path.join(src, "d1", "a.txt"));
    expect(onlyCatalog(root)[1]).toBe(
      '{"path_list": [{"dflow_list_item": "b.txt", "order": 0}, {"dflow_list_item": "d1/a.txt", "order": 1}]}',
    );
  });

  it("uploads a dict with key orders, skipping null entries, and nested values with dotted keys", async () => {
    const src = path.join(tmp, "src");
    write(path.join(src, "b.txt"));
    write(path.join(src, "d1", "a.txt"));
    const art = await upload_artifact({ x: "b.txt", y: "d1", z: null, n: { m: ["b.txt"] } }, { cwd: src });
    const items = await readCatalog(art.local_path);
    expect(items.map((i) => i.order).sort()).toEqual(["n.m.0", "x", "y"]);
    expect(fs.readlinkSync(path.join(art.local_path, "d1"))).toBe(path.join(src, "d1"));
    expect(pathObject(items, art.local_path)).toEqual({
      x: path.join(art.local_path, "b.txt"),
      y: path.join(art.local_path, "d1"),
      n: { m: [path.join(art.local_path, "b.txt")] },
    });
  });

  it("uses the absolute path without its leading / for paths outside the cwd", async () => {
    const outside = path.join(tmp, "elsewhere", "o.txt");
    write(outside);
    const cwd = path.join(tmp, "cwd");
    fs.mkdirSync(cwd);
    const art = await upload_artifact(new Set([outside]), { cwd });
    const rel = outside.slice(1);
    expect(fs.readlinkSync(path.join(art.local_path, rel))).toBe(outside);
    expect((await readCatalog(art.local_path))[0]).toEqual({ dflow_list_item: rel, order: 0 });
  });

  it("hard-link-copies when the cwd is inside the uploaded path (and skips its own upload dir)", async () => {
    write(path.join(tmp, "d1", "a.txt"), "A");
    const art = await upload_artifact(".", { cwd: tmp }); // artroot == cwd here
    const copied = path.join(art.local_path, "d1", "a.txt");
    expect(fs.lstatSync(copied).isSymbolicLink()).toBe(false);
    expect(fs.statSync(copied).ino).toBe(fs.statSync(path.join(tmp, "d1", "a.txt")).ino);
    // the upload dir being built was not copied into itself
    expect(fs.readdirSync(path.join(art.local_path, "upload"))).toEqual([]);
    expect(await readCatalog(art.local_path)).toEqual([{ dflow_list_item: ".", order: 0 }]);
  });

  it("throws DflowConfigError for a missing path and creates nothing", async () => {
    const src = path.join(tmp, "src");
    write(path.join(src, "b.txt"));
    const p = upload_artifact(["b.txt", "nope.txt"], { cwd: src });
    await expect(p).rejects.toBeInstanceOf(DflowConfigError);
    await expect(upload_artifact("nope.txt", { cwd: src })).rejects.toThrow(
      "upload_artifact: file or directory nope.txt not found",
    );
    expect(fs.existsSync(path.join(tmp, "upload"))).toBe(false);
  });

  it("LocalArtifact.sub_path returns a new artifact with accumulated sub-paths", () => {
    const a = new LocalArtifact("/x/y");
    const b = a.sub_path("d1").sub_path("a.txt");
    expect(b).not.toBe(a);
    expect(b.local_path).toBe("/x/y");
    expect(b.subPath).toBe("d1/a.txt");
    expect(a.subPath).toBeUndefined();
    expect(isLocalArtifact(b)).toBe(true);
    expect(isLocalArtifact({ local_path: "/x" })).toBe(false);
  });
});

describe("download_artifact", () => {
  it("downloads a directory artifact into '.', returning ./-joined paths and removing .dflow", async () => {
    const src = path.join(tmp, "src");
    write(path.join(src, "output.txt"), "out");
    write(path.join(src, "d1", "a.txt"), "A");
    const art = await upload_artifact(["output.txt", "d1/a.txt"], { cwd: src });
    const dl = path.join(tmp, "dl");
    fs.mkdirSync(dl);
    process.chdir(dl);
    const res = await download_artifact(art);
    expect(res).toEqual(["./output.txt", "./d1/a.txt"]);
    expect(fs.lstatSync(path.join(dl, "output.txt")).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(dl, "output.txt"), "utf8")).toBe("out");
    const d1 = fs.lstatSync(path.join(dl, "d1"));
    expect(d1.isDirectory() && !d1.isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(dl, "d1", "a.txt"), "utf8")).toBe("A");
    expect(fs.existsSync(path.join(dl, ".dflow"))).toBe(false);
    // the artifact's own catalog is untouched
    expect(fs.readdirSync(path.join(art.local_path, ".dflow"))).toHaveLength(1);
  });

  it("creates a missing target, copies with debug_copy_method=copy, keeps the catalog on request", async () => {
    const src = path.join(tmp, "src");
    write(path.join(src, "output.txt"), "out");
    const art = await upload_artifact({ k: "output.txt" }, { cwd: src });
    config.debug_copy_method = "copy";
    const dest = path.join(tmp, "new", "dir");
    const res = await download_artifact(art, { path: dest, remove_catalog: false });
    expect(res).toEqual({ k: `${dest}/output.txt` });
    const st = fs.lstatSync(path.join(dest, "output.txt"));
    expect(st.isFile() && !st.isSymbolicLink()).toBe(true);
    expect(st.ino).not.toBe(fs.statSync(path.join(src, "output.txt")).ino);
    expect(fs.existsSync(path.join(dest, ".dflow"))).toBe(true);
  });

  it("returns [] for a directory without catalog", async () => {
    const adir = path.join(tmp, "shellout");
    write(path.join(adir, "f"));
    const res = await download_artifact({ local_path: adir }, { path: path.join(tmp, "dl") });
    expect(res).toEqual([]);
    expect(fs.existsSync(path.join(tmp, "dl", "f"))).toBe(true);
  });

  it("downloads a single-file artifact into a missing dir", async () => {
    const f = path.join(tmp, "art", "single.txt");
    write(f, "S");
    config.debug_copy_method = "link";
    const dest = path.join(tmp, "x", "y");
    const res = await download_artifact({ local_path: f }, { path: dest });
    expect(res).toEqual([path.join(dest, "single.txt")]);
    expect(fs.statSync(path.join(dest, "single.txt")).ino).toBe(fs.statSync(f).ino);
  });

  it("names a single file downloaded through a step's outputs/artifacts link after the file, not the link", async () => {
    const f = path.join(tmp, "workdir", "tmp", "bar.txt");
    write(f, "B");
    const link = path.join(tmp, "outputs", "artifacts", "bar");
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(f, link);
    const dest = path.join(tmp, "dl");
    const res = await download_artifact({ local_path: link }, { path: dest });
    expect(res).toEqual([path.join(dest, "bar.txt")]);
    expect(fs.readFileSync(path.join(dest, "bar.txt"), "utf8")).toBe("B");
  });

  it("rejects an unsupported debug_copy_method", async () => {
    config.debug_copy_method = "rsync";
    await expect(download_artifact({ local_path: tmp }, { path: path.join(tmp, "dl") })).rejects.toThrow(
      'Unsupported copy method for debug mode: "rsync" (use symlink, link or copy)',
    );
  });
});

describe("catalogs", () => {
  it("merges catalog files: duplicates dropped, null overridden by a non-null item of the same order", async () => {
    const dir = path.join(tmp, "art");
    write(
      path.join(dir, ".dflow", "c1"),
      JSON.stringify({ path_list: [{ dflow_list_item: "a", order: 0 }, { dflow_list_item: null, order: 1 }, { dflow_list_item: null, order: 2 }] }),
    );
    write(
      path.join(dir, ".dflow", "c2"),
      JSON.stringify({ path_list: [{ dflow_list_item: "a", order: 0 }, { dflow_list_item: "b", order: 1 }, { dflow_list_item: "s", order: "1" }] }),
    );
    const items = await readCatalog(dir);
    const byOrder = (x: CatalogItem, y: CatalogItem) => String(x.order).localeCompare(String(y.order));
    expect([...items].sort(byOrder)).toEqual(
      [
        { dflow_list_item: "a", order: 0 },
        { dflow_list_item: "b", order: 1 },
        { dflow_list_item: "s", order: "1" },
        { dflow_list_item: null, order: 2 },
      ].sort(byOrder),
    );
  });

  it("gives [] without a catalog dir or when the path is a file or missing", async () => {
    write(path.join(tmp, "art", "f"));
    expect(await readCatalog(path.join(tmp, "art"))).toEqual([]);
    expect(await readCatalog(path.join(tmp, "art", "f"))).toEqual([]);
    expect(await readCatalog(path.join(tmp, "missing"))).toEqual([]);
  });

  it("pathObject: list sorted by int order, dict, dotted nesting, numeric keys back to lists", () => {
    expect(pathObject([], "/r")).toEqual([]);
    expect(
      pathObject(
        [
          { dflow_list_item: "b", order: 2 },
          { dflow_list_item: null, order: 1 },
          { dflow_list_item: "a", order: 0 },
        ],
        "/r",
      ),
    ).toEqual(["/r/a", null, "/r/b"]);
    expect(
      pathObject(
        [
          { dflow_list_item: "x", order: "x" },
          { dflow_list_item: "p/q", order: "a.b" },
          { dflow_list_item: "c", order: "a.c" },
          { dflow_list_item: "l1", order: "a.l.1" },
          { dflow_list_item: "l10", order: "a.l.10" },
          { dflow_list_item: "l2", order: "a.l.2" },
        ],
        "/r",
      ),
    ).toEqual({ x: "/r/x", a: { b: "/r/p/q", c: "/r/c", l: ["/r/l1", "/r/l2", "/r/l10"] } });
    // top-level all-numeric string keys (a nested list upload) → list
    expect(
      pathObject(
        [
          { dflow_list_item: "a", order: "0.0" },
          { dflow_list_item: "b", order: "0.1" },
          { dflow_list_item: "c", order: "1" },
        ],
        "/r",
      ),
    ).toEqual([["/r/a", "/r/b"], "/r/c"]);
    expect(pathObject([{ dflow_list_item: "o", order: 0 }], ".", pyJoin)).toEqual(["./o"]);
  });

  it("writeCatalog writes Python-formatted JSON with no trailing newline", async () => {
    const dir = path.join(tmp, "art");
    const file = await writeCatalog(dir, [
      { dflow_list_item: "x", order: 0 },
      { dflow_list_item: null, order: "k" },
      { dflow_list_item: "é/😀", order: 2 },
    ]);
    expect(path.dirname(file)).toBe(path.join(dir, ".dflow"));
    expect(path.basename(file)).toMatch(UUID4);
    const text = fs.readFileSync(file, "utf8");
    expect(text).toBe(
      '{"path_list": [{"dflow_list_item": "x", "order": 0}, {"dflow_list_item": null, "order": "k"}, {"dflow_list_item": "\\u00e9/\\ud83d\\ude00", "order": 2}]}',
    );
    expect(catalogJson([])).toBe('{"path_list": []}');
    expect((await readCatalog(dir))[2]).toEqual({ dflow_list_item: "é/😀", order: 2 });
    expect(fs.readdirSync(path.join(dir, ".dflow"))).toHaveLength(1);
  });
});

describe("placeTree / mergeInto", () => {
  function makeSrc(): string {
    const src = path.join(tmp, "srcdir");
    write(path.join(src, "f.txt"), "F");
    write(path.join(src, "sub", "g.txt"), "G");
    fs.chmodSync(path.join(src, "f.txt"), 0o640);
    fs.utimesSync(path.join(src, "f.txt"), new Date(2001, 1, 1), new Date(2001, 1, 1));
    fs.symlinkSync(path.join(src, "f.txt"), path.join(src, "ln"));
    return src;
  }

  it("symlink: one symlink, parents created, existing entries backed up to .bk1, .bk2", async () => {
    const src = makeSrc();
    const dest = path.join(tmp, "wd", "tmp", "in");
    await placeTree(src, dest, "symlink");
    expect(fs.readlinkSync(dest)).toBe(src);
    await placeTree(src, dest, "symlink");
    expect(fs.readlinkSync(`${dest}.bk1`)).toBe(src);
    write(path.join(tmp, "other"));
    await placeTree(path.join(tmp, "other"), dest, "symlink");
    expect(fs.existsSync(`${dest}.bk2`)).toBe(true);
    expect(fs.readlinkSync(dest)).toBe(path.join(tmp, "other"));
    // missing source: the (dangling) link is still made
    await placeTree(path.join(tmp, "absent"), path.join(tmp, "dangling"), "symlink");
    expect(fs.readlinkSync(path.join(tmp, "dangling"))).toBe(path.join(tmp, "absent"));
  });

  it("backupExisting returns null when nothing is there", async () => {
    expect(await backupExisting(path.join(tmp, "none"))).toBeNull();
    write(path.join(tmp, "some"));
    expect(await backupExisting(path.join(tmp, "some"))).toBe(path.join(tmp, "some.bk1"));
  });

  it("link: dirs recreated, files hard-linked, inner symlinks kept", async () => {
    const src = makeSrc();
    const dest = path.join(tmp, "wd", "in");
    await placeTree(src, dest, "link");
    expect(fs.lstatSync(dest).isDirectory()).toBe(true);
    expect(fs.statSync(path.join(dest, "f.txt")).ino).toBe(fs.statSync(path.join(src, "f.txt")).ino);
    expect(fs.statSync(path.join(dest, "sub", "g.txt")).ino).toBe(fs.statSync(path.join(src, "sub", "g.txt")).ino);
    expect(fs.readlinkSync(path.join(dest, "ln"))).toBe(path.join(src, "f.txt"));
    await placeTree(path.join(tmp, "absent"), path.join(tmp, "nothing"), "link");
    expect(fs.existsSync(path.join(tmp, "nothing"))).toBe(false);
  });

  it("copy: independent files with mode and mtime preserved", async () => {
    const src = makeSrc();
    const dest = path.join(tmp, "wd", "in");
    write(dest, "old");
    await placeTree(src, dest, "copy");
    expect(fs.readFileSync(`${dest}.bk1`, "utf8")).toBe("old");
    const st = fs.lstatSync(path.join(dest, "f.txt"));
    expect(st.isFile()).toBe(true);
    expect(st.ino).not.toBe(fs.statSync(path.join(src, "f.txt")).ino);
    expect(st.mode & 0o777).toBe(0o640);
    expect(st.mtimeMs).toBe(fs.statSync(path.join(src, "f.txt")).mtimeMs);
    expect(fs.readFileSync(path.join(dest, "sub", "g.txt"), "utf8")).toBe("G");
    await placeTree(path.join(tmp, "absent"), path.join(tmp, "nothing"), "copy");
    expect(fs.existsSync(path.join(tmp, "nothing"))).toBe(false);
  });

  it("rejects an unsupported method", async () => {
    await expect(placeTree(tmp, path.join(tmp, "x"), "hardlink" as never)).rejects.toThrow(
      'Unsupported copy method for debug mode: "hardlink" (use symlink, link or copy)',
    );
    await expect(mergeInto(tmp, path.join(tmp, "x"), "cp" as never)).rejects.toBeInstanceOf(DflowConfigError);
  });

  it("mergeInto symlink: every file a symlink, dirs real, existing files replaced", async () => {
    const src = makeSrc();
    const dest = path.join(tmp, "store");
    write(path.join(dest, "f.txt"), "old");
    write(path.join(dest, "keep.txt"), "K");
    await mergeInto(src, dest, "symlink");
    expect(fs.readlinkSync(path.join(dest, "f.txt"))).toBe(path.join(src, "f.txt"));
    expect(fs.lstatSync(path.join(dest, "sub")).isSymbolicLink()).toBe(false);
    expect(fs.readlinkSync(path.join(dest, "sub", "g.txt"))).toBe(path.join(src, "sub", "g.txt"));
    expect(fs.readFileSync(path.join(dest, "keep.txt"), "utf8")).toBe("K");
    // a single file replaces an existing link
    await mergeInto(path.join(src, "sub", "g.txt"), path.join(dest, "f.txt"), "copy");
    const st = fs.lstatSync(path.join(dest, "f.txt"));
    expect(st.isFile() && !st.isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(dest, "f.txt"), "utf8")).toBe("G");
    // the source file the old link pointed to is untouched
    expect(fs.readFileSync(path.join(src, "f.txt"), "utf8")).toBe("F");
  });

  it("mergeInto: merges into one destination at the same time all land (fan-out items saving into one key)", async () => {
    const dest = path.join(tmp, "shared");
    const srcs = Array.from({ length: 200 }, (_, i) => {
      const d = path.join(tmp, `item-${i}`);
      write(path.join(d, `part-${i}.txt`), String(i));
      return d;
    });
    await Promise.all(srcs.map((src) => mergeInto(src, dest, "symlink")));
    expect(fs.readdirSync(dest).sort()).toEqual(srcs.map((_, i) => `part-${i}.txt`).sort());
  });
});

describe("inputArtifactValue", () => {
  async function asInput(workdir: string, name: string, target: string): Promise<string> {
    const root = path.join(workdir, "tmp", "inputs", "artifacts", name);
    await placeTree(target, root, "symlink");
    return root;
  }

  it("handles path/list/dict kinds, single items, files, missing and dangling roots", async () => {
    const src = path.join(tmp, "src");
    write(path.join(src, "b.txt"));
    write(path.join(src, "d1", "a.txt"));
    const wd = path.join(tmp, "wd");
    const lst = await asInput(wd, "lst", (await upload_artifact(["b.txt", "d1/a.txt"], { cwd: src })).local_path);
    const one = await asInput(wd, "one", (await upload_artifact("b.txt", { cwd: src })).local_path);
    const dct = await asInput(wd, "dct", (await upload_artifact({ x: "b.txt", y: { z: "d1/a.txt" } }, { cwd: src })).local_path);
    const nested = await asInput(wd, "nested", (await upload_artifact([["b.txt"], "d1/a.txt"], { cwd: src })).local_path);
    const file = await asInput(wd, "file", path.join(src, "b.txt"));
    const bare = await asInput(wd, "bare", path.join(src, "d1"));
    const dangling = await asInput(wd, "dangling", path.join(tmp, "absent"));

    expect(await inputArtifactValue(lst, "path")).toBe(lst);
    expect(await inputArtifactValue(lst, "list")).toEqual([path.join(lst, "b.txt"), path.join(lst, "d1", "a.txt")]);
    expect(await inputArtifactValue(one, "path")).toBe(path.join(one, "b.txt"));
    expect(await inputArtifactValue(one, "path", { subPathMode: false })).toBe(one);
    expect(await inputArtifactValue(one, "list")).toEqual([path.join(one, "b.txt")]);
    expect(await inputArtifactValue(dct, "dict")).toEqual({ x: path.join(dct, "b.txt"), y: { z: path.join(dct, "d1/a.txt") } });
    expect(await inputArtifactValue(dct, "nested_dict")).toEqual({ x: path.join(dct, "b.txt"), y: { z: path.join(dct, "d1/a.txt") } });
    expect(await inputArtifactValue(nested, "list")).toEqual([path.join(nested, "b.txt"), path.join(nested, "d1/a.txt")]);
    expect(await inputArtifactValue(file, "path")).toBe(file);
    expect(await inputArtifactValue(file, "list")).toEqual([file]);
    expect(await inputArtifactValue(bare, "path")).toBe(bare);
    expect(await inputArtifactValue(bare, "list")).toEqual([]);
    expect(await inputArtifactValue(bare, "dict")).toEqual({});
    expect(await inputArtifactValue(dangling, "path")).toBeNull();
    expect(await inputArtifactValue(path.join(wd, "tmp", "inputs", "artifacts", "none"), "list")).toBeNull();
  });

  it("removes .empty_dir markers when detect_empty_dir is on", async () => {
    const adir = path.join(tmp, "out");
    write(path.join(adir, "e", ".empty_dir"), "");
    const root = path.join(tmp, "wd", "tmp", "inputs", "artifacts", "o");
    await placeTree(adir, root, "symlink");
    await inputArtifactValue(root, "path");
    expect(fs.existsSync(path.join(adir, "e"))).toBe(true);
    expect(fs.readdirSync(path.join(adir, "e"))).toEqual([]);
  });
});

describe("writeOutputArtifact", () => {
  it("writes a file as a hard link with an exact catalog", async () => {
    const wd = path.join(tmp, "wd");
    write(path.join(wd, "output.txt"), "Hello");
    await writeOutputArtifact(wd, "bar", "output.txt");
    const target = path.join(wd, "tmp", "outputs", "artifacts", "bar");
    expect(fs.statSync(path.join(target, "output.txt")).ino).toBe(fs.statSync(path.join(wd, "output.txt")).ino);
    expect(onlyCatalog(target)[1]).toBe('{"path_list": [{"dflow_list_item": "output.txt", "order": 0}]}');
    await writeOutputArtifact(wd, "sliced", path.join(wd, "output.txt"), { order: 3 });
    expect(await readCatalog(path.join(wd, "tmp", "outputs", "artifacts", "sliced"))).toEqual([
      { dflow_list_item: "output.txt", order: 3 },
    ]);
  });

  it("writes a directory (hard links) and marks empty dirs", async () => {
    const wd = path.join(tmp, "wd");
    write(path.join(wd, "todir", "f1"), "1");
    write(path.join(wd, "todir", "f2"), "2");
    fs.mkdirSync(path.join(wd, "todir", "empty"));
    await writeOutputArtifact(wd, "odir", path.join(wd, "todir"));
    const target = path.join(wd, "tmp", "outputs", "artifacts", "odir");
    expect(fs.statSync(path.join(target, "todir", "f1")).ino).toBe(fs.statSync(path.join(wd, "todir", "f1")).ino);
    expect(fs.readFileSync(path.join(target, "todir", "f2"), "utf8")).toBe("2");
    expect(fs.readdirSync(path.join(target, "todir", "empty"))).toEqual([".empty_dir"]);
    expect(onlyCatalog(target)[1]).toBe('{"path_list": [{"dflow_list_item": "todir", "order": 0}]}');
    expect(await inputArtifactValue(target, "path")).toBe(path.join(target, "todir"));
  });

  it("writes a list: orders by index, null for missing paths, input-artifact and outside paths", async () => {
    const wd = path.join(tmp, "wd");
    write(path.join(wd, "a.txt"), "a");
    const src = path.join(tmp, "src");
    write(path.join(src, "d1", "in.txt"), "in");
    const art = await upload_artifact("d1", { cwd: src });
    const inRoot = path.join(wd, "tmp", "inputs", "artifacts", "inp");
    await placeTree(art.local_path, inRoot, "symlink");
    const outside = path.join(tmp, "outside", "o.txt");
    write(outside, "o");

    await writeOutputArtifact(wd, "lst", ["a.txt", "missing.txt", path.join(inRoot, "d1", "in.txt"), outside, inRoot]);
    const target = path.join(wd, "tmp", "outputs", "artifacts", "lst");
    const items = await readCatalog(target);
    expect(items.map((i) => i.order)).toEqual([0, 1, 2, 3, 4]);
    expect(items[0]!.dflow_list_item).toBe("a.txt");
    expect(items[1]!.dflow_list_item).toBeNull();
    expect(items[2]!.dflow_list_item).toBe("d1/in.txt");
    expect(fs.readFileSync(path.join(target, "d1", "in.txt"), "utf8")).toBe("in");
    expect(items[3]!.dflow_list_item).toBe(outside.slice(1));
    expect(fs.readFileSync(path.join(target, outside.slice(1)), "utf8")).toBe("o");
    expect(items[4]!.dflow_list_item).toMatch(/^[0-9a-z]{5}$/);
    expect(fs.readFileSync(path.join(target, items[4]!.dflow_list_item!, "d1", "in.txt"), "utf8")).toBe("in");
    expect(await inputArtifactValue(target, "list")).toEqual([
      path.join(target, "a.txt"),
      null,
      path.join(target, "d1/in.txt"),
      path.join(target, outside.slice(1)),
      path.join(target, items[4]!.dflow_list_item!),
    ]);
  });

  it("writes a dict with key orders and null as an empty catalog", async () => {
    const wd = path.join(tmp, "wd");
    write(path.join(wd, "a.txt"));
    write(path.join(wd, "b.txt"));
    await writeOutputArtifact(wd, "d", { x: "a.txt", y: { z: "b.txt" } });
    const target = path.join(wd, "tmp", "outputs", "artifacts", "d");
    expect(await inputArtifactValue(target, "dict")).toEqual({ x: path.join(target, "a.txt"), y: { z: path.join(target, "b.txt") } });
    await writeOutputArtifact(wd, "none", null);
    const none = path.join(wd, "tmp", "outputs", "artifacts", "none");
    expect(onlyCatalog(none)[1]).toBe('{"path_list": []}');
  });
});
