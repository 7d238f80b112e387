/** Spec §8 items 3–5: MT19937 / shuffle, grouping, canonical JSON numbers. */
import { describe, expect, it } from "vitest";
import {
  PyRandom,
  buildSubmission,
  canonicalJson,
  groupTaskIndices,
  normalizeMachine,
  normalizeResources,
  normalizeTask,
  parsePyJson,
  pyFloat,
  pyFloatRepr,
  pyJsonDumpsIndent,
  shuffleSeed42,
  type PyObject,
} from "../../engine/dispatcher/index.js";
import { readJson, readPyJson } from "./helpers.js";

const table = readJson<{ permutations: Record<string, number[]>; first_16_getrandbits32_after_seed42: number[] }>(
  "golden",
  "shuffle_seed42.json",
);

describe("Python random.seed(42) + shuffle", () => {
  it("MT19937 stream: first 16 getrandbits(32) after seed(42)", () => {
    const r = new PyRandom(42);
    expect(Array.from({ length: 16 }, () => r.getrandbits(32))).toEqual(table.first_16_getrandbits32_after_seed42);
  });

  it("permutations for n = 1..128", () => {
    const ns = Object.keys(table.permutations).map(Number);
    expect(ns).toHaveLength(128);
    for (const n of ns) expect(shuffleSeed42(n), `n=${n}`).toEqual(table.permutations[String(n)]);
  });

  it("documented examples", () => {
    expect(shuffleSeed42(3)).toEqual([1, 0, 2]);
    expect(shuffleSeed42(4)).toEqual([2, 1, 3, 0]);
    expect(shuffleSeed42(5)).toEqual([3, 1, 2, 4, 0]);
  });

  it("seeds larger than 32 bits use init_by_array over 32-bit words", () => {
    // values from CPython 3: random.seed(s); [random.getrandbits(32) for _ in range(2)]
    const r = new PyRandom(2n ** 40n + 5n);
    expect([r.getrandbits(32), r.getrandbits(32)]).toEqual([2166296868, 2220160828]);
    const r0 = new PyRandom(0);
    expect([r0.getrandbits(32), r0.getrandbits(32)]).toEqual([3626764237, 1654615998]);
  });
});

describe("grouping tasks into jobs", () => {
  it("test_group_size: 99 identical tasks, group_size 1/3/10/100/0 ⇒ 99/33/10/1/1 jobs", () => {
    const machine = normalizeMachine((readPyJson("tests", "jsons", "machine.json") as PyObject).machine);
    const base = readPyJson("tests", "jsons", "resources.json") as PyObject;
    const task = normalizeTask(readPyJson("tests", "jsons", "task.json"));
    const counts = [1, 3, 10, 100, 0].map((g) => {
      const sub = buildSubmission(
        {
          work_base: "0_md/",
          machine,
          resources: normalizeResources({ ...base, group_size: g }),
          task_list: Array.from({ length: 99 }, () => task),
          forward_common_files: [],
          backward_common_files: [],
        },
        { cwd: "/" },
      );
      expect(sub.jobs.flatMap((j) => j.tasks)).toHaveLength(99);
      return sub.jobs.length;
    });
    expect(counts).toEqual([99, 33, 10, 1, 1]);
  });

  it("chunks the shuffled order; group_size 0 = one job", () => {
    expect(groupTaskIndices(4, 2)).toEqual([
      [2, 1],
      [3, 0],
    ]);
    expect(groupTaskIndices(5, 0)).toEqual([[3, 1, 2, 4, 0]]);
    expect(groupTaskIndices(5, 2)).toEqual([[3, 1], [2, 4], [0]]);
    expect(() => groupTaskIndices(0, 1)).toThrow(/at least one task/);
  });

  it("tests/jsons/submission.json task order (bct-3,bct-2 | bct-4,bct-1)", () => {
    const tasks = ["bct-1", "bct-2", "bct-3", "bct-4"];
    expect(groupTaskIndices(4, 2).map((j) => j.map((i) => tasks[i]))).toEqual([
      ["bct-3", "bct-2"],
      ["bct-4", "bct-1"],
    ]);
  });
});

describe("canonical JSON (Python json.dumps)", () => {
  it("keeps the int/float identity read from JSON", () => {
    const v = parsePyJson('{"a": 4, "b": 4.0, "c": 0.5, "d": 1e-05, "e": 1e16, "f": -2.50, "g": 1E+2}');
    expect(canonicalJson(v)).toBe('{"a": 4, "b": 4.0, "c": 0.5, "d": 1e-05, "e": 1e+16, "f": -2.5, "g": 100.0}');
  });

  it("float repr", () => {
    expect([0, 4, 0.1, 1e-4, 1e-5, 123456789012345.6, 1e15, 1.5e16, 1e300, -0].map(pyFloatRepr)).toEqual([
      "0.0",
      "4.0",
      "0.1",
      "0.0001",
      "1e-05",
      "123456789012345.6",
      "1000000000000000.0",
      "1.5e+16",
      "1e+300",
      "-0.0",
    ]);
  });

  it("ensure_ascii escaping and separators", () => {
    expect(canonicalJson({ s: 'é"\\\n\t\u0001/😀', l: [true, false, null], o: {} })).toBe(
      '{"s": "\\u00e9\\"\\\\\\n\\t\\u0001/\\ud83d\\ude00", "l": [true, false, null], "o": {}}',
    );
  });

  it("a float in envs changes the resources hash and prints as 4.0", () => {
    const r1 = normalizeResources({ group_size: 1, envs: { X: 4 } });
    const r2 = normalizeResources({ group_size: 1, envs: { X: pyFloat(4) } });
    expect(canonicalJson(r1)).toContain('"envs": {"X": 4}');
    expect(canonicalJson(r2)).toContain('"envs": {"X": 4.0}');
    expect(canonicalJson(r1)).toContain('"ratio_unfinished": 0.0');
  });

  it("indent=4 layout", () => {
    expect(pyJsonDumpsIndent({ a: [], b: {}, c: [1, { d: null }] })).toBe(
      '{\n    "a": [],\n    "b": {},\n    "c": [\n        1,\n        {\n            "d": null\n        }\n    ]\n}',
    );
  });
});
