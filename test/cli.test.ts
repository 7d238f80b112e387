// The `dflow` binary: exit status, and a workflow read back by id from
// another process (the test process) after the binary ran it.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { Workflow, reset_config } from "dflow-ts";

const root = path.resolve(import.meta.dirname, "..");
const cli = path.join(root, "dist", "src", "cli.js");

function tmp(): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-ts-cli-")));
}

describe("dflow run", () => {
  it("exits 0 for a succeeded workflow, and the workflow can be read back by id from another process", async () => {
    const cwd = tmp();
    const r = await execa(process.execPath, [cli, "run", path.join(root, "examples", "nested-steps-in-dag.ts")], { cwd, reject: false, all: true });
    expect(r.exitCode, r.all).toBe(0);
    const id = /ID: (nested-[0-9a-z]{5})/.exec(r.all ?? "")?.[1];
    expect(id).toBeDefined();

    reset_config({ ...process.env, DFLOW_DEBUG_WORKDIR: cwd });
    const wf = new Workflow({ id });
    expect(await wf.wait(0.1)).toBe("Succeeded");
    expect(wf.query_status()).toBe("Succeeded");
    const [report] = wf.query_step({ name: "report" });
    expect(report.phase).toBe("Succeeded");
    expect(String(report.outputs.parameters.sum.value).trim()).toBe("41");
    expect(report.finishedAt).not.toBeNull();
    expect(report.duration).toBeGreaterThanOrEqual(0);
    // Steps of the nested Steps template are found by name too, and listed by start time.
    expect(wf.query_step({ name: ["twice", "plus-one"] }).map((s) => s.displayName)).toEqual(["twice", "plus-one"]);
    expect(wf.query_step({ name: /(twice|plus-.*)/ }).map((s) => s.displayName).sort()).toEqual(["plus-one", "twice"]);
    expect(wf.query_step({ name: /plus/ }).length).toBe(0); // whole-name match
    reset_config();
    fs.rmSync(cwd, { recursive: true, force: true });
  });

  it("exits 1 when a workflow fails, 2 for a missing script", async () => {
    const cwd = tmp();
    const failed = await execa(process.execPath, [cli, "run", path.join(root, "examples", "failure.ts")], { cwd, reject: false, all: true });
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toMatch(/workflow failure-[0-9a-z]{5} Failed/);
    const missing = await execa(process.execPath, [cli, "run", "nope.ts"], { cwd, reject: false, all: true });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr.trim()).toBe("dflow: no such workflow script: nope.ts");
    fs.rmSync(cwd, { recursive: true, force: true });
  });

  it("exits with the script's own status when the script throws", async () => {
    const cwd = tmp();
    fs.writeFileSync(path.join(cwd, "bad.ts"), 'import { Workflow } from "dflow-ts";\nnew Workflow({ name: "Bad_Name" });\n');
    // The script imports dflow-ts by name: link this checkout in as a dependency.
    fs.mkdirSync(path.join(cwd, "node_modules"));
    fs.symlinkSync(root, path.join(cwd, "node_modules", "dflow-ts"));
    const r = await execa(process.execPath, [cli, "run", "bad.ts"], { cwd, reject: false, all: true });
    expect(r.exitCode).toBe(1);
    expect(r.all).toMatch(/invalid workflow name "Bad_Name"/);
    fs.rmSync(cwd, { recursive: true, force: true });
  });
});
