// Artifacts packed and unpacked as Argo's executor does (engine/argo/archive.ts):
// zips read and written a chunk at a time, checked against zips another tool
// wrote (Python's zipfile, as Go's archive/zip: sizes up front, directory
// entries) and by another tool's reading of ours.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { unzipSync, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { archived, unarchive } from "../../engine/argo/archive.js";

let work: string;
beforeAll(() => {
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "argo-archive-")));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const ZIP = { archive: { zip: {} } };

describe("zip artifacts", () => {
  it("unpacks a zip another tool wrote: a directory's entries (with directory entries) under the input's path", async () => {
    const src = path.join(work, "py.zip");
    await execa("python3", ["-c", `import zipfile\nwith zipfile.ZipFile(${JSON.stringify(src)}, "w", zipfile.ZIP_DEFLATED) as z:\n  z.writestr("d/", "")\n  z.writestr("d/a.txt", "one\\n")\n  z.writestr("d/sub/b.txt", "two\\n" * 1000)\n  z.writestr("e.txt", "three")`]);
    const dest = path.join(work, "in-py");
    expect(await unarchive(src, dest, ZIP)).toBe(true);
    expect(fs.readFileSync(path.join(dest, "d", "a.txt"), "utf8")).toBe("one\n");
    expect(fs.readFileSync(path.join(dest, "d", "sub", "b.txt"), "utf8")).toBe("two\n".repeat(1000));
    expect(fs.readFileSync(path.join(dest, "e.txt"), "utf8")).toBe("three");
  });

  it("packs a directory larger than a read chunk as Argo names its entries, which unpacks to the same bytes (here and with Python's zipfile)", async () => {
    const dir = path.join(work, "d");
    fs.mkdirSync(path.join(dir, "sub"), { recursive: true });
    const big = crypto.randomBytes(3 * 1024 * 1024 + 17);
    fs.writeFileSync(path.join(dir, "big.bin"), big);
    fs.writeFileSync(path.join(dir, "sub", "small.txt"), "small\n");
    const kept = path.join(work, "packed.zip");
    await archived(dir, "out", ZIP.archive, async (file) => {
      expect(path.basename(file)).toBe("out.zip");
      fs.copyFileSync(file, kept);
    });
    expect(Object.keys(unzipSync(fs.readFileSync(kept))).sort()).toEqual(["d/big.bin", "d/sub/small.txt"]);
    const listed = await execa("python3", ["-c", `import zipfile, sys\nz = zipfile.ZipFile(${JSON.stringify(kept)})\nassert z.testzip() is None\nprint(len(z.read("d/big.bin")))`]);
    expect(listed.stdout.trim()).toBe(String(big.length));
    const dest = path.join(work, "in-ours");
    expect(await unarchive(kept, dest, ZIP)).toBe(true);
    // One entry (the directory) becomes the input's path itself, as Argo's unpack moves it.
    expect(fs.readFileSync(path.join(dest, "big.bin")).equals(big)).toBe(true);
    expect(fs.readFileSync(path.join(dest, "sub", "small.txt"), "utf8")).toBe("small\n");
  });

  it("refuses an entry that would leave the directory (Argo's illegal file path), leaving nothing behind", async () => {
    const evil = path.join(work, "evil.zip");
    fs.writeFileSync(evil, zipSync({ "ok.txt": new TextEncoder().encode("ok"), "../escaped.txt": new TextEncoder().encode("bad") }));
    const dest = path.join(work, "in-evil");
    await expect(unarchive(evil, dest, ZIP)).rejects.toThrow("../escaped.txt: illegal file path in the zip");
    expect(fs.existsSync(dest)).toBe(false);
    expect(fs.existsSync(path.join(work, "escaped.txt"))).toBe(false);
    expect(fs.readdirSync(work).filter((f) => f.startsWith("in-evil"))).toEqual([]);
  });
});
