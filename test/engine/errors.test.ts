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
import { alive } from "../support/proc.js";

describe("errors and limits", () => {
  const wd = useTempWorkdir();
  const counter = (n: string) => path.join(wd.dir, `${n}.count`);

  it("test_error_handling: transient retry, timeout, fatal error", async () => {
    const wf = new Workflow({ name: "error-handling" });
    const hello0 = new Step({ name: "hello0", template: new TsOPTemplate(Flaky, { retry_on_transient_error: 1 }), parameters: { counter: counter("h0"), fail_times: 5 }, continue_on_failed: true });
    // The OP would sleep an hour, so the timeout must fire; it is long enough for node to start
    // the OP (which records its pids) even on a busy machine, so the kill can be checked.
    const hello1 = new Step({
      name: "hello1",
      template: new TsOPTemplate(Sleeper, { timeout: 20, retry_on_transient_error: 1 }),
      parameters: { counter: counter("h1"), seconds: 3600, pidfile: path.join(wd.dir, "pids") },
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
    expect(h1.message).toMatch(/timed out after 20s \(timeout=20\); its process group was killed/);
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
    // Every attempt would sleep an hour: both time out, so the retry is seen without any attempt
    // having to finish within the timeout (node alone may need longer to start on a busy machine).
    wf.add(
      new Step({
        name: "hang",
        template: new TsOPTemplate(Sleeper, { timeout: 2, retry_on_transient_error: 1, timeout_as_transient_error: true }),
        parameters: { counter: counter("s"), seconds: 3600, pidfile: path.join(wd.dir, "pids") },
        continue_on_failed: true,
      }),
    );
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");
    const [f] = wf.query_step({ name: "flaky" });
    expect(f.outputs.parameters.attempts.value).toBe(3);
    expect(fs.readdirSync(path.join(f.dir, "attempts")).sort()).toEqual(["0", "1"]);
    const [s] = wf.query_step({ name: "hang" });
    expect(s.phase).toBe("Failed");
    expect(fs.readdirSync(path.join(s.dir, "attempts"))).toEqual(["0"]);
    expect(read(path.join(s.dir, "attempts/0/message"))).toMatch(/timed out after 2s.*counted as a transient error/s);
    expect(s.message).toMatch(/timed out after 2s[^]*\(attempt 2; /);
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

  it("a DAG task after a task with a success threshold waits for its check, and is left out when the threshold is not met (dflow's depends on the check)", async () => {
    const sh = new ShellOPTemplate({ name: "sh", script: "[ {{inputs.parameters.i}} -ne 2 ]", inputs: new Inputs({ parameters: { i: new InputParameter() } }) });
    const after = new ShellOPTemplate({ name: "after", script: "echo after" });
    for (const [need, phases] of [
      [2, { status: "Succeeded", after: ["Succeeded"] }],
      [3, { status: "Failed", after: [] }],
    ] as const) {
      const dag = new DAG({ name: "main" });
      const fan = new Task({ name: "fan", template: sh, parameters: { i: "{{item}}" }, with_param: [1, 2, 3], continue_on_num_success: need });
      dag.add([fan, new Task({ name: "after", template: after, dependencies: [fan] })]);
      const wf = new Workflow({ name: "after-check", dag });
      const r = await wf.submit();
      expect(r.status, `need ${need}`).toBe(phases.status);
      const [check] = wf.query_step({ name: "fan-check-num-success" });
      const ran = wf.query_step({ name: "after" });
      expect(ran.map((s) => s.phase)).toEqual(phases.after);
      // It started once the check had ended, not beside it.
      for (const s of ran) expect(s.startedAt).toBeGreaterThanOrEqual(check.finishedAt!);
    }
  });

  it("parallelism: on the workflow, on a Steps template and on a fan-out step", async () => {
    // Each item appends "start", waits until its whole wave of `w` items has started (a wave:
    // items w*k+1 .. w*(k+1) in start order, the last one capped at `n`), then appends "end".
    // With the engine allowing w at a time every wave is all inside at once, so the overlap,
    // counted from the order of the lines, is exactly w whatever the machine's speed; an engine
    // allowing fewer would never let a wave complete.
    const f = path.join(wd.dir, "events");
    const t = new ShellOPTemplate({
      name: "wave",
      script: [
        "f={{inputs.parameters.f}}; w={{inputs.parameters.w}}; n={{inputs.parameters.n}}",
        'echo start >> "$f"',
        'k=$(grep -c start "$f"); want=$(( (k + w - 1) / w * w )); [ "$want" -gt "$n" ] && want=$n',
        'while [ "$(grep -c start "$f")" -lt "$want" ]; do sleep 0.05; done',
        'echo end >> "$f"',
      ].join("\n"),
      inputs: new Inputs({ parameters: { i: new InputParameter(), w: new InputParameter(), n: new InputParameter(), f: new InputParameter({ value: f }) } }),
    });
    const maxOverlap = () => {
      let cur = 0;
      let max = 0;
      for (const l of read(f).trim().split("\n")) max = Math.max(max, (cur += l === "start" ? 1 : -1));
      fs.rmSync(f);
      return max;
    };
    const { config } = await import("dflow-ts");
    config.debug_pool_workers = -1; // unlimited pools, so only parallelism limits

    const wf1 = new Workflow({ name: "par", parallelism: 1 });
    wf1.add(new Step({ name: "s", template: t, parameters: { i: "{{item}}", w: 1, n: 4 }, with_param: [1, 2, 3, 4] }));
    expect((await wf1.submit()).status).toBe("Succeeded");
    expect(maxOverlap()).toBe(1);

    const wf2 = new Workflow({ name: "par" });
    wf2.add(new Step({ name: "s", template: t, parameters: { i: "{{item}}", w: 2, n: 4 }, with_param: [1, 2, 3, 4], parallelism: 2 }));
    expect((await wf2.submit()).status).toBe("Succeeded");
    expect(maxOverlap()).toBe(2);

    const inner = new Steps({ name: "inner", parallelism: 1 });
    inner.add([1, 2, 3].map((i) => new Step({ name: `p${i}`, template: t, parameters: { i, w: 1, n: 3 } })));
    const wf3 = new Workflow({ name: "par" });
    wf3.add(new Step({ name: "group", template: inner }));
    expect((await wf3.submit()).status).toBe("Succeeded");
    expect(maxOverlap()).toBe(1);

    const wf4 = new Workflow({ name: "par" });
    wf4.add(new Step({ name: "s", template: t, parameters: { i: "{{item}}", w: 3, n: 3 }, with_param: [1, 2, 3] }));
    expect((await wf4.submit()).status).toBe("Succeeded");
    expect(maxOverlap()).toBe(3);
  });
});

// Keep the unused-import linter quiet about helpers some tests may not use.
void OutputParameter;
void Outputs;
