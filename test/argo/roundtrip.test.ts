// Issue 12, scope 3: every workflow of examples/, exported to Argo and run
// back by the local Argo runner (`dflow export x.ts -o wf.yaml`, then
// `dflow run wf.yaml -t wf.ops.yaml`), ends as it does when run directly
// (`dflow run x.ts`): the same workflow phase, the same phase for each step,
// the same output parameter values. Steps are matched by their path of step
// names: dflow's step names against Argo's node display names, without
// Argo's own levels (step groups `[i]`, task groups, a Retry node's
// attempts), loop items by index (`hello(1:b.txt)` is dflow's item 1 of
// hello). Argo's Skipped/Omitted nodes have no step in dflow's layout and
// are left out. The examples that cannot come back are listed with why, and
// checked to fail the way the list says, so the list cannot rot.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { announceSkip, hpcInfo } from "../support/hpc.js";

const root = path.resolve(import.meta.dirname, "..", "..");
const cli = path.join(root, "dist", "src", "cli.js");
const examples = fs.readdirSync(path.join(root, "examples")).filter((f) => f.endsWith(".ts")).sort();

/** Examples that do not come back, why (the README's list), and how that shows. */
type Shows =
  /** `dflow export` refuses it, with this line. */
  | { export: string }
  /** It comes back, with this difference among others. */
  | { difference: string }
  /** The script runs this many workflows; the export renders the first. */
  | { workflows: number };
const NOT_ROUND_TRIPPED: Record<string, { why: string; shows: Shows }> = {
  "detached.ts": {
    why: "the script starts `dflow run --detach` itself, which an export (that runs no workflow) refuses",
    shows: { export: "dflow: dflow run <root>/examples/loops.ts was started by a workflow script that `dflow export` is rendering; exporting runs no workflow" },
  },
  "reuse-after-failure.ts": {
    why: "it runs a second workflow built from the first one's steps (reuse_step); an export renders the first alone, as submit() never returns",
    shows: { workflows: 2 },
  },
  "retries-and-timeouts.ts": {
    why: "its OPs count their attempts in files of a host temporary directory, which every pod sees as its own empty /tmp",
    shows: { difference: "flaky: Succeeded directly, Failed through Argo" },
  },
};

/** Output parameters that name where a run stored something, so differ between any two runs. */
const PER_RUN_OUTPUTS = new Set(["dflow_artifact_key"]);

interface Run {
  cwd: string;
  out: string;
  ids: string[];
}

/** Run `dflow <args>` in cwd; the ids of the workflows it created there. */
async function dflow(cwd: string, args: string[], env: Record<string, string> = {}): Promise<Run & { exitCode: number | undefined }> {
  const before = new Set(fs.readdirSync(cwd));
  const r = await execa(process.execPath, [cli, ...args], { cwd, reject: false, all: true, env: { NO_COLOR: "1", ...env } });
  const ids = fs.readdirSync(cwd).filter((d) => !before.has(d) && fs.existsSync(path.join(cwd, d, "status")));
  return { cwd, out: r.all ?? "", ids, exitCode: r.exitCode };
}

interface GetStep {
  name: string;
  type: string;
  phase: string;
  item: number | string | null;
  dir: string;
  children: GetStep[];
}

interface Outcome {
  phase: string;
  /** Step path -> "phase" and its output parameters. */
  steps: Map<string, { phase: string; outputs: Record<string, string> }>;
}

async function get(cwd: string, id: string): Promise<{ status: string; started: string; steps: GetStep[] }> {
  const r = await execa(process.execPath, [cli, "get", id, "--json"], { cwd });
  return JSON.parse(r.stdout) as { status: string; started: string; steps: GetStep[] };
}

function outputs(dir: string, id: string): Record<string, string> {
  const d = path.join(dir, "outputs", "parameters");
  const out: Record<string, string> = {};
  if (!fs.existsSync(d)) return out;
  // A value that names the workflow (a path, a key) names it by its id, which differs per run. And
  // read as Argo's executor reads valueFrom.path (engine/argo/run.ts collectOutputs): without one
  // trailing newline, which a shell step's `echo x > file` leaves in dflow's file.
  // (.dflow/ is dflow's bookkeeping of the step, not a parameter.)
  for (const n of fs.readdirSync(d).sort()) if (!PER_RUN_OUTPUTS.has(n) && !n.startsWith(".")) out[n] = fs.readFileSync(path.join(d, n), "utf8").replace(/\n$/, "").split(id).join("<workflow>");
  return out;
}

/** dflow's steps: a step's path is its ancestors' names and its own, `[i]` for loop item i. */
async function direct(cwd: string, id: string): Promise<Outcome> {
  const g = await get(cwd, id);
  const steps: Outcome["steps"] = new Map();
  const walk = (s: GetStep, prefix: string) => {
    const p = `${prefix}${s.name}${s.item === null || s.item === undefined ? "" : `[${s.item}]`}`;
    steps.set(p, { phase: s.phase, outputs: outputs(s.dir, id) });
    for (const c of s.children) walk(c, `${p}/`);
  };
  for (const s of g.steps) walk(s, "");
  return { phase: g.status, steps };
}

/** Argo's nodes, named as dflow names the steps (see the top of this file). */
async function viaArgo(cwd: string, id: string): Promise<Outcome> {
  const g = await get(cwd, id);
  const steps: Outcome["steps"] = new Map();
  const walk = (s: GetStep, prefix: string) => {
    if (s.type === "StepGroup" || s.type === "TaskGroup") return s.children.forEach((c) => walk(c, prefix));
    if (s.phase === "Skipped" || s.phase === "Omitted") return;
    const loop = /^(.*)\((\d+):.*\)$/s.exec(s.name);
    const p = `${prefix}${loop ? `${loop[1]}[${loop[2]}]` : s.name}`;
    steps.set(p, { phase: s.phase, outputs: outputs(s.dir, id) });
    // A Retry node stands for its attempts, as dflow's step does for its retries.
    if (s.type !== "Retry") for (const c of s.children) walk(c, `${p}/`);
  };
  // The workflow's own node is the entrypoint template's: its children are the workflow's steps.
  for (const s of g.steps) s.children.forEach((c) => walk(c, ""));
  return { phase: g.status, steps };
}

/** What differs, one line each (empty when the two runs ended the same). */
function differences(a: Outcome, b: Outcome): string[] {
  const out: string[] = [];
  if (a.phase !== b.phase) out.push(`workflow: ${a.phase} directly, ${b.phase} through Argo`);
  for (const p of new Set([...a.steps.keys(), ...b.steps.keys()])) {
    const x = a.steps.get(p);
    const y = b.steps.get(p);
    if (!x || !y) {
      out.push(`${p}: ${x ? `${x.phase} directly, no step through Argo` : `no step directly, ${y!.phase} through Argo`}`);
      continue;
    }
    if (x.phase !== y.phase) out.push(`${p}: ${x.phase} directly, ${y.phase} through Argo`);
    // A step that failed has no outputs in dflow's layout; Argo's executor still collects a failed
    // pod's, a missing file giving its valueFrom.default (dflow_success_tag "0", say). Consumers of
    // those values are compared all the same, as steps of their own.
    const names = x.phase === "Succeeded" ? [...Object.keys(x.outputs), ...Object.keys(y.outputs)] : Object.keys(x.outputs);
    for (const n of new Set(names)) {
      if (x.outputs[n] !== y.outputs[n]) out.push(`${p}: output ${n} is ${JSON.stringify(x.outputs[n])} directly, ${JSON.stringify(y.outputs[n])} through Argo`);
    }
  }
  return out;
}

/** The first line of `out` that starts with "dflow: ", the paths of this run made generic. */
function refusalLine(out: string, cwd: string): string {
  const line = out.split("\n").find((l) => / was started by a workflow script|^dflow: /.test(l) && !/^dflow: the workflow script failed/.test(l)) ?? out;
  return line
    .replace(/^.*?(dflow run \S+ was started)/, "dflow: $1")
    .split(root).join("<root>")
    .replace(/\(\S*\/upload\/\S+, from upload_artifact\)/, "(<upload>, from upload_artifact)")
    .split(cwd).join("<cwd>");
}

/** Export `file` (an example's name, or a path), run it back, and run it directly, in `cwd` with `env`. */
async function roundTrip(file: string, cwd: string, env: Record<string, string> = {}): Promise<{ exported: Run & { exitCode: number | undefined }; direct?: Outcome; argo?: Outcome; directRuns: number }> {
  const script = path.isAbsolute(file) ? file : path.join(root, "examples", file);
  // A default image for the script templates that set none (dflow's debug mode needs none).
  const exported = await dflow(cwd, ["export", script, "-o", "wf.yaml", "--image", "busybox"], env);
  if (exported.exitCode !== 0) return { exported, directRuns: 0 };
  // The manifest alone: the Argo run gets nothing of the script's environment.
  const run = await dflow(cwd, ["run", "wf.yaml", ...(fs.existsSync(path.join(cwd, "wf.ops.yaml")) ? ["-t", "wf.ops.yaml"] : [])]);
  expect(run.ids, run.out).toHaveLength(1);
  const ran = await dflow(cwd, ["run", script], env);
  expect(ran.ids.length, ran.out).toBeGreaterThanOrEqual(1);
  // The exported workflow is the script's first; a script that submits several gets only it exported.
  const started = new Map(await Promise.all(ran.ids.map(async (id) => [id, (await get(cwd, id)).started] as const)));
  const first = ran.ids.sort((x, y) => started.get(x)!.localeCompare(started.get(y)!))[0]!;
  return { exported, direct: await direct(cwd, first), argo: await viaArgo(cwd, run.ids[0]!), directRuns: ran.ids.length };
}

describe("examples exported to Argo and run back end as they do when run directly", () => {
  it("the list of examples that do not come back names examples that exist", () => {
    for (const f of Object.keys(NOT_ROUND_TRIPPED)) expect(examples).toContain(f);
  });

  for (const file of examples) {
    const known = NOT_ROUND_TRIPPED[file];
    it(known ? `${file} does not come back: ${known.why}` : `${file}: same phases and output values`, async () => {
      const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-roundtrip-")));
      try {
        const r = await roundTrip(file, cwd);
        if (known && "export" in known.shows) {
          expect(r.exported.exitCode, r.exported.out).not.toBe(0);
          expect(refusalLine(r.exported.out, cwd)).toBe(known.shows.export);
          return;
        }
        expect(r.exported.exitCode, r.exported.out).toBe(0);
        const diff = differences(r.direct!, r.argo!);
        // If one of these comes back now, take it off the list (and the README's).
        if (known && "workflows" in known.shows) return expect(r.directRuns).toBe(known.shows.workflows);
        if (known && "difference" in known.shows) return expect(diff).toContain(known.shows.difference);
        expect(r.directRuns).toBe(1);
        // Steps were compared, not two empty lists.
        expect(r.direct!.steps.size).toBeGreaterThan(0);
        expect(diff).toEqual([]);
      } finally {
        fs.rmSync(cwd, { recursive: true, force: true });
      }
    });
  }
});

/**
 * A fixture workflow (fixtures/workflows/<file>) run directly, exported and run back: the export
 * succeeds, `check` looks at what it must, and the two runs end the same (differences()).
 */
async function fixtureRoundTrip(file: string, check: (r: Awaited<ReturnType<typeof roundTrip>>, cwd: string) => void): Promise<void> {
  const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-roundtrip-")));
  try {
    const r = await roundTrip(path.join(root, "fixtures", "workflows", file), cwd);
    expect(r.exported.exitCode, r.exported.out).toBe(0);
    check(r, cwd);
    expect(differences(r.direct!, r.argo!)).toEqual([]);
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}

const phasesOf = (o: Outcome) => Object.fromEntries([...o.steps].map(([p, s]) => [p, s.phase]));

describe("other workflows exported and run back", () => {
  it("Slices shuffled over another step's output on a DispatcherExecutor step: each pod's job runs the group `dflow run` gives that item", () =>
    fixtureRoundTrip("shuffle-dispatched.ts", (r) => {
      // 17 items in groups of 5: 4 items, each a shuffled group (its squares in the group's order).
      const groups = [...r.direct!.steps].filter(([p]) => p.startsWith("squares["));
      expect(groups).toHaveLength(4);
      expect(groups.flatMap(([, s]) => (JSON.parse(s.outputs.square!) as { dflow_list_item: number }[]).map((m) => m.dflow_list_item)).sort((a, b) => a - b)).toEqual(Array.from({ length: 17 }, (_, i) => (i + 1) ** 2).sort((a, b) => a - b));
    }));

  it("DAG tasks that continue on failure: a failed leaf, a failed task others depend on, fan-outs with a success ratio or continue_on_failed and their dependents: continueOn beside `dependencies` (Argo refuses it beside `depends`), the same phases and values both ways", () =>
    fixtureRoundTrip("dag-continue.ts", (r, cwd) => {
      expect(fs.readFileSync(path.join(cwd, "wf.yaml"), "utf8")).not.toMatch(/^\s*depends:/m);
      expect(r.direct!.phase).toBe("Succeeded");
      const phases = phasesOf(r.direct!);
      // Left out when f failed, as `dflow run` leaves them (Argo: skipped by their `when`).
      expect(phases).toMatchObject({ c: "Failed", f: "Failed", "items[1]": "Failed", "items-check-success-ratio": "Succeeded", after: "Succeeded", "loop[0]": "Failed", next: "Succeeded" });
      expect(phases).not.toHaveProperty("g");
      expect(phases).not.toHaveProperty("h");
      expect(phases).toMatchObject({ gate: "Succeeded", "gloop[0]": "Failed", "gloop[1]": "Succeeded", gnext: "Succeeded" });
      expect(phases).not.toHaveProperty("offnext");
      // A `when` reading an output its failed task did not write: guarded, else Argo requeues the task forever.
      expect(phases).not.toHaveProperty("fwhen");
      expect(phases).toMatchObject({ gwhen: "Succeeded" });
      expect(fs.readFileSync(path.join(cwd, "wf.yaml"), "utf8")).toContain(`when: ("{{=tasks.f?.outputs?.parameters?.out ?? '0'}}" == "ok 0") && "{{tasks.f.status}}" == "Succeeded"`);
      // next ran with the values of loop's items that succeeded.
      expect(r.direct!.steps.get("next")?.outputs.out).toBe("ok 2");
    }));

  it("DAG tasks after fan-outs that run no items: after a loop over no items a task goes on; after a loop skipped by its `when`, or gated out after a continued failure, it is left out: both ways", () =>
    fixtureRoundTrip("dag-skips.ts", (r) => {
      const phases = phasesOf(r.direct!);
      expect(phases).toMatchObject({ plain: "Succeeded", a: "Failed" });
      for (const out of ["offnext", "s[0]", "t"]) expect(phases).not.toHaveProperty(out);
      expect(r.argo!.steps.get("plain")?.phase).toBe("Succeeded");
    }));

  it("fan-outs over a list a step made empty: success checks pass over no items, and the steps that read the loops' outputs get [] both ways (Argo has none of them, `?? '[]'` gives them), in a DAG and in a Steps template", () =>
    fixtureRoundTrip("empty-fanouts.ts", (r) => {
      expect([r.direct!.phase, r.argo!.phase]).toEqual(["Succeeded", "Succeeded"]);
      for (const step of ["reads", "nested/safter", "outer"]) expect(r.argo!.steps.get(step)?.outputs.o, step).toBe("got []");
      expect(phasesOf(r.argo!)).toMatchObject({ "fan-check-success-ratio": "Succeeded", "nested/sfan-check-num-success": "Succeeded" });
    }));

  it("a fan-out over a list a step made, with a success ratio met by 3 of 4 in a Steps template: the check counts the items that succeeded and the step after gets their values, both ways", () =>
    fixtureRoundTrip("ratio-dynamic.ts", (r) => {
      expect([r.direct!.phase, r.argo!.phase]).toEqual(["Succeeded", "Succeeded"]);
      expect(r.argo!.steps.get("after")?.outputs.o).toBe('["0","4","9"]');
    }));

  it("a fan-out's numeric outputs summed by a TS OP: Argo gathers a loop's outputs as their texts, which the exported pod reads back as the list the OP takes", () =>
    fixtureRoundTrip("fanout-sum.ts", (r) => {
      expect([r.direct!.phase, r.argo!.phase]).toEqual(["Succeeded", "Succeeded"]);
      expect(r.argo!.steps.get("total")?.outputs.total).toBe("14");
    }));

  it("a shell step's fan-out with a success ratio: its items write the success tag in a pod too (which has no /tmp/outputs until the script makes it): 3 of 4 meet 0.7, both ways", () =>
    fixtureRoundTrip("shell-ratio.ts", (r) => {
      expect([r.direct!.phase, r.argo!.phase]).toEqual(["Succeeded", "Succeeded"]);
    }));

  it("a sliced output parameter read by script steps: a shell step gets the plain list in slice order, and a loop over it has its values for items, as `dflow run` gives them (not the items' marked lists)", () =>
    fixtureRoundTrip("sliced-to-script.ts", (r) => {
      expect(r.direct!.steps.get("whole")?.outputs.l).toBe("[1, 4, 9]");
      expect([0, 1, 2].map((i) => r.argo!.steps.get(`each[${i}]`)?.outputs.l)).toEqual(["1", "4", "9"]);
    }));
});

/**
 * dflow's reuse story through Argo: `first` run directly fails until "the fix" (a marker file); then
 * `reuse`, exported with the steps of that run to reuse (OLD_ID), runs back through the local Argo
 * runner. The steps log their runs in COUNTER (outside /tmp, which each pod has its own of): which
 * ran in the first run, which through Argo.
 */
async function failFixReuse(first: string, reuse: string, exportArgs: string[] = []) {
  const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-roundtrip-")));
  const state = fs.mkdtempSync(path.join("/var/tmp", "dflow-reuse-export-"));
  // The pods write the counter on this machine: DFLOW_ARGO_HOST_DIRS lets them (each has a root of its own otherwise).
  const env = { COUNTER: path.join(state, "counter"), FIXED_MARKER: path.join(state, "fixed"), DFLOW_ARGO_HOST_DIRS: state };
  const ran = () => fs.readFileSync(env.COUNTER, "utf8").trim().split("\n");
  try {
    const firstRun = await dflow(cwd, ["run", first], env);
    expect(firstRun.exitCode, firstRun.out).not.toBe(0);
    const before = ran();
    fs.writeFileSync(env.FIXED_MARKER, "");
    const exported = await dflow(cwd, ["export", reuse, "-o", "wf.yaml", ...exportArgs], { ...env, OLD_ID: firstRun.ids[0]! });
    expect(exported.exitCode, exported.out).toBe(0);
    const ops = fs.readFileSync(path.join(cwd, "wf.ops.yaml"), "utf8");
    const run = await dflow(cwd, ["run", "wf.yaml", "-t", "wf.ops.yaml"], env);
    expect(run.exitCode, run.out).toBe(0);
    return { before, after: ran().slice(before.length), ops, argo: await viaArgo(cwd, run.ids[0]!) };
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
    fs.rmSync(state, { recursive: true, force: true });
  }
}

describe("reuse_step, exported", () => {
  it("the steps of an earlier run are reused through the memoization caches the export writes: the reused step does not run, its (modified) output flows on", async () => {
    const r = await failFixReuse(path.join(root, "fixtures", "workflows", "fixable.ts"), path.join(root, "fixtures", "workflows", "reuse-export.ts"), ["--image", "busybox"]);
    expect(r.ops).toContain("workflows.argoproj.io/configmap-type: Cache");
    // first ran once, in the earlier run; middle failed there and ran again through Argo, then last.
    expect(r.before).toEqual(["first", "middle"]);
    expect(r.after).toEqual(["middle", "last"]);
    expect(r.argo.steps.get("first")?.outputs.y).toBe("10");
    expect(r.argo.steps.get("last")?.outputs.y).toBe("40");
  });

  it("of a keyed sliced step's items: they are cache hits, their group's storage in the repository; only the others run, and the consumer sees every slice", async () => {
    const script = path.join(root, "fixtures", "workflows", "fixable-slices.ts");
    const r = await failFixReuse(script, script);
    // Items 1 and 3 failed until the fix; 0 and 2 were reused and did not run again.
    expect(r.before.map(Number).sort()).toEqual([0, 1, 2, 3]);
    expect(r.ops).toMatch(/name: dflow-fixable-slices-[a-z0-9]{5}-sq-group-init-artifact$/m);
    expect(r.after.map(Number).sort()).toEqual([1, 3]);
    expect(r.argo.steps.get("sum")?.outputs).toMatchObject({ count: "4", total: "14" });
  });
});

// The same example against the real local Slurm over SSH (test/hpc): through Argo, each step is a pod
// that submits its job with the key and known_hosts the export put in a Secret.
const hpc = hpcInfo();
if (!hpc) announceSkip();
(hpc ? describe : describe.skip)("HPC executors on the local Slurm (test/hpc), exported and run back", () => {
  it("examples/hpc-dispatcher.ts with HPC_JSON ends as it does when run directly; each pod's job ran on Slurm", async () => {
    const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-roundtrip-hpc-")));
    try {
      const r = await roundTrip("hpc-dispatcher.ts", cwd, { HPC_JSON: process.env.DFLOW_TEST_HPC! });
      expect(r.exported.exitCode, r.exported.out).toBe(0);
      const ops = fs.readFileSync(path.join(cwd, "wf.ops.yaml"), "utf8");
      expect(ops).toMatch(/^kind: Secret$/m);
      expect(fs.readFileSync(path.join(cwd, "wf.yaml"), "utf8")).not.toContain("PRIVATE KEY");
      // `hello from $SLURM_JOB_ID`: a job of Slurm's, each run its own.
      for (const o of [r.direct!, r.argo!]) {
        const hello = o.steps.get("hello")!;
        expect(hello.outputs.msg).toMatch(/^hello from \d+$/);
        hello.outputs.msg = "hello from <job>";
      }
      expect(r.direct!.steps.size).toBeGreaterThan(0);
      expect(differences(r.direct!, r.argo!)).toEqual([]);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });

  it("a SlurmRemoteExecutor step (test/hpc's slurmremote scenario) ends as it does when run directly; its pod's job ran on Slurm", async () => {
    const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-roundtrip-hpc-")));
    try {
      const tag = `roundtrip-${process.pid}`;
      const r = await roundTrip(path.join(root, "fixtures", "workflows", "hpc-e2e.ts"), cwd, { DFLOW_TEST_HPC: process.env.DFLOW_TEST_HPC!, SCENARIO: "slurmremote", SLEEP: "1", HPC_TEST_TAG: tag });
      expect(r.exported.exitCode, r.exported.out).toBe(0);
      expect(fs.readFileSync(path.join(cwd, "wf.yaml"), "utf8")).toMatch(/kind\\?":\\?"slurm-remote/);
      expect(r.direct!.steps.get("job")).toEqual({ phase: "Succeeded", outputs: { out: "done" } });
      expect(differences(r.direct!, r.argo!)).toEqual([]);
      // The pod's log is the job's output (slurm-<id>.out), with Slurm's job id.
      const argoRun = fs.readdirSync(cwd).find((d) => fs.existsSync(path.join(cwd, d, "argo.json")))!;
      const logs = await execa(process.execPath, [cli, "logs", argoRun], { cwd, reject: false, all: true });
      expect(logs.all).toMatch(/^job: job \d+ started$/m);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });
});
