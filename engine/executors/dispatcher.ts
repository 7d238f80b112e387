// Runs a step rendered by DispatcherExecutor (src/dispatcher.ts) as a DPDispatcher submission,
// the way dflow's generated dispatcher program does in debug mode (compat spec §6.1): the step's
// workdir is the work base, its script is the one task, input artifacts travel as forward files,
// outputs come back as backward files into the same places, and the job's log becomes log.txt.
import { setTimeout as sleep } from "node:timers/promises";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { DflowConfigError, InfrastructureError, OPFailure } from "../../src/errors.js";
import type { DispatcherExecutorOptions, RemoteConnectionOptions } from "../../src/dispatcher.js";
import type { ScriptOPTemplate, TsOPTemplate } from "../../src/templates.js";
import { batchSystem } from "../dispatcher/batch/index.js";
import { boundedCount } from "../retry.js";
import { BackwardFileMissing, type DispatcherContext } from "../dispatcher/context/index.js";
import { LazyLocalContext, LocalContext } from "../dispatcher/context/local.js";
import { SSHContext } from "../dispatcher/context/ssh-context.js";
import { SSHAuthError, SSHConnectError, SSHHostKeyError } from "../dispatcher/context/ssh.js";
import { buildSubmission } from "../dispatcher/hash.js";
import { shellQuote } from "../dispatcher/paths.js";
import { DispatcherConfigError, normalizeMachine, normalizeResources, normalizeTask, type NormalizedMachine } from "../dispatcher/schema.js";
import { JobFailed, SchedulerTransient, Submission, SubmissionError } from "../dispatcher/submission.js";
import { clusterFor, type Cluster } from "./clusters.js";
import type { RunContext } from "../context.js";
import { logTail } from "../step-dir.js";

type Plain = Record<string, unknown>;
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
}

/**
 * The files a remote step sends and gets back, relative to its workdir: forward (script, what
 * the executor ships, tmp/ with the placed inputs), required outputs (and the job's `log` for
 * DPDispatcher), and outputs that may be absent (optional artifacts, outputs with defaults).
 */
export function taskFiles(t: ScriptOPTemplate, workdir: string, extraForward: string[]) {
  // tmp/ holds the placed input artifacts, and must exist on the cluster even without any: scripts write under it.
  const forward = ["script", ...extraForward, "tmp"];
  for (const a of Object.values(t.inputs.artifacts)) {
    // An artifact declared outside /tmp travels on its own.
    if (a.path && !rel(a.path).startsWith("tmp/") && fs.existsSync(path.join(workdir, rel(a.path)))) forward.push(rel(a.path));
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
  return t.command.map((c) => shellQuote(c)).join(" ");
}

/** The machine/resources/task of dflow's DispatcherExecutor (§6.1 default dicts, then the overrides). */
export function dispatcherInput(step: RemoteStep, o: DispatcherExecutorOptions, extraForward: string[]) {
  const username = o.username ?? "root";
  const remote_root = o.remote_root ?? (username === "root" ? "/root/dflow/workflows" : `/home/${username}/dflow/workflows`);
  const remote_profile: Plain = { hostname: o.host, username, port: o.port ?? 22, timeout: 10 };
  if (o.password !== undefined) remote_profile.password = o.password;
  if (o.private_key_file !== undefined) remote_profile.key_filename = path.resolve(o.private_key_file);
  let machine: Plain = { batch_type: "Slurm", context_type: "SSHContext", local_root: ".", remote_profile, remote_root };
  const resourcesBase: Plain = { number_node: 1, cpu_per_node: 1, group_size: 1, envs: { DFLOW_WORKFLOW: step.wfid, DFLOW_POD: step.dirName, PYTHONUNBUFFERED: "true" } };
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
  // The template's env vars reach the job; values are quoted because DPDispatcher exports them unquoted.
  const envs = { ...(resources.envs as Plain) };
  for (const [k, v] of Object.entries(step.template.envs)) envs[k] = shellQuote(String(v));
  resources.envs = envs;
  const files = taskFiles(step.template, step.workdir, extraForward);
  const mapTmp = o.map_tmp_dir ?? true;
  const command = `${mapTmp ? `sed -i "s#\\$(pwd)#$(pwd)#g" script && ` : ""}${remoteCommandOf(step.template, o)} script`;
  const task = deepMerge({ command, task_work_path: "./", forward_files: files.forward, backward_files: files.backward, outlog: "log", errlog: "log" }, o.task_dict);
  const where = { step: step.stepName };
  try {
    return {
      machine: normalizeMachine(machine, "machine"),
      resources: normalizeResources(resources, "resources"),
      task: normalizeTask(task, "task"),
      optional: files.optional,
    };
  } catch (e) {
    if (e instanceof DispatcherConfigError) throw new DflowConfigError(`DispatcherExecutor: ${e.message}`, where);
    throw e;
  }
}

function contextFor(m: NormalizedMachine, cluster: Cluster | null): DispatcherContext {
  const s = m.serialized;
  if (s.context_type === "SSHContext") return new SSHContext(cluster!.transport, { remoteRoot: s.remote_root!, tarCompress: (s.remote_profile as Plain).tar_compress !== false });
  if (s.context_type === "LocalContext") return new LocalContext((s.remote_profile as Plain).symlink !== false);
  if (s.context_type === "LazyLocalContext") return new LazyLocalContext();
  throw new DflowConfigError(`DispatcherExecutor: context_type ${s.context_type} is not supported (SSHContext, LocalContext, LazyLocalContext are)`, {});
}

/** Submissions in flight, so a stop (SIGTERM/SIGINT) can cancel their jobs before the engine exits. */
const inFlight = new Set<AbortController>();

export async function cancelRemoteJobs(reason: string): Promise<void> {
  for (const c of inFlight) c.abort(new Error(reason));
  // Give the aborted submissions a moment to send their kill commands.
  const deadline = Date.now() + 5000;
  while (inFlight.size > 0 && Date.now() < deadline) await sleep(50);
}

export function hasRemoteJobs(): boolean {
  return inFlight.size > 0;
}

/** Extra files a TypeScript OP needs on a node that has only `node`: its bundle. */
export async function shipBundle(t: TsOPTemplate, workdir: string, bundle: string | null): Promise<string[]> {
  if (!bundle) {
    throw new DflowConfigError(
      `OP ${t.opName} (${t.module}) could not be bundled into one file, which a remote node with only node needs; run with DFLOW_DEBUG_BUNDLE=1 to see why`,
      {},
    );
  }
  // A hard link: the bundle (~1 MB) would otherwise be copied into every item's workdir.
  const dest = path.join(workdir, "dflow-op.mjs");
  await fsp.rm(dest, { force: true });
  await fsp.link(bundle, dest).catch(() => fsp.copyFile(bundle, dest));
  return ["dflow-op.mjs"];
}

export async function runDispatched(step: RemoteStep, ctx: RunContext, extraForward: string[], logFile: string): Promise<void> {
  const o = step.template.remote!.options as DispatcherExecutorOptions;
  const where = { workflow: ctx.wfid, step: step.stepName };
  const input = dispatcherInput(step, o, extraForward);
  const sub = buildSubmission(
    { work_base: ".", machine: input.machine, resources: input.resources, task_list: [input.task], forward_common_files: [], backward_common_files: [] },
    { cwd: step.workdir },
  );
  const batch = batchSystem(input.machine.serialized.batch_type);
  const isSsh = input.machine.serialized.context_type === "SSHContext";
  const cluster = isSsh ? clusterFor(input.machine, o) : null;
  const dctx = contextFor(input.machine, cluster);
  const abort = new AbortController();
  let timedOut = false;
  const timer = step.timeout ? setTimeout(() => ((timedOut = true), abort.abort(new Error("timeout"))), step.timeout * 1000) : null;
  inFlight.add(abort);
  const log = (m: string) => fs.appendFileSync(path.join(step.dir, "dispatcher.log"), `${new Date().toISOString()} ${m}\n`);
  const submission = new Submission(sub, dctx, {
    batch,
    cwd: step.workdir,
    clean: o.clean ?? true,
    checkInterval: o.poll_interval ?? 10,
    pollMode: cluster?.poller(batch) ? "batched" : "per-job",
    poller: cluster?.poller(batch) ?? undefined,
    schedulerRetry: cluster?.retry,
    signal: abort.signal,
    log,
    optionalBackward: [input.optional],
    stats: cluster?.stats,
    slots: cluster?.slots,
    onSubmitted: (_job, id) => fs.appendFileSync(path.join(step.dir, "job_ids"), `${id}\n`),
  });
  const attempts = boundedCount(o.retry_on_submission_error, 0) + 1;
  try {
    for (let i = 0; ; i++) {
      try {
        await submission.run();
        break;
      } catch (e) {
        const transient = e instanceof SubmissionError && e.retryable;
        if (!transient || i + 1 >= attempts || abort.signal.aborted) throw e;
        await sleep(2 ** i * 1000);
      }
    }
    // The job's log (stdout and stderr of the script) is the step's log.
    const remoteLog = path.join(step.workdir, "log");
    if (fs.existsSync(remoteLog)) {
      await fsp.copyFile(remoteLog, logFile);
      await fsp.rm(remoteLog, { force: true });
    }
  } catch (e) {
    await fetchLog(dctx, logFile);
    const tail = await logTail(logFile);
    const target = `${dctx.describe}`;
    if (timedOut) {
      throw new OPFailure(`remote job timed out after ${step.timeout}s (timeout=${step.timeout}); its jobs were cancelled${tail ? `; last lines of ${logFile}:\n${tail}` : ""}`, where, { timedOut: true, retryable: step.template.timeout_as_transient_error });
    }
    if (abort.signal.aborted) throw new InfrastructureError(`remote job cancelled: ${(abort.signal.reason as Error)?.message ?? "stopped"}`, where);
    const cause = e instanceof SubmissionError ? (e.cause as Error) : (e as Error);
    if (cause instanceof JobFailed) {
      throw new OPFailure(`remote job failed on ${target}: ${cause.message}${tail ? `\nlast lines of the job's log (${logFile}):\n${tail}` : ""}\n${(e as Error).message.split("\n").pop()}`, where, { cause: e });
    }
    if (cause instanceof BackwardFileMissing) throw new OPFailure(`the remote job finished but did not write its outputs: ${cause.message}${tail ? `\nlast lines of ${logFile}:\n${tail}` : ""}`, where, { cause: e });
    if (cause instanceof SchedulerTransient) throw new InfrastructureError(`the scheduler on ${target} kept failing: ${cause.message}`, where, { cause: e });
    if (e instanceof DflowConfigError) throw e;
    // A host key that does not match or a login that is refused will not fix itself: the user must.
    if (cause instanceof SSHHostKeyError || cause instanceof SSHAuthError || (cause instanceof SSHConnectError && cause.permanent)) throw new DflowConfigError(cause.message, where, { cause: e });
    throw new InfrastructureError(`remote execution on ${target} failed: ${(e as Error).message}`, where, { cause: e });
  } finally {
    if (timer) clearTimeout(timer);
    inFlight.delete(abort);
  }
}

/** Best effort: the remote `log` of a failed job into log.txt (it is not downloaded on failure). */
async function fetchLog(dctx: DispatcherContext, logFile: string): Promise<void> {
  try {
    if (!dctx.rr) return;
    const text = await dctx.readFile("log");
    if (text !== null) await fsp.writeFile(logFile, text);
  } catch {
    // the connection may be what failed
  }
}
