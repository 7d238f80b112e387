// dflow resubmit and retry after fixing a failed step, through the binary:
// resubmit makes a new workflow reusing the succeeded keyed steps; retry
// continues the same workflow; neither runs a succeeded step again.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");
const cli = path.join(root, "dist", "src", "cli.js");
const script = path.join(root, "fixtures", "workflows", "fixable.ts");

async function setup() {
  const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-ts-control-")));
  const env = { COUNTER: path.join(cwd, "counter.txt"), FIXED_MARKER: path.join(cwd, "fixed") };
  const first = await execa(process.execPath, [cli, "run", script], { cwd, env, reject: false, all: true });
  expect(first.exitCode, first.all).toBe(1);
  const id = /RESULT (fixable-\w{5}) Failed/.exec(first.stdout)![1];
  const ran = () => fs.readFileSync(env.COUNTER, "utf8").trim().split("\n");
  expect(ran()).toEqual(["first", "middle"]);
  fs.writeFileSync(env.FIXED_MARKER, "");
  return { cwd, env, id, ran };
}

describe("dflow resubmit / retry", () => {
  it("resubmit: a new workflow that reuses the succeeded keyed step and runs the rest", async () => {
    const { cwd, env, id, ran } = await setup();
    const r = await execa(process.execPath, [cli, "resubmit", id], { cwd, env, reject: false, all: true });
    expect(r.exitCode, r.all).toBe(0);
    const newId = /RESULT (fixable-\w{5}) Succeeded 8/.exec(r.stdout)?.[1];
    expect(newId, r.all).toBeDefined();
    expect(newId).not.toBe(id);
    expect(ran()).toEqual(["first", "middle", "middle", "last"]);
    // The reused step's directory holds only what reuse copies.
    expect(fs.readdirSync(path.join(cwd, newId!, "first")).sort()).toEqual(["inputs", "name", "outputs", "phase", "type"]);
    expect(fs.readFileSync(path.join(cwd, id, "status"), "utf8")).toBe("Failed");
  });

  it("retry: the same workflow continues; the failed step re-runs in its directory", async () => {
    const { cwd, env, id, ran } = await setup();
    const firstLog = fs.statSync(path.join(cwd, id, "first", "log.txt")).mtimeMs;
    const r = await execa(process.execPath, [cli, "retry", id], { cwd, env, reject: false, all: true });
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`RESULT ${id} Succeeded 8`));
    expect(ran()).toEqual(["first", "middle", "middle", "last"]);
    expect(fs.statSync(path.join(cwd, id, "first", "log.txt")).mtimeMs).toBe(firstLog);
    expect(fs.readFileSync(path.join(cwd, id, "middle", "phase"), "utf8")).toBe("Succeeded");
    expect(fs.existsSync(path.join(cwd, id, "middle", "message"))).toBe(false);
  });

  it("an unknown id is one line and exit status 2", async () => {
    for (const cmd of ["retry", "resubmit", "stop"]) {
      const r = await execa(process.execPath, [cli, cmd, "nope-12345"], { reject: false, all: true });
      expect(r.exitCode, cmd).toBe(2);
      expect(r.stderr.trim().split("\n").length, cmd).toBe(1);
      expect(r.stderr, cmd).toMatch(/^dflow: no workflow "nope-12345"/);
    }
  });
});
