// What DispatcherExecutor sends for one step, as DPDispatcher's machine,
// resources and task (compat spec §6.1): dflow's default dicts, then the
// json_file, then the *_dict options, normalised as DPDispatcher would. Pure
// (it reads json_file and nothing else): submit() runs it too, so that a
// mistake in the dicts is reported before any step runs, not when the first
// remote step starts.
import fs from "node:fs";
import path from "node:path";
import { DflowConfigError } from "../../src/errors.js";
import type { DispatcherExecutorOptions, RemoteConnectionOptions } from "../../src/dispatcher.js";
import type { ScriptOPTemplate } from "../../src/templates.js";
import { shellQuote } from "../dispatcher/paths.js";
import { type ConfigIssue, DispatcherConfigError, normalizeMachine, normalizeResources, normalizeTask } from "../dispatcher/schema.js";

type Plain = Record<string, unknown>;

/** The DPDispatcher contexts dflow-ts implements (executors/dispatcher.ts contextFor). */
const CONTEXTS = ["SSHContext", "LocalContext", "LazyLocalContext"];
const isPlain = (v: unknown): v is Plain => typeof v === "object" && v !== null && !Array.isArray(v);

/** dflow's merge: nested objects recursively, everything else replaced. */
export function deepMerge(base: Plain, over: Plain | undefined): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over ?? {})) out[k] = isPlain(v) && isPlain(out[k]) ? deepMerge(out[k] as Plain, v) : v;
  return out;
}

/** A path declared under /tmp, relative to the workdir (dflow's "./" + path). */
export const rel = (p: string): string => p.replace(/^\/+/, "");

export interface RemoteStep {
  stepName: string;
  dirName: string;
  dir: string;
  workdir: string;
  template: ScriptOPTemplate;
  wfid: string;
  timeout?: number;
  /** merge_sliced_step: how many slices, each a task of the one submission (workdir/script<i>). */
  mergedTasks?: number;
}

/**
 * The files a remote step sends and gets back, relative to its workdir: forward (script, what
 * the executor ships, tmp/ with the placed inputs), required outputs (and the job's `log` for
 * DPDispatcher), and outputs that may be absent (optional artifacts, outputs with defaults).
 */
export function taskFiles(t: ScriptOPTemplate, workdir: string | undefined, extraForward: string[]) {
  // tmp/ holds the placed input artifacts, and must exist on the cluster even without any: scripts write under it.
  const forward = ["script", ...extraForward, "tmp"];
  for (const a of Object.values(t.inputs.artifacts)) {
    // An artifact declared outside /tmp travels on its own.
    if (a.path && !rel(a.path).startsWith("tmp/") && (workdir === undefined || fs.existsSync(path.join(workdir, rel(a.path))))) forward.push(rel(a.path));
  }
  const backward = ["log"];
  const optional: string[] = [];
  for (const p of Object.values(t.outputs.parameters)) {
    if (!p.value_from_path) continue;
    (p.has_default ? optional : backward).push(rel(p.value_from_path));
  }
  for (const a of Object.values(t.outputs.artifacts)) {
    if (!a.path) continue;
    (a.optional ? optional : backward).push(rel(a.path));
  }
  if (t.success_tag) optional.push("tmp/outputs/success_tag");
  return { forward, backward: [...new Set(backward)], optional: [...new Set(optional)] };
}

export function remoteCommandOf(t: ScriptOPTemplate, o: RemoteConnectionOptions): string {
  if (o.remote_command) return o.remote_command;
  if (t.kind === "ts-op") return "node";
  // dflow-ts's own helper steps (slices' init-artifact) run this node: on the cluster, its `node`.
  const [first, ...rest] = t.command;
  return [first === process.execPath ? "node" : first, ...rest].map((c) => shellQuote(c)).join(" ");
}

/** Where the dicts are used: a step of this engine, or a pod of an exported workflow (its placeholders filled in by Argo). */
export interface DictsFor {
  /** DFLOW_WORKFLOW and DFLOW_POD of the job's environment. */
  workflow: string;
  pod: string;
  /** The step's workdir, to tell which artifacts outside /tmp are there; without one every such artifact is listed (the pod keeps those it has). */
  workdir?: string;
  /** The template's env vars reach the job with their values (else the caller adds them, as a pod reads them from its environment). */
  templateEnvs?: boolean;
  /** merge_sliced_step: the number of slices, each its own task (mergedTasks). */
  merged?: number;
}

/** The machine/resources/task dicts of dflow's DispatcherExecutor (§6.1 default dicts, then the overrides), not yet normalised. */
export function dispatcherDicts(t: ScriptOPTemplate, o: DispatcherExecutorOptions, at: DictsFor, extraForward: string[]) {
  const username = o.username ?? "root";
  const remote_root = o.remote_root ?? (username === "root" ? "/root/dflow/workflows" : `/home/${username}/dflow/workflows`);
  const remote_profile: Plain = { hostname: o.host, username, port: o.port ?? 22, timeout: 10 };
  if (o.password !== undefined) remote_profile.password = o.password;
  if (o.private_key_file !== undefined) remote_profile.key_filename = path.resolve(o.private_key_file);
  let machine: Plain = { batch_type: "Slurm", context_type: "SSHContext", local_root: ".", remote_profile, remote_root };
  const resourcesBase: Plain = { number_node: 1, cpu_per_node: 1, group_size: 1, envs: { DFLOW_WORKFLOW: at.workflow, DFLOW_POD: at.pod, PYTHONUNBUFFERED: "true" } };
  if (o.queue_name !== undefined) resourcesBase.queue_name = o.queue_name;
  let resources = resourcesBase;
  if (o.json_file) {
    let j: Plain;
    try {
      j = JSON.parse(fs.readFileSync(o.json_file, "utf8")) as Plain;
    } catch (e) {
      throw new DflowConfigError(`DispatcherExecutor json_file ${o.json_file}: ${(e as Error).message}`, {});
    }
    machine = deepMerge(machine, j.machine as Plain | undefined);
    resources = deepMerge(resources, j.resources as Plain | undefined);
  }
  machine = deepMerge(machine, o.machine_dict);
  machine.local_root = "."; // dflow forces it whatever the dicts say
  resources = deepMerge(resources, o.resources_dict);
  if (at.templateEnvs !== false) {
    // The template's env vars reach the job; values are quoted because DPDispatcher exports them unquoted.
    const envs = { ...(resources.envs as Plain) };
    for (const [k, v] of Object.entries(t.envs)) envs[k] = shellQuote(String(v));
    resources.envs = envs;
  }
  const files = taskFiles(t, at.workdir, extraForward);
  const mapTmp = o.map_tmp_dir ?? true;
  const command = `${mapTmp ? `sed -i "s#\\$(pwd)#$(pwd)#g" script && ` : ""}${remoteCommandOf(t, o)} script`;
  const task = deepMerge({ command, task_work_path: "./", forward_files: files.forward, backward_files: files.backward, outlog: "log", errlog: "log" }, o.task_dict);
  if (at.merged !== undefined) return { machine, resources, ...mergedTasks(mergeOutputs(t), task, files.optional, at.merged) };
  return { machine, resources, tasks: [task], optional: [files.optional], forward_common_files: [] as string[] };
}

/**
 * A merged step's outputs: the files its tasks each write for themselves, suffixed `_<i>` (its
 * output parameters and success tag), and the artifacts they write together.
 */
export interface MergeOutputs {
  params: Array<{ file: string; optional: boolean }>;
  successTag: boolean;
  artifacts: string[];
}

export function mergeOutputs(t: ScriptOPTemplate): MergeOutputs {
  return {
    params: Object.values(t.outputs.parameters).flatMap((p) => (p.value_from_path ? [{ file: rel(p.value_from_path), optional: p.has_default }] : [])),
    successTag: t.success_tag ?? false,
    artifacts: Object.values(t.outputs.artifacts).flatMap((a) => (a.path ? [rel(a.path)] : [])),
  };
}

/**
 * merge_sliced_step (dflow's DispatcherExecutor.render): the step's task split into one per
 * slice, all in the job directory. Task i runs script<i> (its command's `script` so renamed) and
 * writes its output parameters and success tag suffixed `_<i>`; what every task shares (the
 * inputs, the bundle) goes once as forward_common_files, and what they write together (the log,
 * the sliced output artifacts) comes back with the first task.
 */
export function mergedTasks(outputs: MergeOutputs, task: Plain, optional: string[], n: number) {
  const { params } = outputs;
  const own = new Set([...params.map((p) => p.file), ...(outputs.successTag ? ["tmp/outputs/success_tag"] : [])]);
  const shared = (files: string[]) => files.filter((f) => !own.has(f));
  const tasks: Plain[] = [];
  const optionals: string[][] = [];
  for (let i = 0; i < n; i++) {
    tasks.push({
      ...task,
      command: String(task.command).replace(/\bscript\b/g, `script${i}`),
      forward_files: [`script${i}`],
      backward_files: [...(i === 0 ? shared(task.backward_files as string[]) : []), ...params.filter((p) => !p.optional).map((p) => `${p.file}_${i}`)],
    });
    optionals.push([...(i === 0 ? shared(optional) : []), ...params.filter((p) => p.optional).map((p) => `${p.file}_${i}`), ...(outputs.successTag ? [`tmp/outputs/success_tag_${i}`] : [])]);
  }
  return { tasks, optional: optionals, forward_common_files: (task.forward_files as string[]).filter((f) => f !== "script") };
}

/** The dicts normalised as DPDispatcher would: every mistake in the three at once, as DPDispatcher's own checks name them. */
export function normalizeDicts(d: { machine: Plain; resources: Plain; tasks: Plain[] }, where: { step?: string }) {
  const issues: ConfigIssue[] = [];
  const normal = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof DispatcherConfigError)) throw e;
      issues.push(...e.issues);
      return undefined;
    }
  };
  const m = normal(() => normalizeMachine(d.machine, "machine"));
  const contextType = m?.serialized.context_type;
  if (m && !CONTEXTS.includes(contextType as string)) issues.push({ path: "machine.context_type", message: `${contextType} is not supported by dflow-ts (${CONTEXTS.join(", ")} are)` });
  const r = normal(() => normalizeResources(d.resources, "resources"));
  // Tasks differ only in their script's name: the first one's mistakes are every one's.
  const t = normal(() => normalizeTask(d.tasks[0], "task"));
  if (issues.length || !m || !r || !t) throw new DflowConfigError(`DispatcherExecutor: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, where);
  return { machine: m, resources: r, tasks: [t, ...d.tasks.slice(1).map((x) => normalizeTask(x, "task"))] };
}

/** The machine/resources/task of dflow's DispatcherExecutor for a step of this engine. */
export function dispatcherInput(step: RemoteStep, o: DispatcherExecutorOptions, extraForward: string[]) {
  const d = dispatcherDicts(step.template, o, { workflow: step.wfid, pod: step.dirName, workdir: step.workdir, merged: step.mergedTasks }, extraForward);
  return { ...normalizeDicts(d, { step: step.stepName }), optional: d.optional, forward_common_files: d.forward_common_files };
}
