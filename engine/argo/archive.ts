// Artifacts packed and unpacked as Argo's executor packs and unpacks them
// (workflow/executor/executor.go stageArchiveFile, unarchiveArtifact,
// unpack; util/archive): an output sent elsewhere is a .tgz of it (gzip at
// `archive.tar.compressionLevel`), a .zip with `archive.zip`, or itself with
// `archive.none`; an input that is a gzipped tarball, or a zip where the
// artifact says `archive.zip`, is extracted, a single entry becoming the
// path and several a directory holding them.
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { type Obj, asObj } from "./manifest.js";
import { filesUnder } from "../store/fsx.js";

async function startsWith(file: string, magic: number[]): Promise<boolean> {
  const fd = await fsp.open(file, "r").catch(() => undefined);
  if (!fd) return false;
  try {
    const head = Buffer.alloc(magic.length);
    return (await fd.stat()).isFile() && (await fd.read(head, 0, magic.length, 0)).bytesRead === magic.length && magic.every((b, i) => head[i] === b);
  } finally {
    await fd.close();
  }
}

/**
 * `into` extracts into a fresh `<dest>.tmpdir`, whose entries then move to `dest` as Argo's unpack
 * moves them: a single one becomes `dest`, several a directory holding them. False, and nothing
 * left behind, when there is none; nothing left behind either when `into` throws.
 */
async function extracted(dest: string, into: (tmp: string) => Promise<void>): Promise<boolean> {
  const tmp = `${dest}.tmpdir`;
  await fsp.rm(tmp, { recursive: true, force: true });
  await fsp.mkdir(tmp, { recursive: true });
  try {
    await into(tmp);
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw e;
  }
  const top = await fsp.readdir(tmp);
  if (!top.length) {
    await fsp.rm(tmp, { recursive: true, force: true });
    return false;
  }
  if (top.length === 1) {
    await fsp.rename(path.join(tmp, top[0]!), dest);
    await fsp.rm(tmp, { recursive: true, force: true });
  } else await fsp.rename(tmp, dest);
  return true;
}

/**
 * An input artifact's file unpacked at `dest` as Argo's executor unpacks it:
 * unless the artifact says `archive: {none: {}}`, a file that opens as a
 * tar.gz is extracted; with `archive: {zip: {}}`, a zip is. False: not an
 * archive (a key of the local repository holds what the pod wrote, as it
 * was), to be copied as it is.
 */
export async function unarchive(from: string, dest: string, a: Obj): Promise<boolean> {
  const archive = asObj(a.archive);
  if (archive.none !== undefined) return false;
  if (archive.zip !== undefined) {
    if (!(await startsWith(from, [0x50, 0x4b, 0x03, 0x04]))) return false;
    return extracted(dest, (tmp) => unzipInto(from, tmp));
  }
  if (!(await startsWith(from, [0x1f, 0x8b]))) return false;
  const tar = await import("tar");
  try {
    return await extracted(dest, (tmp) => tar.x({ file: from, cwd: tmp, strict: true }));
  } catch {
    // Gzip but not a tarball: Argo keeps the file as it is.
    return false;
  }
}

/**
 * `src` (a file or a directory) as an output artifact is sent: `send` gets a
 * .tgz of it (the default; `archive.tar.compressionLevel` as gzip's level), a
 * .zip (`archive.zip`), or `src` itself (`archive.none`), named as Argo stages
 * them (`<artifact>.tgz`, `<artifact>.zip`).
 */
export async function archived<T>(src: string, name: string, archive: Obj, send: (file: string) => Promise<T>): Promise<T> {
  if (archive.none !== undefined) return send(src);
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), "dflow-archive-"));
  try {
    if (archive.zip !== undefined) {
      const file = path.join(tmp, `${name}.zip`);
      await zipInto(src, file);
      return await send(file);
    }
    const file = path.join(tmp, `${name}.tgz`);
    // Go's gzip levels: -1 the default, -2 Huffman coding only (zlib's strategy of that name).
    const level = Number(asObj(archive.tar).compressionLevel ?? -1);
    const gzip = level === -2 ? { strategy: zlib.constants.Z_HUFFMAN_ONLY } : { level };
    const tar = await import("tar");
    await tar.c({ gzip, file, cwd: path.dirname(src), portable: true }, [path.basename(src)]);
    return await send(file);
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

// Zips are read and written a chunk at a time (fflate's streaming Unzip and Zip, whose synchronous
// codecs hand each piece over at once, written then): an artifact of any size costs a chunk's memory.

/** The entries of the zip `from` written under `dir`; an entry that would leave it is Argo's "Illegal file path". */
async function unzipInto(from: string, dir: string): Promise<void> {
  const { Unzip, UnzipInflate } = await import("fflate");
  let failure: unknown;
  const fail = (e: unknown) => (failure ??= e);
  const unzip = new Unzip((entry) => {
    const out = path.join(dir, entry.name);
    if (!out.startsWith(`${dir}${path.sep}`)) return fail(new Error(`${entry.name}: illegal file path in the zip`));
    try {
      if (entry.name.endsWith("/")) return void fs.mkdirSync(out, { recursive: true });
      fs.mkdirSync(path.dirname(out), { recursive: true });
      const fd = fs.openSync(out, "w");
      entry.ondata = (err, data, final) => {
        try {
          if (err) fail(err);
          else fs.writeSync(fd, data);
        } catch (e) {
          fail(e);
        } finally {
          if (final || err) fs.closeSync(fd);
        }
      };
      entry.start();
    } catch (e) {
      fail(e);
    }
  });
  unzip.register(UnzipInflate);
  for await (const chunk of fs.createReadStream(from)) {
    unzip.push(chunk as Uint8Array);
    if (failure) throw failure;
  }
  unzip.push(new Uint8Array(0), true);
  if (failure) throw failure;
}

/** `src` zipped into `file` as Argo's util/archive ZipToWriter does: a file by its own name, a directory's files under the directory's name. */
async function zipInto(src: string, file: string): Promise<void> {
  const { Zip, ZipDeflate } = await import("fflate");
  const entries: Array<[string, string]> = fs.statSync(src).isDirectory() ? filesUnder(src).map((f) => [path.posix.join(path.basename(src), f), path.join(src, f)]) : [[path.basename(src), src]];
  const fd = fs.openSync(file, "w");
  try {
    let failure: unknown;
    const zip = new Zip((err, data) => {
      if (err) failure ??= err;
      else if (!failure) fs.writeSync(fd, data);
    });
    for (const [name, from] of entries) {
      const entry = new ZipDeflate(name);
      zip.add(entry);
      for await (const chunk of fs.createReadStream(from)) entry.push(chunk as Uint8Array);
      entry.push(new Uint8Array(0), true);
      if (failure) throw failure;
    }
    zip.end();
    if (failure) throw failure;
  } finally {
    fs.closeSync(fd);
  }
}
