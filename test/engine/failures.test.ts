// Failure handling and the reference quirks the engine must not reproduce
// (spec §3, §12): atomic state files, final phases with a reason on every
// failure path, names refused before anything runs, and Q1/Q3/Q4/Q12/Q13/
// Q19/Q22/Q26/Q28.
import fs from "node:fs";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import {
  DAG,
  DflowConfigError,
  InputArtifact,
  InputParameter,
  Inputs,
  OutputArtifact,
  OutputParameter,
  Outputs,
  ShellOPTemplate,
  Step,
  Steps,
  Task,
  TsOPTemplate,
  Workflow,
  expr,
  set_config,
  upload_artifact,
  type OPTemplate,
  type StepOptions,
  type SubmitResult,
} from "dflow-ts";
import { IntIn, Thrower, WrongOutput } from "../../fixtures/ops/failing.js";
import { read, useTempWorkdir } from "../support/workdir.js";

const FINAL = ["Succeeded", "Failed"];

function shell(name: string, script: string, extra: { inputs?: Inputs; outputs?: Outputs } = {}): ShellOPTemplate {
  return new ShellOPTemplate({ name, script, ...extra });
}

function children(dir: string): Record<string, string> {
  return JSON.parse(read(path.join(dir, "children"))) as Record<string, string>;
}

/** Every path under `root` (symlinks not followed). */
function walk(root: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(root, { withFileTypes: true })) {
    const p = path.join(root, e.name);
    out.push(p);
    if (e.isDirectory() && !e.isSymbolicLink()) walk(p, out);
  }
  return out;
}

/** The step directories (directories with a `type` file) directly in the workflow dir. */
function stepDirs(wfdir: string): string[] {
  return fs
    .readdirSync(wfdir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(wfdir, e.name, "type")))
    .map((e) => path.join(wfdir, e.name));
}

/** The directory of the step named `name` (the `name` file), exactly one. */
function dirOf(wfdir: string, name: string): string {
  const found = stepDirs(wfdir).filter((d) => read(path.join(d, "name")) === name);
  expect(found, `step dirs named ${name}`).toHaveLength(1);
  return found[0]!;
}

function hasDirNamed(wfdir: string, name: string): boolean {
  return stepDirs(wfdir).some((d) => read(path.join(d, "name")) === name);
}

/** Assert the workflow failed cleanly: submit resolved Failed, status and message on disk. */
function expectWorkflowFailed(res: SubmitResult, wf: Workflow, wfdir: string): void {
  expect(res.status).toBe("Failed");
  expect(res.id).toBe(wf.id);
  expect(read(path.join(wfdir, "status"))).toBe("Failed");
  expect(fs.existsSync(path.join(wfdir, "message"))).toBe(true);
  expect(read(path.join(wfdir, "message")).trim()).not.toBe("");
}

/** Run one step in a fresh workflow; submit must resolve (never throw). */
async function runOne(cwd: string, wfName: string, opts: StepOptions): Promise<{ res: SubmitResult; wf: Workflow; wfdir: string; stepDir: string }> {
  const wf = new Workflow({ name: wfName });
  wf.add(new Step(opts));
  const res = await wf.submit();
  const wfdir = path.join(cwd, res.id);
  const ch = children(wfdir);
  expect(Object.keys(ch)).toEqual(["0-0"]);
  return { res, wf, wfdir, stepDir: path.join(wfdir, ch["0-0"]!) };
}

/** Assert a step failed cleanly: phase Failed, a message naming every `needles`. */
function expectStepFailed(stepDir: string, ...needles: string[]): string {
  expect(read(path.join(stepDir, "phase"))).toBe("Failed");
  expect(fs.existsSync(path.join(stepDir, "message"))).toBe(true);
  const msg = read(path.join(stepDir, "message"));
  for (const n of needles) expect(msg).toContain(n);
  return msg;
}

// A poller in another thread of this process: reads every state file it can
// find, as fast as it can, until told to stop. It runs while the engine (on
// the main thread) writes the files, so a non-atomic write would be seen
// empty or half-written.
const POLLER = `
const { workerData, parentPort } = require("node:worker_threads");
const fs = require("node:fs");
const path = require("node:path");
const stop = new Int32Array(workerData.flag);
const root = workerData.root;
let gateOpen = false;
const valid = {
  status: ["Running", "Succeeded", "Failed"],
  phase: ["Pending", "Running", "Succeeded", "Failed"],
  type: ["Pod", "Steps", "DAG"],
};
const bad = [];
const counts = { status: 0, phase: 0, type: 0, children: 0 };
const seen = { status: new Set(), phase: new Set() };
let rounds = 0;
function check(file, kind) {
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if (e.code === "ENOENT" || e.code === "ENOTDIR") return;
    bad.push(file + ": read error " + e.code);
    return;
  }
  counts[kind]++;
  if (kind === "children") {
    try {
      const v = JSON.parse(text);
      if (!v || typeof v !== "object" || Array.isArray(v) || Object.values(v).some((x) => typeof x !== "string")) bad.push(file + ": not an object of strings: " + JSON.stringify(text));
    } catch (e) {
      bad.push(file + ": invalid JSON " + JSON.stringify(text));
    }
  } else {
    if (!valid[kind].includes(text)) bad.push(file + ": " + JSON.stringify(text));
    if (seen[kind]) seen[kind].add(text);
  }
}
function dirs(d) {
  try {
    return fs.readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(d, e.name));
  } catch (e) {
    return [];
  }
}
while (Atomics.load(stop, 0) === 0) {
  rounds++;
  // The run's last step waits for this file: the poller has really watched a running workflow,
  // however slowly this machine let it start.
  if (!gateOpen && rounds > 10 && counts.phase > 10 && counts.children > 0 && seen.status.has("Running") && seen.phase.has("Running")) {
    fs.writeFileSync(workerData.gate, "");
    gateOpen = true;
  }
  for (const wd of dirs(root)) {
    check(path.join(wd, "status"), "status");
    check(path.join(wd, "type"), "type");
    check(path.join(wd, "children"), "children");
    for (const sd of dirs(wd)) {
      check(path.join(sd, "phase"), "phase");
      check(path.join(sd, "type"), "type");
      check(path.join(sd, "children"), "children");
    }
  }
}
parentPort.postMessage({ bad: bad.slice(0, 20), nbad: bad.length, counts, rounds, seen: { status: [...seen.status], phase: [...seen.phase] } });
`;

interface PollReport {
  bad: string[];
  nbad: number;
  counts: Record<string, number>;
  rounds: number;
  seen: { status: string[]; phase: string[] };
}

describe("engine failures and quirks", () => {
  const wd = useTempWorkdir();

  // 1 -------------------------------------------------------------------------
  it("state files are written whole by a single writer; no temp files remain", async () => {
    set_config({ debug_pool_workers: -1 });
    const work = (n: string, secs: number) =>
      shell(n, `echo start ${n}\nsleep ${secs}\nprintf ${n} > /tmp/out\necho done ${n} >&2\n`, {
        outputs: new Outputs({ parameters: { out: new OutputParameter({ value_from_path: "/tmp/out" }) } }),
      });
    const inner = new Steps({ name: "inner" });
    inner.add(new Step({ name: "in1", template: work("w-in1", 0.1) }));
    inner.add([new Step({ name: "in2", template: work("w-in2", 0.2) }), new Step({ name: "in3", template: work("w-in3", 0.1) })]);

    const wf = new Workflow({ name: "atomic" });
    wf.add(new Step({ name: "s1", template: work("w-s1", 0.2) }));
    wf.add([new Step({ name: "p1", template: work("w-p1", 0.4) }), new Step({ name: "p2", template: work("w-p2", 0.3) })]);
    wf.add(new Step({ name: "s2", template: work("w-s2", 0.1) }));
    wf.add(new Step({ name: "nested", template: inner }));
    const gate = path.join(path.dirname(wd.dir), `${path.basename(wd.dir)}.poller-gate`);
    const last = shell("w-s3", 'echo start w-s3\nwhile [ ! -e {{inputs.parameters.gate}} ]; do sleep 0.05; done\nprintf w-s3 > /tmp/out\necho done w-s3 >&2\n', {
      inputs: new Inputs({ parameters: { gate: new InputParameter({ value: gate }) } }),
      outputs: new Outputs({ parameters: { out: new OutputParameter({ value_from_path: "/tmp/out" }) } }),
    });
    wf.add(new Step({ name: "s3", template: last }));

    const flag = new SharedArrayBuffer(4);
    const worker = new Worker(POLLER, { eval: true, workerData: { root: wd.dir, flag, gate } });
    const report = new Promise<PollReport>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    let res: SubmitResult;
    try {
      res = await wf.submit();
    } finally {
      Atomics.store(new Int32Array(flag), 0, 1);
    }
    const r = await report;
    await worker.terminate();
    fs.rmSync(gate, { force: true });

    expect(res.status).toBe("Succeeded");
    expect(r.bad, `${r.nbad} bad reads`).toEqual([]);
    // The poller really watched the run.
    expect(r.rounds).toBeGreaterThan(10);
    expect(r.counts.phase).toBeGreaterThan(10);
    expect(r.counts.children).toBeGreaterThan(0);
    expect(r.seen.phase).toContain("Running");
    expect(r.seen.status).toContain("Running");

    const wfdir = path.join(wd.dir, res.id);
    expect(Object.keys(children(wfdir)).sort()).toEqual(["0-0", "1-0", "1-1", "2-0", "3-0", "4-0"]);
    expect(Object.keys(children(dirOf(wfdir, "nested"))).sort()).toEqual(["0-0", "1-0", "1-1"]);
    for (const d of stepDirs(wfdir)) expect(read(path.join(d, "phase"))).toBe("Succeeded");

    const leftovers = walk(wd.dir).filter((p) => path.basename(p).includes(".tmp-"));
    expect(leftovers).toEqual([]);
  });

  // 2 -------------------------------------------------------------------------
  describe("every failure leaves a final phase and a reason", () => {
    it("(a) a shell script exiting 3", async () => {
      const { res, wf, wfdir, stepDir } = await runOne(wd.dir, "fail-exit", { name: "ex", template: shell("exit3", "echo about to fail\nexit 3\n") });
      expectStepFailed(stepDir, "exited with code 3");
      expectWorkflowFailed(res, wf, wfdir);
    });

    it("(b) a TS OP that throws", async () => {
      const { res, wf, wfdir, stepDir } = await runOne(wd.dir, "fail-throw", { name: "thrower", template: new TsOPTemplate(Thrower) });
      expectStepFailed(stepDir, Thrower.MESSAGE);
      expectWorkflowFailed(res, wf, wfdir);
    });

    it("(c) a TS OP returning an output of the wrong type", async () => {
      const { res, wf, wfdir, stepDir } = await runOne(wd.dir, "fail-outtype", { name: "wrong", template: new TsOPTemplate(WrongOutput) });
      expectStepFailed(stepDir, "must be int", "count");
      expectWorkflowFailed(res, wf, wfdir);
    });

    it("(d) a value_from_path output file that was not written, without default", async () => {
      const t = shell("no-out", "echo nothing written\n", {
        outputs: new Outputs({ parameters: { result_value: new OutputParameter({ value_from_path: "/tmp/outputs/parameters/result_value" }) } }),
      });
      const { res, wf, wfdir, stepDir } = await runOne(wd.dir, "fail-vfp", { name: "nofile", template: t });
      expectStepFailed(stepDir, "result_value");
      expect(fs.existsSync(path.join(stepDir, "outputs/parameters/result_value"))).toBe(false);
      expectWorkflowFailed(res, wf, wfdir);
    });

    it("(e) a non-optional output artifact that was not created", async () => {
      const t = shell("no-art", "echo nothing created\n", {
        outputs: new Outputs({ artifacts: { missing_art: new OutputArtifact({ path: "/tmp/outputs/artifacts/missing_art" }) } }),
      });
      const { res, wf, wfdir, stepDir } = await runOne(wd.dir, "fail-art", { name: "noart", template: t });
      expectStepFailed(stepDir, "missing_art");
      expect(fs.existsSync(path.join(stepDir, "outputs/artifacts/missing_art"))).toBe(false);
      expectWorkflowFailed(res, wf, wfdir);
    });
  });

  // 3 -------------------------------------------------------------------------
  it("Q4: a missing value_from_path file with a default gives the default", async () => {
    const t = shell("dflt", "echo not writing the output\n", {
      outputs: new Outputs({ parameters: { res: new OutputParameter({ value_from_path: "/tmp/outputs/parameters/res", default: "the-default-7" }) } }),
    });
    const wf = new Workflow({ name: "default-out" });
    const s = new Step({ name: "producer", template: t });
    wf.add(s);
    const consumer = shell("consume", "echo got={{inputs.parameters.v}}\n", { inputs: new Inputs({ parameters: { v: new InputParameter() } }) });
    wf.add(new Step({ name: "consumer", template: consumer, parameters: { v: s.outputs.parameters.res } }));
    const res = await wf.submit();
    expect(res.status).toBe("Succeeded");
    const wfdir = path.join(wd.dir, res.id);
    const prod = dirOf(wfdir, "producer");
    expect(read(path.join(prod, "phase"))).toBe("Succeeded");
    expect(read(path.join(prod, "outputs/parameters/res"))).toBe("the-default-7");
    expect(wf.query_step({ name: "producer" })[0]!.outputs.parameters.res!.value).toBe("the-default-7");
    expect(read(path.join(dirOf(wfdir, "consumer"), "log.txt"))).toBe("got=the-default-7\n");
  });

  // 4 -------------------------------------------------------------------------
  it("an input of the wrong type fails the TS OP with a message naming OP and field", async () => {
    // A computed value: a wrong literal is refused by submit() already (test/sdk/validate.test.ts).
    const { res, wf, wfdir, stepDir } = await runOne(wd.dir, "in-type", { name: "intin", template: new TsOPTemplate(IntIn), parameters: { num: expr`'notint'` } });
    const msg = expectStepFailed(stepDir, "must be int", "IntIn", "num");
    expect(msg).toMatch(/num must be int/);
    expect(fs.existsSync(path.join(stepDir, "outputs/parameters/twice"))).toBe(false);
    expectWorkflowFailed(res, wf, wfdir);
  });

  // 5 -------------------------------------------------------------------------
  it("bad names are refused before anything runs", async () => {
    const ok = shell("ok", "echo ok\n", { inputs: new Inputs({ parameters: { p: new InputParameter({ value: "x" }) } }), outputs: new Outputs({ parameters: { msg: new OutputParameter({ value: "m" }) } }) });
    const refuse = (fn: () => unknown, ...needles: (string | RegExp)[]) => {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(err, `expected a DflowConfigError for ${String(needles[0])}`).toBeInstanceOf(DflowConfigError);
      for (const n of needles) expect((err as Error).message).toMatch(n);
      expect(fs.readdirSync(wd.dir)).toEqual([]);
    };

    // workflow name
    refuse(() => new Workflow({ name: "Bad_Name" }), '"Bad_Name"', /RFC 1123/);
    // step name
    refuse(() => new Step({ name: "-x", template: ok }), '"-x"', /start with a letter or digit/);
    // parameter name
    refuse(() => new Step({ name: "s", template: ok, parameters: { "bad.name": 1 } }), '"bad.name"', /letters, digits, '_' or '-'/);
    // key
    refuse(() => new Step({ name: "s", template: ok, key: "Bad.Key" }), '"Bad.Key"', /lowercase letters, digits or '-'/);
    // reserved key
    refuse(() => new Step({ name: "s", template: ok, key: "status" }), '"status"', /names an entry of the workflow directory/);
    // parameter not declared by the template
    refuse(() => new Step({ name: "s", template: ok, parameters: { undeclared_p: 1 } }), "undeclared_p", /not declared by the template/, /declared: p/);
    // non-existent step output
    const hello = new Step({ name: "hello", template: ok });
    refuse(() => hello.outputs.parameters.nope, '"nope"', /hello has no output parameter/, /declared: msg/);

    // Workflow-level: a template broken after its step was built is refused at
    // submit, before the workflow directory exists.
    const late = shell("late", "echo late\n");
    const wf = new Workflow({ name: "late-bad" });
    wf.add(new Step({ name: "late", template: late }));
    late.inputs.parameters["bad name"] = new InputParameter({ value: 1 });
    let err: unknown;
    try {
      await wf.submit();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DflowConfigError);
    expect((err as Error).message).toContain('"bad name"');
    expect((err as Error).message).toMatch(/letters, digits, '_' or '-'/);
    expect(fs.readdirSync(wd.dir)).toEqual([]);
  });

  // 6 -------------------------------------------------------------------------
  it("string references to a missing step output or an unknown input are refused before anything runs", async () => {
    const hello = shell("hello-t", "printf hi > /tmp/msg\n", { outputs: new Outputs({ parameters: { msg: new OutputParameter({ value_from_path: "/tmp/msg" }) } }) });
    const echo = shell("echo-t", "echo {{inputs.parameters.v}}\n", { inputs: new Inputs({ parameters: { v: new InputParameter() } }) });

    const wf1 = new Workflow({ name: "ref-missing-out" });
    wf1.add(new Step({ name: "hello", template: hello }));
    wf1.add(new Step({ name: "use-nope", template: echo, parameters: { v: "{{steps.hello.outputs.parameters.nope}}" } }));
    await expect(wf1.submit()).rejects.toThrow(/^workflow ref-missing-out, step use-nope, parameter v: refers to output parameter nope of step hello/);

    const wf2 = new Workflow({ name: "ref-unknown-in" });
    wf2.add(new Step({ name: "use-ghost", template: echo, parameters: { v: "{{inputs.parameters.ghost}}" } }));
    await expect(wf2.submit()).rejects.toThrow(/^workflow ref-unknown-in, step use-ghost, parameter v: refers to input parameter ghost/);
    expect(fs.readdirSync(wd.dir)).toEqual([]);
  });

  // 7 -------------------------------------------------------------------------
  it("a missing input artifact fails the step with its path in the message", async () => {
    fs.writeFileSync("gone.txt", "soon gone");
    const art = await upload_artifact("gone.txt");
    fs.rmSync("gone.txt");
    fs.rmSync(art.local_path, { recursive: true, force: true });
    const t = shell("reader", "cat /tmp/in/gone.txt\n", { inputs: new Inputs({ artifacts: { infile: new InputArtifact({ path: "/tmp/in" }) } }) });
    const { res, wf, wfdir, stepDir } = await runOne(wd.dir, "art-missing", { name: "reader", template: t, artifacts: { infile: art } });
    expectStepFailed(stepDir, art.local_path, "infile");
    expectWorkflowFailed(res, wf, wfdir);
  });

  // 8 -------------------------------------------------------------------------
  it("Q1: after a failed step with continue_on_failed, later steps live directly in the workflow dir", async () => {
    const wf = new Workflow({ name: "q1" });
    wf.add(new Step({ name: "bad", template: shell("bad-t", "echo failing\nexit 1\n"), continue_on_failed: true }));
    wf.add(new Step({ name: "next1", template: shell("pwd-t", "pwd\n") }));
    wf.add([new Step({ name: "par1", template: shell("pwd-t2", "pwd\n") }), new Step({ name: "par2", template: shell("pwd-t3", "pwd\n") })]);
    wf.add(new Step({ name: "next2", template: shell("pwd-t4", "pwd\n") }));
    const res = await wf.submit();
    expect(res.status).toBe("Succeeded");
    const wfdir = path.join(wd.dir, res.id);
    expect(read(path.join(wfdir, "status"))).toBe("Succeeded");

    const ch = children(wfdir);
    expect(Object.keys(ch).sort()).toEqual(["0-0", "1-0", "2-0", "2-1", "3-0"]);
    for (const name of Object.values(ch)) {
      expect(name).not.toContain("/");
      expect(fs.statSync(path.join(wfdir, name)).isDirectory()).toBe(true);
    }
    const bad = dirOf(wfdir, "bad");
    expectStepFailed(bad, "exited with code 1");
    // Nothing nested inside the failed step's workdir.
    expect(fs.readdirSync(path.join(bad, "workdir"))).toEqual(["tmp"]);
    for (const n of ["next1", "par1", "par2", "next2"]) {
      const d = dirOf(wfdir, n);
      expect(path.dirname(d)).toBe(wfdir);
      expect(read(path.join(d, "phase"))).toBe("Succeeded");
      expect(read(path.join(d, "log.txt"))).toBe(`${path.join(d, "workdir")}\n`);
    }
  });

  // 9 -------------------------------------------------------------------------
  it("Q3: a keyed and an unkeyed step share a template; the template is not mutated", async () => {
    const t = shell("shared", "echo shared\n", { inputs: new Inputs({ parameters: { p: new InputParameter({ value: "v" }) } }) });
    const wf = new Workflow({ name: "q3" });
    wf.add(new Step({ name: "keyed", template: t, key: "my-key" }));
    wf.add(new Step({ name: "unkeyed", template: t }));
    expect(Object.keys(t.inputs.parameters)).toEqual(["p"]);
    const res = await wf.submit();
    expect(res.status).toBe("Succeeded");
    expect(Object.keys(t.inputs.parameters)).toEqual(["p"]);
    const wfdir = path.join(wd.dir, res.id);

    const keyed = path.join(wfdir, "my-key");
    expect(read(path.join(keyed, "phase"))).toBe("Succeeded");
    expect(read(path.join(keyed, "name"))).toBe("keyed");
    expect(read(path.join(keyed, "inputs/parameters/dflow_key"))).toBe("my-key");

    const unkeyed = dirOf(wfdir, "unkeyed");
    expect(path.basename(unkeyed)).toMatch(new RegExp(`^${res.id}-unkeyed-[0-9a-z]{5}$`));
    expect(read(path.join(unkeyed, "phase"))).toBe("Succeeded");
    expect(fs.existsSync(path.join(unkeyed, "inputs/parameters/dflow_key"))).toBe(false);
    expect(read(path.join(unkeyed, "log.txt"))).toBe("shared\n");
    expect(children(wfdir)).toEqual({ "0-0": "my-key", "1-0": path.basename(unkeyed) });
  });

  // 10 ------------------------------------------------------------------------
  it("Q22: only /tmp path components are re-rooted in scripts", async () => {
    const { res, stepDir } = await runOne(wd.dir, "q22", { name: "paths", template: shell("paths-t", "echo /var/tmp/x /tmpfoo /tmp/a\necho data > /tmp/a\n") });
    expect(res.status).toBe("Succeeded");
    const workdir = path.join(stepDir, "workdir");
    const script = read(path.join(stepDir, "script"));
    expect(script).toBe(`echo /var/tmp/x /tmpfoo ${workdir}/tmp/a\necho data > ${workdir}/tmp/a\n`);
    expect(read(path.join(stepDir, "log.txt"))).toBe(`/var/tmp/x /tmpfoo ${workdir}/tmp/a\n`);
    expect(read(path.join(workdir, "tmp/a"))).toBe("data\n");
  });

  // 11 ------------------------------------------------------------------------
  it("Q26: invalid UTF-8 and interleaved stdout/stderr are logged byte for byte", async () => {
    const script = "printf '\\377\\376'\nprintf 'out1\\n'\nprintf 'err1\\n' >&2\nprintf 'out2\\n'\nprintf 'err2 \\200\\n' >&2\n";
    const wf = new Workflow({ name: "q26" });
    wf.add(new Step({ name: "bytes", template: shell("bytes-t", script) }));
    wf.add(new Step({ name: "after", template: shell("after-t", "echo still fine\n") }));
    const res = await wf.submit();
    expect(res.status).toBe("Succeeded");
    const wfdir = path.join(wd.dir, res.id);
    const log = fs.readFileSync(path.join(dirOf(wfdir, "bytes"), "log.txt"));
    const expected = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("out1\nerr1\nout2\nerr2 "), Buffer.from([0x80]), Buffer.from("\n")]);
    expect(log.equals(expected), `log was ${JSON.stringify([...log])}`).toBe(true);
    expect(read(path.join(dirOf(wfdir, "after"), "log.txt"))).toBe("still fine\n");
  });

  // 12 ------------------------------------------------------------------------
  it("Q12/Q13: DAG dependencies are the union of explicit and inferred ones, including string references; cycles are refused", async () => {
    set_config({ debug_pool_workers: -1 });
    const producer = (name: string, secs: number) =>
      shell(name, `date +%s%N > start\nsleep ${secs}\nprintf ${name} > /tmp/msg\ndate +%s%N > end\n`, {
        outputs: new Outputs({ parameters: { msg: new OutputParameter({ value_from_path: "/tmp/msg" }) } }),
      });
    const consumer = () => shell("consumer", "date +%s%N > start\necho got {{inputs.parameters.x}}\n", { inputs: new Inputs({ parameters: { x: new InputParameter() } }) });

    const dag = new DAG({ name: "deps" });
    const a = new Task({ name: "a", template: producer("a", 0.3) }); // fast
    const b = new Task({ name: "b", template: producer("b", 1.5) }); // slow
    // explicit a (fast) + inferred b (slow): "explicit replaces inferred" would start c1 too early
    const c1 = new Task({ name: "c1", template: consumer(), parameters: { x: b.outputs.parameters.msg }, dependencies: [a] });
    // explicit b (slow) + inferred a (fast): "inferred only" would start c2 too early
    const c2 = new Task({ name: "c2", template: consumer(), parameters: { x: a.outputs.parameters.msg }, dependencies: [b] });
    // only a string reference to a
    const d = new Task({ name: "d", template: consumer(), parameters: { x: "{{tasks.a.outputs.parameters.msg}}" } });
    dag.add([c1, c2, d, a, b]);
    const wf = new Workflow({ name: "q12", dag });
    const res = await wf.submit();
    const wfdir = path.join(wd.dir, res.id);
    const stamp = (task: string, f: string) => BigInt(read(path.join(dirOf(wfdir, task), "workdir", f)).trim());

    for (const n of ["a", "b", "c1", "c2", "d"]) expect(read(path.join(dirOf(wfdir, n), "phase")), n).toBe("Succeeded");
    expect(res.status).toBe("Succeeded");
    for (const c of ["c1", "c2"]) {
      expect(stamp(c, "start") > stamp("a", "end"), `${c} starts after a ends`).toBe(true);
      expect(stamp(c, "start") > stamp("b", "end"), `${c} starts after b ends`).toBe(true);
    }
    expect(stamp("d", "start") > stamp("a", "end"), "d starts after a ends").toBe(true);
    expect(read(path.join(dirOf(wfdir, "c1"), "log.txt"))).toBe("got b\n");
    expect(read(path.join(dirOf(wfdir, "c2"), "log.txt"))).toBe("got a\n");
    expect(read(path.join(dirOf(wfdir, "d"), "log.txt"))).toBe("got a\n");

    // A cycle is refused at submit, before a workflow directory is created.
    const before = fs.readdirSync(wd.dir).sort();
    const cyc = new DAG({ name: "cyc" });
    cyc.add([
      new Task({ name: "x", template: shell("cx", "echo x\n"), dependencies: ["y"] }),
      new Task({ name: "y", template: shell("cy", "echo y\n"), dependencies: ["z"] }),
      new Task({ name: "z", template: shell("cz", "echo z\n"), dependencies: ["x"] }),
    ]);
    const wfc = new Workflow({ name: "cycle", dag: cyc });
    let err: unknown;
    try {
      await wfc.submit();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DflowConfigError);
    expect((err as Error).message).toMatch(/cycle/);
    expect(fs.readdirSync(wd.dir).sort()).toEqual(before);
  });

  // 13 ------------------------------------------------------------------------
  it("Q28/Q19: the workflow type file is exactly Steps or DAG; submit returns the id", async () => {
    const wfs = new Workflow({ name: "kind-steps" });
    wfs.add(new Step({ name: "s", template: shell("t1", "echo s\n") }));
    const rs = await wfs.submit();
    expect(rs.id).toBe(wfs.id);
    expect(rs.id).toMatch(/^kind-steps-[0-9a-z]{5}$/);
    expect(fs.statSync(path.join(wd.dir, rs.id)).isDirectory()).toBe(true);
    expect(read(path.join(wd.dir, rs.id, "type"))).toBe("Steps");

    const wfd = new Workflow({ name: "kind-dag" });
    wfd.add(new Task({ name: "t", template: shell("t2", "echo t\n") }));
    const rd = await wfd.submit();
    expect(rd.id).toBe(wfd.id);
    expect(rd.status).toBe("Succeeded");
    expect(fs.statSync(path.join(wd.dir, rd.id)).isDirectory()).toBe(true);
    expect(read(path.join(wd.dir, rd.id, "type"))).toBe("DAG");

    const explicit = new Workflow({ name: "kind-dag2", dag: new DAG({ name: "my-dag" }).add(new Task({ name: "u", template: shell("t3", "echo u\n") })) });
    const re = await explicit.submit();
    expect(read(path.join(wd.dir, re.id, "type"))).toBe("DAG");
  });

  // 14 ------------------------------------------------------------------------
  it("Q2: a nested Steps whose inner step fails is Failed with a message naming the inner step", async () => {
    const inner = new Steps({ name: "inner-steps" });
    inner.add(new Step({ name: "inner-ok", template: shell("ok-t", "echo ok\n") }));
    inner.add(new Step({ name: "inner-bad", template: shell("bad-t", "exit 5\n") }));
    inner.add(new Step({ name: "inner-never", template: shell("never-t", "echo never\n") }));
    const { res, wf, wfdir, stepDir } = await runOne(wd.dir, "nested-fail", { name: "outer", template: inner });
    expectWorkflowFailed(res, wf, wfdir);
    expect(read(path.join(stepDir, "type"))).toBe("Steps");
    expectStepFailed(stepDir, "inner-bad");
    expectStepFailed(dirOf(wfdir, "inner-bad"), "exited with code 5");
    expect(read(path.join(dirOf(wfdir, "inner-ok"), "phase"))).toBe("Succeeded");
    expect(hasDirNamed(wfdir, "inner-never")).toBe(false);
    expect(Object.keys(children(stepDir)).sort()).toEqual(["0-0", "1-0"]);
    expect(read(path.join(wfdir, "message"))).toContain("outer");
  });

  // 15 ------------------------------------------------------------------------
  it("a failing DAG task: running siblings finish with final phases, dependents get no directory", async () => {
    set_config({ debug_pool_workers: -1 });
    const dag = new DAG({ name: "ff" });
    const boom = new Task({ name: "boom", template: shell("boom-t", "exit 7\n") });
    // slow ends only once boom's failure is on disk: it is certainly still running when boom
    // fails, and its dependent must not start, however the two processes are scheduled.
    const slow = new Task({
      name: "slow",
      template: shell("slow-t", "until grep -qsx Failed {{inputs.parameters.root}}/dag-fail-*/dag-fail-*-boom-*/phase; do sleep 0.05; done\nprintf late > /tmp/msg\n", {
        inputs: new Inputs({ parameters: { root: new InputParameter({ value: wd.dir }) } }),
        outputs: new Outputs({ parameters: { msg: new OutputParameter({ value_from_path: "/tmp/msg" }) } }),
      }),
    });
    const afterBoom = new Task({ name: "after-boom", template: shell("ab-t", "echo ab\n"), dependencies: [boom] });
    const afterSlow = new Task({ name: "after-slow", template: shell("as-t", "echo as\n"), dependencies: [slow] });
    dag.add([boom, slow, afterBoom, afterSlow]);
    const wf = new Workflow({ name: "dag-fail", dag });
    const res = await wf.submit();
    const wfdir = path.join(wd.dir, res.id);
    expectWorkflowFailed(res, wf, wfdir);

    for (const d of stepDirs(wfdir)) expect(FINAL, `${d}`).toContain(read(path.join(d, "phase")));
    expectStepFailed(dirOf(wfdir, "boom"), "exited with code 7");
    const s = dirOf(wfdir, "slow");
    expect(read(path.join(s, "phase"))).toBe("Succeeded");
    expect(read(path.join(s, "outputs/parameters/msg"))).toBe("late");
    expect(hasDirNamed(wfdir, "after-boom")).toBe(false);
    // The DAG stopped at the failure: no new task started after it (§3.3).
    expect(hasDirNamed(wfdir, "after-slow")).toBe(false);
    expect(Object.keys(children(wfdir)).sort()).toEqual(["0", "1"]);
    expect(read(path.join(wfdir, "message"))).toContain("boom");
  });
});
