// The OP bundle cache: small per-OP bundles that load one shared zod (with
// its V8 code cache), sign errors worded as without a bundle, a working
// bundle after the shared zod was pruned, and a bounded cache.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const cache = fs.mkdtempSync(path.join(os.tmpdir(), "dflow-ts-bundle-cache-"));
process.env.DFLOW_TS_CACHE = cache;
// The step script imports the built runner by its URL, so the bundler comes from dist/ too.
const { bundleFor, pruneCache } = (await import(path.join(root, "dist/engine/ts-op-bundle.js"))) as typeof import("../../engine/ts-op-bundle.js");
const { tsOPScript } = (await import(path.join(root, "dist/engine/ts-op-script.js"))) as typeof import("../../engine/ts-op-script.js");
const opModule = path.join(root, "fixtures/ops/warm.ts");
afterAll(() => fs.rmSync(cache, { recursive: true, force: true }));

let n = 0;
/** One TS-OP step as the engine writes and starts it, with parameter i = `i`. */
async function runStep(i: string, bundle?: string) {
  const dir = path.join(cache, `step-${n++}`);
  const workdir = path.join(dir, "workdir");
  fs.mkdirSync(path.join(workdir, "tmp"), { recursive: true });
  const spec = { module: opModule, op: "WarmEcho", workdir, parameters: { i }, key: null, workflow_name: "wf", ...(bundle ? { bundle } : {}) };
  fs.writeFileSync(path.join(dir, "script"), tsOPScript(spec, { opName: "WarmEcho", module: opModule } as never, dir));
  const r = await execa(process.execPath, [path.join(dir, "script")], { cwd: workdir, reject: false, all: true });
  const out = path.join(workdir, "tmp/outputs/parameters/calls");
  return { ...r, ran: fs.existsSync(out) };
}

describe("OP bundles", () => {
  it("are small, load the one shared zod with its code cache, and run the OP", async () => {
    const bundle = (await bundleFor(opModule))!;
    expect(bundle).not.toBeNull();
    const files = fs.readdirSync(path.join(cache, "ops"));
    const zod = files.find((f) => /^zod-[0-9a-f]{16}\.cjs$/.test(f));
    expect(zod, files.join(" ")).toBeDefined();
    expect(files.some((f) => f.startsWith(`${zod}.v8-${process.versions.v8.replace(/[^\w.-]/g, "_")}`))).toBe(true);
    // zod and tsx are not inside (the old bundles carried both: 1.3 MB).
    expect(fs.statSync(bundle).size).toBeLessThan(400_000);
    expect(fs.readFileSync(bundle, "utf8")).toContain(path.join(cache, "ops", zod!));
    const r = await runStep("7", bundle);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.all).toContain("item 7 in");
  });

  it("report a sign error in the same words as the module loaded without a bundle", async () => {
    const bundle = (await bundleFor(opModule))!;
    const bundled = await runStep('"seven"', bundle);
    const plain = await runStep('"seven"');
    expect(bundled.exitCode, bundled.all).toBe(3); // EXIT_ERROR
    expect(plain.exitCode, plain.all).toBe(3);
    const message = (s: string) => s.split("\n").filter((l) => l.startsWith("TypeError")).join("\n");
    expect(message(bundled.all!)).toBe('TypeError: OP WarmEcho: type of input parameter i must be int; got str ("seven") instead (Invalid input: expected number, received string)');
    expect(message(bundled.all!)).toBe(message(plain.all!));
  });

  it("still run when the shared zod has been pruned (zod then comes from dflow-ts)", async () => {
    const bundle = (await bundleFor(opModule))!;
    const dir = path.join(cache, "ops");
    for (const f of fs.readdirSync(dir)) if (f.startsWith("zod-")) fs.renameSync(path.join(dir, f), path.join(cache, f));
    try {
      const r = await runStep("3", bundle);
      expect(r.exitCode, r.all).toBe(0);
      expect(r.ran).toBe(true);
    } finally {
      for (const f of fs.readdirSync(cache)) if (f.startsWith("zod-")) fs.renameSync(path.join(cache, f), path.join(dir, f));
    }
  });

  it("are named after their content: the same module gives the same file in another engine", async () => {
    const first = (await bundleFor(opModule))!;
    const other = await execa(process.execPath, ["--input-type=module", "-e", `const m = await import(${JSON.stringify(path.join(root, "dist/engine/ts-op-bundle.js"))}); process.stdout.write(await m.bundleFor(${JSON.stringify(opModule)}))`], { env: { DFLOW_TS_CACHE: cache } });
    expect(other.stdout).toBe(first);
  });
});

describe("a bundle built by an earlier engine", () => {
  // Another engine process in which esbuild cannot be loaded: a bundle it returns was reused, not built.
  const noEsbuild = `data:text/javascript,${encodeURIComponent('export async function resolve(s, c, next) { if (s === "esbuild") throw new Error("esbuild blocked by the test"); return next(s, c); }')}`;
  const register = `import { register } from "node:module"; register(${JSON.stringify(noEsbuild)});`;
  async function otherEngine(module: string, blocked: boolean): Promise<string> {
    const code = `const m = await import(${JSON.stringify(path.join(root, "dist/engine/ts-op-bundle.js"))}); process.stdout.write(String(await m.bundleFor(${JSON.stringify(module)})))`;
    const args = blocked ? ["--import", `data:text/javascript,${encodeURIComponent(register)}`] : [];
    return (await execa(process.execPath, [...args, "--input-type=module", "-e", code], { env: { DFLOW_TS_CACHE: cache } })).stdout;
  }
  // A copy of the OP module inside the checkout (so that "dflow-ts" resolves), with a helper module of its own.
  const dir = fs.mkdtempSync(path.join(root, "test-output", "op-bundle-"));
  const op = path.join(dir, "op.ts");
  const helper = path.join(dir, "helper.ts");
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("is reused by the next engine without starting esbuild, and rebuilt when the module or a file it imports changes", async () => {
    fs.writeFileSync(helper, 'export const greeting = "hello";\n');
    fs.writeFileSync(op, `import { greeting } from "./helper.js";\n${fs.readFileSync(opModule, "utf8")}\nexport const g = greeting;\n`);
    const first = await otherEngine(op, false);
    expect(first).toMatch(/\.mjs$/);
    // The check itself: with esbuild blocked, bundling fails (null: steps then load the module through tsx).
    expect(await otherEngine(path.join(dir, "never-bundled.ts"), true)).toBe("null");
    expect(await otherEngine(op, true)).toBe(first);
    // An edit (another size) to the imported helper: the old bundle is not reused...
    fs.writeFileSync(helper, 'export const greeting = "hello, world";\n');
    expect(await otherEngine(op, true)).toBe("null");
    // ...the next engine that can build does, and the one after reuses that.
    const second = await otherEngine(op, false);
    expect(second).not.toBe(first);
    expect(fs.readFileSync(second, "utf8")).toContain("hello, world");
    expect(await otherEngine(op, true)).toBe(second);
    // The same for the OP module itself, edited in place with the same size (only its mtime tells).
    const text = fs.readFileSync(op, "utf8");
    fs.writeFileSync(op, text.replace("hello", "HELLO"));
    fs.utimesSync(op, new Date(), new Date(Date.now() + 5000));
    expect(await otherEngine(op, true)).toBe("null");
  });
});

describe("the bundle cache", () => {
  const day = 86_400_000;
  const now = Date.now();
  function files(spec: Record<string, { ageDays: number; size: number }>): string {
    const dir = fs.mkdtempSync(path.join(cache, "prune-"));
    for (const [name, f] of Object.entries(spec)) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, Buffer.alloc(f.size));
      const t = new Date(now - f.ageDays * day);
      fs.utimesSync(file, t, t);
    }
    return dir;
  }

  it("loses what was not used for the maximum age, and what is in use stays whatever its age", () => {
    const dir = files({ "old.mjs": { ageDays: 9, size: 10 }, "kept.mjs": { ageDays: 9, size: 10 }, "fresh.mjs": { ageDays: 1, size: 10 }, "x.mjs.tmp-123": { ageDays: 1, size: 10 } });
    pruneCache(dir, { maxAgeMs: 7 * day, maxBytes: 1e9, keep: new Set([path.join(dir, "kept.mjs")]), now });
    expect(fs.readdirSync(dir).sort()).toEqual(["fresh.mjs", "kept.mjs"]);
  });

  it("stays under its size, dropping the least recently used first", () => {
    const dir = files({ "a.mjs": { ageDays: 3, size: 100 }, "b.mjs": { ageDays: 2, size: 100 }, "c.mjs": { ageDays: 1, size: 100 } });
    pruneCache(dir, { maxAgeMs: 7 * day, maxBytes: 150, now });
    expect(fs.readdirSync(dir)).toEqual(["c.mjs"]);
  });

  it("an engine marks what it uses as recently used and prunes at most once", async () => {
    const bundle = (await bundleFor(opModule))!;
    const old = new Date(now - 30 * day);
    const stale = path.join(cache, "ops", "stale-0000000000000000.mjs");
    fs.writeFileSync(stale, "");
    fs.utimesSync(stale, old, old);
    fs.utimesSync(bundle, old, old);
    // Another engine process: it touches the bundle it uses and deletes the stale file.
    await execa(process.execPath, ["--input-type=module", "-e", `const m = await import(${JSON.stringify(path.join(root, "dist/engine/ts-op-bundle.js"))}); await m.bundleFor(${JSON.stringify(opModule)})`], { env: { DFLOW_TS_CACHE: cache } });
    expect(fs.existsSync(stale)).toBe(false);
    expect(now - fs.statSync(bundle).mtimeMs).toBeLessThan(day);
  });
});
