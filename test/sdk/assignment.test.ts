// dflow's assignment style (`op.outputs.parameters["msg"].default = x`,
// `steps.inputs.parameters["x"].value = 1`, `t.retry_on_failure = 2`, …) must
// behave exactly like the constructor option. Each case builds the same
// workflow twice — once with the option in the constructor, once assigned
// after construction (and after the step was added) — runs both for real and
// compares what they did, besides asserting what that is.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  argo_sequence,
  InputArtifact,
  InputParameter,
  Inputs,
  OutputArtifact,
  OutputParameter,
  Outputs,
  ShellOPTemplate,
  Step,
  Steps,
  Workflow,
} from "dflow-ts";
import { useTempWorkdir } from "../support/workdir.js";

const wd = useTempWorkdir();

type Mode = "ctor" | "assign";
/** `value` in the constructor options for "ctor", nothing for "assign". */
const opt = <T extends object>(mode: Mode, o: T): T | Record<string, never> => (mode === "ctor" ? o : {});

/** What a run did, without ids, times or directories. */
function outcome(wf: Workflow, status: string): unknown {
  const steps = wf
    .query_step()
    .filter((s) => s.type === "Pod")
    .map((s) => ({
      name: s.displayName,
      phase: s.phase,
      key: s.key,
      outputs: Object.fromEntries(Object.entries(s.outputs.parameters).map(([k, p]) => [k, p.value])),
      artifacts: Object.keys(s.outputs.artifacts).sort(),
      attempts: fs.existsSync(path.join(s.dir, "attempts")) ? fs.readdirSync(path.join(s.dir, "attempts")).length : 0,
      timedOut: /timed out/.test(s.message ?? ""),
    }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return { status, steps };
}

/** Run the workflow built both ways; return the constructor run's outcome after checking the other matches it. */
async function both(build: (mode: Mode, i: number) => Workflow): Promise<{ status: string; steps: Array<{ name: string; phase: string; key: string | null; outputs: Record<string, unknown>; attempts: number; timedOut: boolean }> }> {
  const results: unknown[] = [];
  let i = 0;
  for (const mode of ["ctor", "assign"] as const) {
    const wf = build(mode, i++);
    const r = await wf.submit();
    results.push(outcome(wf, r.status));
  }
  expect(results[1], "assigned after construction vs constructor option").toEqual(results[0]);
  return results[0] as never;
}

const out = (name: string) => new OutputParameter({ value_from_path: `/tmp/outputs/parameters/${name}` });
const pod = (r: Awaited<ReturnType<typeof both>>, name: string) => r.steps.filter((s) => s.name === name || s.name.startsWith(`${name}(`));

describe("assignment after construction behaves as the constructor option", () => {
  it("OutputParameter default and value", async () => {
    const r = await both((mode) => {
      const t = new ShellOPTemplate({
        name: "t",
        script: "mkdir -p /tmp/outputs/parameters",
        outputs: new Outputs({
          parameters: {
            msg: new OutputParameter({ value_from_path: "/tmp/outputs/parameters/msg", ...opt(mode, { default: "fallback" }) }),
            fixed: new OutputParameter(opt(mode, { value: "v" })),
          },
        }),
      });
      if (mode === "assign") {
        t.outputs.parameters.msg.default = "fallback";
        t.outputs.parameters.fixed.value = "v";
      }
      return new Workflow({ name: "out-default" }).add(new Step({ name: "s", template: t }));
    });
    expect(r.status).toBe("Succeeded");
    expect(pod(r, "s")[0].outputs).toEqual({ msg: "fallback", fixed: "v" });
  });

  it("an OutputParameter default of null is a default (dflow's None), undefined is none", async () => {
    const t = new ShellOPTemplate({ name: "t", script: "true", outputs: new Outputs({ parameters: { msg: out("msg") } }) });
    expect(t.outputs.parameters.msg.has_default).toBe(false);
    t.outputs.parameters.msg.default = null;
    expect(t.outputs.parameters.msg.has_default).toBe(true);
    t.outputs.parameters.msg.default = undefined;
    expect(t.outputs.parameters.msg.has_default).toBe(false);
  });

  it("InputParameter value on an OP template and on a Steps template", async () => {
    const r = await both((mode) => {
      const t = new ShellOPTemplate({
        name: "t",
        script: "mkdir -p /tmp/outputs/parameters && echo -n {{inputs.parameters.x}}-{{inputs.parameters.y}} > /tmp/outputs/parameters/r",
        inputs: new Inputs({ parameters: { x: new InputParameter(opt(mode, { value: 1 })), y: new InputParameter() } }),
        outputs: new Outputs({ parameters: { r: out("r") } }),
      });
      const inner = new Steps({ name: "inner", inputs: new Inputs({ parameters: { y: new InputParameter(opt(mode, { value: "b" })) } }) });
      inner.add(new Step({ name: "s", template: t, parameters: { y: inner.inputs.parameters.y } }));
      if (mode === "assign") {
        t.inputs.parameters.x.value = 1;
        inner.inputs.parameters.y.value = "b";
      }
      return new Workflow({ name: "in-value" }).add(new Step({ name: "call", template: inner }));
    });
    expect(r.status).toBe("Succeeded");
    expect(pod(r, "s")[0].outputs).toEqual({ r: "1-b" });
  });

  it("InputArtifact and OutputArtifact optional", async () => {
    const r = await both((mode) => {
      const t = new ShellOPTemplate({
        name: "t",
        script: "test -e /tmp/in && echo unexpected; true",
        inputs: new Inputs({ artifacts: { foo: new InputArtifact({ path: "/tmp/in", ...opt(mode, { optional: true }) }) } }),
        outputs: new Outputs({ artifacts: { bar: new OutputArtifact({ path: "/tmp/never", ...opt(mode, { optional: true }) }) } }),
      });
      if (mode === "assign") {
        t.inputs.artifacts.foo.optional = true;
        t.outputs.artifacts.bar.optional = true;
      }
      return new Workflow({ name: "optional" }).add(new Step({ name: "s", template: t }));
    });
    expect(r.status).toBe("Succeeded");
    expect(pod(r, "s")[0].phase).toBe("Succeeded");
  });

  it("template script, command and envs", async () => {
    const script = 'mkdir -p /tmp/outputs/parameters && echo -n "${BASH_VERSION:+bash}:$GREETING" > /tmp/outputs/parameters/r';
    const r = await both((mode) => {
      const t = new ShellOPTemplate({ name: "t", outputs: new Outputs({ parameters: { r: out("r") } }), ...opt(mode, { script, command: ["bash"], envs: { GREETING: "hi" } }) });
      if (mode === "assign") {
        t.script = script;
        t.command = ["bash"];
        t.envs = { GREETING: "hi" };
      }
      return new Workflow({ name: "script" }).add(new Step({ name: "s", template: t }));
    });
    expect(r.status).toBe("Succeeded");
    expect(pod(r, "s")[0].outputs).toEqual({ r: "bash:hi" });
  });

  it("retry_on_failure and retry_strategy on the template, retry_strategy on the step", async () => {
    // Fails until it has run `n` times (a counter file per workflow build; script_rendered keeps its /tmp path as is).
    const flaky = (name: string, counter: string, n: number, opts: object) =>
      new ShellOPTemplate({ name, script: `c=$(cat ${counter} 2>/dev/null || echo 0); c=$((c+1)); echo $c > ${counter}; [ $c -ge ${n} ]`, script_rendered: true, ...opts });
    const r = await both((mode, i) => {
      const a = flaky("a", path.join(wd.dir, `a${i}`), 3, opt(mode, { retry_on_failure: 2 }));
      const b = flaky("b", path.join(wd.dir, `b${i}`), 2, opt(mode, { retry_strategy: { limit: 1 } }));
      const c = flaky("c", path.join(wd.dir, `c${i}`), 2, {});
      const sa = new Step({ name: "sa", template: a });
      const sb = new Step({ name: "sb", template: b });
      const sc = new Step({ name: "sc", template: c, ...opt(mode, { retry_strategy: { limit: 1 } }) });
      const wf = new Workflow({ name: "retries" }).add([sa, sb, sc]);
      if (mode === "assign") {
        a.retry_on_failure = 2;
        b.retry_strategy = { limit: 1 };
        sc.retry_strategy = { limit: 1 };
      }
      return wf;
    });
    expect(r.status).toBe("Succeeded");
    expect(pod(r, "sa")[0].attempts).toBe(2);
    expect(pod(r, "sb")[0].attempts).toBe(1);
    expect(pod(r, "sc")[0].attempts).toBe(1);
  });

  it("timeout on the template and on the step (seconds or a duration)", async () => {
    const r = await both((mode) => {
      const slow = new ShellOPTemplate({ name: "slow", script: "sleep 600", ...opt(mode, { timeout: 1 }) });
      const slow2 = new ShellOPTemplate({ name: "slow2", script: "sleep 600" });
      const s1 = new Step({ name: "s1", template: slow, continue_on_failed: true });
      const s2 = new Step({ name: "s2", template: slow2, continue_on_failed: true, ...opt(mode, { timeout: "1s" }) });
      const wf = new Workflow({ name: "timeouts" }).add([s1, s2]);
      if (mode === "assign") {
        slow.timeout = 1;
        s2.timeout = "1s";
      }
      return wf;
    });
    expect(r.status).toBe("Succeeded");
    expect(pod(r, "s1")[0]).toMatchObject({ phase: "Failed", timedOut: true });
    expect(pod(r, "s2")[0]).toMatchObject({ phase: "Failed", timedOut: true });
  });

  it("step continue_on_failed, when, key, with_param, with_sequence", async () => {
    const echo = () =>
      new ShellOPTemplate({
        name: "echo",
        script: "mkdir -p /tmp/outputs/parameters && echo -n {{inputs.parameters.x}} > /tmp/outputs/parameters/r",
        inputs: new Inputs({ parameters: { x: new InputParameter({ value: "none" }) } }),
        outputs: new Outputs({ parameters: { r: out("r") } }),
      });
    const r = await both((mode) => {
      const fail = new Step({ name: "fail", template: new ShellOPTemplate({ name: "fail", script: "exit 3" }), ...opt(mode, { continue_on_failed: true }) });
      const skipped = new Step({ name: "skipped", template: echo(), ...opt(mode, { when: "1 > 2" }) });
      const keyed = new Step({ name: "keyed", template: echo(), ...opt(mode, { key: "the-key" }) });
      const items = new Step({ name: "items", template: echo(), parameters: { x: "{{item}}" }, ...opt(mode, { with_param: ["p", "q"] }) });
      const seq = new Step({ name: "seq", template: echo(), parameters: { x: "{{item}}" }, ...opt(mode, { with_sequence: argo_sequence({ count: 2, format: "n%d" }) }) });
      const wf = new Workflow({ name: "step-opts" }).add(fail).add([skipped, keyed, items, seq]);
      if (mode === "assign") {
        fail.continue_on_failed = true;
        skipped.when = "1 > 2";
        keyed.key = "the-key";
        items.with_param = ["p", "q"];
        seq.with_sequence = argo_sequence({ count: 2, format: "n%d" });
      }
      return wf;
    });
    expect(r.status).toBe("Succeeded");
    expect(pod(r, "fail")[0].phase).toBe("Failed");
    expect(pod(r, "skipped")).toEqual([]); // a skipped step leaves no directory (dflow §4.10)
    expect(pod(r, "keyed")[0].key).toBe("the-key");
    expect(pod(r, "items").map((s) => s.outputs.r).sort()).toEqual(["p", "q"]);
    expect(pod(r, "seq").map((s) => s.outputs.r).sort()).toEqual(["n0", "n1"]);
  });

  it("continue_on_num_success and continue_on_success_ratio (assigned after the step was added)", async () => {
    // Item 2 of 3 fails: 2 successes meet num_success 2 and ratio 0.6, so the workflow goes on.
    const t = () => new ShellOPTemplate({ name: "maybe", script: "[ {{inputs.parameters.i}} != 2 ]", inputs: new Inputs({ parameters: { i: new InputParameter() } }) });
    const r = await both((mode) => {
      const num = new Step({ name: "num", template: t(), parameters: { i: "{{item}}" }, with_param: [1, 2, 3], ...opt(mode, { continue_on_num_success: 2 }) });
      const ratio = new Step({ name: "ratio", template: t(), parameters: { i: "{{item}}" }, with_param: [1, 2, 3], ...opt(mode, { continue_on_success_ratio: 0.6 }) });
      const wf = new Workflow({ name: "thresholds" }).add(num).add(ratio);
      if (mode === "assign") {
        num.continue_on_num_success = 2;
        ratio.continue_on_success_ratio = 0.6;
      }
      return wf;
    });
    expect(r.status).toBe("Succeeded");
    expect(pod(r, "num-check-num-success")[0].phase).toBe("Succeeded");
    expect(pod(r, "ratio-check-success-ratio")[0].phase).toBe("Succeeded");
    expect(pod(r, "num").map((s) => s.phase).sort()).toEqual(["Failed", "Succeeded", "Succeeded"]);
  });

  it("a success threshold that is not met fails the workflow both ways", async () => {
    const t = () => new ShellOPTemplate({ name: "maybe", script: "[ {{inputs.parameters.i}} = 1 ]", inputs: new Inputs({ parameters: { i: new InputParameter() } }) });
    const r = await both((mode) => {
      const s = new Step({ name: "num", template: t(), parameters: { i: "{{item}}" }, with_param: [1, 2, 3], ...opt(mode, { continue_on_num_success: 2 }) });
      const wf = new Workflow({ name: "threshold-unmet" }).add(s);
      if (mode === "assign") s.continue_on_num_success = 2;
      return wf;
    });
    expect(r.status).toBe("Failed");
    expect(pod(r, "num-check-num-success")[0].phase).toBe("Failed");
  });
});
