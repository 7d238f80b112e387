// `dflow dpdisp submit`: DPDispatcher's submission file run without writing a workflow
// (upstream's test_submit: dry-run says "submission succeeded", a run says "was submitted" and
// "finished" and leaves task1/log with "hello").
import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { useTempWorkdir } from "./support/workdir.js";

const root = path.resolve(import.meta.dirname, "..");
const cli = path.join(root, "dist", "src", "cli.js");
const example = path.join(root, "test", "reference", "dpdispatcher", "examples", "submit_example.json");
const ws = useTempWorkdir();

describe("dflow dpdisp submit", () => {
  it("runs examples/submit_example.json (Shell, LazyLocalContext)", async () => {
    fs.mkdirSync(path.join(ws.dir, "0_md", "task1"), { recursive: true });
    fs.copyFileSync(example, "submit.json");
    const dry = await execa(process.execPath, [cli, "dpdisp", "submit", "submit.json", "--dry-run"], { reject: false, all: true });
    expect(dry.exitCode, dry.all).toBe(0);
    expect(dry.stdout).toContain("submission succeeded");
    expect(fs.existsSync(path.join("0_md", "task1", "log"))).toBe(false);
    const r = await execa(process.execPath, [cli, "dpdisp", "submit", "submit.json", "--check-interval", "0.2"], { reject: false, all: true });
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toContain("was submitted");
    expect(r.stdout).toContain("finished");
    expect(fs.readFileSync(path.join("0_md", "task1", "log"), "utf8")).toBe("hello\n");
  });

  it("names the bad key of an invalid file and exits 2", async () => {
    const doc = JSON.parse(fs.readFileSync(example, "utf8"));
    doc.machine.context_type = "lazy_local";
    fs.writeFileSync("bad.json", JSON.stringify(doc));
    const r = await execa(process.execPath, [cli, "dpdisp", "submit", "bad.json"], { reject: false, all: true });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/machine\.context_type/);
    expect(r.stderr).toMatch(/lazy_local/);
  });

  it("refuses $ref includes with a hint", async () => {
    const doc = JSON.parse(fs.readFileSync(example, "utf8"));
    doc.machine = { $ref: "machine.json" };
    fs.writeFileSync("ref.json", JSON.stringify(doc));
    const r = await execa(process.execPath, [cli, "dpdisp", "submit", "ref.json"], { reject: false, all: true });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/\$ref/);
  });
});
