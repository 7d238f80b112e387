/** Spec §8 items 1–2: accepted inputs, normalisation, and errors that name the key and allowed values. */
import { describe, expect, it } from "vitest";
import {
  DispatcherConfigError,
  canonicalJson,
  normalizeMachine,
  normalizeResources,
  normalizeSubmissionInput,
  normalizeTask,
  parsePyJson,
  pyFormat,
  type PyObject,
} from "../../engine/dispatcher/index.js";
import { listDir, readPyJson } from "./helpers.js";

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DispatcherConfigError);
    return (e as Error).message;
  }
  throw new Error("expected a DispatcherConfigError");
}

const typicalMachine = { batch_type: "Slurm", context_type: "SSHContext", local_root: "./", remote_root: "/r", remote_profile: { hostname: "h", username: "u" } };

describe("accepted inputs", () => {
  it("examples/*: machines, resources, tasks and submit_example.json", () => {
    for (const f of listDir("examples", "machine")) normalizeMachine(readPyJson("examples", "machine", f));
    for (const f of listDir("examples", "resources").filter((x) => x.endsWith(".json"))) {
      normalizeResources(readPyJson("examples", "resources", f));
    }
    for (const f of listDir("examples", "task")) normalizeTask(readPyJson("examples", "task", f));
    const s = normalizeSubmissionInput(readPyJson("examples", "submit_example.json"));
    expect(s.machine.serialized.context_type).toBe("LazyLocalContext");
    expect(s.task_list).toHaveLength(1);
  });

  it("tests/jsons fixtures loaded by upstream's automated tests", () => {
    for (const f of ["machine.json", "machine_local_shell.json", "machine_lazylocal_shell.json", "machine_if_cuda_multi_devices.json", "machine_lazy_local_lsf.json", "machine_lazy_local_slurm.json", "machine_lazy_local_jh_unischeduler.json"]) {
      const j = readPyJson("tests", "jsons", f) as PyObject;
      normalizeMachine(j.machine);
      normalizeResources(j.resources);
    }
    normalizeResources(readPyJson("tests", "jsons", "resources.json"));
    normalizeTask(readPyJson("tests", "jsons", "task.json"));
  });

  it("rejects machine_center.json / machine_diffenert.json (context_type lazy_local)", () => {
    const center = readPyJson("tests", "jsons", "machine_center.json") as any;
    const diff = readPyJson("tests", "jsons", "machine_diffenert.json") as any;
    for (const m of [center.batch_lazy_pbs, diff.train.batch, diff.md.batch]) {
      expect(errorOf(() => normalizeMachine(m))).toMatch(/^machine\.context_type: "lazy_local" is not one of SSHContext, LocalContext, LazyLocalContext/);
    }
  });
});

describe("normalisation", () => {
  it("canonical aliases, defaults appended after the user's keys, underscore keys dropped", () => {
    const m = normalizeMachine({
      _comment: "x",
      batch_type: "slurm",
      context_type: "ssh",
      local_root: "./",
      remote_root: "/r",
      remote_profile: { username: "u", hostname: "h", timeout: 30, _note: 1 },
      clean_asynchronously: true,
    });
    expect(canonicalJson(m.serialized)).toBe(
      '{"batch_type": "Slurm", "context_type": "SSHContext", "local_root": "./", "remote_root": "/r", "remote_profile": ' +
        '{"username": "u", "hostname": "h", "timeout": 30, "port": 22, "key_filename": null, "passphrase": null, "totp_secret": null, ' +
        '"tar_compress": true, "look_for_keys": true, "execute_command": null, "proxy_command": null}, "retry_count": 3, "clean_asynchronously": false}',
    );
    expect(m.cleanAsynchronously).toBe(true); // E1: behaviour kept, serialized as false
  });

  it("context-specific remote_profile forms", () => {
    expect(normalizeMachine({ batch_type: "Shell", context_type: "local", local_root: "./", remote_root: "./r" }).serialized.remote_profile).toEqual({ symlink: true });
    expect(normalizeMachine({ batch_type: "Shell", context_type: "LazyLocal", local_root: "./", remote_profile: { x: 1 } }).serialized).toMatchObject({ remote_profile: {}, remote_root: null });
  });

  it("resources: fixed key order, strategy defaults appended, unknown top-level keys dropped, envs without _keys", () => {
    const r = normalizeResources({ kwargs: { b: 1 }, group_size: 3, strategy: { ratio_unfinished: 0.5 }, envs: { _HIDDEN: 1, A: "x" }, unknown: 1 });
    expect(Object.keys(r)[0]).toBe("number_node");
    expect(canonicalJson(r)).toBe(
      '{"number_node": 1, "cpu_per_node": 1, "gpu_per_node": 0, "queue_name": "", "group_size": 3, "custom_flags": [], ' +
        '"strategy": {"ratio_unfinished": 0.5, "if_cuda_multi_devices": false}, "para_deg": 1, "module_purge": false, ' +
        '"module_unload_list": [], "module_list": [], "source_list": [], "envs": {"A": "x"}, "prepend_script": [], ' +
        '"append_script": [], "wait_time": 0, "kwargs": {"b": 1}}',
    );
  });

  it("E2/E3: the batch_type hint fills kwargs defaults and renames sge_pe_name", () => {
    expect(normalizeResources({ group_size: 1, batch_type: "lsf", kwargs: { gpu_usage: true } }).kwargs).toEqual({
      gpu_usage: true,
      gpu_new_syntax: false,
      gpu_exclusive: true,
      custom_gpu_line: null,
    });
    expect(canonicalJson(normalizeResources({ group_size: 1, batch_type: "SGE", kwargs: { sge_pe_name: "smp" } }).kwargs)).toBe(
      '{"pe_name": "smp", "job_name": "wDPjob"}',
    );
    expect(normalizeResources({ group_size: 1, kwargs: { sge_pe_name: "smp" } }).kwargs).toEqual({ sge_pe_name: "smp" });
    expect(normalizeResources({ group_size: 1, batch_type: "SlurmJobArray" }).kwargs).toEqual({ custom_gpu_line: null, slurm_job_size: 1 });
  });

  it("task defaults and order", () => {
    expect(canonicalJson(normalizeTask({ task_work_path: "a/", command: "x", outlog: null }))).toBe(
      '{"command": "x", "task_work_path": "a/", "forward_files": [], "backward_files": [], "outlog": null, "errlog": "err"}',
    );
  });
});

describe("errors name the key and the allowed values", () => {
  it("unknown batch_type", () => {
    expect(errorOf(() => normalizeMachine({ ...typicalMachine, batch_type: "Slrum" }))).toMatch(
      /^machine\.batch_type: "Slrum" is not one of Shell, Slurm, SlurmJobArray, PBS, Torque, LSF, SGE, JH_UniScheduler, Fugaku, /,
    );
    expect(errorOf(() => normalizeMachine({ ...typicalMachine, batch_type: "SHELL" }))).toMatch(/"SHELL" is not one of/);
    expect(errorOf(() => normalizeMachine({ ...typicalMachine, batch_type: "Pbs" }))).toMatch(/"Pbs" is not one of/);
  });

  it("missing group_size, bad types, negative group_size", () => {
    expect(errorOf(() => normalizeResources({ number_node: 1 }))).toMatch(/^resources\.group_size: required key is missing/);
    expect(errorOf(() => normalizeResources({ group_size: 1, number_node: "2" }))).toBe('resources.number_node: expected int, got str "2"');
    expect(errorOf(() => normalizeResources({ group_size: 1, cpu_per_node: parsePyJson("4.0") }))).toBe("resources.cpu_per_node: expected int, got float 4.0");
    expect(errorOf(() => normalizeResources({ group_size: -1 }))).toBe("resources.group_size: must be >= 0, got -1");
    expect(errorOf(() => normalizeResources({ group_size: 1, custom_flags: ["a", 3] }))).toMatch(/^resources\.custom_flags\[1\]: expected str/);
  });

  it("strategy constraints", () => {
    expect(errorOf(() => normalizeResources({ group_size: 1, strategy: { ratio_unfinished: 1.0 } }))).toMatch(/^resources\.strategy\.ratio_unfinished: must be < 1\.0/);
    expect(errorOf(() => normalizeResources({ group_size: 1, strategy: { if_cuda_multi_devices: true } }))).toMatch(
      /^resources\.strategy\.if_cuda_multi_devices: requires gpu_per_node >= 1/,
    );
    expect(errorOf(() => normalizeResources({ group_size: 1, gpu_per_node: 1, number_node: 2, strategy: { if_cuda_multi_devices: true } }))).toMatch(
      /requires number_node == 1/,
    );
  });

  it("E4: unknown keys in a task or an SSH remote_profile are errors", () => {
    expect(errorOf(() => normalizeTask({ command: "x", task_work_path: "a", forward_file: [] }))).toMatch(
      /^task: unknown key\(s\) "forward_file"; allowed: command, task_work_path, forward_files, backward_files, outlog, errlog/,
    );
    expect(errorOf(() => normalizeMachine({ ...typicalMachine, remote_profile: { hostname: "h", username: "u", hots: 1 } }))).toMatch(
      /^machine\.remote_profile: unknown key\(s\) "hots"; allowed: hostname, username, password, port/,
    );
    expect(errorOf(() => normalizeMachine({ ...typicalMachine, remote_profile: { hostname: "h" } }))).toBe("machine.remote_profile.username: required key is missing");
    expect(errorOf(() => normalizeMachine({ ...typicalMachine, remote_root: undefined }))).toMatch(/^machine\.remote_root: required for SSHContext/);
  });

  it("kwargs validated for the hinted batch type; submission input paths", () => {
    expect(errorOf(() => normalizeResources({ group_size: 1, batch_type: "LSF", kwargs: { gpu_usage: "yes" } }))).toBe(
      'resources.kwargs.gpu_usage: expected bool, got str "yes"',
    );
    expect(
      errorOf(() =>
        normalizeSubmissionInput({ work_base: "w", machine: typicalMachine, resources: { group_size: 1 }, task_list: [{ command: "x", task_work_path: "a" }, { command: 1, task_work_path: "b" }] }),
      ),
    ).toBe("task_list[1].command: expected str, got int 1");
  });
});

describe("Python str.format subset", () => {
  it("matches CPython for supported specs", () => {
    // CPython: '{:>5}|{:05d}|{:.2f}|{:,}|{!r}|{:^7}|{:x}'.format('ab', 42, 3.14159, 1234567, 'q', 'mid', 255)
    expect(pyFormat("{a:>5}|{b:05d}|{c:.2f}|{d:,}|{e!r}|{f:^7}|{g:x}", { a: "ab", b: 42, c: 3.14159, d: 1234567, e: "q", f: "mid", g: 255 })).toBe(
      "   ab|00042|3.14|1,234,567|'q'|  mid  |ff",
    );
    expect(pyFormat("{{x}} {k[a]} {l[1]}", { k: { a: true }, l: [1, null] })).toBe("{x} True None");
  });

  it("rejects what it cannot render like Python", () => {
    expect(() => pyFormat("{missing}", {})).toThrow(/KeyError: 'missing'/);
    expect(() => pyFormat("{0}", {})).toThrow(/positional/);
    expect(() => pyFormat("{a.b}", { a: 1 })).toThrow(/attribute/);
    expect(() => pyFormat("{a:.3g}", { a: 1.5 })).toThrow(/unsupported format spec/);
    expect(() => pyFormat("a } b", {})).toThrow(/Single '}'/);
  });
});

