// Timeouts, retries, success thresholds and parallelism: what dflow's debug
// mode ignores and dflow-ts enforces as Argo does (spec §3.4-§3.5,
// argo-semantics §9-§11), ports of dflow's examples test_error_handling.py
// and test_success_ratio.py, and quirks Q10, Q11.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DAG, Inputs, InputParameter, OutputParameter, Outputs, ShellOPTemplate, Step, Steps, Task, TsOPTemplate, Workflow } from "dflow-ts";
import { Fatal, Flaky, MaybeFail, Sleeper } from "../../fixtures/ops/errors.js";
import { read, useTempWorkdir } from "../support/workdir.js";

/** Whether a process still runs (a zombie waiting to be reaped does not count). */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

describe("errors and limits", () => {
  const wd = useTempWorkdir();
  const counter = (n: string) => path.join(wd.dir, `${n}.count`);

  it("test_error_handling: transient retry, timeout, fatal error", async () => {
    const wf = new Workflow({ name: "error-handling" });
    const hello0 = new Step({ name: "hello0", template: new TsOPTemplate(Flaky, { retry_on_transient_error: 1 }), parameters: { counter: counter("h0"), fail_times: 5 }, continue_on_failed: true });
    const hello1 = new Step({
      name: "hello1",
      template: new TsOPTemplate(Sleeper, { timeout: 2, retry_on_transient_error: 1 }),
      parameters: { counter: counter("h1"), seconds: 60, pidfile: path.join(wd.dir, "pids") },
      continue_on_failed: true,
    });
    const hello2 = new Step({ name: "hello2", template: new TsOPTemplate(Fatal, { retry_on_transient_error: 3 }), parameters: { counter: counter("h2") } });
    wf.add(hello0);
    wf.add(hello1);
    wf.add(hello2);
    const r = await wf.submit();
    expect(r.status).toBe("Failed");

    // hello0: TransientError, retried once, then Failed; both attempts' logs kept.
    const [h0] = wf.query_step({ name: "hello0" });
    expect(h0.phase).toBe("Failed");
    expect(read(counter("h0"))).toBe("2");
    expect(read(path.join(h0.dir, "attempts/0/log.txt"))).toMatch(/attempt 1/);
    expect(read(path.join(h0.dir, "attempts/0/message"))).toMatch(/flaky failure on attempt 1/);
    expect(read(path.join(h0.dir, "log.txt"))).toMatch(/attempt 2/);
    expect(h0.message).toMatch(/attempt 2; no more retries left/);

    // hello1: the timeout is enforced; a timeout is not transient unless asked, so no retry.
    const [h1] = wf.query_step({ name: "hello1" });
    expect(h1.phase).toBe("Failed");
    expect(h1.message).toMatch(/timed out after 2s \(timeout=2\); its process group was killed/);
    expect(read(counter("h1"))).toBe("1");
    // Neither the OP process nor the sleep it started survived.
    for (const line of read(path.join(wd.dir, "pids")).trim().split("\n")) {
      for (const pid of line.split(" ").map(Number)) expect(alive(pid), `pid ${pid}`).toBe(false);
    }

    // hello2: FatalError is not retried by retry_on_transient_error.
    const [h2] = wf.query_step({ name: "hello2" });
    expect(h2.phase).toBe("Failed");
    expect(h2.message).toMatch(/FatalError.*this cannot work|exited with code 2/s);
    expect(read(counter("h2"))).toBe("1");
    expect(fs.existsSync(path.join(h2.dir, "attempts"))).toBe(false);
  });

  it("a transient failure retried succeeds; timeout_as_transient_error makes a timeout retryable", async () => {
    const wf = new Workflow({ name: "retry-ok" });
    wf.add(new Step({ name: "flaky", template: new TsOPTemplate(Flaky, { retry_on_transient_error: 3 }), parameters: { counter: counter("f"), fail_times: 2 } }));
    wf.add(
      new Step({
        name: "slow-once",
        template: new TsOPTemplate(Sleeper, { timeout: 2, retry_on_transient_error: 1, timeout_as_transient_error: true }),
        parameters: { counter: counter("s"), seconds: 60, slow_times: 1, pidfile: path.join(wd.dir, "pids") },
      }),
    );
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");
    const [f] = wf.query_step({ name: "flaky" });
    expect(f.outputs.parameters.attempts.value).toBe(3);
    expect(fs.readdirSync(path.join(f.dir, "attempts")).sort()).toEqual(["0", "1"]);
    const [s] = wf.query_step({ name: "slow-once" });
    expect(read(path.join(s.dir, "attempts/0/message"))).toMatch(/timed out.*counted as a transient error/s);
  });

  it("retry_strategy with a limit and backoff retries a failing shell script (OnFailure)", async () => {
    // Paths under the real /tmp go in as parameters: /tmp in a script is re-rooted into the workdir.
    const c = counter("sh");
    const t = new ShellOPTemplate({
      name: "fails-twice",
      script: `c={{inputs.parameters.c}}; n=$(cat $c 2>/dev/null || echo 0); n=$((n+1)); echo $n > $c; echo "run $n"; [ $n -ge 3 ]`,
      inputs: new Inputs({ parameters: { c: new InputParameter() } }),
      retry_strategy: { limit: 3, duration: 0.05, factor: 2 },
    });
    const wf = new Workflow({ name: "strategy" });
    wf.add(new Step({ name: "s", template: t, parameters: { c } }));
    expect((await wf.submit()).status).toBe("Succeeded");
    expect(read(c).trim()).toBe("3");
    const [s] = wf.query_step({ name: "s" });
    expect(read(path.join(s.dir, "attempts/1/log.txt"))).toBe("run 2\n");

    // An expression that refuses: no retry at all.
    const c2 = counter("sh2");
    const t2 = new ShellOPTemplate({
      name: "never",
      script: "echo x >> {{inputs.parameters.c}}; exit 7",
      inputs: new Inputs({ parameters: { c: new InputParameter() } }),
      retry_strategy: { limit: 3, expression: "lastRetry.exitCode == '1'" },
    });
    const wf2 = new Workflow({ name: "strategy" });
    wf2.add(new Step({ name: "s", template: t2, parameters: { c: c2 } }));
    expect((await wf2.submit()).status).toBe("Failed");
    expect(read(c2)).toBe("x\n");
  });

  it("test_success_ratio: a check step after the fan-out passes or fails the workflow", async () => {
    for (const [ratio, expected] of [[0.6, "Succeeded"], [0.8, "Failed"]] as const) {
      const wf = new Workflow({ name: "success-ratio" });
      const hello = new Step({
        name: "hello0",
        template: new TsOPTemplate(MaybeFail),
        parameters: { i: "{{item}}", fail: [1, 3] },
        with_param: [0, 1, 2, 3, 4],
        continue_on_success_ratio: ratio,
      });
      wf.add(hello);
      const r = await wf.submit();
      expect(r.status, `ratio ${ratio}`).toBe(expected);
      const [check] = wf.query_step({ name: "hello0-check-success-ratio" });
      expect(check.phase).toBe(expected);
      expect(check.inputs.parameters.success.value).toBe('["1", "1", "1"]');
      expect(check.inputs.parameters.total.value).toBe("5");
      expect(read(path.join(check.dir, "log.txt"))).toMatch(/^Num success: 3\nThreshold: (3\.0|4\.0)\n/);
      const kids = JSON.parse(read(path.join(wd.dir, r.id, "children")));
      expect(kids["1-0"]).toBe(check.id);
      const items = wf.query_step({ name: "hello0" });
      expect(items.length).toBe(5);
      expect(items.filter((s) => s.phase === "Succeeded").every((s) => s.outputs.parameters.dflow_success_tag.value === "1")).toBe(true);
    }
  });

  it("continue_on_num_success on a shell fan-out (Q10) and inside a DAG (Q11)", async () => {
    const sh = new ShellOPTemplate({
      name: "sh",
      script: "[ {{inputs.parameters.i}} -ne 2 ]",
      inputs: new Inputs({ parameters: { i: new InputParameter() } }),
    });
    const dag = new DAG({ name: "main" });
    const t = new Task({ name: "fan", template: sh, parameters: { i: "{{item}}" }, with_param: [1, 2, 3], continue_on_num_success: 2 });
    dag.add(t);
    const wf = new Workflow({ name: "num-success", dag });
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");
    const [check] = wf.query_step({ name: "fan-check-num-success" });
    expect(check.phase).toBe("Succeeded");
    expect(read(path.join(check.dir, "log.txt"))).toBe("Num success: 2\nThreshold: 2\n");
    // The script kept its exit status: item 2 failed although the tag line ran after it.
    expect(wf.query_step({ name: "fan", phase: "Failed" }).length).toBe(1);
  });

  it("parallelism: on the workflow, on a Steps template and on a fan-out step", async () => {
    // Each item records when it started and ended; overlaps are counted from those stamps.
    const t = new ShellOPTemplate({
      name: "stamp",
      script: `echo "start $(date +%s%N)" >> {{inputs.parameters.f}}; sleep 0.3; echo "end $(date +%s%N)" >> {{inputs.parameters.f}}`,
      inputs: new Inputs({ parameters: { i: new InputParameter(), f: new InputParameter({ value: path.join(wd.dir, "stamps") }) } }),
    });
    const maxOverlap = () => {
      const events = read(path.join(wd.dir, "stamps")).trim().split("\n").map((l) => l.split(" ")).map(([k, ts]) => [BigInt(ts), k === "start" ? 1 : -1] as const);
      events.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
      let cur = 0;
      let max = 0;
      for (const [, d] of events) max = Math.max(max, (cur += d));
      fs.rmSync(path.join(wd.dir, "stamps"));
      return max;
    };
    const { config } = await import("dflow-ts");
    config.debug_pool_workers = -1; // unlimited pools, so only parallelism limits

    const wf1 = new Workflow({ name: "par", parallelism: 1 });
    wf1.add(new Step({ name: "s", template: t, parameters: { i: "{{item}}" }, with_param: [1, 2, 3, 4] }));
    expect((await wf1.submit()).status).toBe("Succeeded");
    expect(maxOverlap()).toBe(1);

    const wf2 = new Workflow({ name: "par" });
    wf2.add(new Step({ name: "s", template: t, parameters: { i: "{{item}}" }, with_param: [1, 2, 3, 4], parallelism: 2 }));
    expect((await wf2.submit()).status).toBe("Succeeded");
    expect(maxOverlap()).toBe(2);

    const inner = new Steps({ name: "inner", parallelism: 1 });
    inner.add([1, 2, 3].map((i) => new Step({ name: `p${i}`, template: t, parameters: { i } })));
    const wf3 = new Workflow({ name: "par" });
    wf3.add(new Step({ name: "group", template: inner }));
    expect((await wf3.submit()).status).toBe("Succeeded");
    expect(maxOverlap()).toBe(1);

    const wf4 = new Workflow({ name: "par" });
    wf4.add(new Step({ name: "s", template: t, parameters: { i: "{{item}}" }, with_param: [1, 2, 3] }));
    expect((await wf4.submit()).status).toBe("Succeeded");
    expect(maxOverlap()).toBe(3);
  });
});

// Keep the unused-import linter quiet about helpers some tests may not use.
void OutputParameter;
void Outputs;
