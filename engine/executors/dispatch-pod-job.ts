// An exported DispatcherExecutor step's job, at export time (the pod that
// submits it: dispatch-pod.ts, where the rendering is explained): the dicts,
// checked as submit() checks them, and the files a pod on a cluster cannot
// read from this machine (the private key, known_hosts), for a Secret. Kept
// apart from the pod's program, which loads the SSH client: an export of a
// workflow without remote steps should not.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DflowConfigError, type ErrorContext } from "../../src/errors.js";
import type { DispatcherExecutorOptions, RemoteConnectionOptions, SlurmRemoteExecutorOptions } from "../../src/dispatcher.js";
import type { ScriptOPTemplate } from "../../src/templates.js";
import { rerootTmp } from "../render.js";
import { dispatcherDicts, type MergeOutputs, mergeOutputs, normalizeDicts, remoteCommandOf, taskFiles } from "./dispatcher-input.js";

type Plain = Record<string, unknown>;

/** What the pod's dispatch() is given: the job as DispatcherExecutor sends it, with the pod's own paths. */
export interface DispatchPodJob {
  kind: "dispatcher";
  machine: Plain;
  resources: Plain;
  /** The step's task, or (merge_sliced_step) one per slice, running script<i>. */
  tasks: Plain[];
  /** Each task's backward files that may be absent (optional artifacts, outputs with defaults). */
  optional: string[][];
  forward_common_files: string[];
  /**
   * merge_sliced_step: the files each slice's task writes for itself. The items are known in the
   * pod (dflow_with_param): it splits `tasks[0]` into one task per slice there (mergedTasks).
   */
  merge?: MergeOutputs;
  /** The pod's env vars that reach the job: the template's (dflow: `resources.envs[k] = os.environ.get(k)`). */
  envs: string[];
  /** The pod's env var holding the SSH password (from the Secret), when there is one. */
  passwordEnv?: string;
  options: Pick<DispatcherExecutorOptions, "poll_interval" | "clean" | "retry_on_submission_error" | "known_hosts" | "strict_host_key_checking" | "scheduler_retry" | "max_queued_jobs">;
}

/** What the pod's dispatch() is given for a SlurmRemoteExecutor step (slurm-remote.ts slurmRemoteJob). */
export interface SlurmRemotePodJob {
  kind: "slurm-remote";
  /** The executor's options, its key and known_hosts files the pod's, its password out (passwordEnv). */
  options: SlurmRemoteExecutorOptions;
  files: { forward: string[]; backward: string[]; optional: string[] };
  /** `{{workflow.name}}` and `{{pod.name}}`, which Argo fills in: the job's directory is named after them. */
  workflow: string;
  pod: string;
  remoteCommand: string;
  timeoutIsTransient: boolean;
  passwordEnv?: string;
}

export interface DispatchPodRendering {
  job: DispatchPodJob | SlurmRemotePodJob;
  /** A script template's script as the job runs it (/tmp moved under the job directory, as the engine sends it). */
  script?: string;
  /** Files the pod needs from this machine (the private key, known_hosts), by file name under the mount, and the password. */
  secret?: { files: Record<string, string>; password?: string };
}

type Fail = (detail: string) => never;

/**
 * What a pod on a cluster needs to log in where this machine does: the private key and known_hosts
 * (files of this machine) and the password, for a Secret; where the pod finds them.
 */
function sshFiles(host: unknown, login: { key?: string; password?: string }, o: RemoteConnectionOptions, mount: string, fail: Fail) {
  const files: Record<string, string> = {};
  let keyPath: string | undefined;
  let knownHosts: string | undefined;
  if (login.key) {
    files.id = readLocal(login.key, "the private key (private_key_file)", fail);
    keyPath = `${mount}/id`;
  } else if (login.password === undefined) {
    fail(`the step logs in to ${String(host)} over SSH with this machine's own keys (~/.ssh), which its pod on the cluster does not have: give the executor private_key_file (shipped to the pod in a Secret) or password`);
  }
  if (o.strict_host_key_checking !== false) {
    const mine = path.join(os.homedir(), ".ssh", "known_hosts");
    const file = o.known_hosts ?? (fs.existsSync(mine) ? mine : undefined);
    if (!file) fail(`the pod checks ${String(host)}'s host key against known_hosts, and this machine has none to give it (${mine}): give the executor known_hosts (a file holding the host's key), or strict_host_key_checking: false`);
    files.known_hosts = readLocal(file!, "known_hosts", fail);
    knownHosts = `${mount}/known_hosts`;
  }
  const secret = Object.keys(files).length || login.password !== undefined ? { files, ...(login.password !== undefined ? { password: login.password } : {}) } : undefined;
  return { keyPath, knownHosts, secret };
}

/** A script template's script as the job runs it: /tmp moved under the job directory, as the engine sends it. */
function jobScript(t: ScriptOPTemplate, o: { map_tmp_dir?: boolean }): string | undefined {
  if (t.kind === "ts-op") return undefined;
  return t.script_rendered || o.map_tmp_dir === false ? t.script : rerootTmp(t.script, "$(pwd)");
}

/**
 * The job of an exported DispatcherExecutor step, and the SSH files its pod needs, mounted at
 * `ssh.mount` (the password in the env var `ssh.passwordEnv`). Throws DflowConfigError naming the step.
 */
export function dispatchPodJob(t: ScriptOPTemplate, o: DispatcherExecutorOptions, where: ErrorContext, ssh: { mount: string; passwordEnv: string }, merged = false): DispatchPodRendering {
  const fail: Fail = (detail) => {
    throw new DflowConfigError(detail, where);
  };
  // The job carries the TS OP's bundle (the pod copies it next to the script).
  const d = dispatcherDicts(t, o, { workflow: "{{workflow.name}}", pod: "{{pod.name}}", templateEnvs: false }, t.kind === "ts-op" ? ["dflow-op.mjs"] : []);
  normalizeDicts(d, { step: where.step });
  const options: DispatchPodJob["options"] = {
    poll_interval: o.poll_interval,
    clean: o.clean,
    retry_on_submission_error: o.retry_on_submission_error,
    strict_host_key_checking: o.strict_host_key_checking,
    scheduler_retry: o.scheduler_retry,
    max_queued_jobs: o.max_queued_jobs,
  };
  let secret: DispatchPodRendering["secret"];
  let password: string | undefined;
  if (d.machine.context_type === "SSHContext") {
    const rp = { ...(d.machine.remote_profile as Plain) };
    // A password is not written into the workflow: the pod reads it from the Secret.
    if (typeof rp.password === "string") {
      password = rp.password;
      delete rp.password;
    }
    const f = sshFiles(rp.hostname, { key: typeof rp.key_filename === "string" ? rp.key_filename : undefined, password }, o, ssh.mount, fail);
    if (f.keyPath) rp.key_filename = f.keyPath;
    if (f.knownHosts) options.known_hosts = f.knownHosts;
    secret = f.secret;
    d.machine.remote_profile = rp;
  }
  const job: DispatchPodJob = { kind: "dispatcher", machine: d.machine, resources: d.resources, tasks: d.tasks, optional: d.optional, forward_common_files: d.forward_common_files, ...(merged ? { merge: mergeOutputs(t) } : {}), envs: Object.keys(t.envs), ...(password !== undefined ? { passwordEnv: ssh.passwordEnv } : {}), options };
  const script = jobScript(t, o);
  return { job, ...(script !== undefined ? { script } : {}), ...(secret ? { secret } : {}) };
}

/** The job of an exported SlurmRemoteExecutor step (header + run line, sbatch over SSH), as dispatchPodJob's. */
export function slurmRemotePodJob(t: ScriptOPTemplate, o: SlurmRemoteExecutorOptions, where: ErrorContext, ssh: { mount: string; passwordEnv: string }): DispatchPodRendering {
  const fail: Fail = (detail) => {
    throw new DflowConfigError(detail, where);
  };
  const f = sshFiles(o.host, { key: o.private_key_file && path.resolve(o.private_key_file), password: o.password }, o, ssh.mount, fail);
  const { password: _, ...rest } = o;
  const options: SlurmRemoteExecutorOptions = { ...rest, ...(f.keyPath ? { private_key_file: f.keyPath } : {}), ...(f.knownHosts ? { known_hosts: f.knownHosts } : {}) };
  const job: SlurmRemotePodJob = {
    kind: "slurm-remote",
    options,
    // The job carries the TS OP's bundle (the pod copies it next to the script).
    files: taskFiles(t, undefined, t.kind === "ts-op" ? ["dflow-op.mjs"] : []),
    workflow: "{{workflow.name}}",
    pod: "{{pod.name}}",
    remoteCommand: remoteCommandOf(t, o),
    timeoutIsTransient: t.timeout_as_transient_error ?? false,
    ...(o.password !== undefined ? { passwordEnv: ssh.passwordEnv } : {}),
  };
  const script = jobScript(t, { map_tmp_dir: true });
  return { job, ...(script !== undefined ? { script } : {}), ...(f.secret ? { secret: f.secret } : {}) };
}

function readLocal(file: string, what: string, fail: Fail): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    return fail(`${what} ${file} cannot be read to ship it to the pod: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

