// The dflow.utils helpers beyond examples/test_utils.py: run_command's
// options, set_directory on a throw, the catalog helpers on a real run's
// artifacts, copy_artifact without sort, flatten, randstr.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import {
  DflowConfigError, InputArtifact, Inputs, OPFailure, ShellOPTemplate, Step, Workflow, assemble_path_object, catalog_of_artifact, convert_dflow_list,
  copy_artifact, download_artifact, flatten, path_list_of_artifact, path_object_of_artifact, randstr, run_command, set_directory, upload_artifact,
} from "dflow-ts";
import { read, useTempWorkdir } from "./support/workdir.js";

describe("run_command", () => {
  useTempWorkdir();

  it("raise_error: false returns the failure; the error names the command and its stderr", async () => {
    const [code, out, err] = await run_command(["sh", "-c", "echo out; echo bad >&2; exit 3"], { raise_error: false });
    expect([code, out, err]).toEqual([3, "out\n", "bad\n"]);
    const e = await run_command(["sh", "-c", "echo bad >&2; exit 3"]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OPFailure);
    expect((e as OPFailure).exitCode).toBe(3);
    expect((e as Error).message).toMatch(/Command \["sh","-c","echo bad >&2; exit 3"\] failed with exit code 3:\nbad/);
  });

  it("shell runs the string as it is; try_bash runs it through bash; a missing command is a DflowConfigError", async () => {
    expect((await run_command("echo a | tr a b", { shell: true }))[1]).toBe("b\n");
    expect((await run_command("echo a | tr a b"))[1]).toBe("a | tr a b\n");
    expect((await run_command('echo "$0"', { try_bash: true, login: false }))[1]).toBe("bash\n");
    await expect(run_command(["no-such-command-xyz"])).rejects.toThrow(DflowConfigError);
  });

  it("print_oe prints the output as it comes and returns it", async () => {
    const spy = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      const [, out] = await run_command(["sh", "-c", "echo one; echo two"], { print_oe: true });
      expect(out).toBe("one\ntwo\n");
      expect(spy.mock.calls.map((c) => String(c[0])).join("")).toContain("one\ntwo\n");
    } finally {
      spy.mockRestore();
    }
  });
});

describe("set_directory", () => {
  useTempWorkdir();

  it("changes back when the function throws, and waits for an async function", async () => {
    const pwd = process.cwd();
    fs.mkdirSync("d");
    await expect(set_directory("d", () => {
      throw new Error("boom");
    })).rejects.toThrow("boom");
    expect(process.cwd()).toBe(pwd);
    const seen = await set_directory("d", async (dir) => {
      await fs.promises.writeFile("f", "x");
      return path.basename(process.cwd()) + ":" + path.basename(dir);
    });
    expect(seen).toBe("d:d");
    expect(read("d/f")).toBe("x");
    expect(process.cwd()).toBe(pwd);
  });
});

describe("catalog helpers on a real run", () => {
  const wd = useTempWorkdir();

  it("path_list / path_object / catalog of an uploaded dict artifact and of a step's input record; assemble_path_object after a download", async () => {
    for (const f of ["x.txt", "y1.txt", "y2.txt"]) fs.writeFileSync(f, f);
    const art = await upload_artifact({ x: "x.txt", ys: ["y1.txt", "y2.txt"] });
    expect(await path_object_of_artifact(art)).toEqual({ x: "x.txt", ys: ["y1.txt", "y2.txt"] });
    expect((await catalog_of_artifact(art)).sort((a, b) => String(a.order).localeCompare(String(b.order)))).toEqual([
      { dflow_list_item: "x.txt", order: "x" },
      { dflow_list_item: "y1.txt", order: "ys.0" },
      { dflow_list_item: "y2.txt", order: "ys.1" },
    ]);
    const list = await upload_artifact(["y2.txt", "x.txt"]);
    expect(await path_list_of_artifact(list)).toEqual(["y2.txt", "x.txt"]);

    const use = new ShellOPTemplate({ name: "use", script: "cat /tmp/in/x.txt", inputs: new Inputs({ artifacts: { in: new InputArtifact({ path: "/tmp/in" }) } }) });
    const wf = new Workflow({ name: "cat" }).add(new Step({ name: "use", template: use, artifacts: { in: art } }));
    expect((await wf.submit()).status).toBe("Succeeded");
    const rec = wf.query_step({ name: "use" })[0]!.inputs.artifacts.in;
    expect(await path_object_of_artifact(rec)).toEqual({ x: "x.txt", ys: ["y1.txt", "y2.txt"] });

    await download_artifact(rec, { path: "dl", remove_catalog: false });
    expect(await assemble_path_object("dl")).toEqual({ x: "dl/x.txt", ys: ["dl/y1.txt", "dl/y2.txt"] });
    expect(fs.existsSync("dl/.dflow")).toBe(true);
    expect(await assemble_path_object("dl", true)).toEqual({ x: "dl/x.txt", ys: ["dl/y1.txt", "dl/y2.txt"] });
    expect(fs.existsSync("dl/.dflow")).toBe(false);
    expect(await assemble_path_object("dl")).toEqual([]);
    void wd;
  });

  it("copy_artifact without sort merges content and catalogs; with sort a dict artifact is refused", async () => {
    fs.writeFileSync("a.txt", "A");
    fs.writeFileSync("b.txt", "B");
    const a = await upload_artifact(["a.txt"]);
    const b = await upload_artifact(["b.txt"]);
    const out = await copy_artifact(a, b);
    expect(out.local_path).toBe(b.local_path);
    expect(read(path.join(b.local_path, "a.txt"))).toBe("A");
    // Both items have order 0: the path list has them both, as dflow's does.
    expect((await path_list_of_artifact(b)).sort()).toEqual(["a.txt", "b.txt"]);
    const d = await upload_artifact({ k: "a.txt" });
    await expect(copy_artifact(d, b, { sort: true })).rejects.toThrow(/integer orders/);
  });

  it("convert_dflow_list, flatten, randstr", () => {
    expect(convert_dflow_list([{ dflow_list_item: "b", order: 1 }, { dflow_list_item: "a", order: 0 }])).toEqual(["a", "b"]);
    expect(flatten({ a: { b: 1 }, c: [2, { d: 3 }] })).toEqual({ "a.b": 1, "c.0": 2, "c.1.d": 3 });
    expect(flatten([1, [2]])).toEqual({ "0": 1, "1.0": 2 });
    expect(randstr()).toMatch(/^[0-9a-z]{5}$/);
    expect(randstr(12)).toMatch(/^[0-9a-z]{12}$/);
  });
});
