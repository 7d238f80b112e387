/** Spec §8 items 2–6: every golden/static case reproduced byte for byte (hashes, headers, .sub, .sub.run, state). */
import { describe, expect, it } from "vitest";
import {
  buildSubmission,
  jobScripts,
  normalizeSubmissionInput,
  stateFileText,
  type PyObject,
} from "../../engine/dispatcher/index.js";
import { assertSameText, listDir, readJson, readPyJson, readText } from "./helpers.js";

const CASES = listDir("golden", "static");

interface Hashes {
  submission_hash: string;
  remote_root: string;
  submission_hash_preimage: string;
  tasks_in_input_order: { task_hash: string; preimage: string }[];
  jobs: { index: number; job_hash: string; task_work_paths: string[]; task_hashes: string[]; preimage: string }[];
}

function build(c: string) {
  const inp = readPyJson("golden", "static", c, "input.json") as PyObject;
  const sub = buildSubmission(normalizeSubmissionInput(inp), { cwd: inp.cwd as string });
  return sub;
}

describe("golden/static", () => {
  it("has the 16 reference cases", () => {
    expect(CASES).toHaveLength(16);
  });

  describe.each(CASES)("%s", (c) => {
    const hs = readJson<Hashes>("golden", "static", c, "hashes.json");
    const files = listDir("golden", "static", c);

    it("task hashes and pre-images", () => {
      const sub = build(c);
      expect(sub.tasks.map((t) => t.preimage)).toEqual(hs.tasks_in_input_order.map((t) => t.preimage));
      expect(sub.tasks.map((t) => t.hash)).toEqual(hs.tasks_in_input_order.map((t) => t.task_hash));
    });

    it("job composition, job hashes and pre-images", () => {
      const sub = build(c);
      expect(sub.jobs.map((j) => j.tasks.map((t) => t.task.task_work_path))).toEqual(hs.jobs.map((j) => j.task_work_paths));
      expect(sub.jobs.map((j) => j.tasks.map((t) => t.hash))).toEqual(hs.jobs.map((j) => j.task_hashes));
      sub.jobs.forEach((j, i) => assertSameText(j.preimage, hs.jobs[i]!.preimage, `job${i} pre-image`));
      expect(sub.jobs.map((j) => j.hash)).toEqual(hs.jobs.map((j) => j.job_hash));
    });

    it("submission hash, pre-image and remote directory", () => {
      const sub = build(c);
      assertSameText(sub.preimage, hs.submission_hash_preimage, "submission pre-image");
      expect(sub.hash).toBe(hs.submission_hash);
      expect(sub.remoteRoot).toBe(hs.remote_root);
    });

    it("submission_state_initial.json", () => {
      const sub = build(c);
      assertSameText(stateFileText(sub), readText("golden", "static", c, "submission_state_initial.json"), "state file");
    });

    it("every generated file (header, .sub, .sub.run) byte for byte", () => {
      const sub = build(c);
      const expected = files.filter((f) => /^job\d+\./.test(f));
      expect(expected.length).toBe(sub.jobs.length * 3);
      for (const j of sub.jobs) {
        const s = jobScripts(sub, j);
        const pre = `job${j.index}`;
        assertSameText(s.header, readText("golden", "static", c, `${pre}.header.txt`), `${c}/${pre}.header.txt`);
        assertSameText(s.sub, readText("golden", "static", c, `${pre}.${j.hash}.sub`), `${c}/${pre}.${j.hash}.sub`);
        assertSameText(s.run, readText("golden", "static", c, `${pre}.${j.hash}.sub.run`), `${c}/${pre}.${j.hash}.sub.run`);
      }
    });
  });
});
