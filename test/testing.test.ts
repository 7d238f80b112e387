// dflow-ts/testing: runOP runs one OP in a temporary directory and returns
// its typed outputs, or throws an OPFailure with the step's message.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DflowConfigError, OPFailure, config } from "dflow-ts";
import { runOP } from "dflow-ts/testing";
import { Duplicate } from "../fixtures/ops/test_python.js";
import { IntIn, Thrower } from "../fixtures/ops/failing.js";

describe("runOP", () => {
  let dir = "";
  const start = process.cwd();
  beforeAll(() => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-ts-testing-")));
    process.chdir(dir);
    fs.writeFileSync("foo.txt", "Hi");
    fs.mkdirSync("tidir");
    fs.writeFileSync("tidir/f1", "foo");
    fs.writeFileSync("tidir/f2", "bar");
  });
  afterAll(() => {
    process.chdir(start);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("returns typed output parameters and output artifact paths, and restores the config", async () => {
    const before = config.debug_workdir;
    const r = await runOP(Duplicate, { parameters: { msg: "Hello", num: 3 }, artifacts: { foo: "foo.txt", idir: "tidir" } });
    expect(config.debug_workdir).toBe(before);
    expect(r.outputs.msg).toBe("HelloHelloHello");
    expect(fs.readFileSync(r.outputs.bar as string, "utf8")).toBe("HiHiHi");
    expect(fs.readFileSync(path.join(r.outputs.odir as string, "f1"), "utf8")).toBe("foofoofoo");
    expect(r.outputs.bar).toMatch(/outputs\/artifacts\/bar\/output.txt$/);
    expect(r.workdir.startsWith(os.tmpdir()) || r.workdir.startsWith(fs.realpathSync(os.tmpdir()))).toBe(true);
    expect(path.relative(r.workdir, r.outputs.bar as string).startsWith("..")).toBe(false);
    // Nothing was written to the current directory.
    expect(fs.readdirSync(".").sort()).toEqual(["foo.txt", "tidir"]);

    const n = await runOP(IntIn, { parameters: { num: 21 } });
    expect(n.outputs.twice).toBe(42);
    expect(typeof n.outputs.twice).toBe("number");
  });

  it("throws an OPFailure carrying the step's message and log", async () => {
    const err = await runOP(Thrower, {}).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(OPFailure);
    const f = err as OPFailure & { log: string; workdir: string };
    expect(f.message).toContain(Thrower.MESSAGE);
    expect(f.log).toContain(Thrower.MESSAGE);
    expect(f.kind).toBe("op");
    expect(fs.existsSync(f.workdir)).toBe(true);
  });

  it("rejects an input of the wrong type before running, with a DflowConfigError naming it", async () => {
    // A literal that does not fit the OP's sign is the caller's mistake, found at submit (nothing runs).
    const err = await runOP(IntIn, { parameters: { num: "notint" } }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(DflowConfigError);
    expect((err as Error).message).toMatch(/parameter num/);
  });

  it("runs in a given workdir and keeps it", async () => {
    const wd = path.join(dir, "wd");
    const r = await runOP(IntIn, { parameters: { num: 2 } }, { workdir: wd });
    expect(r.workdir).toBe(wd);
    expect(r.outputs.twice).toBe(4);
    expect(fs.readdirSync(wd).some((e) => e.startsWith("runop-"))).toBe(true);
  });
});
