// Port of dflow's examples/test_utils.py: set_directory, run_command and
// copy_artifact/catalog_of_artifact, with its assertions. dflow's
// `with set_directory(...) as wdir:` is set_directory(dir, (wdir) => ..., { mkdir });
// run_command is async and returns [code, out, err]; its AssertionError is an OPFailure.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { OPFailure, catalog_of_artifact, copy_artifact, run_command, set_directory, upload_artifact } from "dflow-ts";
import { useTempWorkdir } from "../support/workdir.js";

describe("test_utils", () => {
  useTempWorkdir();

  it("test_set_directory", async () => {
    const pwd = process.cwd();
    const wdir = await set_directory(
      "test_dir",
      (wdir) => {
        expect(wdir).toBe(path.join(pwd, "test_dir"));
        expect(process.cwd()).toBe(wdir);
        return wdir;
      },
      { mkdir: true },
    );
    expect(process.cwd()).toBe(pwd);
    fs.rmSync(wdir, { recursive: true });
  });

  it("test_run_command", async () => {
    const [code, out] = await run_command("echo test");
    expect(code).toBe(0);
    expect(out).toBe("test\n");
  });

  it("test_run_command_err", async () => {
    // dflow's test runs python; node plays its part here.
    await expect(run_command([process.execPath, "-e", "throw new Error('error')"])).rejects.toThrow(OPFailure);
  });

  it("test_run_command_input", async () => {
    const [code, out] = await run_command(["sh"], { input: "echo test\nexit" });
    expect(code).toBe(0);
    expect(out).toBe("test\n");
  });

  it("test_copy_artifact", async () => {
    fs.writeFileSync("foo.txt", "");
    fs.writeFileSync("bar.txt", "");
    let art_1 = await upload_artifact(["foo.txt"], { archive: null });
    let art_2 = await upload_artifact(["bar.txt"], { archive: null });
    await copy_artifact(art_1, art_2, { sort: true });
    let catalog = await catalog_of_artifact(art_2);
    catalog.sort((a, b) => (a.order as number) - (b.order as number));
    expect(catalog).toEqual([
      { dflow_list_item: "bar.txt", order: 0 },
      { dflow_list_item: "foo.txt", order: 1 },
    ]);

    art_1 = await upload_artifact(["foo.txt"], { archive: null });
    art_2 = await upload_artifact(["bar.txt"], { archive: null });
    await copy_artifact(art_2, art_1, { sort: true });
    catalog = await catalog_of_artifact(art_1);
    catalog.sort((a, b) => (a.order as number) - (b.order as number));
    expect(catalog).toEqual([
      { dflow_list_item: "foo.txt", order: 0 },
      { dflow_list_item: "bar.txt", order: 1 },
    ]);

    fs.rmSync("foo.txt");
    fs.rmSync("bar.txt");
  });
});
