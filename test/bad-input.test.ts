// Mistakes users make, walked through the real `dflow` binary from a user's
// project folder. For each: when it is reported (before anything runs
// wherever the workflow object shows the mistake), that the message names the
// place and the fix, that nothing ran half-way, and that no raw stack trace
// is printed.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");
const cli = path.join(root, "dist", "src", "cli.js");
const ops = path.join(root, "fixtures", "ops", "mistakes.ts");

/** Imports and small templates every case may use. */
const PRELUDE = `
import { Artifact, DAG, DispatcherExecutor, InputArtifact, InputParameter, Inputs, OP, OPIOSign, OutputArtifact, OutputParameter, Outputs,
  PythonScriptOPTemplate, ShellOPTemplate, Slices, Step, Steps, Task, TsOPTemplate, Workflow, argo_sequence,
  if_expression, set_config, upload_artifact, z } from "dflow-ts";
import { Noop, Sum, Typed, WrongOut } from ${JSON.stringify(ops)};
const say = () => new ShellOPTemplate({ name: "say", script: "echo {{inputs.parameters.msg}} > /tmp/out",
  inputs: new Inputs({ parameters: { msg: new InputParameter() } }),
  outputs: new Outputs({ parameters: { out: new OutputParameter({ value_from_path: "/tmp/out" }) } }) });
const mk = () => new ShellOPTemplate({ name: "mk", script: "echo hi > /tmp/f.txt",
  outputs: new Outputs({ artifacts: { f: new OutputArtifact({ path: "/tmp/f.txt" }) } }) });
const cat = () => new ShellOPTemplate({ name: "cat", script: "cat /tmp/in.txt",
  inputs: new Inputs({ artifacts: { f: new InputArtifact({ path: "/tmp/in.txt" }) } }) });
// A step that would run first: its directory proves whether anything ran.
const canary = () => new Step({ name: "canary", template: say(), parameters: { msg: "ran" } });
`;

interface Case {
  /** The mistake, as a user would describe it. */
  name: string;
  /** The workflow script after PRELUDE. */
  script: string;
  /** build: refused before any step runs; run: the run fails with a clear reason. */
  when: "build" | "run";
  /** What the error output must say: the place and the fix. */
  says: RegExp[];
}

const cases: Case[] = [
  // --- names and declarations
  { name: "a step name with an underscore", when: "build", says: [/Step_1/, /step\/task name|name/i, /e\.g\./],
    script: `const wf = new Workflow({ name: "w" }); wf.add(new Step({ name: "Step_1", template: say(), parameters: { msg: "x" } })); await wf.submit();` },
  { name: "an uppercase workflow name", when: "build", says: [/My_WF/, /workflow name/, /lowercase/],
    script: `const wf = new Workflow({ name: "My_WF" }); wf.add(canary()); await wf.submit();` },
  { name: "a key with a space", when: "build", says: [/my key!/, /key/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(new Step({ name: "s", template: say(), parameters: { msg: "x" }, key: "my key!" })); await wf.submit();` },
  { name: "a misspelt parameter name", when: "build", says: [/mgs/, /declared: msg/, /step s/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(new Step({ name: "s", template: say(), parameters: { mgs: "x" } })); await wf.submit();` },
  { name: "a misspelt artifact name", when: "build", says: [/\bff\b/, /declared: f/],
    script: `const wf = new Workflow({ name: "w" }); const a = new Step({ name: "a", template: mk() }); wf.add(a); wf.add(new Step({ name: "b", template: cat(), artifacts: { ff: a.outputs.artifacts.f } })); await wf.submit();` },
  { name: "a misspelt output name in a reference", when: "build", says: [/outt/, /declared: out/, /step a/],
    script: `const wf = new Workflow({ name: "w" }); const a = new Step({ name: "a", template: say(), parameters: { msg: "x" } }); wf.add(a); wf.add(new Step({ name: "b", template: say(), parameters: { msg: a.outputs.parameters.outt } })); await wf.submit();` },
  { name: "a misspelt option name on a Step", when: "build", says: [/continue_on_succes_ratio/, /continue_on_success_ratio/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(new Step({ name: "s", template: say(), parameters: { msg: "x" }, continue_on_succes_ratio: 0.5 } as any)); await wf.submit();` },
  { name: "a duplicate task name in a DAG", when: "build", says: [/already has a task named t|duplicate|unique/i, /\bt\b/],
    script: `const dag = new DAG({ name: "d" }); dag.add(new Task({ name: "t", template: say(), parameters: { msg: "1" } })); dag.add(new Task({ name: "t", template: say(), parameters: { msg: "2" } })); await new Workflow({ name: "w", dag }).submit();` },
  { name: "a Task added to Steps", when: "build", says: [/task/i, /use Step in Steps|Step/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(canary()); wf.add(new Task({ name: "t", template: say(), parameters: { msg: "x" } })); await wf.submit();` },
  { name: "a Step added to a DAG", when: "build", says: [/Task/],
    script: `const dag = new DAG({ name: "d" }); dag.add(new Step({ name: "s", template: say(), parameters: { msg: "x" } }) as any); await new Workflow({ name: "w", dag }).submit();` },
  { name: "a workflow with no steps", when: "build", says: [/no steps/, /wf\.add/],
    script: `await new Workflow({ name: "w" }).submit();` },
  { name: "a workflow given both steps and dag", when: "build", says: [/steps or dag|both/],
    script: `await new Workflow({ name: "w", steps: new Steps({ name: "s" }), dag: new DAG({ name: "d" }) }).submit();` },

  // --- inputs not given
  { name: "an input parameter with no value", when: "build", says: [/step s/, /\bmsg\b/, /parameters|default/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(canary()); wf.add(new Step({ name: "s", template: say() })); await wf.submit();` },
  { name: "a required input artifact not passed", when: "build", says: [/step b/, /\bf\b/, /artifact/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(canary()); wf.add(new Step({ name: "b", template: cat() })); await wf.submit();` },
  { name: "a typed OP input with a literal of the wrong type", when: "build", says: [/step t/, /\bnum\b/, /number/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(canary()); wf.add(new Step({ name: "t", template: new TsOPTemplate(Typed), parameters: { num: "three", msg: "x" } })); await wf.submit();` },
  { name: "a reference to an input the Steps template does not declare", when: "build", says: [/nope/],
    script: `const inner = new Steps({ name: "inner" }); inner.inputs.parameters.msg = new InputParameter(); inner.add(new Step({ name: "s", template: say(), parameters: { msg: (inner.inputs.parameters as any).nope } })); const wf = new Workflow({ name: "w" }); wf.add(canary()); wf.add(new Step({ name: "call", template: inner, parameters: { msg: "x" } })); await wf.submit();` },

  // --- references
  { name: "a reference to a step that is not in the workflow", when: "build", says: [/\bghost\b/, /step b/],
    script: `const wf = new Workflow({ name: "w" }); const ghost = new Step({ name: "ghost", template: say(), parameters: { msg: "x" } }); wf.add(canary()); wf.add(new Step({ name: "b", template: say(), parameters: { msg: ghost.outputs.parameters.out } })); await wf.submit();` },
  { name: "a reference to a step of the same parallel group", when: "build", says: [/\ba\b/, /step b/, /parallel|same group|later/i],
    script: `const wf = new Workflow({ name: "w" }); const a = new Step({ name: "a", template: say(), parameters: { msg: "x" } }); wf.add(canary()); wf.add([a, new Step({ name: "b", template: say(), parameters: { msg: a.outputs.parameters.out } })]); await wf.submit();` },
  { name: "a reference to a later step", when: "build", says: [/\ba\b/, /step b/, /later|after|before/i],
    script: `const wf = new Workflow({ name: "w" }); const a = new Step({ name: "a", template: say(), parameters: { msg: "x" } }); wf.add(canary()); wf.add(new Step({ name: "b", template: say(), parameters: { msg: a.outputs.parameters.out } })); wf.add(a); await wf.submit();` },
  { name: "a DAG dependency cycle", when: "build", says: [/cycle/i, /\bt1\b/, /\bt2\b/],
    script: `const dag = new DAG({ name: "d" }); const t1 = new Task({ name: "t1", template: say(), parameters: { msg: "1" }, dependencies: ["t2"] }); const t2 = new Task({ name: "t2", template: say(), parameters: { msg: "2" }, dependencies: [t1] }); dag.add([t1, t2]); await new Workflow({ name: "w", dag }).submit();` },
  { name: "a DAG dependency on a task that is not in the DAG", when: "build", says: [/\bnope\b/, /\bt1\b/],
    script: `const dag = new DAG({ name: "d" }); dag.add(new Task({ name: "t1", template: say(), parameters: { msg: "1" }, dependencies: ["nope"] })); await new Workflow({ name: "w", dag }).submit();` },
  { name: "an output artifact passed as a parameter", when: "build", says: [/step b/, /\bmsg\b/, /artifact/i],
    script: `const wf = new Workflow({ name: "w" }); const a = new Step({ name: "a", template: mk() }); wf.add(a); wf.add(new Step({ name: "b", template: say(), parameters: { msg: a.outputs.artifacts.f } })); await wf.submit();` },
  { name: "an output parameter passed as an artifact", when: "build", says: [/step b/, /\bf\b/, /parameter/i],
    script: `const wf = new Workflow({ name: "w" }); const a = new Step({ name: "a", template: say(), parameters: { msg: "x" } }); wf.add(a); wf.add(new Step({ name: "b", template: cat(), artifacts: { f: a.outputs.parameters.out } as any })); await wf.submit();` },

  // --- loops and conditions
  { name: "with_param given a number", when: "build", says: [/step s/, /with_param/, /list/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(canary()); wf.add(new Step({ name: "s", template: say(), parameters: { msg: "{{item}}" }, with_param: 3 })); await wf.submit();` },
  { name: "with_param given a JSON object", when: "build", says: [/step s/, /with_param/, /list/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(canary()); wf.add(new Step({ name: "s", template: say(), parameters: { msg: "{{item}}" }, with_param: '{"a": 1}' })); await wf.submit();` },
  { name: "a fan-out whose key does not vary with the item", when: "build", says: [/step s/, /key/, /\{\{item\}\}/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(canary()); wf.add(new Step({ name: "s", template: say(), parameters: { msg: "{{item}}" }, with_param: [1, 2, 3], key: "same" })); await wf.submit();` },
  { name: "a negative sequence count", when: "build", says: [/count/, /-1/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(canary()); wf.add(new Step({ name: "s", template: say(), parameters: { msg: "{{item}}" }, with_sequence: argo_sequence({ count: -1 }) })); await wf.submit();` },
  { name: "a sequence count that is not a number", when: "build", says: [/count/, /many/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(canary()); wf.add(new Step({ name: "s", template: say(), parameters: { msg: "{{item}}" }, with_sequence: argo_sequence({ count: "many" }) })); await wf.submit();` },
  { name: "a malformed when", when: "build", says: [/step b/, /when/],
    script: `const wf = new Workflow({ name: "w" }); const a = new Step({ name: "a", template: say(), parameters: { msg: "x" } }); wf.add(a); wf.add(new Step({ name: "b", template: say(), parameters: { msg: "y" }, when: \`\${a.outputs.parameters.out} == \` })); await wf.submit();` },
  { name: "a when that names a step that does not exist", when: "build", says: [/step b/, /ghost/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(canary()); wf.add(new Step({ name: "b", template: say(), parameters: { msg: "y" }, when: "{{steps.ghost.outputs.parameters.out}} == 1" })); await wf.submit();` },
  { name: "Slices naming a parameter the OP does not have", when: "build", says: [/nums/, /\bxs\b|input parameter/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(canary()); wf.add(new Step({ name: "s", template: new TsOPTemplate(Sum, { slices: new Slices({ input_parameter: ["nums"] }) }), parameters: { xs: [[1], [2]] }, with_param: [0, 1] })); await wf.submit();` },

  // --- numbers that make no sense
  { name: "a retry limit that is not a number", when: "build", says: [/limit/, /three/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(new Step({ name: "s", template: new ShellOPTemplate({ name: "f", script: "exit 1", retry_strategy: { limit: "three" as any } }) })); await wf.submit();` },
  { name: "a negative retry count", when: "build", says: [/retry_on_transient_error/, /-2/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(new Step({ name: "s", template: new ShellOPTemplate({ name: "f", script: "exit 1", retry_on_transient_error: -2 }) })); await wf.submit();` },
  { name: "a negative timeout", when: "build", says: [/timeout/, /-5/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(new Step({ name: "s", template: new ShellOPTemplate({ name: "f", script: "true", timeout: -5 }) })); await wf.submit();` },
  { name: "parallelism 0", when: "build", says: [/parallelism/, /\b0\b/],
    script: `const wf = new Workflow({ name: "w", parallelism: 0 }); wf.add(canary()); await wf.submit();` },
  { name: "a success ratio above 1", when: "build", says: [/continue_on_success_ratio/, /1\.5/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(new Step({ name: "s", template: say(), parameters: { msg: "{{item}}" }, with_param: [1, 2], continue_on_success_ratio: 1.5 })); await wf.submit();` },
  { name: "a copy method that does not exist", when: "build", says: [/debug_copy_method/, /hardlink/],
    script: `set_config({ debug_copy_method: "hardlink" }); const wf = new Workflow({ name: "w" }); wf.add(canary()); await wf.submit();` },

  // --- OPs
  { name: "TsOPTemplate given something that is not an OP", when: "build", says: [/TsOPTemplate/, /OP/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(canary()); wf.add(new Step({ name: "s", template: new TsOPTemplate({ name: "x" } as any) })); await wf.submit();` },
  { name: "an OP module that cannot be found", when: "build", says: [/no-such-ops/, /module/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(canary()); wf.add(new Step({ name: "s", template: new TsOPTemplate(Noop, { module: "/tmp/no-such-ops.ts" }) })); await wf.submit();` },
  { name: "upload_artifact of a file that does not exist", when: "build", says: [/missing\.txt/],
    script: `const a = await upload_artifact("missing.txt"); const wf = new Workflow({ name: "w" }); wf.add(new Step({ name: "b", template: cat(), artifacts: { f: a } })); await wf.submit();` },
  { name: "several mistakes in one workflow are reported together", when: "build", says: [/step s1/, /step s2/, /with_param/, /\bmsg\b/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(canary()); wf.add(new Step({ name: "s1", template: say() })); wf.add(new Step({ name: "s2", template: say(), parameters: { msg: "{{item}}" }, with_param: 7 })); await wf.submit();` },

  // --- HPC executors: the dicts are what DPDispatcher would get, checked at submit, not when the first remote step starts
  { name: "a DispatcherExecutor with a misspelt batch_type", when: "build", says: [/step s/, /executor/, /batch_type/, /Slurmm/, /Slurm, /],
    script: `const wf = new Workflow({ name: "w" }); wf.add(canary()); wf.add(new Step({ name: "s", template: say(), parameters: { msg: "x" }, executor: new DispatcherExecutor({ host: "login", machine_dict: { batch_type: "Slurmm" } }) })); await wf.submit();` },
  { name: "a workflow context (DispatcherExecutor) with a wrong context_type and resources", when: "build", says: [/context/, /context_type/, /BohriumContext/, /SSHContext/, /number_node/],
    script: `const wf = new Workflow({ name: "w", context: new DispatcherExecutor({ host: "login", machine_dict: { context_type: "BohriumContext" }, resources_dict: { number_node: "two" } }) }); wf.add(canary()); await wf.submit();` },

  // --- mistakes only a run can show: the run fails with a clear reason
  { name: "an OP that returns the wrong type", when: "run", says: [/WrongOut/, /\bn\b/, /number/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(new Step({ name: "s", template: new TsOPTemplate(WrongOut) })); await wf.submit();` },
  { name: "a script that does not write its output parameter", when: "run", says: [/step s/, /\bout\b/, /\/tmp\/out|default/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(new Step({ name: "s", template: new ShellOPTemplate({ name: "t", script: "true", outputs: new Outputs({ parameters: { out: new OutputParameter({ value_from_path: "/tmp/out" }) } }) }) })); await wf.submit();` },
  { name: "a shell script that fails", when: "run", says: [/step s/, /exited with code 7/, /boom/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(new Step({ name: "s", template: new ShellOPTemplate({ name: "t", script: "echo boom; exit 7" }) })); await wf.submit();` },
  { name: "a Python script with a syntax error", when: "run", says: [/step s/, /SyntaxError/],
    script: `const wf = new Workflow({ name: "w" }); wf.add(new Step({ name: "s", template: new PythonScriptOPTemplate({ name: "t", script: "print('x'" }) })); await wf.submit();` },
];

let project = "";
beforeAll(() => {
  // A user's project: "type": "module" (the README's top-level await needs it) and dflow-ts installed.
  project = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-ts-mistakes-")));
  fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "mistakes", private: true, type: "module" }));
  fs.mkdirSync(path.join(project, "node_modules"));
  fs.symlinkSync(root, path.join(project, "node_modules", "dflow-ts"));
});
afterAll(() => {
  if (project && !process.env.DFLOW_KEEP_TEST_DIRS) fs.rmSync(project, { recursive: true, force: true });
});

/** Every directory under `dir` that holds a step's `phase` file. */
function stepDirs(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string, depth: number) => {
    if (depth > 4) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name === "node_modules") continue;
      const p = path.join(d, e.name);
      if (fs.existsSync(path.join(p, "phase"))) found.push(p);
      walk(p, depth + 1);
    }
  };
  walk(dir, 0);
  return found;
}

function workflowStatuses(dir: string): string[] {
  return fs.readdirSync(dir).filter((d) => fs.existsSync(path.join(dir, d, "status"))).map((d) => fs.readFileSync(path.join(dir, d, "status"), "utf8"));
}

const STACK = /^\s+at .+[:(]/m;

describe.concurrent("a user's mistakes, through the dflow binary", () => {
  it("walks at least 40 mistakes", () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  cases.forEach((c, i) => {
    it(`${c.name}: ${c.when === "build" ? "refused before anything runs" : "fails with a clear reason"}`, async () => {
      const dir = path.join(project, `case-${i}`);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, "wf.ts"), `${PRELUDE}\n${c.script}\n`);
      const r = await execa(process.execPath, [cli, "run", "wf.ts"], { cwd: dir, reject: false, all: true, env: { DFLOW_DEBUG_WORKDIR: dir }, timeout: 100_000 });
      const out = r.all ?? "";
      expect(r.exitCode, out).not.toBe(0);
      for (const re of c.says) expect(out, `should match ${re}`).toMatch(re);
      expect(out, "no raw stack trace").not.toMatch(STACK);
      if (c.when === "build") {
        expect(stepDirs(dir), `nothing may run:\n${out}`).toEqual([]);
      } else {
        expect(workflowStatuses(dir), out).toEqual(["Failed"]);
        expect(workflowStatuses(dir).includes("Running")).toBe(false);
      }
    });
  });
});

describe.concurrent("command-line mistakes", () => {
  // Bounded so that a hang shows its output instead of a bare test time-out.
  const run = (args: string[], cwd = project) => execa(process.execPath, [cli, ...args], { cwd, reject: false, all: true, env: { DFLOW_DEBUG_WORKDIR: cwd }, timeout: 100_000 });

  it("a syntax error in the workflow script names file, line and column and shows the line", async () => {
    const dir = path.join(project, "syntax");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "wf.ts"), `import { Workflow } from "dflow-ts";\nconst wf = new Workflow({ name: "w" };\nawait wf.submit();\n`);
    const r = await run(["run", "wf.ts"], dir);
    expect(r.exitCode).not.toBe(0);
    expect(r.all).toMatch(/wf\.ts:2:\d+/);
    expect(r.all).toContain(`const wf = new Workflow({ name: "w" };`);
    expect(r.all).not.toMatch(STACK);
  });

  it("a workflow script that does not exist", async () => {
    const r = await run(["run", "nope.ts"]);
    expect(r.exitCode).toBe(2);
    expect(r.all).toMatch(/nope\.ts/);
    expect(r.all).not.toMatch(STACK);
  });

  it("an unknown workflow id", async () => {
    const r = await run(["get", "nope-xxxxx"]);
    expect(r.exitCode).toBe(2);
    expect(r.all).toMatch(/no workflow "nope-xxxxx"/);
    expect(r.all).toMatch(/(dflow|cli\.js) list/);
  });

  it("an unknown command", async () => {
    const r = await run(["rnu", "wf.ts"]);
    expect(r.exitCode).not.toBe(0);
    expect(r.all).toMatch(/unknown command|rnu/);
    expect(r.all).not.toMatch(STACK);
  });

  it("a DflowConfigError thrown by the user's own script is one line", async () => {
    const dir = path.join(project, "own-error");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "wf.ts"), `import { DflowConfigError } from "dflow-ts";\nthrow new DflowConfigError("input file data.csv is missing: run make-data first", { workflow: "w" });\n`);
    const r = await run(["run", "wf.ts"], dir);
    expect(r.exitCode).not.toBe(0);
    expect(r.all).toMatch(/workflow w: input file data\.csv is missing: run make-data first/);
    expect(r.all).not.toMatch(STACK);
  });

  it("a second engine on a running workflow is refused in one line", async () => {
    const dir = path.join(project, "second-engine");
    fs.mkdirSync(dir, { recursive: true });
    // Passed in the environment: /tmp in a script is re-rooted to the step's workdir.
    const gate = path.join(dir, "gate");
    fs.writeFileSync(
      path.join(dir, "wf.ts"),
      `import { ShellOPTemplate, Step, Workflow } from "dflow-ts";
const wf = new Workflow({ name: "slow" });
wf.add(new Step({ name: "wait", template: new ShellOPTemplate({ name: "wait", script: 'while [ ! -e "$GATE" ]; do sleep 0.1; done', envs: { GATE: ${JSON.stringify(gate)} } }) }));
await wf.submit();
`,
    );
    const first = run(["run", "--detach", "wf.ts"], dir);
    const r1 = await first;
    expect(r1.exitCode, `${r1.all}`).toBe(0);
    const id = /Workflow (slow-[0-9a-z]{5})/.exec(r1.all ?? "")?.[1];
    expect(id, r1.all).toBeDefined();
    try {
      const r = await run(["retry", id!], dir);
      expect(r.exitCode).not.toBe(0);
      expect(r.all).toMatch(/engine|running/i);
      expect(r.all).toContain(id!);
      expect(r.all).not.toMatch(STACK);
    } finally {
      fs.writeFileSync(gate, "");
      const w = await run(["watch", id!], dir);
      expect(w.exitCode, w.all).toBe(0);
    }
  });
});
