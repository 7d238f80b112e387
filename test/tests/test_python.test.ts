// Port of dflow's tests/test_python.py (spec §13).
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { download_artifact } from "dflow-ts";
import { pythonWorkflow } from "../../fixtures/workflows/ported.js";
import { read, useTempWorkdir } from "../support/workdir.js";

describe("test_python", () => {
  const wd = useTempWorkdir();

  it("test_python", async () => {
    const wf = await pythonWorkflow();
    await wf.submit();
    while (["Pending", "Running"].includes(wf.query_status())) await new Promise((r) => setTimeout(r, 100));

    expect(wf.query_status()).toBe("Succeeded");
    const s = wf.query_step({ name: "step" })[0];
    expect(s.phase).toBe("Succeeded");
    expect(s.outputs.parameters.msg.value).toBe("HelloHelloHello");
    expect(await download_artifact(s.outputs.artifacts.bar)).toEqual(["./output.txt"]);
    await download_artifact(s.outputs.artifacts.odir);
    expect(read("output.txt")).toBe("HiHiHi");
    expect(read("todir/f1")).toBe("foofoofoo");
    expect(read("todir/f2")).toBe("barbarbar");

    // What the reference observed on disk (§2.10).
    const dir = s.dir;
    expect(read(path.join(dir, "inputs/parameters/num"))).toBe("3");
    expect(read(path.join(dir, "inputs/parameters/.dflow/num"))).toBe('{"type": "int"}');
    expect(read(path.join(dir, "inputs/parameters/.dflow/msg"))).toBe('{"type": "str"}');
    expect(fs.readlinkSync(path.join(dir, "outputs/artifacts/bar"))).toBe(`${dir}/workdir//tmp/outputs/artifacts/bar`);
    expect(JSON.parse(read(path.join(wd.dir, wf.id!, "children")))).toEqual({ "0-0": path.basename(dir) });
  });
});
