// with_param / with_sequence fan-out (spec §4.4, §4.5, §4.8) and the quirks
// fixed there: Q8 (a parameter holding JSON text), Q9 (Python literals),
// Q30 ({{=...}} with item).
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  InputArtifact, InputParameter, Inputs, OutputArtifact, OutputParameter, Outputs, S3Artifact, ShellOPTemplate, Step, Workflow,
  argo_len, argo_range, argo_sequence, config, expr,
} from "dflow-ts";
import { read, useTempWorkdir } from "../support/workdir.js";

const echo = () =>
  new ShellOPTemplate({
    name: "echo",
    script: "printf '%s' '{{inputs.parameters.x}}' > /tmp/out\ncase '{{inputs.parameters.x}}' in *fail*) exit 1;; esac",
    inputs: new Inputs({ parameters: { x: new InputParameter() } }),
    outputs: new Outputs({ parameters: { out: new OutputParameter({ value_from_path: "/tmp/out" }) } }),
  });

const emit = (text: string) =>
  new ShellOPTemplate({
    name: "emit",
    script: `cat > /tmp/list <<'EOF'\n${text}\nEOF`,
    outputs: new Outputs({ parameters: { list: new OutputParameter({ value_from_path: "/tmp/list" }) } }),
  });

function children(wfdir: string): Record<string, string> {
  return JSON.parse(read(path.join(wfdir, "children")));
}

describe("fan-out", () => {
  const wd = useTempWorkdir();

  it("with_param over a literal list: one directory per item, outputs stacked in item order", async () => {
    const wf = new Workflow({ name: "loop" });
    const s = new Step({ name: "each", template: echo(), parameters: { x: "v-{{item}}" }, with_param: ["c", "a", "b"] });
    const after = new Step({ name: "after", template: echo(), parameters: { x: s.outputs.parameters.out } });
    wf.add(s);
    wf.add(after);
    const r = await wf.submit();
    expect(r.status).toBe("Succeeded");
    const items = wf.query_step({ name: "each" });
    expect(items.map((i) => i.inputs.parameters.x.value).sort()).toEqual(["v-a", "v-b", "v-c"]);
    const kids = children(path.join(wd.dir, r.id));
    expect(Object.keys(kids).sort()).toEqual(["0-0-0", "0-0-1", "0-0-2", "1-0"]);
    expect(read(path.join(wd.dir, r.id, kids["0-0-1"], "inputs/parameters/x"))).toBe("v-a");
    // The stacked list keeps item order, not completion order.
    expect(wf.query_step({ name: "after" })[0].inputs.parameters.x.value).toBe('["v-c", "v-a", "v-b"]');
  });

  it("items that save an output artifact into one shared key give the group that artifact; other outputs stay stacked", async () => {
    const wf = new Workflow({ name: "saved" });
    const each = new Step({
      name: "each",
      template: new ShellOPTemplate({
        name: "part",
        script: "mkdir -p /tmp/out && echo {{inputs.parameters.i}} > /tmp/out/part-{{inputs.parameters.i}}.txt && echo {{inputs.parameters.i}} > /tmp/n",
        inputs: new Inputs({ parameters: { i: new InputParameter() } }),
        outputs: new Outputs({
          parameters: { n: new OutputParameter({ value_from_path: "/tmp/n" }) },
          artifacts: { out: new OutputArtifact({ path: "/tmp/out", save: [new S3Artifact({ key: "shared-parts" })] }), own: new OutputArtifact({ path: "/tmp/n" }) },
        }),
      }),
      parameters: { i: "{{item}}" },
      with_param: argo_range(3),
    });
    const all = new Step({
      name: "all",
      template: new ShellOPTemplate({ name: "all", script: "ls /tmp/in | sort > /tmp/ls", inputs: new Inputs({ artifacts: { in: new InputArtifact({ path: "/tmp/in" }) } }), outputs: new Outputs({ parameters: { ls: new OutputParameter({ value_from_path: "/tmp/ls" }) } }) }),
      artifacts: { in: each.outputs.artifacts.out },
    });
    const count = new Step({ name: "count", template: echo(), parameters: { x: each.outputs.parameters.n } });
    wf.add(each);
    wf.add([all, count]);
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");
    expect(wf.query_step({ name: "all" })[0].outputs.parameters.ls.value).toBe("part-0.txt\npart-1.txt\npart-2.txt\n");
    expect(wf.query_step({ name: "count" })[0].inputs.parameters.x.value).toBe('["0\\n", "1\\n", "2\\n"]');
  });

  it("with_param from a step output holding JSON text (Q8) and Python literal text (Q9)", async () => {
    for (const [text, n] of [["[1, 2, 3]", 3], ["['a', 'b', True, None]", 4]] as const) {
      const wf = new Workflow({ name: "loop" });
      const e = new Step({ name: "emit", template: emit(text) });
      wf.add(e);
      wf.add(new Step({ name: "each", template: echo(), parameters: { x: "{{item}}" }, with_param: e.outputs.parameters.list }));
      const r = await wf.submit();
      expect(r.status, text).toBe("Succeeded");
      expect(wf.query_step({ name: "each" }).length, text).toBe(n);
    }
  });

  it("with_sequence with start, count and a printf format; argo_range(argo_len(...))", async () => {
    const wf = new Workflow({ name: "seq" });
    wf.add(new Step({ name: "seq", template: echo(), parameters: { x: "{{item}}" }, with_sequence: argo_sequence({ count: 3, start: 2, format: "i%03d" }) }));
    const e = new Step({ name: "emit", template: emit('["p", "q"]') });
    wf.add(e);
    wf.add(new Step({ name: "ranged", template: echo(), parameters: { x: "{{item}}" }, with_param: argo_range(argo_len(e.outputs.parameters.list)) }));
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");
    expect(wf.query_step({ name: "seq" }).map((s) => s.outputs.parameters.out.value).sort()).toEqual(["i002", "i003", "i004"]);
    expect(wf.query_step({ name: "ranged" }).map((s) => s.outputs.parameters.out.value).sort()).toEqual(["0", "1"]);
  });

  it("keys rendered per item name the item directories; {{=...}} with item is evaluated per item (Q30)", async () => {
    const wf = new Workflow({ name: "keys" });
    wf.add(new Step({ name: "each", template: echo(), parameters: { x: "{{=item * 10}}" }, key: "each-{{item}}", with_param: [1, 2] }));
    const r = await wf.submit();
    expect(r.status, r.error?.message).toBe("Succeeded");
    expect(fs.existsSync(path.join(wd.dir, r.id, "each-1"))).toBe(true);
    expect(read(path.join(wd.dir, r.id, "each-2", "outputs/parameters/out"))).toBe("20");
    expect(wf.query_step({ key: "each-1" })[0].outputs.parameters.out.value).toBe("10");
  });

  it("continue_on_failed: failed items are left out of the stacked list and the group succeeds", async () => {
    const wf = new Workflow({ name: "partial" });
    const s = new Step({ name: "each", template: echo(), parameters: { x: "{{item}}" }, with_param: ["ok1", "fail", "ok2"], continue_on_failed: true });
    wf.add(s);
    wf.add(new Step({ name: "after", template: echo(), parameters: { x: s.outputs.parameters.out } }));
    const r = await wf.submit();
    expect(r.status).toBe("Succeeded");
    expect(wf.query_step({ name: "each", phase: "Failed" }).length).toBe(1);
    expect(wf.query_step({ name: "after" })[0].inputs.parameters.x.value).toBe('["ok1", "ok2"]');
  });

  it("a failed item fails the workflow after all items ran; debug_failfast stops at the first", async () => {
    const wf = new Workflow({ name: "fails" });
    wf.add(new Step({ name: "each", template: echo(), parameters: { x: "{{item}}" }, with_param: ["fail", "a", "b", "c"] }));
    const r = await wf.submit();
    expect(r.status).toBe("Failed");
    expect(r.error?.message).toMatch(/1 of 4 items failed/);
    expect(wf.query_step({ name: "each" }).length).toBe(4);

    config.debug_pool_workers = 1;
    config.debug_failfast = true;
    const wf2 = new Workflow({ name: "fails" });
    wf2.add(new Step({ name: "each", template: echo(), parameters: { x: "{{item}}" }, with_param: ["fail", "a", "b", "c"] }));
    expect((await wf2.submit()).status).toBe("Failed");
    expect(wf2.query_step({ name: "each" }).length).toBe(1);
  });

  it("an empty list runs nothing and stacks empty lists", async () => {
    const wf = new Workflow({ name: "empty" });
    const s = new Step({ name: "each", template: echo(), parameters: { x: "{{item}}" }, with_param: [] });
    wf.add(s);
    wf.add(new Step({ name: "after", template: echo(), parameters: { x: s.outputs.parameters.out } }));
    const r = await wf.submit();
    expect(r.status).toBe("Succeeded");
    expect(wf.query_step({ name: "each" }).length).toBe(0);
    expect(wf.query_step({ name: "after" })[0].inputs.parameters.x.value).toBe("[]");
  });

  it("a with_param that is not a list fails the step with the reason on disk", async () => {
    const wf = new Workflow({ name: "badlist" });
    // Computed: a literal that is not a list is refused by submit() already (test/sdk/validate.test.ts).
    wf.add(new Step({ name: "each", template: echo(), parameters: { x: "{{item}}" }, with_param: expr`'not a list'` }));
    const r = await wf.submit();
    expect(r.status).toBe("Failed");
    const [s] = wf.query_step({ name: "each" });
    expect(s.phase).toBe("Failed");
    expect(s.message).toMatch(/not a list/);
  });
});
