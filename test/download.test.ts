// download_artifact and `dflow download` on the artifacts of a real run: a
// single-file artifact keeps the name of the file the step wrote (as dflow,
// whose Argo archive holds the file under its own name), path= and
// skip_exists, a directory artifact, and a list/dict artifact's path object.
import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { InputArtifact, Inputs, OutputArtifact, Outputs, ShellOPTemplate, Step, Workflow, config, download_artifact, upload_artifact } from "dflow-ts";
import { useTempWorkdir, read } from "./support/workdir.js";

const cli = path.resolve(import.meta.dirname, "..", "dist", "src", "cli.js");

async function run() {
  const make = new ShellOPTemplate({
    name: "make",
    script: "mkdir -p /tmp/result /tmp/tree/sub\nprintf data > /tmp/result/data.txt\nprintf A > /tmp/tree/a.txt\nprintf B > /tmp/tree/sub/b.txt",
    outputs: new Outputs({ artifacts: { out: new OutputArtifact({ path: "/tmp/result/data.txt" }), tree: new OutputArtifact({ path: "/tmp/tree" }) } }),
  });
  const use = new ShellOPTemplate({
    name: "use",
    script: "cat /tmp/files/x.txt",
    inputs: new Inputs({ artifacts: { files: new InputArtifact({ path: "/tmp/files" }) } }),
  });
  for (const [f, c] of [["x.txt", "X"], ["y1.txt", "Y1"], ["y2.txt", "Y2"]]) fs.writeFileSync(f!, c!);
  const files = await upload_artifact({ x: "x.txt", ys: ["y1.txt", "y2.txt"] });
  const wf = new Workflow({ name: "dl" });
  const s1 = new Step({ name: "make", template: make });
  wf.add(s1);
  wf.add(new Step({ name: "use", template: use, artifacts: { files } }));
  expect((await wf.submit()).status).toBe("Succeeded");
  return { wf, make: wf.query_step({ name: "make" })[0]!, use: wf.query_step({ name: "use" })[0]! };
}

const dflow = (...args: string[]) => execa(process.execPath, [cli, ...args], { reject: false, all: true, env: { DFLOW_DEBUG_WORKDIR: "." } });

describe("download_artifact of a real run's artifacts", () => {
  const wd = useTempWorkdir();

  it("a single-file artifact is named after the file the step wrote, in the API and the CLI alike", async () => {
    const { wf, make } = await run();
    expect(await download_artifact(make.outputs.artifacts.out)).toEqual(["./data.txt"]);
    expect(read("data.txt")).toBe("data");
    expect(await download_artifact(make.outputs.artifacts.out, { path: "got" })).toEqual(["got/data.txt"]);
    expect(read("got/data.txt")).toBe("data");
    const c = await dflow("download", wf.id!, "make", "out", "cli", "--json");
    expect(c.exitCode, c.all).toBe(0);
    expect(JSON.parse(c.stdout).paths).toEqual(["cli/data.txt"]);
    expect(read("cli/data.txt")).toBe("data");
    expect(fs.existsSync("cli/out")).toBe(false);
  });

  it("skip_exists leaves a file with the same content as it is, and replaces one that differs", async () => {
    const { make } = await run();
    config.debug_copy_method = "copy";
    await download_artifact(make.outputs.artifacts.out, { path: "sk" });
    await download_artifact(make.outputs.artifacts.tree, { path: "sk" });
    const ino = (f: string) => fs.statSync(f).ino;
    const before = { data: ino("sk/data.txt"), a: ino("sk/a.txt"), b: ino("sk/sub/b.txt") };
    fs.writeFileSync("sk/sub/b.txt", "changed");
    await download_artifact(make.outputs.artifacts.out, { path: "sk", skip_exists: true });
    await download_artifact(make.outputs.artifacts.tree, { path: "sk", skip_exists: true });
    expect(ino("sk/data.txt")).toBe(before.data);
    expect(ino("sk/a.txt")).toBe(before.a);
    expect(read("sk/sub/b.txt")).toBe("B");
    // Without skip_exists a copy replaces the file (a new inode, same content).
    await download_artifact(make.outputs.artifacts.out, { path: "sk" });
    expect(ino("sk/data.txt")).not.toBe(before.data);
    expect(read("sk/data.txt")).toBe("data");
  });

  it("dflow download --skip-exists", async () => {
    const { wf } = await run();
    expect((await dflow("download", wf.id!, "make", "out", "d", "--method", "copy")).exitCode).toBe(0);
    const first = fs.statSync("d/data.txt").ino;
    expect((await dflow("download", wf.id!, "make", "out", "d", "--method", "copy", "--skip-exists")).exitCode).toBe(0);
    expect(fs.statSync("d/data.txt").ino).toBe(first);
  });

  it("a directory artifact without a catalog is merged into path and gives []; a dict/list artifact gives its path object", async () => {
    const { wf, make, use } = await run();
    expect(await download_artifact(make.outputs.artifacts.tree, { path: "t" })).toEqual([]);
    expect(read("t/a.txt")).toBe("A");
    expect(read("t/sub/b.txt")).toBe("B");
    expect(await download_artifact(use.inputs.artifacts.files, { path: "inp" })).toEqual({ x: "inp/x.txt", ys: ["inp/y1.txt", "inp/y2.txt"] });
    expect(read("inp/y2.txt")).toBe("Y2");
    expect(fs.existsSync("inp/.dflow")).toBe(false);
    const c = await dflow("download", wf.id!, "use", "files", "inp2", "--json");
    expect(JSON.parse(c.stdout).paths).toEqual({ x: "inp2/x.txt", ys: ["inp2/y1.txt", "inp2/y2.txt"] });
    void wd;
  });
});
