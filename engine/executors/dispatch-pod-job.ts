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
import type { DispatcherExecutorOptions } from "../../src/dispatcher.js";
import type { ScriptOPTemplate } from "../../src/templates.js";
import { rerootTmp } from "../render.js";
import { dispatcherDicts, normalizeDicts } from "./dispatcher-input.js";

type Plain = Record<string, unknown>;

/** What the pod's dispatch() is given: the job as DispatcherExecutor sends it, with the pod's own paths. */
export interface DispatchPodJob {
  machine: Plain;
  resources: Plain;
  task: Plain;
  /** Backward files that may be absent (optional artifacts, outputs with defaults). */
  optional: string[];
  /** The pod's env vars that reach the job: the template's (dflow: `resources.envs[k] = os.environ.get(k)`). */
  envs: string[];
  /** The pod's env var holding the SSH password (from the Secret), when there is one. */
  passwordEnv?: string;
  options: Pick<DispatcherExecutorOptions, "poll_interval" | "clean" | "retry_on_submission_error" | "known_hosts" | "strict_host_key_checking" | "scheduler_retry" | "max_queued_jobs">;
}

export interface DispatchPodRendering {
  job: DispatchPodJob;
  /** A script template's script as the job runs it (/tmp moved under the job directory, as the engine sends it). */
  script?: string;
  /** Files the pod needs from this machine (the private key, known_hosts), by file name under the mount, and the password. */
  secret?: { files: Record<string, string>; password?: string };
}

/**
 * The job of an exported DispatcherExecutor step, and the SSH files its pod needs, mounted at
 * `ssh.mount` (the password in the env var `ssh.passwordEnv`). Throws DflowConfigError naming the step.
 */
export function dispatchPodJob(t: ScriptOPTemplate, o: DispatcherExecutorOptions, where: ErrorContext, ssh: { mount: string; passwordEnv: string }): DispatchPodRendering {
  const fail = (detail: string): never => {
    throw new DflowConfigError(detail, where);
  };
  // The job carries the TS OP's bundle (the pod copies it next to the script).
  const d = dispatcherDicts(t, o, { workflow: "{{workflow.name}}", pod: "{{pod.name}}", templateEnvs: false }, t.kind === "ts-op" ? ["dflow-op.mjs"] : []);
  normalizeDicts(d, { step: where.step });
  const files: Record<string, string> = {};
  const options: DispatchPodJob["options"] = {
    poll_interval: o.poll_interval,
    clean: o.clean,
    retry_on_submission_error: o.retry_on_submission_error,
    strict_host_key_checking: o.strict_host_key_checking,
    scheduler_retry: o.scheduler_retry,
    max_queued_jobs: o.max_queued_jobs,
  };
  let password: string | undefined;
  if (d.machine.context_type === "SSHContext") {
    const rp = { ...(d.machine.remote_profile as Plain) };
    // A password is not written into the workflow: the pod reads it from the Secret.
    if (typeof rp.password === "string") {
      password = rp.password;
      delete rp.password;
    }
    const key = typeof rp.key_filename === "string" ? rp.key_filename : undefined;
    if (key) {
      const text = readLocal(key, "the private key (private_key_file)", fail);
      files.id = text;
      rp.key_filename = `${ssh.mount}/id`;
    } else if (password === undefined) {
      fail(`the step logs in to ${String(rp.hostname)} over SSH with this machine's own keys (~/.ssh), which its pod on the cluster does not have: give the executor private_key_file (shipped to the pod in a Secret) or password`);
    }
    if (o.strict_host_key_checking !== false) {
      const given = o.known_hosts;
      const mine = path.join(os.homedir(), ".ssh", "known_hosts");
      const file = given ?? (fs.existsSync(mine) ? mine : undefined);
      if (!file) fail(`the pod checks ${String(rp.hostname)}'s host key against known_hosts, and this machine has none to give it (${mine}): give the executor known_hosts (a file holding the host's key), or strict_host_key_checking: false`);
      files.known_hosts = readLocal(file!, "known_hosts", fail);
      options.known_hosts = `${ssh.mount}/known_hosts`;
    }
    d.machine.remote_profile = rp;
  }
  const job: DispatchPodJob = { machine: d.machine, resources: d.resources, task: d.task, optional: d.optional, envs: Object.keys(t.envs), ...(password !== undefined ? { passwordEnv: ssh.passwordEnv } : {}), options };
  const script = t.kind === "ts-op" ? undefined : t.script_rendered || o.map_tmp_dir === false ? t.script : rerootTmp(t.script, "$(pwd)");
  return { job, ...(script !== undefined ? { script } : {}), ...(Object.keys(files).length || password !== undefined ? { secret: { files, ...(password !== undefined ? { password } : {}) } } : {}) };
}

function readLocal(file: string, what: string, fail: (d: string) => never): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    return fail(`${what} ${file} cannot be read to ship it to the pod: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

