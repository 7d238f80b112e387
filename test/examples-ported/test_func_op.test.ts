// Port of dflow's examples/test_func_op.py: test_python with a function OP.
// dflow builds the workflow in a `with Workflow(...) as wf:` block, which
// adds every Step created inside it and submits on exit; dflow-ts has no
// such context (no `using`/Symbol.asyncDispose form), so the port adds the
// step and submits explicitly, as a TS user would.
import { describe, expect, it } from "vitest";
import { Step, TsOPTemplate, Workflow, download_artifact, upload_artifact } from "dflow-ts";
import fs from "node:fs";
import { Duplicate } from "../../fixtures/ops/examples/test_func_op.js";
import { read, useTempWorkdir } from "../support/workdir.js";

describe("examples/test_func_op", () => {
  useTempWorkdir();

  it("test_python", async () => {
    fs.writeFileSync("foo.txt", "Hi");
    fs.mkdirSync("tidir", { recursive: true });
    fs.writeFileSync("tidir/f1", "foo");
    fs.writeFileSync("tidir/f2", "bar");
    const artifact0 = await upload_artifact("foo.txt");
    const artifact1 = await upload_artifact("tidir");

    const wf = new Workflow({ name: "python-sugar" });
    wf.add(new Step({ name: "step", template: new TsOPTemplate(Duplicate, { image: "python:3.8" }), parameters: { msg: "Hello", num: 3 }, artifacts: { foo: artifact0, idir: artifact1 } }));
    await wf.submit();

    expect(wf.query_status()).toBe("Succeeded");
    const step = wf.query_step({ name: "step" })[0];
    expect(step.phase).toBe("Succeeded");
    // dflow prints the downloads; the port checks them.
    await download_artifact(step.outputs.artifacts.bar);
    await download_artifact(step.outputs.artifacts.odir);
    expect(read("output.txt")).toBe("HiHiHi");
    expect(read("todir/f1")).toBe("foofoofoo");
    expect(read("todir/f2")).toBe("barbarbar");
    expect(step.outputs.parameters.msg.value).toBe("HelloHelloHello");
  });
});
