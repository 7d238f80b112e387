/**
 * Machine, resources and task dictionaries accepted the way DPDispatcher accepts them
 * (spec §1–§3 and errata E1–E4): aliases, defaults, key order of the serialized form, the
 * underscore-comment rule, and validation errors that name the key and the allowed values.
 *
 * Numbers keep their Python identity: floats read by {@link parsePyJson} are {@link PyFloat}s and
 * are hashed/printed as floats (`4.0`); integral JS numbers are ints.
 */
import { z } from "../../src/vendor/zod.js";
import { PyFloat, deepCopy, isPlainObject, type PyObject, type PyValue } from "./pyjson.js";

// ---------------------------------------------------------------------------------------------
// Errors

export interface ConfigIssue {
  /** Dotted path of the offending key, e.g. `machine.batch_type` or `task_list[2].command`. */
  path: string;
  message: string;
}

export class DispatcherConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join("\n"));
    this.name = "DispatcherConfigError";
  }
}

function fail(path: string, message: string): never {
  throw new DispatcherConfigError([{ path, message }]);
}

function show(v: unknown): string {
  if (v === undefined) return "undefined";
  if (v instanceof PyFloat) return String(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number") return String(v);
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "list";
  if (v instanceof PyFloat) return "float";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (typeof v === "string") return "str";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "object") return "dict";
  return typeof v;
}

function joinPath(base: string, p: PropertyKey[]): string {
  let s = base;
  for (const k of p) s += typeof k === "number" ? `[${k}]` : s ? `.${String(k)}` : String(k);
  return s;
}

function valueAt(root: unknown, p: PropertyKey[]): unknown {
  let v: unknown = root;
  for (const k of p) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** Validate `value` with a zod schema; turn zod issues into key-naming messages. */
function check<T>(schema: z.ZodType<T>, value: unknown, path: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues: ConfigIssue[] = r.error.issues.map((iss) => {
    const p = joinPath(path, iss.path as PropertyKey[]);
    const got = valueAt(value, iss.path as PropertyKey[]);
    if (iss.code === "invalid_type" && got === undefined) return { path: p, message: "required key is missing" };
    if (iss.code === "invalid_type" || iss.code === "invalid_union" || iss.code === "custom") {
      return { path: p, message: `${iss.message || "invalid value"}, got ${typeName(got)} ${show(got)}` };
    }
    return { path: p, message: `${iss.message}, got ${show(got)}` };
  });
  throw new DispatcherConfigError(issues);
}

// ---------------------------------------------------------------------------------------------
// Primitive schemas (dargs types)

const zInt = z.custom<number>((v) => typeof v === "number" && Number.isInteger(v), { message: "expected int" });
const zFloat = z.custom<number | PyFloat>((v) => typeof v === "number" || v instanceof PyFloat, {
  message: "expected float",
});
const zStr = z.string({ error: "expected str" });
const zBool = z.boolean({ error: "expected bool" });
const zStrOrNull = z.union([z.string(), z.null()], { error: "expected str or null" });
const zStrList = z.array(zStr, { error: "expected list of str" });
const zDict = z.custom<PyObject>((v) => isPlainObject(v), { message: "expected dict" });

// ---------------------------------------------------------------------------------------------
// Batch and context types

export const BATCH_TYPES = [
  "Shell",
  "Slurm",
  "SlurmJobArray",
  "PBS",
  "Torque",
  "LSF",
  "SGE",
  "JH_UniScheduler",
  "Fugaku",
  "DistributedShell",
  "Bohrium",
  "OpenAPI",
] as const;
export type BatchType = (typeof BATCH_TYPES)[number];

/** Batch types whose job scripts this package can generate. */
export const SCRIPTABLE_BATCH_TYPES: readonly BatchType[] = [
  "Shell",
  "Slurm",
  "SlurmJobArray",
  "PBS",
  "Torque",
  "LSF",
  "SGE",
  "JH_UniScheduler",
  "Fugaku",
];

const BATCH_ALIASES: Record<string, BatchType> = {};
for (const b of BATCH_TYPES) {
  BATCH_ALIASES[b] = b;
  BATCH_ALIASES[b.toLowerCase()] = b;
}
for (const a of ["Lebesgue", "lebesgue", "DpCloudServer", "dpcloudserver"]) BATCH_ALIASES[a] = "Bohrium";

export const CONTEXT_TYPES = [
  "SSHContext",
  "LocalContext",
  "LazyLocalContext",
  "HDFSContext",
  "BohriumContext",
  "OpenAPIContext",
] as const;
export type ContextType = (typeof CONTEXT_TYPES)[number];

const CONTEXT_ALIASES: Record<string, ContextType> = {};
for (const c of CONTEXT_TYPES) {
  const short = c.slice(0, -"Context".length);
  for (const a of [c, c.toLowerCase(), short, short.toLowerCase()]) CONTEXT_ALIASES[a] = c;
}
for (const a of ["DpCloudServer", "Lebesgue"]) {
  for (const x of [a + "Context", a]) {
    CONTEXT_ALIASES[x] = "BohriumContext";
    CONTEXT_ALIASES[x.toLowerCase()] = "BohriumContext";
  }
}

function oneOf(path: string, v: unknown, table: Record<string, string>, canonical: readonly string[]): string {
  if (typeof v !== "string") fail(path, `expected str, got ${typeName(v)} ${show(v)}`);
  const c = table[v];
  if (c === undefined) {
    fail(path, `${show(v)} is not one of ${canonical.join(", ")} (or the same names in lower case)`);
  }
  return c;
}

export function resolveBatchType(v: unknown, path = "machine.batch_type"): BatchType {
  return oneOf(path, v, BATCH_ALIASES, BATCH_TYPES) as BatchType;
}

export function resolveContextType(v: unknown, path = "machine.context_type"): ContextType {
  if (typeof v === "string" && CONTEXT_ALIASES[v] === undefined) {
    const names = CONTEXT_TYPES.map((c) => `${c}`).join(", ");
    fail(path, `${show(v)} is not one of ${names} (also accepted: lower case, and without the "Context" suffix)`);
  }
  return oneOf(path, v, CONTEXT_ALIASES, CONTEXT_TYPES) as ContextType;
}

// ---------------------------------------------------------------------------------------------
// Normalisation helpers

/** Drop keys starting with `_` at any depth (upstream's JSON comment convention). */
export function stripUnderscoreKeys<T>(v: T): T {
  if (Array.isArray(v)) return v.map(stripUnderscoreKeys) as T;
  if (isPlainObject(v)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (!k.startsWith("_")) o[k] = stripUnderscoreKeys(x);
    return o as T;
  }
  return v;
}

function asDict(v: unknown, path: string): PyObject {
  if (!isPlainObject(v)) fail(path, `expected dict, got ${typeName(v)} ${show(v)}`);
  return v as PyObject;
}

/** Keep the user's keys in order, append missing defaults in declaration order. */
function withDefaults(user: PyObject, defaults: [string, PyValue][]): PyObject {
  const out: PyObject = { ...user };
  for (const [k, d] of defaults) if (!(k in out)) out[k] = deepCopy(d);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Machine (§1)

export interface SshRemoteProfile extends PyObject {
  hostname: string;
  username: string;
  port: number;
  key_filename: string | null;
  passphrase: string | null;
  timeout: number;
  totp_secret: string | null;
  tar_compress: boolean;
  look_for_keys: boolean;
  execute_command: string | null;
  proxy_command: string | null;
}

/** Serialized machine: the form hashed and stored in the state file. */
export interface SerializedMachine extends PyObject {
  batch_type: BatchType;
  context_type: ContextType;
  local_root: string | null;
  remote_root: string | null;
  remote_profile: PyObject;
  retry_count: number;
  /** Always `false` in the serialized form (errata E1); see {@link NormalizedMachine.cleanAsynchronously}. */
  clean_asynchronously: boolean;
}

export interface NormalizedMachine {
  serialized: SerializedMachine;
  /** The behaviour requested by the input (E1: not reflected in the serialized form). */
  cleanAsynchronously: boolean;
}

const SSH_PROFILE_DEFAULTS: [string, PyValue][] = [
  ["port", 22],
  ["key_filename", null],
  ["passphrase", null],
  ["timeout", 10],
  ["totp_secret", null],
  ["tar_compress", true],
  ["look_for_keys", true],
  ["execute_command", null],
  ["proxy_command", null],
];

const sshProfileSchema = z.strictObject(
  {
    hostname: zStr,
    username: zStr,
    password: zStr.optional(),
    port: zInt.optional(),
    key_filename: zStrOrNull.optional(),
    passphrase: zStrOrNull.optional(),
    timeout: zInt.optional(),
    totp_secret: zStrOrNull.optional(),
    tar_compress: zBool.optional(),
    look_for_keys: zBool.optional(),
    execute_command: zStrOrNull.optional(),
    proxy_command: zStrOrNull.optional(),
  },
  { error: (iss) => (iss.code === "unrecognized_keys" ? `unknown key(s) ${iss.keys.map((k) => JSON.stringify(k)).join(", ")}; allowed: hostname, username, password, port, key_filename, passphrase, timeout, totp_secret, tar_compress, look_for_keys, execute_command, proxy_command` : undefined) },
);

const machineSchema = z.looseObject({
  batch_type: z.unknown(),
  context_type: z.unknown(),
  local_root: zStrOrNull,
  remote_root: zStrOrNull.optional(),
  remote_profile: zDict.optional(),
  clean_asynchronously: zBool.optional(),
  retry_count: zInt.optional(),
});

export function normalizeMachine(input: unknown, path = "machine"): NormalizedMachine {
  const m = stripUnderscoreKeys(asDict(input, path));
  if (!("batch_type" in m)) fail(`${path}.batch_type`, "required key is missing");
  if (!("context_type" in m)) fail(`${path}.context_type`, "required key is missing");
  if (!("local_root" in m)) fail(`${path}.local_root`, "required key is missing");
  const batch_type = resolveBatchType(m.batch_type, `${path}.batch_type`);
  const context_type = resolveContextType(m.context_type, `${path}.context_type`);
  check(machineSchema, m, path);
  const retry_count = (m.retry_count as number | undefined) ?? 3;
  const remote_root = (m.remote_root as string | null | undefined) ?? null;
  const rp = (m.remote_profile as PyObject | undefined) ?? {};
  let remote_profile: PyObject;
  switch (context_type) {
    case "SSHContext": {
      if (remote_root === null) fail(`${path}.remote_root`, "required for SSHContext (an absolute remote path)");
      if (!("remote_profile" in m)) fail(`${path}.remote_profile`, "required for SSHContext (needs hostname and username)");
      check(sshProfileSchema, rp, `${path}.remote_profile`);
      remote_profile = withDefaults(rp, SSH_PROFILE_DEFAULTS);
      break;
    }
    case "LocalContext": {
      if (remote_root === null) fail(`${path}.remote_root`, "required for LocalContext");
      const symlink = rp.symlink ?? true;
      check(zBool, symlink, `${path}.remote_profile.symlink`);
      remote_profile = { symlink };
      break;
    }
    case "LazyLocalContext":
      remote_profile = {};
      break;
    default:
      remote_profile = { ...rp };
  }
  return {
    serialized: {
      batch_type,
      context_type,
      local_root: m.local_root as string | null,
      remote_root,
      remote_profile,
      retry_count,
      clean_asynchronously: false,
    },
    cleanAsynchronously: (m.clean_asynchronously as boolean | undefined) ?? false,
  };
}

// ---------------------------------------------------------------------------------------------
// Resources (§2)

export interface Strategy extends PyObject {
  if_cuda_multi_devices: boolean;
  ratio_unfinished: number | PyFloat;
}

/** Serialized resources, fixed key order (§2.1). */
export interface SerializedResources extends PyObject {
  number_node: number;
  cpu_per_node: number;
  gpu_per_node: number;
  queue_name: string;
  group_size: number;
  custom_flags: string[];
  strategy: Strategy;
  para_deg: number;
  module_purge: boolean;
  module_unload_list: string[];
  module_list: string[];
  source_list: string[];
  envs: PyObject;
  prepend_script: string[];
  append_script: string[];
  wait_time: number | PyFloat;
  kwargs: PyObject;
}

export const RESOURCES_KEYS = [
  "number_node",
  "cpu_per_node",
  "gpu_per_node",
  "queue_name",
  "group_size",
  "custom_flags",
  "strategy",
  "para_deg",
  "module_purge",
  "module_unload_list",
  "module_list",
  "source_list",
  "envs",
  "prepend_script",
  "append_script",
  "wait_time",
  "kwargs",
] as const;

const RESOURCES_DEFAULTS: Record<string, PyValue> = {
  number_node: 1,
  cpu_per_node: 1,
  gpu_per_node: 0,
  queue_name: "",
  custom_flags: [],
  para_deg: 1,
  module_purge: false,
  module_unload_list: [],
  module_list: [],
  source_list: [],
  envs: {},
  prepend_script: [],
  append_script: [],
  wait_time: 0,
  kwargs: {},
};

const strategySchema = z.looseObject({
  if_cuda_multi_devices: zBool.optional(),
  ratio_unfinished: zFloat.optional(),
  customized_script_header_template_file: zStr.optional(),
});

const resourcesSchema = z.looseObject({
  number_node: zInt.optional(),
  cpu_per_node: zInt.optional(),
  gpu_per_node: zInt.optional(),
  queue_name: zStr.optional(),
  group_size: zInt,
  custom_flags: zStrList.optional(),
  strategy: zDict.optional(),
  para_deg: zInt.optional(),
  module_purge: zBool.optional(),
  module_unload_list: zStrList.optional(),
  module_list: zStrList.optional(),
  source_list: zStrList.optional(),
  envs: zDict.optional(),
  prepend_script: zStrList.optional(),
  append_script: zStrList.optional(),
  wait_time: zFloat.optional(),
  kwargs: zDict.optional(),
  batch_type: z.unknown().optional(),
});

interface KwargSpec {
  name: string;
  alias?: string;
  schema: z.ZodType<unknown>;
  default: PyValue;
}

/** Batch-specific kwargs (§2.3), applied when `resources.batch_type` is given (errata E2/E3). */
export const KWARGS_BY_BATCH: Partial<Record<BatchType, KwargSpec[]>> = {
  Slurm: [{ name: "custom_gpu_line", schema: zStrOrNull, default: null }],
  JH_UniScheduler: [{ name: "custom_gpu_line", schema: zStrOrNull, default: null }],
  SlurmJobArray: [
    { name: "custom_gpu_line", schema: zStrOrNull, default: null },
    { name: "slurm_job_size", schema: zInt, default: 1 },
  ],
  LSF: [
    { name: "gpu_usage", schema: zBool, default: false },
    { name: "gpu_new_syntax", schema: zBool, default: false },
    { name: "gpu_exclusive", schema: zBool, default: true },
    { name: "custom_gpu_line", schema: zStrOrNull, default: null },
  ],
  SGE: [
    { name: "pe_name", alias: "sge_pe_name", schema: zStr, default: "mpi" },
    { name: "job_name", schema: zStr, default: "wDPjob" },
  ],
};

function normalizeKwargs(kwargs: PyObject, batch: BatchType, path: string): PyObject {
  const specs = KWARGS_BY_BATCH[batch] ?? [];
  let out: PyObject = { ...kwargs };
  for (const s of specs) {
    if (s.alias && s.alias in out) {
      if (s.name in out) fail(`${path}.${s.alias}`, `alias of ${s.name}, which is also given`);
      const v = out[s.alias]!;
      delete out[s.alias];
      out[s.name] = v; // dargs pops the alias and re-inserts under the canonical name
    }
  }
  for (const s of specs) if (s.name in out) check(s.schema, out[s.name], `${path}.${s.name}`);
  out = withDefaults(
    out,
    specs.map((s) => [s.name, s.default]),
  );
  return out;
}

export interface ResourcesOptions {
  /**
   * Emulate DPDispatcher's keyword constructor `Resources(**d)`: unknown top-level keys go into
   * `kwargs` instead of being dropped (the upstream script-generation fixtures rely on this).
   */
  unknownKeysToKwargs?: boolean;
}

export function normalizeResources(input: unknown, path = "resources", opts: ResourcesOptions = {}): SerializedResources {
  const r = stripUnderscoreKeys(asDict(input, path));
  if (!("group_size" in r)) fail(`${path}.group_size`, "required key is missing (tasks per job; 0 = all tasks in one job)");
  check(resourcesSchema, r, path);
  if ((r.group_size as number) < 0) fail(`${path}.group_size`, `must be >= 0, got ${r.group_size}`);

  const st = (r.strategy as PyObject | undefined) ?? {};
  check(strategySchema, st, `${path}.strategy`);
  const strategy = withDefaults(st, [
    ["if_cuda_multi_devices", false],
    ["ratio_unfinished", new PyFloat(0)],
  ]) as Strategy;

  let kwargs: PyObject = { ...((r.kwargs as PyObject | undefined) ?? {}) };
  if (opts.unknownKeysToKwargs) {
    for (const [k, v] of Object.entries(r)) {
      if (!(RESOURCES_KEYS as readonly string[]).includes(k) && k !== "batch_type") kwargs[k] = v;
    }
  }
  if ("batch_type" in r && r.batch_type !== undefined && r.batch_type !== null) {
    const bt = resolveBatchType(r.batch_type, `${path}.batch_type`);
    kwargs = normalizeKwargs(kwargs, bt, `${path}.kwargs`);
  }

  const out: Record<string, PyValue> = {};
  for (const k of RESOURCES_KEYS) {
    if (k === "strategy") out[k] = strategy;
    else if (k === "kwargs") out[k] = kwargs;
    else if (k in r) out[k] = r[k]!;
    else out[k] = deepCopy(RESOURCES_DEFAULTS[k]!);
  }
  const res = out as SerializedResources;

  if (strategy.if_cuda_multi_devices) {
    if (res.gpu_per_node < 1) {
      fail(`${path}.strategy.if_cuda_multi_devices`, `requires gpu_per_node >= 1, got gpu_per_node ${res.gpu_per_node}`);
    }
    if (res.number_node !== 1) {
      fail(`${path}.strategy.if_cuda_multi_devices`, `requires number_node == 1, got number_node ${res.number_node}`);
    }
  }
  const ru = Number(strategy.ratio_unfinished);
  if (ru >= 1) fail(`${path}.strategy.ratio_unfinished`, `must be < 1.0, got ${String(strategy.ratio_unfinished)}`);
  return res;
}

// ---------------------------------------------------------------------------------------------
// Task (§3)

export interface SerializedTask extends PyObject {
  command: string;
  task_work_path: string;
  forward_files: string[];
  backward_files: string[];
  outlog: string | null;
  errlog: string | null;
}

const TASK_KEYS = ["command", "task_work_path", "forward_files", "backward_files", "outlog", "errlog"] as const;

const taskSchema = z.strictObject(
  {
    command: zStr,
    task_work_path: zStr,
    forward_files: zStrList.optional(),
    backward_files: zStrList.optional(),
    outlog: zStrOrNull.optional(),
    errlog: zStrOrNull.optional(),
  },
  { error: (iss) => (iss.code === "unrecognized_keys" ? `unknown key(s) ${iss.keys.map((k) => JSON.stringify(k)).join(", ")}; allowed: ${TASK_KEYS.join(", ")}` : undefined) },
);

export function normalizeTask(input: unknown, path = "task"): SerializedTask {
  const t = stripUnderscoreKeys(asDict(input, path));
  check(taskSchema, t, path);
  return {
    command: t.command as string,
    task_work_path: t.task_work_path as string,
    forward_files: [...((t.forward_files as string[] | undefined) ?? [])],
    backward_files: [...((t.backward_files as string[] | undefined) ?? [])],
    outlog: "outlog" in t ? (t.outlog as string | null) : "log",
    errlog: "errlog" in t ? (t.errlog as string | null) : "err",
  };
}

// ---------------------------------------------------------------------------------------------
// Submission input (`dpdisp submit` file format, §4.16)

export interface SubmissionInput {
  work_base: string;
  machine: NormalizedMachine;
  resources: SerializedResources;
  task_list: SerializedTask[];
  forward_common_files: string[];
  backward_common_files: string[];
}

const submissionSchema = z.looseObject({
  work_base: zStr,
  forward_common_files: zStrList.optional(),
  backward_common_files: zStrList.optional(),
  machine: zDict,
  resources: zDict,
  task_list: z.array(z.unknown(), { error: "expected list of task dicts" }),
});

export function normalizeSubmissionInput(input: unknown, opts: ResourcesOptions = {}): SubmissionInput {
  const s = stripUnderscoreKeys(asDict(input, "submission"));
  check(submissionSchema, s, "");
  return {
    work_base: s.work_base as string,
    machine: normalizeMachine(s.machine, "machine"),
    resources: normalizeResources(s.resources, "resources", opts),
    task_list: (s.task_list as unknown[]).map((t, i) => normalizeTask(t, `task_list[${i}]`)),
    forward_common_files: [...((s.forward_common_files as string[] | undefined) ?? [])],
    backward_common_files: [...((s.backward_common_files as string[] | undefined) ?? [])],
  };
}
