// DispatcherExecutor without a cluster: DPDispatcher's Shell batch with a LocalContext runs each
// step as a real background job in its own job directory (inputs linked in, outputs moved back),
// so the executor path of the engine is exercised on any machine. The same steps on Slurm over
// SSH are in test/hpc/.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  DispatcherExecutor, type Executor, InputArtifact, InputParameter, Inputs, type OPTemplate, OutputParameter, Outputs,
  ScriptOPTemplate, ShellOPTemplate, Slices, SlurmRemoteExecutor, Step, TsOPTemplate, Workflow, WorkflowValidationError, upload_artifact,
} from "dflow-ts";
import { Process } from "../../fixtures/ops/slices.js";
import { SimpleExample } from "../../fixtures/ops/simple.js";
import { WorkflowStore } from "../../engine/api/workflows.js";
import { until, readOr } from "../support/wait.js";
import { read, useTempWorkdir } from "../support/workdir.js";

const ws = useTempWorkdir();

const localShell = (extra: Record<string, unknown> = {}) =>
  new DispatcherExecutor({ machine_dict: { batch_type: "Shell", context_type: "LocalContext", remote_root: path.join(ws.dir, "jobs") }, poll_interval: 0.2, ...extra });

describe("DispatcherExecutor (Shell batch, LocalContext)", () => {
  it("runs a shell step and a TS-OP step as jobs; outputs come back into the step directory, the job log into log.txt", async () => {
    fs.writeFileSync("foo.txt", "payload\n");
    const foo = await upload_artifact("foo.txt");
    const ex = localShell();
    const shell = new ShellOPTemplate({
      name: "count",
      script: "echo counting; wc -c < /tmp/in/foo.txt | tr -d ' ' > /tmp/n; echo {{inputs.parameters.tag}} > /tmp/tag",
      inputs: new Inputs({ parameters: { tag: new InputParameter() }, artifacts: { inp: new InputArtifact({ path: "/tmp/in" }) } }),
      outputs: new Outputs({ parameters: { n: new OutputParameter({ value_from_path: "/tmp/n" }), tag: new OutputParameter({ value_from_path: "/tmp/tag" }) } }),
    });
    const s0 = new Step({ name: "count", template: shell, parameters: { tag: "T1" }, artifacts: { inp: foo }, executor: ex });
    const s1 = new Step({ name: "op", template: new TsOPTemplate(SimpleExample), parameters: { msg: "hi" }, artifacts: { foo }, executor: ex });
    const wf = new Workflow({ name: "disp-local" });
    wf.add([s0, s1]);
    const { status } = await wf.submit();
    expect(status).toBe("Succeeded");
    const [count] = wf.query_step({ name: "count" });
    expect(count!.outputs.parameters.n!.value).toBe("8\n"); // untyped: the file's text, as in dflow
    expect(count!.outputs.parameters.tag!.value).toBe("T1\n");
    expect(read(path.join(count!.dir!, "log.txt"))).toContain("counting");
    const [op] = wf.query_step({ name: "op" });
    expect(op!.outputs.parameters.msg!.value).toBe("hi");
    expect(fs.existsSync(path.join(op!.dir!, "job_ids"))).toBe(true);
    // Where the job ran, as the UI's step panel shows it.
    const wfdir = path.dirname(op!.dir!);
    const detail = new WorkflowStore(path.dirname(wfdir)).step(path.basename(wfdir), path.basename(op!.dir!));
    expect(detail.job_ids).toHaveLength(1);
    expect(detail.cluster).toMatchObject({ batch_type: "Shell", context: "LocalContext", host: "localhost" });
    expect(detail.cluster!.remote_dir).toContain(path.join(ws.dir, "jobs"));
    // Cleaned after the download: no job directory left.
    expect(fs.readdirSync(path.join(ws.dir, "jobs"))).toEqual([]);
  });

  it("a failing job is resubmitted retry_count times, then the step fails with the job's error output", async () => {
    const t = new ShellOPTemplate({ name: "bad", script: "echo 'no such input' >&2; exit 4" });
    const wf = new Workflow({ name: "disp-fail" });
    wf.add(new Step({ name: "bad", template: t, executor: localShell({ machine_dict: { batch_type: "Shell", context_type: "LocalContext", remote_root: path.join(ws.dir, "jobs"), retry_count: 1 } }) }));
    const { status } = await wf.submit();
    expect(status).toBe("Failed");
    const [bad] = wf.query_step({ name: "bad" });
    expect(bad!.message).toMatch(/failed 2 times/);
    expect(bad!.message).toContain("no such input");
    expect(read(path.join(bad!.dir!, "job_ids")).trim().split("\n")).toHaveLength(2);
  });

  it("Workflow({context}) renders every script step; a step's own executor wins", async () => {
    const seen: string[] = [];
    const tagging: Executor = {
      render(t: OPTemplate) {
        seen.push(t.name);
        if (!(t instanceof ScriptOPTemplate)) return t;
        const copy = Object.assign(Object.create(Object.getPrototypeOf(t) as object), t) as ScriptOPTemplate;
        copy.script = `${t.script}\necho rendered > /tmp/r`;
        copy.outputs = new Outputs({ parameters: { r: new OutputParameter({ value_from_path: "/tmp/r" }) } });
        return copy;
      },
    };
    const plain = new ShellOPTemplate({ name: "plain", script: "echo hi" });
    const own: Executor = { render: (t) => t };
    const wf = new Workflow({ name: "ctx", context: tagging });
    wf.add(new Step({ name: "a", template: plain }));
    wf.add(new Step({ name: "b", template: plain, executor: own }));
    const { status } = await wf.submit();
    expect(status).toBe("Succeeded");
    expect(wf.query_step({ name: "a" })[0]!.outputs.parameters.r!.value).toBe("rendered\n");
    expect(wf.query_step({ name: "b" })[0]!.outputs.parameters.r).toBeUndefined();
    expect(seen).toEqual(["plain"]);
  });

  it("Workflow.terminate() in the same process cancels the step's job; the step fails with the reason", async () => {
    const gate = path.join(ws.dir, "gate");
    // It also ends once the test's folder is gone: removed before it saw the gate, it would poll for ever.
    const t = new ShellOPTemplate({ name: "long", script: `while [ ! -e ${gate} ] && [ -d ${ws.dir} ]; do sleep 0.2; done` });
    const wf = new Workflow({ name: "disp-stop" });
    wf.add(new Step({ name: "long", template: t, executor: localShell() }));
    const run = wf.submit();
    try {
      const jobIds = await until("the job to be submitted", () => {
        if (!wf.id) return undefined;
        const wfdir = path.join(ws.dir, wf.id);
        const step = fs.readdirSync(wfdir).find((d) => fs.existsSync(path.join(wfdir, d, "job_ids")));
        return step && readOr(path.join(wfdir, step, "job_ids"))?.trim();
      });
      await wf.terminate();
      const { status } = await run;
      expect(status).toBe("Failed");
      const [long] = wf.query_step({ name: "long" });
      expect(long!.phase).toBe("Failed");
      expect(long!.message).toMatch(/terminated \(Workflow\.terminate\(\)\)/);
      // The Shell batch system's job is the job script's process: killed (gone, or a zombie nobody reaps here).
      const pid = Number(jobIds.split("\n")[0]);
      await until(`job ${pid} to be killed`, () => !/^\d+ \(.*\) [^Z]/.test(readOr(`/proc/${pid}/stat`) ?? ""));
    } finally {
      fs.writeFileSync(gate, ""); // the job's own child (DPDispatcher's Shell kill leaves it) ends too
      await run.catch(() => undefined);
    }
  });

  it("bad options are refused with the key named; bad dicts at submit, before any step runs", async () => {
    expect(() => new DispatcherExecutor({ hots: "x" } as never)).toThrow(/unknown option "hots"/);
    expect(() => new SlurmRemoteExecutor({})).toThrow(/host is required/);
    const t = new ShellOPTemplate({ name: "t", script: "true" });
    const wf = new Workflow({ name: "badmachine" });
    wf.add(new Step({ name: "first", template: new ShellOPTemplate({ name: "first", script: "true" }) }));
    wf.add(new Step({ name: "s", template: t, executor: new DispatcherExecutor({ machine_dict: { batch_type: "Slurmm" } }) }));
    const err = await wf.submit().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowValidationError);
    expect((err as Error).message).toMatch(/step s, executor: DispatcherExecutor: machine\.batch_type: "Slurmm" is not one of/);
    // Nothing ran: the workflow has no id and no directory.
    expect(wf.id).toBeUndefined();
  });
});

describe("merge_sliced_step (Shell batch, LocalContext)", () => {
  const sliced = (extra: Record<string, unknown> = {}) => new TsOPTemplate(Process, { slices: new Slices({ input_parameter: ["data"], output_artifact: ["output"], output_parameter: ["square"], ...extra }) });

  it("a sliced step is one step: its slices are the tasks of one submission (resources group_size 4: 3 jobs for 10), its outputs the lists a fan-out's would be", async () => {
    const merged = localShell({ merge_sliced_step: true, resources_dict: { group_size: 4 } });
    const squares = new Step({ name: "squares", template: sliced(), parameters: { data: Array.from({ length: 10 }, (_, i) => i) }, key: "sq-{{item}}", executor: merged });
    const sum = new ShellOPTemplate({
      name: "sum",
      script: "echo '{{inputs.parameters.squares}}' > /tmp/list; ls /tmp/files | grep -c '\\.txt$' > /tmp/n",
      inputs: new Inputs({ parameters: { squares: new InputParameter() }, artifacts: { files: new InputArtifact({ path: "/tmp/files" }) } }),
      outputs: new Outputs({ parameters: { list: new OutputParameter({ value_from_path: "/tmp/list" }), n: new OutputParameter({ value_from_path: "/tmp/n" }) } }),
    });
    const wf = new Workflow({ name: "merged" });
    wf.add(squares);
    wf.add(new Step({ name: "sum", template: sum, parameters: { squares: squares.outputs.parameters.square }, artifacts: { files: squares.outputs.artifacts.output } }));
    const { status } = await wf.submit();
    expect(status).toBe("Succeeded");
    const steps = wf.query_step({ name: "squares" });
    expect(steps).toHaveLength(1); // no items: one step
    const step = steps[0]!;
    // {{item}} in the key is dflow's "0" for a merged step.
    expect(path.basename(step.dir!)).toBe("sq-0");
    expect(read(path.join(step.dir!, "job_ids")).trim().split("\n")).toHaveLength(3);
    expect(JSON.parse(read(path.join(step.dir!, "outputs", "parameters", "square")))).toEqual([0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
    expect(JSON.parse(read(path.join(step.dir!, "inputs", "parameters", "dflow_with_param")))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const [s] = wf.query_step({ name: "sum" });
    expect(JSON.parse(String(s!.outputs.parameters.list!.value))).toEqual([0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
    expect(String(s!.outputs.parameters.n!.value).trim()).toBe("10");
  });

  it("over no items: one step, nothing submitted, empty lists (as dflow's pod with no task)", async () => {
    const wf = new Workflow({ name: "merged-empty", context: localShell({ merge_sliced_step: true }) });
    wf.add(new Step({ name: "squares", template: sliced(), parameters: { data: [] } }));
    const { status } = await wf.submit();
    expect(status).toBe("Succeeded");
    const [step] = wf.query_step({ name: "squares" });
    expect(step!.outputs.parameters.square!.value).toEqual([]);
    expect(fs.existsSync(path.join(step!.dir!, "job_ids"))).toBe(false);
  });

  it("a failing slice fails the step, with the job's log", async () => {
    const wf = new Workflow({ name: "merged-fail", context: localShell({ merge_sliced_step: true, machine_dict: { batch_type: "Shell", context_type: "LocalContext", remote_root: path.join(ws.dir, "jobs"), retry_count: 0 } }) });
    wf.add(new Step({ name: "squares", template: sliced(), parameters: { data: [1, 2.5, 3] } }));
    const { status } = await wf.submit();
    expect(status).toBe("Failed");
    const [step] = wf.query_step({ name: "squares" });
    expect(step!.phase).toBe("Failed");
    expect(read(path.join(step!.dir!, "message"))).toMatch(/remote job failed/);
    expect(read(path.join(step!.dir!, "log.txt"))).toMatch(/data/);
  });

  it("what cannot be merged is refused at submit, all at once, each naming the step and field", async () => {
    const wf = new Workflow({ name: "merged-bad", context: localShell({ merge_sliced_step: true }) });
    wf.add(new Step({ name: "grouped", template: new TsOPTemplate(Process, { slices: new Slices({ input_parameter: ["data"], output_artifact: ["output"], group_size: 2 }) }), parameters: { data: [1, 2, 3] } }));
    wf.add(new Step({ name: "itemised", template: sliced(), parameters: { data: "{{item}}" }, with_param: [[1], [2]] }));
    const err = await wf.submit().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowValidationError);
    const message = (err as Error).message;
    expect(message).toMatch(/step grouped, context: merge_sliced_step .*group_size is not supported/);
    expect(message).toMatch(/step grouped, output parameter square: .*add it to Slices' output_parameter/);
    expect(message).toMatch(/step itemised, parameter data: uses the item/);
    expect(wf.id).toBeUndefined();
  });
});
