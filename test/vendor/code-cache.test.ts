// zod as dist/ loads it (src/vendor/zod.ts): from one file through a V8 code
// cache that is written once, used after, rewritten when V8 rejects it, and
// never read from a folder that is not this user's alone.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const VENDOR = path.join(ROOT, "dist", "src", "vendor");
let cacheRoot: string;

/** A fresh node, as every `dflow` start is: runs `code` (an ES module) and returns its stdout. */
function node(code: string): string {
  return execFileSync(process.execPath, ["--input-type=module", "-e", code], { cwd: ROOT, encoding: "utf8", env: { ...process.env, DFLOW_TS_CACHE: cacheRoot } });
}

/** Runs zod.cjs through runCompiled in a fresh node: which way it was compiled, and that zod works. */
function runZod(): string {
  return node(`
    import { runCompiled } from ${JSON.stringify(path.join(VENDOR, "code-cache.js"))};
    const r = runCompiled(${JSON.stringify(path.join(VENDOR, "zod.cjs"))});
    const z = r.exports.z;
    const ok = z.object({ a: z.number().int() }).safeParse({ a: 1.5 }).success === false;
    process.stdout.write(r.cache + (ok ? " zod-ok" : " zod-broken"));
  `);
}

const cacheFiles = () => fs.readdirSync(path.join(cacheRoot, "v8")).filter((f) => f.endsWith(".cache"));

beforeEach(() => {
  cacheRoot = fs.mkdtempSync(path.join(os.tmpdir(), "dflow-code-cache-"));
});
afterEach(() => {
  fs.rmSync(cacheRoot, { recursive: true, force: true });
});

describe("zod from dist/src/vendor", () => {
  it("was written by the build: zod.cjs beside a zod.js that is not tsc's re-export", () => {
    expect(fs.existsSync(path.join(VENDOR, "zod.cjs")), "run `npm run build` (dist/src/vendor/build.js writes zod.cjs)").toBe(true);
    expect(fs.readFileSync(path.join(VENDOR, "zod.js"), "utf8")).toContain("runCompiled");
  });

  it("exports what zod exports, and `z` from dflow-ts is a working zod", () => {
    const out = node(`
      const mine = await import(${JSON.stringify(path.join(VENDOR, "zod.js"))});
      const zod = await import("zod");
      const { z } = await import(${JSON.stringify(path.join(ROOT, "dist", "src", "index.js"))});
      const names = (m) => Object.keys(m).sort().join(",");
      const kinds = Object.keys(zod).every((k) => typeof mine[k] === typeof zod[k]);
      const parsed = z.object({ n: z.number().default(3), s: z.enum(["a", "b"]) }).parse({ s: "a" });
      // zod's instanceof looks at traits, so a schema of the user's own zod is still a schema to dflow-ts.
      const cross = zod.z.string() instanceof z.ZodType;
      process.stdout.write(JSON.stringify({ same: names(mine) === names(zod), kinds, parsed, cross, def: mine.default === mine.z }));
    `);
    expect(JSON.parse(out)).toEqual({ same: true, kinds: true, parsed: { n: 3, s: "a" }, cross: true, def: true });
  });

  it("loads without a top-level await (a CommonJS file may require it), and without zod.cjs from zod's own CommonJS build", () => {
    // A copy of the two modules without zod.cjs beside them, inside the checkout so that "zod" resolves.
    const dir = fs.mkdtempSync(path.join(ROOT, "test-output", "vendor-"));
    try {
      for (const f of ["zod.js", "code-cache.js"]) fs.copyFileSync(path.join(VENDOR, f), path.join(dir, f));
      fs.writeFileSync(path.join(dir, "package.json"), '{ "type": "module" }');
      const out = execFileSync(process.execPath, ["-e", `const { z } = require(${JSON.stringify(path.join(dir, "zod.js"))}); process.stdout.write(String(z.string().safeParse(1).success))`], { encoding: "utf8", env: { ...process.env, DFLOW_TS_CACHE: cacheRoot } });
      expect(out).toBe("false");
      expect(fs.existsSync(path.join(cacheRoot, "v8")) ? cacheFiles() : []).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("runCompiled's code cache", () => {
  it("is written by the first start (private files), then used", () => {
    expect(runZod()).toBe("written zod-ok");
    const [file] = cacheFiles();
    expect(file).toMatch(/^zod-[0-9a-f]{16}\.v8-.+\.cache$/);
    expect(fs.statSync(path.join(cacheRoot, "v8")).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(cacheRoot, "v8", file)).mode & 0o777).toBe(0o600);
    expect(runZod()).toBe("hit zod-ok");
    expect(runZod()).toBe("hit zod-ok");
  });

  it("is rewritten when V8 rejects it, and the script still runs", () => {
    runZod();
    const file = path.join(cacheRoot, "v8", cacheFiles()[0]);
    fs.writeFileSync(file, Buffer.alloc(fs.statSync(file).size, 7));
    expect(runZod()).toBe("written zod-ok");
    expect(runZod()).toBe("hit zod-ok");
  });

  it("is neither read nor written in a folder others can write to", () => {
    runZod();
    fs.chmodSync(path.join(cacheRoot, "v8"), 0o777);
    const before = fs.readdirSync(path.join(cacheRoot, "v8"));
    expect(runZod()).toBe("off zod-ok");
    fs.rmSync(path.join(cacheRoot, "v8", before[0]));
    expect(runZod()).toBe("off zod-ok");
    expect(fs.readdirSync(path.join(cacheRoot, "v8"))).toEqual([]);
  });

  it.runIf(process.getuid?.() === 0)("is not read from a folder another user owns", () => {
    runZod();
    fs.chownSync(path.join(cacheRoot, "v8"), 65534, 65534);
    expect(runZod()).toBe("off zod-ok");
  });

  it("falls back to compiling when the cache folder cannot be made", () => {
    fs.writeFileSync(path.join(cacheRoot, "v8"), "a file where the folder should be");
    expect(runZod()).toBe("off zod-ok");
  });
});
