// Executors that send script and TypeScript-OP steps to an HPC cluster: dflow's
// DispatcherExecutor (DPDispatcher: Slurm, PBS, LSF, … over SSH, or a local shell)
// and SlurmRemoteExecutor (a job header plus the step's script, sbatch over SSH).
// Both are plain Executors: render(template) returns a copy of the template
// marked to run remotely, so users can write their own the same way.
import { z } from "./vendor/zod.js";
import { DflowConfigError } from "./errors.js";
import { anyField, boolField, field, MAX_RETRIES, type OptionSpec, parseOptions, retriesField, spec, stringField } from "./options.js";
import type { Executor, Step } from "./step.js";
import { type OPTemplate, ScriptOPTemplate, TsOPTemplate } from "./templates.js";

export interface SchedulerRetryOptions {
  /** Attempts of a scheduler command that fails transiently (default 8). */
  attempts?: number;
  /** First pause in seconds, doubled each time (default 2). */
  delay?: number;
  /** Longest pause in seconds (default 60). */
  max_delay?: number;
}

/** Options both remote executors share (ours; dflow has no equivalent). */
export interface RemoteConnectionOptions {
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  /** Private key file on this machine. */
  private_key_file?: string;
  /** known_hosts file to check the host key against (default ~/.ssh/known_hosts). */
  known_hosts?: string;
  /** false: accept any host key (explicit opt-out of host-key checking; a warning is logged). */
  strict_host_key_checking?: boolean;
  /** Seconds between status rounds (DPDispatcher's check_interval; default 10). */
  poll_interval?: number;
  /** How many of this engine's jobs may wait or run on this cluster at once (default 200). */
  max_queued_jobs?: number;
  scheduler_retry?: SchedulerRetryOptions;
  /** Interpreter on the cluster (default: the template's command; `node` for TypeScript OPs). */
  remote_command?: string;
}

/** dflow's DispatcherExecutor options (compat spec §6.1) plus the connection options above. */
export interface DispatcherExecutorOptions extends RemoteConnectionOptions {
  queue_name?: string;
  /** Remote directory of the jobs (default /home/<username>/dflow/workflows). */
  remote_root?: string;
  machine_dict?: Record<string, unknown>;
  resources_dict?: Record<string, unknown>;
  task_dict?: Record<string, unknown>;
  /** JSON file with {"machine": {...}, "resources": {...}}, merged before the *_dict options. */
  json_file?: string;
  /** Remove the remote job directory after a successful download (default true). */
  clean?: boolean;
  /** Rewrite the script's /tmp to the job directory's tmp (default true). */
  map_tmp_dir?: boolean;
  /** Retry the whole submission this many times (2**i s apart) when it fails transiently. */
  retry_on_submission_error?: number;
  /**
   * The pod that submits the job when the workflow is exported to Argo (default: the node image;
   * it runs dflow-ts's dispatcher, so it needs `node`); no effect on `dflow run` (no pod).
   */
  image?: string;
  image_pull_policy?: string;
  /** Accepted for dflow compatibility (dflow's pod runs Python); no effect. */
  command?: string;
  /** Env vars of the exported pod that submits the job (not of the job, as in dflow); no effect on `dflow run`. */
  envs?: Record<string, string>;
  /**
   * A sliced step runs as one step: its slices are the tasks of one DPDispatcher submission
   * (resources_dict.group_size of them per job) instead of one submission per item. Its sliced
   * outputs are the lists a fan-out's would be. Not with Slices' sub_path, group_size or pool_size.
   */
  merge_sliced_step?: boolean;
}

export interface SlurmRemoteExecutorOptions extends RemoteConnectionOptions {
  /** `#SBATCH` lines (leading spaces before `#` are stripped, as in dflow). */
  header?: string;
  /** Remote work directory root (default ~/dflow/workflows); each step gets <root>/<workflow>/<step dir>. */
  workdir?: string;
}

const dict = field(z.record(z.string(), z.unknown()).nullish(), "an object");
const connectionFields = {
  host: stringField,
  port: field(z.number().int().min(1).max(65535).nullish(), "a port number from 1 to 65535"),
  username: stringField,
  password: stringField,
  private_key_file: stringField,
  known_hosts: stringField,
  strict_host_key_checking: boolField,
  poll_interval: field(z.number().positive().finite().nullish(), "a number of seconds > 0"),
  max_queued_jobs: field(z.number().int().min(1).nullish(), "a whole number ≥ 1"),
  scheduler_retry: spec({
    attempts: field(z.number().int().min(1).max(MAX_RETRIES).nullish(), `a whole number from 1 to ${MAX_RETRIES}`),
    delay: field(z.number().min(0).finite().nullish(), "a number of seconds ≥ 0"),
    max_delay: field(z.number().min(0).finite().nullish(), "a number of seconds ≥ 0"),
  }),
  remote_command: stringField,
};

export const dispatcherExecutorSpec: OptionSpec = spec(
  {
    ...connectionFields,
    queue_name: stringField,
    remote_root: stringField,
    machine_dict: dict,
    resources_dict: dict,
    task_dict: dict,
    json_file: stringField,
    clean: boolField,
    map_tmp_dir: boolField,
    retry_on_submission_error: retriesField,
    image: stringField,
    image_pull_policy: stringField,
    command: stringField,
    envs: field(z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).nullish(), "an object of string values"),
    merge_sliced_step: boolField,
    // refused below when set: not implemented yet
    docker_executable: anyField,
    singularity_executable: anyField,
    podman_executable: anyField,
  },
  // dflow options about containers and Kubernetes scheduling: accepted, no effect here.
  ["container_args", "pre_script", "post_script", "remove_scheduling_strategies", "terminate_grace_period"],
);

export const slurmRemoteExecutorSpec: OptionSpec = spec({ ...connectionFields, header: stringField, workdir: stringField });

function renderRemote(t: OPTemplate, remote: ScriptOPTemplate["remote"]): OPTemplate {
  // Steps and DAG templates pass through; their script steps get the executor on their own.
  if (!(t instanceof ScriptOPTemplate)) return t;
  const copy = Object.assign(Object.create(Object.getPrototypeOf(t) as object), t) as ScriptOPTemplate;
  copy.remote = remote;
  return copy;
}

/**
 * Runs a step as a DPDispatcher submission: one task (the step's script) on the machine the
 * options describe, Slurm over SSH by default.
 */
export class DispatcherExecutor implements Executor {
  readonly options: DispatcherExecutorOptions;
  constructor(options: DispatcherExecutorOptions = {}) {
    parseOptions(dispatcherExecutorSpec, options, "DispatcherExecutor");
    for (const k of ["docker_executable", "singularity_executable", "podman_executable"] as const) {
      if ((options as Record<string, unknown>)[k]) throw new DflowConfigError(`DispatcherExecutor: ${k} is not supported yet by dflow-ts; run the OP without a container`, {});
    }
    this.options = options;
  }
  render(template: OPTemplate): OPTemplate {
    return renderRemote(template, { kind: "dispatcher", options: this.options as Record<string, unknown> });
  }
}

/** dflow's SlurmRemoteExecutor: `<header>\n<run line>` submitted with sbatch over SSH. */
export class SlurmRemoteExecutor implements Executor {
  readonly options: SlurmRemoteExecutorOptions;
  constructor(options: SlurmRemoteExecutorOptions = {}) {
    parseOptions(slurmRemoteExecutorSpec, options, "SlurmRemoteExecutor");
    if (!options.host) throw new DflowConfigError("SlurmRemoteExecutor: host is required (the login node to reach over SSH)", {});
    this.options = options;
  }
  render(template: OPTemplate): OPTemplate {
    return renderRemote(template, { kind: "slurm-remote", options: this.options as Record<string, unknown> });
  }
}

/** The step is sliced and its DispatcherExecutor (its own, else the workflow's `context`) merges its slices into one submission. */
export function mergesSlices(step: Step, context?: Executor): boolean {
  const executor = step.executor ?? context;
  return executor instanceof DispatcherExecutor && executor.options.merge_sliced_step === true && step.template instanceof TsOPTemplate && step.template.slices !== undefined;
}
