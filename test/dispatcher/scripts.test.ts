/** Script-generation behaviour beyond the golden files: resubmission quirks, contexts, helpers. */
import { describe, expect, it } from "vitest";
import {
  buildSubmission,
  jobScripts,
  newRunCounters,
  normalizeSubmissionInput,
  purePosix,
  pyNormpath,
  shellQuote,
  type PyObject,
} from "../../engine/dispatcher/index.js";
import { readPyJson } from "./helpers.js";

const load = (c: string, patch: (inp: any) => void = () => {}) => {
  const inp = readPyJson("golden", "static", c, "input.json") as any;
  patch(inp);
  return buildSubmission(normalizeSubmissionInput(inp as PyObject), { cwd: inp.cwd });
};

describe("resubmission", () => {
  it("SlurmJobArray: the array range becomes the unfinished indices (empty list kept, upstream quirk)", () => {
    const sub = load("slurm_job_array");
    const job = sub.jobs[0]!;
    expect(jobScripts(sub, job).header.endsWith("\n#SBATCH --array=0-1")).toBe(true);
    expect(jobScripts(sub, job, { failCount: 1, unfinishedArrayIndices: [1] }).header.endsWith("\n#SBATCH --array=1")).toBe(true);
    expect(jobScripts(sub, job, { failCount: 2, unfinishedArrayIndices: [] }).header.endsWith("\n#SBATCH --array=")).toBe(true);
    expect(() => jobScripts(sub, job, { failCount: 1 })).toThrow(/unfinishedArrayIndices/);
  });

  it("runtime counters are not reset between submissions of one job (CUDA numbering shifts)", () => {
    const sub = load("shell_cuda_multi_devices");
    const job = sub.jobs[0]!;
    const counters = newRunCounters();
    const first = jobScripts(sub, job, { counters }).run;
    expect(counters).toEqual({ task_in_para: 0, gpu_in_use: 3 });
    const devices = (s: string) => [...s.matchAll(/CUDA_VISIBLE_DEVICES=(\d)/g)].map((m) => Number(m[1]));
    expect(devices(first)).toEqual([0, 0, 1, 1, 0, 0]);
    const second = jobScripts(sub, job, { counters }).run;
    expect(devices(second)).toEqual([1, 1, 0, 0, 1, 1]);
    // a fresh counter set reproduces the first submission
    expect(jobScripts(sub, job).run).toBe(first);
  });
});

describe("job working directory per context", () => {
  it("LocalContext: abspath(remote_root)/S; LazyLocalContext: abspath(local_root)/work_base", () => {
    const local = load("shell_minimal", (i) => {
      i.machine = { batch_type: "Shell", context_type: "LocalContext", local_root: "./", remote_root: "work/../remote" };
      i.cwd = "/home/me";
    });
    expect(local.remoteRoot).toBe(`/home/me/remote/${local.hash}`);
    const lazy = load("shell_minimal", (i) => {
      i.machine = { batch_type: "Shell", context_type: "LazyLocalContext", local_root: "./proj" };
      i.cwd = "/home/me";
    });
    expect(lazy.remoteRoot).toBe("/home/me/proj/parent_dir/");
    expect(lazy.hash).not.toBe(local.hash);
  });

  it("the submission hash depends on the client cwd, not on local_root's absolute value", () => {
    const a = load("slurm_typical");
    const b = load("slurm_typical", (i) => (i.cwd = "/elsewhere"));
    expect(a.hash).not.toBe(b.hash);
    expect(a.jobs.map((j) => j.hash)).toEqual(b.jobs.map((j) => j.hash));
  });

  it("unsupported batch types are accepted by the schema but refused for scripts", () => {
    const sub = load("shell_minimal", (i) => (i.machine.batch_type = "Bohrium"));
    expect(() => jobScripts(sub, sub.jobs[0]!)).toThrow(/not supported by this executor/);
  });
});

describe("helpers", () => {
  it("shlex.quote", () => {
    expect(["", "abc", "a b", "it's", "x/y-1.2:@%+=,"].map(shellQuote)).toEqual(["''", "abc", "'a b'", `'it'"'"'s'`, "x/y-1.2:@%+=,"]);
  });
  it("PurePosixPath.as_posix and os.path.normpath", () => {
    expect(["bct-1/", "./", "a//./b/", "//x/", "///x", "../a/./"].map(purePosix)).toEqual(["bct-1", ".", "a/b", "//x", "/x", "../a"]);
    expect(["/a/b/../c/", "a/../..", "//a//b", "", "/.."].map(pyNormpath)).toEqual(["/a/c", "..", "//a/b", ".", "/"]);
  });
});
