// Port of dflow's tests/test_dag.py (spec §13).
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DAG, Task, TsOPTemplate, Workflow, download_artifact } from "dflow-ts";
import { Duplicate, Hello } from "../../fixtures/ops/test_dag.js";
import { read, useTempWorkdir } from "../support/workdir.js";

describe("test_dag", () => {
  const wd = useTempWorkdir();

  it("test_dag", async () => {
    const dag = new DAG();
    const hello0 = new Task({ name: "hello0", template: new TsOPTemplate(Hello) });
    dag.add(hello0);
    const hello1 = new Task({
      name: "hello1",
      template: new TsOPTemplate(Duplicate),
      parameters: { msg: hello0.outputs.parameters.msg },
      artifacts: { foo: hello0.outputs.artifacts.bar },
    });
    dag.add(hello1);
    const wf = new Workflow({ name: "dag", dag });
    await wf.submit();

    expect(wf.query_status()).toBe("Succeeded");
    const step = wf.query_step({ name: "hello1" })[0];
    expect(step.phase).toBe("Succeeded");
    expect(step.outputs.parameters.msg.value).toBe(2);
    const bar = await download_artifact(step.outputs.artifacts.bar);
    expect(read((bar as string[])[0])).toBe("HelloHello");

    const wfdir = path.join(wd.dir, wf.id!);
    expect(read(path.join(wfdir, "type"))).toBe("DAG");
    const children = JSON.parse(read(path.join(wfdir, "children")));
    expect(Object.keys(children).sort()).toEqual(["0", "1"]);
    expect(children["0"]).toMatch(new RegExp(`^${wf.id}-hello0-[0-9a-z]{5}$`));
    expect(read(path.join(step.dir, "outputs/parameters/.dflow/msg"))).toBe('{"type": "int"}');
    expect(fs.existsSync(path.join(wfdir, children["1"], "workdir/tmp/inputs/artifacts/foo"))).toBe(true);
  });
});
