// Warm worker mode for TypeScript OPs: long-lived workers run OPs one at a
// time, each step with its own cwd, environment and log; a crashed or timed
// out worker is replaced and its step fails (or retries) as usual.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Step, TsOPTemplate, Workflow, config } from "dflow-ts";
import { Flaky } from "../../fixtures/ops/errors.js";
import { WarmEcho } from "../../fixtures/ops/warm.js";
import { read, useTempWorkdir } from "../support/workdir.js";

describe("warm workers", () => {
  const wd = useTempWorkdir();

  it("reuse a few processes for many steps, each step with its own cwd, env and log", async () => {
    config.warm_workers = 2;
    const wf = new Workflow({ name: "warm" });
    wf.add(new Step({ name: "each", template: new TsOPTemplate(WarmEcho, { envs: { STEP_VAR: "v-{{inputs.parameters.i}}" } }), parameters: { i: "{{item}}" }, with_param: Array.from({ length: 12 }, (_, i) => i) }));
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");
    const steps = wf.query_step({ name: "each" });
    expect(steps.length).toBe(12);
    const pids = new Set(steps.map((s) => s.outputs.parameters.pid.value));
    expect(pids.size).toBeLessThanOrEqual(2);
    // Module state survives between the steps a worker runs: the whole point.
    expect(Math.max(...steps.map((s) => s.outputs.parameters.calls.value as number))).toBeGreaterThan(1);
    for (const s of steps) {
      const i = s.inputs.parameters.i.value;
      expect(read(path.join(s.dir, "log.txt"))).toBe(`item ${i} in ${s.outputs.parameters.pid.value}\nstderr of item ${i}\n`);
      expect(read(path.join(s.dir, "workdir", "out.txt"))).toBe(String(i));
      expect(read(path.join(s.dir, "pid"))).toBe(String(s.outputs.parameters.pid.value));
    }
  });

  it("a worker that exits or times out fails its step, and is replaced for the next", async () => {
    // Only the hanging step has a timeout (it would hang a minute): the others may take as long as
    // a busy machine needs to start their worker.
    const t = new TsOPTemplate(WarmEcho, { warm: true });
    const hangs = new TsOPTemplate(WarmEcho, { warm: true, timeout: 2 });
    const wf = new Workflow({ name: "warm-crash" });
    wf.add(new Step({ name: "crash", template: t, parameters: { i: 1, mode: "exit" }, continue_on_failed: true }));
    wf.add(new Step({ name: "hang", template: hangs, parameters: { i: 2, mode: "hang" }, continue_on_failed: true }));
    wf.add(new Step({ name: "after", template: t, parameters: { i: 3 } }));
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");
    const [crash] = wf.query_step({ name: "crash" });
    expect(crash.phase).toBe("Failed");
    expect(crash.message).toMatch(/exited with code 5/);
    const [hang] = wf.query_step({ name: "hang" });
    expect(hang.phase).toBe("Failed");
    expect(hang.message).toMatch(/timed out after 2s/);
    const [after] = wf.query_step({ name: "after" });
    expect(after.phase).toBe("Succeeded");
    expect(after.outputs.parameters.pid.value).not.toBe(Number(read(path.join(hang.dir, "pid"))));
  });

  it("retries work as without workers", async () => {
    const wf = new Workflow({ name: "warm-retry" });
    wf.add(new Step({ name: "flaky", template: new TsOPTemplate(Flaky, { warm: true, retry_on_transient_error: 2 }), parameters: { counter: path.join(wd.dir, "c"), fail_times: 2 } }));
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");
    const [s] = wf.query_step({ name: "flaky" });
    expect(s.outputs.parameters.attempts.value).toBe(3);
    expect(fs.readdirSync(path.join(s.dir, "attempts")).sort()).toEqual(["0", "1"]);
    expect(read(path.join(s.dir, "attempts/0/log.txt"))).toMatch(/attempt 1[\s\S]*TransientError/);
  });
});
