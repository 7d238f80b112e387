// Options of the model objects are checked when the object is built, and the
// values assigned afterwards again at submit: one DflowConfigError listing
// every bad field (object, field, value given, what is allowed), unknown
// names refused with a "did you mean". What dflow accepts stays accepted.
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import {
  argo_sequence,
  DAG,
  DflowConfigError,
  DispatcherExecutor,
  InputArtifact,
  InputParameter,
  MAX_RETRIES,
  OutputArtifact,
  OutputParameter,
  PythonScriptOPTemplate,
  ScriptOPTemplate,
  set_config,
  ShellOPTemplate,
  Slices,
  Step,
  Steps,
  Task,
  TsOPTemplate,
  validateOptions,
  Workflow,
} from "dflow-ts";
import { nextAttempt, retryPlan } from "../../engine/retry.js";
import { OPFailure } from "../../src/errors.js";
import { ShellOPTemplate as SrcShell } from "../../src/templates.js";
import { SimpleExample } from "../../fixtures/ops/simple.js";
import { useTempWorkdir } from "../support/workdir.js";
import { refusal } from "../support/refusal.js";

const wd = useTempWorkdir();

const t = () => new ShellOPTemplate({ name: "t", script: "true" });

describe("invalid options are refused when the object is built", () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ["retry_strategy limit not a number", () => new ShellOPTemplate({ name: "x", retry_strategy: { limit: "three" as never } }), /template x: option retry_strategy\.limit = "three": must be a whole number from 0 to 1000/],
    ["retry_on_transient_error as text", () => new ShellOPTemplate({ name: "x", retry_on_transient_error: "3" as never }), /option retry_on_transient_error = "3": must be a whole number/],
    ["negative retry count", () => new PythonScriptOPTemplate({ name: "x", retry_on_failure: -1 }), /retry_on_failure = -1/],
    ["retry limit above the cap", () => new ScriptOPTemplate({ name: "x", retry_strategy: { limit: MAX_RETRIES + 1 } }), /retry_strategy\.limit = 1001/],
    ["unknown retry policy", () => new ShellOPTemplate({ name: "x", retry_strategy: { retry_policy: "OnFailed" as never } }), /retry_policy = "OnFailed": must be one of OnFailure, OnError, Always, OnTransientError/],
    ["negative timeout", () => new ShellOPTemplate({ name: "x", timeout: -5 }), /option timeout = -5: must be seconds > 0/],
    ["timeout text that is no duration", () => new ShellOPTemplate({ name: "x", timeout: "soon" }), /option timeout = "soon"/],
    ["parallelism 0 on a template", () => new Steps({ name: "x", parallelism: 0 }), /template x: option parallelism = 0: must be a whole number ≥ 1/],
    ["parallelism 0 on a DAG", () => new DAG({ name: "x", parallelism: 0 }), /option parallelism = 0/],
    ["parallelism 0 on a workflow", () => new Workflow({ name: "w", parallelism: 0 }), /workflow w: option parallelism = 0/],
    ["parallelism 0 on a step", () => new Step({ name: "s", template: t(), parallelism: 0 }), /step s: option parallelism = 0/],
    ["success ratio above 1", () => new Step({ name: "s", template: t(), continue_on_success_ratio: 1.5 }), /step s: option continue_on_success_ratio = 1.5: must be a number from 0 to 1/],
    ["negative num_success", () => new Task({ name: "s", template: t(), continue_on_num_success: -1 }), /continue_on_num_success = -1: must be a whole number ≥ 0/],
    ["step timeout negative", () => new Step({ name: "s", template: t(), timeout: -1 }), /step s: option timeout = -1/],
    ["negative sequence count", () => argo_sequence({ count: -1 }), /argo_sequence: count = -1: must be a whole number ≥ 0/],
    ["fractional sequence count", () => argo_sequence(2.5), /count = 2.5/],
    ["sequence without count or end", () => argo_sequence({ start: 1 }), /needs count or end/],
    ["Slices group_size 0", () => new Slices({ group_size: 0 }), /Slices: option group_size = 0: must be a whole number ≥ 1/],
    ["Slices pool_size 0", () => new Slices({ pool_size: 0 }), /pool_size = 0/],
    ["optional not a boolean", () => new InputArtifact({ optional: "yes" as never }), /InputArtifact ""?: ?option optional = "yes": must be true or false|option optional = "yes"/],
    ["global_name not a string", () => new OutputParameter({ global_name: 3 as never }), /option global_name = 3: must be a string/],
    ["save not a list", () => new OutputArtifact({ save: "s3" as never }), /option save = "s3"/],
    ["config pool workers 0", () => set_config({ debug_pool_workers: 0 }), /set_config: option debug_pool_workers = 0/],
    ["config copy method", () => set_config({ debug_copy_method: "hardlink" }), /debug_copy_method = "hardlink": must be one of symlink, link, copy/],
    ["dispatcher port", () => new DispatcherExecutor({ host: "h", port: 0 }), /DispatcherExecutor: option port = 0/],
    ["dispatcher scheduler_retry attempts", () => new DispatcherExecutor({ host: "h", scheduler_retry: { attempts: Number.NaN } }), /scheduler_retry\.attempts = NaN/],
    ["TsOPTemplate retry", () => new TsOPTemplate(SimpleExample, { retry_on_error: 1.5 }), /retry_on_error = 1.5/],
    ["TsOPTemplate default for an undeclared output", () => new TsOPTemplate(SimpleExample, { output_parameter_default: { nope: 1 } }), /output_parameter_default\.nope: OP SimpleExample has no output parameter nope/],
  ];
  for (const [what, f, re] of cases) {
    it(what, () => {
      expect(refusal(f).message).toMatch(re);
    });
  }

  it("every bad field at once, one line each", () => {
    const e = refusal(() => new ShellOPTemplate({ name: "x", retry_strategy: { limit: "three" as never, factor: 0 }, retry_on_transient_error: "3" as never, timeout: -1, parallelism: 0 }));
    expect(e.message).toMatch(/^template x: 5 invalid options:/);
    for (const f of ["retry_strategy.limit", "retry_strategy.factor", "retry_on_transient_error", "timeout", "parallelism"]) expect(e.message).toContain(`option ${f} =`);
    expect(e.context.template).toBe("x");
  });

  it("a misspelt option is refused with a did-you-mean", () => {
    expect(refusal(() => new Step({ name: "s", template: t(), continue_on_succes_ratio: 0.5 } as never)).message).toMatch(/step s: unknown option "continue_on_succes_ratio" \(did you mean continue_on_success_ratio\?\)/);
    expect(refusal(() => new ShellOPTemplate({ name: "x", retry_on_transient_eror: 2 } as never)).message).toMatch(/did you mean retry_on_transient_error\?/);
    expect(refusal(() => new Workflow({ name: "w", paralelism: 2 } as never)).message).toMatch(/did you mean parallelism\?/);
    expect(refusal(() => set_config({ debug_pool_worker: 2 } as never)).message).toMatch(/did you mean debug_pool_workers\?/);
    expect(refusal(() => new InputParameter({ vaule: 1 } as never)).message).toMatch(/did you mean value\?/);
    expect(refusal(() => new Slices({ input_parameters: ["x"] } as never)).message).toMatch(/did you mean input_parameter\?/);
  });

  it("dflow options that do something dflow-ts does not do are refused with what to do instead", () => {
    expect(refusal(() => new Step({ name: "s", template: t(), slices: new Slices() } as never)).message).toMatch(/option "slices" is not supported by dflow-ts: set slices on the TsOPTemplate/);
    expect(refusal(() => new TsOPTemplate(SimpleExample, { command: ["node"] } as never)).message).toMatch(/pass \{ node:/);
  });

  it("what dflow accepts is still accepted", () => {
    expect(new ShellOPTemplate({ name: "x", timeout: "90s" }).timeout).toBe(90);
    expect(new ShellOPTemplate({ name: "x", command: "bash" as never }).command).toEqual(["bash"]);
    expect(new PythonScriptOPTemplate({ name: "x", command: undefined }).command).toEqual(["python3"]);
    new ShellOPTemplate({ name: "x", retry_strategy: { limit: "3" as never, duration: "1s", cap: "1m", max_duration: 60 }, memoize_key: "k", requests: { cpu: "1" } } as never);
    new ShellOPTemplate({ name: "x", timeout: undefined, retry_on_failure: null as never, parallelism: undefined });
    new Step({ name: "s", template: t(), util_image: "python:3.8", continue_on_num_success: 0, continue_on_success_ratio: 1 } as never);
    new Workflow({ name: "w", namespace: "argo", parallelism: 1 } as never);
    argo_sequence({ count: "{{inputs.parameters.n}}" });
    argo_sequence({ start: "1", end: "3" });
    new Slices({ pool_size: -1, group_size: 2 });
    set_config({ debug_pool_workers: -1, util_image: "python:3.8" } as never);
    new OutputParameter({ value_from_path: "/tmp/x", default: null, save_both: true } as never);
  });
});

describe("values assigned after construction are checked at submit, before anything runs", () => {
  it("bad assignments are all reported by submit, nothing runs", async () => {
    const tpl = t();
    const s = new Step({ name: "s", template: tpl });
    const wf = new Workflow({ name: "late" }).add(s);
    tpl.retry_on_failure = "three" as never;
    tpl.retry_strategy = { limit: -1 };
    s.continue_on_success_ratio = 1.5;
    s.parallelism = 0;
    tpl.outputs.parameters.msg = new OutputParameter({ value_from_path: "/tmp/msg" });
    tpl.outputs.parameters.msg.global_name = 7 as never;
    wf.parallelism = -2;
    let err: unknown;
    try {
      await wf.submit();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DflowConfigError);
    const m = (err as Error).message;
    expect(m).toMatch(/workflow late: option parallelism = -2/);
    // One line per bad field, each naming its place.
    expect(m).toMatch(/workflow late has 6 problems/);
    expect(m).toMatch(/option continue_on_success_ratio = 1.5: must be a number from 0 to 1/);
    expect(m).toMatch(/workflow late, step s: option parallelism = 0/);
    expect(m).toMatch(/workflow late, template t: option retry_on_failure = "three"/);
    expect(m).toMatch(/workflow late, template t: option retry_strategy\.limit = -1/);
    expect(m).toMatch(/template t, parameter msg: option global_name = 7/);
    // Refused before the run: no workflow directory was made.
    expect(fs.readdirSync(wd.dir).filter((d) => d.startsWith("late-"))).toEqual([]);
  });

  it("validateOptions checks one object as it is now", () => {
    const seq = argo_sequence({ count: 2 });
    (seq.opts as { count: unknown }).count = -3;
    expect(() => validateOptions(seq)).toThrow(/count = -3/);
    const sl = new Slices({ group_size: 2 });
    (sl as { group_size: number }).group_size = 0;
    expect(() => validateOptions(sl)).toThrow(/group_size = 0/);
    const p = new InputParameter();
    p.description = 5 as never;
    expect(() => validateOptions(p)).toThrow(/description = 5/);
    validateOptions(new Step({ name: "ok", template: t() }));
  });
});

describe("retries are bounded whatever the options say", () => {
  const fail = () => new OPFailure("boom", {}, { exitCode: 1, retryable: true });

  it("a policy without a limit ('until success') stops at MAX_RETRIES", () => {
    const plan = retryPlan(new SrcShell({ name: "x", retry_strategy: { retry_policy: "Always" } }));
    expect(nextAttempt(plan, MAX_RETRIES - 1, fail(), 0, 0)).toMatchObject({ retry: true });
    expect(nextAttempt(plan, MAX_RETRIES, fail(), 0, 0)).toMatchObject({ retry: false, why: expect.stringMatching(/most retries a step may make \(1000\)/) });
  });

  it("a limit that is not a whole number (assigned past validation) allows no retry at all", () => {
    const tpl = new SrcShell({ name: "x" });
    tpl.retry_strategy = { limit: "three" as never };
    tpl.retry_on_transient_error = Number.NaN;
    expect(nextAttempt(retryPlan(tpl), 0, fail(), 0, 0)).toMatchObject({ retry: false });
    tpl.retry_strategy = { limit: "2" as never };
    const plan = retryPlan(tpl);
    expect(nextAttempt(plan, 1, fail(), 0, 0)).toMatchObject({ retry: true });
    expect(nextAttempt(plan, 2, fail(), 0, 0)).toMatchObject({ retry: false });
  });
});
