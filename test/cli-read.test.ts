// The read commands of the `dflow` binary (list, get, logs, watch, getkeys,
// download, delete) against workflows that `dflow run` produced: human
// output, --json, exit statuses, and following a running step.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");
const cli = path.join(root, "dist", "src", "cli.js");

// A workflow with a keyed shell step that prints a line, waits for the file
// $DFLOW_TEST_GATE (so the test decides when it ends), sleeps 1 s and prints
// another, and leaves an output artifact.
const SLOW = `import { OutputArtifact, Outputs, ShellOPTemplate, Step, Workflow } from "dflow-ts";
const slow = new ShellOPTemplate({
  name: "slow",
  image: "alpine",
  script: "echo first line\\nwhile [ -n \\"$DFLOW_TEST_GATE\\" ] && [ ! -e \\"$DFLOW_TEST_GATE\\" ]; do sleep 0.05; done\\nsleep 1\\necho second line\\necho data > /tmp/out.txt",
  outputs: new Outputs({ artifacts: { out: new OutputArtifact({ path: "/tmp/out.txt" }) } }),
});
const wf = new Workflow({ name: "slow" });
wf.add(new Step({ name: "slow", template: slow, key: "slow-key" }));
await wf.submit();
`;

// A keyed shell step retried once: its first attempt prints a line and an
// unfinished one, waits for the file $DFLOW_TEST_GATE and fails; the second
// prints a line and succeeds.
const FLAKY = `import { ShellOPTemplate, Step, Workflow } from "dflow-ts";
const flaky = new ShellOPTemplate({
  name: "flaky",
  image: "alpine",
  retry_on_failure: 1,
  script: "if [ ! -e \\"$DFLOW_TEST_GATE.tried\\" ]; then touch \\"$DFLOW_TEST_GATE.tried\\"; echo try 1; printf unfinished; while [ ! -e \\"$DFLOW_TEST_GATE\\" ]; do sleep 0.05; done; exit 1; fi\\necho try 2",
});
const wf = new Workflow({ name: "flaky" });
wf.add(new Step({ name: "flaky", template: flaky, key: "flaky-key" }));
await wf.submit();
`;

let cwd = "";
const env = (): Record<string, string> => ({ DFLOW_DEBUG_WORKDIR: cwd });

function dflow(...args: string[]) {
  return execa(process.execPath, [cli, ...args], { cwd, env: env(), reject: false, stripFinalNewline: false });
}

async function runExample(file: string): Promise<string> {
  const r = await execa(process.execPath, [cli, "run", file], { cwd, env: env(), reject: false, all: true });
  const id = /ID: ([a-z0-9-]+)/.exec(r.all ?? "")?.[1];
  if (!id) throw new Error(`no workflow id in the output of ${file}:\n${r.all}`);
  return id;
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/** Lines of `get`'s step table, from the header row on. */
function tableLines(stdout: string): string[] {
  const lines = stdout.split("\n");
  return lines.slice(lines.findIndex((l) => l.startsWith("STEP")) + 1).filter(Boolean);
}

let nested = "";
let failure = "";
let loops = "";

beforeAll(async () => {
  cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-ts-cli-read-")));
  // Scripts written here import dflow-ts by name: link this checkout in.
  fs.mkdirSync(path.join(cwd, "node_modules"));
  fs.symlinkSync(root, path.join(cwd, "node_modules", "dflow-ts"));
  fs.writeFileSync(path.join(cwd, "slow.mts"), SLOW);
  fs.writeFileSync(path.join(cwd, "flaky.mts"), FLAKY);
  [nested, failure, loops] = await Promise.all(["nested-steps-in-dag.ts", "failure.ts", "loops.ts"].map((f) => runExample(path.join(root, "examples", f))));
});

afterAll(() => {
  if (!process.env.DFLOW_KEEP_TEST_DIRS) fs.rmSync(cwd, { recursive: true, force: true });
});

describe("dflow list", () => {
  it("lists the workflows with status, start, duration and progress", async () => {
    const r = await dflow("list");
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+STARTED\s+DURATION\s+PROGRESS$/);
    expect(lines.find((l) => l.startsWith(nested))).toMatch(/Succeeded\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d+s\s+4\/4$/);
    expect(lines.find((l) => l.startsWith(failure))).toMatch(/Failed\s.*\s1\/2$/);

    const j = await dflow("list", "--json");
    const wfs = JSON.parse(j.stdout) as Record<string, unknown>[];
    const byId = Object.fromEntries(wfs.map((w) => [w.id, w]));
    expect(byId[nested]).toMatchObject({ status: "Succeeded", type: "DAG", progress: "4/4", message: null });
    expect(byId[failure]).toMatchObject({ status: "Failed", type: "Steps", progress: "1/2" });
    expect(byId[failure]!.message).toMatch(/script exited with code 3/);
    expect(typeof byId[nested]!.duration).toBe("number");
    expect(new Date(byId[nested]!.started as string).getTime()).toBeGreaterThan(Date.now() - 600_000);

    const s = await dflow("list", "--status", "failed", "--json");
    expect((JSON.parse(s.stdout) as { id: string }[]).map((w) => w.id)).toEqual([failure]);
  });
});

describe("dflow get", () => {
  it("shows the steps as a tree in execution order, nested steps under their parent", async () => {
    const r = await dflow("get", nested);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Name:\s+nested-/);
    expect(r.stdout).toMatch(/\nStatus:\s+Succeeded\n/);
    expect(r.stdout).toMatch(/\nProgress:\s+4\/4\n/);
    const rows = tableLines(r.stdout);
    expect(rows.map((l) => /^[│├└─ ]*\S (\S+)/u.exec(l)?.[1])).toEqual([nested, "start", "double", "twice", "plus-one", "report"]);
    expect(rows[3]).toMatch(/^│ ├─✔ twice /);
    expect(rows[2]).toMatch(/Steps\s+Succeeded\s+\d+s\s+2\/2$/);
    for (const row of rows.slice(1)) expect(row).toMatch(/Succeeded/);

    const j = await dflow("get", nested, "--json");
    const w = JSON.parse(j.stdout) as { id: string; status: string; progress: string; steps: { name: string; phase: string; type: string; id: string; key: string | null; duration: number; order: string; progress: string | null; children: { name: string }[] }[] };
    expect(w).toMatchObject({ id: nested, status: "Succeeded", progress: "4/4" });
    expect(w.steps.map((s) => [s.name, s.type, s.phase, s.order])).toEqual([
      ["start", "Pod", "Succeeded", "0"],
      ["double", "Steps", "Succeeded", "1"],
      ["report", "Pod", "Succeeded", "2"],
    ]);
    expect(w.steps[1]!.children.map((c) => c.name)).toEqual(["twice", "plus-one"]);
    expect(w.steps[1]!.progress).toBe("2/2");
    expect(w.steps[0]!.id).toMatch(new RegExp(`^${nested}-start-[0-9a-z]{5}$`));
    expect(w.steps[0]!.key).toBeNull();
    expect(typeof w.steps[0]!.duration).toBe("number");
  });

  it("shows a failure: the failed step's phase and reason, and the steps that never ran are absent", async () => {
    const r = await dflow("get", failure);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/\nStatus:\s+Failed\n/);
    expect(r.stdout).toMatch(/\nMessage:\s+script exited with code 3\n/);
    const rows = tableLines(r.stdout);
    expect(rows).toHaveLength(3);
    expect(rows[1]).toMatch(/^├─✔ first .*Succeeded/u);
    expect(rows[2]).toMatch(/^└─✖ second .*Pod\s+Failed\s+\d+s\s+script exited with code 3$/u);

    const j = JSON.parse((await dflow("get", failure, "--json")).stdout) as { status: string; steps: { name: string; phase: string; message: string | null }[] };
    expect(j.status).toBe("Failed");
    expect(j.steps.map((s) => [s.name, s.phase])).toEqual([["first", "Succeeded"], ["second", "Failed"]]);
    expect(j.steps[1]!.message).toMatch(/about to fail/);
  });

  it("names the items of a fan-out name(k), in item order, with their keys", async () => {
    const j = JSON.parse((await dflow("get", loops, "--json")).stdout) as { steps: { name: string; item: number | null; key: string | null }[] };
    const greet = j.steps.filter((s) => s.name === "greet");
    expect(greet.map((s) => [s.item, s.key])).toEqual([[0, "greet-ada"], [1, "greet-grace"], [2, "greet-barbara"]]);
    const r = await dflow("get", loops);
    expect(tableLines(r.stdout).filter((l) => l.includes("greet(")).map((l) => /greet\(\d\)/.exec(l)?.[0])).toEqual(["greet(0)", "greet(1)", "greet(2)"]);
  });
});

describe("bad input", () => {
  it("an unknown id is one line on stderr and exit status 2, for every command", async () => {
    for (const args of [["get", "nope-12345"], ["logs", "nope-12345"], ["watch", "nope-12345"], ["delete", "nope-12345"], ["getkeys", "nope-12345"], ["download", "nope-12345", "s", "a"]]) {
      const r = await dflow(...args);
      expect(r.exitCode, args.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
      expect(r.stderr).toMatch(/^dflow: no workflow "nope-12345" in /);
    }
  });

  it("a missing argument, an unknown option, an unknown step or artifact: one line, exit 2", async () => {
    for (const args of [["get"], ["get", nested, "--bogus"], ["logs", nested, "no-such-step"], ["download", nested, "start", "nothing"], ["download", loops, "greet", "x"], ["watch", nested, "--interval", "abc"]]) {
      const r = await dflow(...args);
      expect(r.exitCode, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n"), `${args.join(" ")}: ${r.stderr}`).toHaveLength(1);
      expect(r.stderr).toMatch(/^dflow: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect((await dflow("get")).stderr.trim()).toBe("dflow: missing required argument 'id'");
    expect((await dflow("download", loops, "greet", "x")).stderr).toMatch(/3 steps .* are named "greet": give a key or an id \(greet-ada, greet-grace, greet-barbara\)/);
  });
});

describe("dflow getkeys", () => {
  it("prints the keys in execution order", async () => {
    const r = await dflow("getkeys", loops);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe("greet-ada\ngreet-grace\ngreet-barbara\n");
    const j = JSON.parse((await dflow("getkeys", loops, "--json")).stdout) as Record<string, unknown>[];
    expect(j.map((k) => [k.key, k.name, k.phase, k.type])).toEqual([
      ["greet-ada", "greet", "Succeeded", "Pod"],
      ["greet-grace", "greet", "Succeeded", "Pod"],
      ["greet-barbara", "greet", "Succeeded", "Pod"],
    ]);
    expect((await dflow("getkeys", nested)).stdout).toBe("");
  });
});

describe("dflow logs", () => {
  it("prints every Pod step's log in order, prefixed; one step's log raw; --json", async () => {
    const all = await dflow("logs", failure);
    expect(all.exitCode).toBe(0);
    expect(all.stdout).toBe("first: fine\nsecond: about to fail\n");
    expect((await dflow("logs", failure, "second")).stdout).toBe("about to fail\n");
    expect((await dflow("logs", failure, "second", "--prefix")).stdout).toBe("second: about to fail\n");
    const greet = await dflow("logs", loops, "greet");
    expect(greet.stdout).toBe("greet(0): hello ada (#)\ngreet(1): hello grace (#)\ngreet(2): hello barbara (#)\n");
    expect((await dflow("logs", loops, "greet-grace")).stdout).toBe("hello grace (#)\n");
    const j = JSON.parse((await dflow("logs", failure, "--json")).stdout) as Record<string, unknown>[];
    expect(j.map((s) => [s.name, s.phase, s.log])).toEqual([["first", "Succeeded", "fine\n"], ["second", "Failed", "about to fail\n"]]);
  });
});

describe("dflow watch", () => {
  it("on a finished workflow prints its state once and exits 0 if it succeeded, 1 if it failed", async () => {
    const ok = await dflow("watch", nested);
    expect(ok.exitCode).toBe(0);
    const lines = ok.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\] workflow nested-[0-9a-z]{5}: Succeeded 4\/4 steps in \d+s$/);
    expect(lines.slice(1).map((l) => /\] +(\S+) \(/.exec(l)?.[1])).toEqual(["start", "double", "twice", "plus-one", "report"]);
    expect(lines[3]).toMatch(/\]   twice \(.*\): Succeeded in \d+s$/);

    const bad = await dflow("watch", failure);
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toMatch(/second \(failure-[0-9a-z]{5}-second-[0-9a-z]{5}\): Failed in \d+s - script exited with code 3/);

    const j = await dflow("watch", failure, "--json");
    expect(j.exitCode).toBe(1);
    const events = j.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events[0]).toMatchObject({ workflow: failure, status: "Failed", progress: "1/2" });
    expect(events.slice(1).map((e) => [e.step, e.phase])).toEqual([["first", "Succeeded"], ["second", "Failed"]]);
  });
});

/** The id of the workflow named `name` that `bg` runs, once `ready(id)`; fails at once if `bg` ends first. */
async function whenRunning(bg: ResultPromise, name: string, ready: (id: string) => boolean): Promise<string> {
  const pattern = new RegExp(`^${name}-[0-9a-z]{5}$`);
  const deadline = Date.now() + 100_000;
  for (;;) {
    const id = fs.readdirSync(cwd).find((e) => pattern.test(e));
    if (id && ready(id)) return id;
    if (bg.exitCode !== null) throw new Error(`the ${name} workflow ended early:\n${(await bg).all}`);
    if (Date.now() > deadline) throw new Error(`the ${name} step never started`);
    await sleep(50);
  }
}

describe("a running workflow", () => {
  let bg: ResultPromise | undefined;
  afterAll(() => {
    bg?.kill();
  });

  it("logs -f follows a running step until it ends; watch shows it live; delete refuses it; download gets its artifact", async () => {
    const gate = path.join(cwd, "slow.gate");
    bg = execa(process.execPath, [cli, "run", "slow.mts"], { cwd, env: { ...env(), DFLOW_TEST_GATE: gate }, reject: false, all: true });
    // Wait until the step runs (it then waits for the gate: it runs until the test opens it).
    const id = await whenRunning(bg, "slow", (id) => readOr(path.join(cwd, id, "slow-key", "phase")) === "Running");

    const watch = dflow("watch", id, "--interval", "0.2");
    const follow = dflow("logs", id, "slow", "-f");
    const followAll = dflow("logs", id, "-f", "--json");
    const seen = { watch: "", follow: "" };
    watch.stdout!.on("data", (d: Buffer) => (seen.watch += d.toString()));
    follow.stdout!.on("data", (d: Buffer) => (seen.follow += d.toString()));
    const del = await dflow("delete", id);
    expect(del.exitCode).toBe(2);
    expect(del.stderr.trim()).toMatch(new RegExp(`^dflow: workflow ${id} is Running \\(engine pid \\d+\\): stop it first, or delete it anyway with --force$`));
    expect(fs.existsSync(path.join(cwd, id))).toBe(true);
    // Both show the running step before it may end: logs -f has the first line and waits for more.
    for (const [what, done] of [["logs -f to print the first line", () => seen.follow === "first line\n"], ["watch to show the step running", () => /slow \(slow-key\): Running\n/.test(seen.watch)]] as const) {
      for (const end = Date.now() + 100_000; !done(); await sleep(50)) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    }
    expect(fs.readFileSync(path.join(cwd, id, "slow-key", "phase"), "utf8")).toBe("Running");
    fs.writeFileSync(gate, "");

    const f = await follow;
    expect(f.exitCode, f.stderr).toBe(0);
    expect(f.stdout).toBe("first line\nsecond line\n");
    expect(fs.readFileSync(path.join(cwd, id, "slow-key", "phase"), "utf8")).toBe("Succeeded");

    const fa = await followAll;
    expect(fa.exitCode).toBe(0);
    expect(fa.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      { name: "slow", id: "slow-key", key: "slow-key", line: "first line" },
      { name: "slow", id: "slow-key", key: "slow-key", line: "second line" },
    ]);

    const w = await watch;
    expect(w.exitCode).toBe(0);
    expect(w.stdout).toMatch(/workflow slow-[0-9a-z]{5}: Running 0\/1 steps\n/);
    expect(w.stdout).toMatch(/slow \(slow-key\): Running\n[^]*slow \(slow-key\): Succeeded in [1-9]\d*s\n/);
    expect(w.stdout.trim().split("\n").at(-1)).toMatch(/workflow slow-[0-9a-z]{5}: Succeeded 1\/1 steps in \d+s$/);
    expect((await bg).exitCode).toBe(0);

    // download: by key and by name, copied (not linked) into the directory.
    const d = await dflow("download", id, "slow-key", "out", "got");
    expect(d.exitCode, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/^Downloaded out of step slow \(slow-key\) to got\n/);
    const got = path.join(cwd, "got", "out.txt"); // a file artifact keeps the name of the file the step wrote, as on Argo
    expect(fs.readFileSync(got, "utf8")).toBe("data\n");
    expect(fs.lstatSync(got).isFile()).toBe(true);
    const dj = await dflow("download", id, "slow", "out", "got2", "--json");
    expect(JSON.parse(dj.stdout)).toMatchObject({ step: "slow", id: "slow-key", artifact: "out", dir: path.join(cwd, "got2"), paths: ["got2/out.txt"] });
    expect(fs.readFileSync(path.join(cwd, "got2", "out.txt"), "utf8")).toBe("data\n");
  });
});

describe("a step retried while followed", () => {
  let bg: ResultPromise | undefined;
  afterAll(() => {
    bg?.kill();
  });

  it("logs -f gives the first attempt's log, its unfinished line, then the new attempt's from its start; retry refuses the running workflow", async () => {
    const gate = path.join(cwd, "flaky.gate");
    bg = execa(process.execPath, [cli, "run", "flaky.mts"], { cwd, env: { ...env(), DFLOW_TEST_GATE: gate }, reject: false, all: true });
    const id = await whenRunning(bg, "flaky", (id) => readOr(path.join(cwd, id, "flaky-key", "log.txt")) === "try 1\nunfinished");

    // Refused while its engine runs, with the command that would stop it (the server's store says the same, without it).
    const retry = await dflow("retry", id);
    expect(retry.exitCode).toBe(2);
    const refusal = `workflow ${id} is being run by engine pid \\d+ on ${os.hostname()} \\(since [^)]+\\); stop it first`;
    expect(retry.stderr).toMatch(new RegExp(`^dflow: ${refusal} with \`node \\S+ stop ${id}\`\n$`));
    const { ApiError, WorkflowStore } = await import("../engine/api/workflows.js");
    let err: unknown;
    try {
      new WorkflowStore(cwd).rerunPlan(id, "retry");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as InstanceType<typeof ApiError>).status).toBe(409);
    expect((err as Error).message).toMatch(new RegExp(`^${refusal}$`));

    const lines = dflow("logs", id, "flaky", "-f", "--prefix");
    const raw = dflow("logs", id, "flaky-key", "-f");
    const seen = { lines: "", raw: "" };
    lines.stdout!.on("data", (d: Buffer) => (seen.lines += d.toString()));
    raw.stdout!.on("data", (d: Buffer) => (seen.raw += d.toString()));
    for (const end = Date.now() + 100_000; !(seen.lines === "flaky: try 1\n" && seen.raw === "try 1\nunfinished"); await sleep(50)) {
      if (Date.now() > end) throw new Error(`timed out waiting for logs -f to print the first attempt: ${JSON.stringify(seen)}`);
    }
    fs.writeFileSync(gate, "");

    const l = await lines;
    expect(l.exitCode, l.stderr).toBe(0);
    expect(l.stdout).toBe("flaky: try 1\nflaky: unfinished\nflaky: try 2\n");
    const r = await raw;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe("try 1\nunfinishedtry 2\n");
    expect((await bg).exitCode).toBe(0);
    expect(fs.readFileSync(path.join(cwd, id, "flaky-key", "attempts", "0", "log.txt"), "utf8")).toBe("try 1\nunfinished");
    // Without -f, the log is the last attempt's.
    expect((await dflow("logs", id, "flaky")).stdout).toBe("try 2\n");
  });
});

describe("progress and engines", () => {
  it("shows a step's progress file", async () => {
    const names = fs.readdirSync(path.join(cwd, loops)).find((e) => /-names-[0-9a-z]{5}$/.test(e))!;
    fs.writeFileSync(path.join(cwd, loops, names, "progress"), "3/10");
    const j = JSON.parse((await dflow("get", loops, "--json")).stdout) as { steps: { name: string; progress: string | null }[] };
    expect(j.steps.find((s) => s.name === "names")!.progress).toBe("3/10");
    expect(j.steps.find((s) => s.name === "greet")!.progress).toBeNull();
    expect(tableLines((await dflow("get", loops)).stdout).find((l) => / names /.test(l))).toMatch(/Succeeded\s+\d+s\s+3\/10$/);
  });

  it("a Running workflow whose engine is gone: list says so, watch and logs -f stop with exit 1, delete needs no --force", async () => {
    const exited = execa("true");
    await exited;
    const dead = exited.pid!;
    const ghost = "ghost-aaaaa";
    fs.cpSync(path.join(cwd, failure), path.join(cwd, ghost), { recursive: true, verbatimSymlinks: true });
    fs.writeFileSync(path.join(cwd, ghost, "status"), "Running");
    fs.writeFileSync(path.join(cwd, ghost, "pid"), String(dead));
    const list = await dflow("list");
    expect(list.stdout.split("\n").find((l) => l.startsWith(ghost))).toMatch(/Running \(engine gone\)/);
    expect((JSON.parse((await dflow("list", "--json")).stdout) as { id: string; engine_alive: boolean }[]).find((w) => w.id === ghost)!.engine_alive).toBe(false);
    const w = await dflow("watch", ghost);
    expect(w.exitCode).toBe(1);
    expect(w.stderr.trim()).toMatch(new RegExp(`^dflow: the engine of workflow ${ghost} \\(pid ${dead}\\) is no longer running`));
    const l = await dflow("logs", ghost, "-f");
    expect(l.exitCode).toBe(1);
    expect(l.stdout).toBe("first: fine\nsecond: about to fail\n");
    expect(l.stderr.trim().split("\n")).toHaveLength(1);
    expect((await dflow("delete", ghost)).exitCode).toBe(0);
    expect(fs.existsSync(path.join(cwd, ghost))).toBe(false);
  });

  it("delete --force removes a workflow whose engine is alive", async () => {
    const busy = "busy-aaaaa";
    fs.cpSync(path.join(cwd, failure), path.join(cwd, busy), { recursive: true, verbatimSymlinks: true });
    fs.writeFileSync(path.join(cwd, busy, "status"), "Running");
    fs.writeFileSync(path.join(cwd, busy, "pid"), String(process.pid));
    expect((await dflow("delete", busy)).exitCode).toBe(2);
    expect(fs.existsSync(path.join(cwd, busy))).toBe(true);
    const r = await dflow("delete", busy, "--force");
    expect(r.exitCode).toBe(0);
    expect(fs.existsSync(path.join(cwd, busy))).toBe(false);
  });
});

describe("dflow delete", () => {
  it("removes a finished workflow's directory", async () => {
    const r = await dflow("delete", nested);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe(`Workflow ${nested} deleted\n`);
    expect(fs.existsSync(path.join(cwd, nested))).toBe(false);
    const list = JSON.parse((await dflow("list", "--json")).stdout) as { id: string }[];
    expect(list.map((w) => w.id)).not.toContain(nested);
    expect((await dflow("get", nested)).exitCode).toBe(2);
  });
});
