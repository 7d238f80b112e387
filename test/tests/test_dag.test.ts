// Port of dflow's tests/test_dag.py (spec §13).
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { download_artifact } from "dflow-ts";
import { dagWorkflow } from "../../fixtures/workflows/ported.js";
import { read, useTempWorkdir } from "../support/workdir.js";

describe("test_dag", () => {
  const wd = useTempWorkdir();

  it("test_dag", async () => {
    const wf = dagWorkflow();
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
