// dflow quirks fixed by dflow-ts that have no other home in the suite:
// Q24 (when on a parameter holding "false"), Q25 (a failing parallel group
// lets its running members finish before the workflow gets its status),
// debug_batch_size/debug_batch_interval, and the list helpers.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  InputParameter, Inputs, OutputParameter, Outputs, ShellOPTemplate, Step, Steps, Workflow,
  argo_concat, argo_enumerate, argo_sum, config, expr,
} from "dflow-ts";
import { read, useTempWorkdir } from "../support/workdir.js";

const emit = (name: string, text: string) =>
  new ShellOPTemplate({
    name,
    script: `cat > /tmp/out <<'EOF'\n${text}\nEOF`,
    outputs: new Outputs({ parameters: { out: new OutputParameter({ value_from_path: "/tmp/out" }) } }),
  });
const echo = new ShellOPTemplate({
  name: "echo",
  script: "printf '%s' '{{inputs.parameters.x}}' > /tmp/x",
  inputs: new Inputs({ parameters: { x: new InputParameter() } }),
  outputs: new Outputs({ parameters: { x: new OutputParameter({ value_from_path: "/tmp/x" }) } }),
});

describe("quirks and helpers", () => {
  const wd = useTempWorkdir();

  it('when on a parameter whose text is "false", "0" or "" skips the step (Q24)', async () => {
    const wf = new Workflow({ name: "q24" });
    const flags = ["false", "0", "true", "yes"].map((v, i) => new Step({ name: `flag${i}`, template: emit(`f${i}`, v) }));
    wf.add(flags);
    wf.add(flags.map((f, i) => new Step({ name: `run${i}`, template: echo, parameters: { x: String(i) }, when: f.outputs.parameters.out })));
    wf.add(new Step({ name: "expr", template: echo, parameters: { x: "e" }, when: expr`trim(${flags[2].outputs.parameters.out}) == 'true' && !(1 > 2)` }));
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");
    expect(wf.query_step({ name: ["run0", "run1", "run2", "run3", "expr"] }).map((s) => s.displayName).sort()).toEqual(["expr", "run2", "run3"]);
  });

  it("a failing parallel group lets running members finish before the status is written (Q25)", async () => {
    // slow ends only once bad's failure is on disk: it certainly still runs when the group fails.
    const slow = new ShellOPTemplate({
      name: "slow",
      script: "until grep -qsx Failed {{inputs.parameters.root}}/q25-*/q25-*-bad-*/phase; do sleep 0.05; done; echo done > /tmp/x",
      inputs: new Inputs({ parameters: { root: new InputParameter({ value: wd.dir }) } }),
      outputs: new Outputs({ parameters: { x: new OutputParameter({ value_from_path: "/tmp/x" }) } }),
    });
    const bad = new ShellOPTemplate({ name: "bad", script: "exit 1" });
    config.debug_pool_workers = -1;
    const wf = new Workflow({ name: "q25" });
    wf.add([new Step({ name: "slow", template: slow }), new Step({ name: "bad", template: bad })]);
    wf.add(new Step({ name: "never", template: bad }));
    const r = await wf.submit();
    expect(r.status).toBe("Failed");
    // By the time submit() returned, the slow member had finished and recorded its phase.
    const [s] = wf.query_step({ name: "slow" });
    expect(s.phase).toBe("Succeeded");
    expect(s.finishedAt! <= fs.statSync(path.join(wd.dir, r.id, "status")).mtimeMs / 1000).toBe(true);
    expect(wf.query_step({ name: "never" }).length).toBe(0);
  });

  it("debug_batch_size submits a fan-out in batches, waiting debug_batch_interval between them", async () => {
    config.debug_pool_workers = -1;
    config.debug_batch_size = 2;
    config.debug_batch_interval = 1;
    const wf = new Workflow({ name: "batch" });
    wf.add(new Step({ name: "each", template: echo, parameters: { x: "{{item}}" }, with_param: [1, 2, 3, 4] }));
    // Lower bounds only (a busy machine can only make things later): the second batch starts an
    // interval after the fan-out began, which is after this line. (File times may lag the clock
    // by a tick: 20 ms.)
    const before = Date.now() / 1000;
    expect((await wf.submit()).status).toBe("Succeeded");
    const started = wf.query_step({ name: "each" }).map((s) => s.startedAt).sort((a, b) => a - b);
    expect(started[2] - before).toBeGreaterThanOrEqual(1 - 0.02);
  });

  it("argo_sum, argo_concat and argo_enumerate", async () => {
    const wf = new Workflow({ name: "helpers" });
    const nums = new Step({ name: "nums", template: emit("nums", "[1, 2, 3.5]") });
    const lists = new Step({ name: "lists", template: emit("lists", '[["a"], ["b", "c"]]') });
    wf.add([nums, lists]);
    wf.add([
      new Step({ name: "sum", template: echo, parameters: { x: argo_sum(nums.outputs.parameters.out) } }),
      new Step({ name: "concat", template: echo, parameters: { x: argo_concat(lists.outputs.parameters.out) } }),
      new Step({ name: "enum", template: echo, parameters: { x: "{{item.order}}:{{item.n}}" }, with_param: argo_enumerate({ n: nums.outputs.parameters.out }) }),
    ]);
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");
    expect(wf.query_step({ name: "sum" })[0].outputs.parameters.x.value).toBe("6.5");
    expect(wf.query_step({ name: "concat" })[0].outputs.parameters.x.value).toBe('["a", "b", "c"]');
    expect(wf.query_step({ name: "enum" }).map((s) => s.outputs.parameters.x.value).sort()).toEqual(["0:1", "1:2", "2:3.5"]);
  });
});

void Steps;
void read;
