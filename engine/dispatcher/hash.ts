/**
 * Identity of a DPDispatcher submission (spec §4.2–§4.4): canonical JSON pre-images, SHA-1 task /
 * job / submission hashes, the seed-42 shuffle and grouping of tasks into jobs, the job working
 * directory and the state document. Pure: the only environment input is the client cwd, passed in.
 */
import { createHash } from "node:crypto";
import { deepCopy, pyJsonDumps, pyJsonDumpsIndent, type PyObject } from "./pyjson.js";
import { pyAbspath, pyJoin, purePosix } from "./paths.js";
import { shuffleSeed42 } from "./random.js";
import type { NormalizedMachine, SerializedMachine, SerializedResources, SerializedTask, SubmissionInput } from "./schema.js";

export const sha1Hex = (text: string): string => createHash("sha1").update(text, "utf8").digest("hex");

/** The exact text DPDispatcher hashes: Python `json.dumps(obj)`. */
export const canonicalJson = (v: unknown): string => pyJsonDumps(v);

export interface HashedTask {
  task: SerializedTask;
  hash: string;
  preimage: string;
}

export function hashTask(task: SerializedTask): HashedTask {
  const preimage = canonicalJson(task);
  return { task, hash: sha1Hex(preimage), preimage };
}

export const taskHash = (task: SerializedTask): string => hashTask(task).hash;

export function jobDocument(tasks: SerializedTask[], resources: SerializedResources): PyObject {
  return { job_task_list: tasks, resources };
}

export function jobPreimage(tasks: SerializedTask[], resources: SerializedResources): string {
  return canonicalJson(jobDocument(tasks, resources));
}

export const jobHash = (tasks: SerializedTask[], resources: SerializedResources): string =>
  sha1Hex(jobPreimage(tasks, resources));

/**
 * DPDispatcher's `generate_jobs` grouping: shuffle `[0..n-1]` with `random.seed(42)`, then cut into
 * chunks of `groupSize` (`0` ⇒ one job with all tasks). Returns task indices per job.
 */
export function groupTaskIndices(n: number, groupSize: number): number[][] {
  if (!Number.isInteger(n) || n <= 0) throw new Error("a submission needs at least one task to generate jobs");
  if (!Number.isInteger(groupSize) || groupSize < 0) throw new Error(`group_size must be a non-negative int, got ${groupSize}`);
  const g = groupSize === 0 ? n : groupSize;
  const perm = shuffleSeed42(n);
  const jobs: number[][] = [];
  for (let i = 0; i < n; i += g) jobs.push(perm.slice(i, i + g));
  return jobs;
}

export interface BuiltJob {
  index: number;
  hash: string;
  preimage: string;
  tasks: HashedTask[];
  /** Per-job deep copy of the resources (upstream gives each job its own copy). */
  resources: SerializedResources;
}

export interface BuiltSubmission {
  work_base: string;
  abs_work_base: string;
  machine: NormalizedMachine | null;
  resources: SerializedResources;
  forward_common_files: string[];
  backward_common_files: string[];
  /** Tasks in input order. */
  tasks: HashedTask[];
  jobs: BuiltJob[];
  hash: string;
  preimage: string;
  /** `RR`: the job working directory (spec §4.5), or null without a machine. */
  remoteRoot: string | null;
}

export interface BuildOptions {
  /** Client process cwd; enters the submission hash through `_abs_work_base` (spec §4.3). */
  cwd: string;
}

const pySorted = (xs: string[]): string[] =>
  [...xs].sort((a, b) => {
    const A = Array.from(a, (c) => c.codePointAt(0)!);
    const B = Array.from(b, (c) => c.codePointAt(0)!);
    for (let i = 0; i < Math.min(A.length, B.length); i++) if (A[i] !== B[i]) return A[i]! - B[i]!;
    return A.length - B.length;
  });

/** The static submission document (hash pre-image; spec §4.3). */
export function staticSubmissionDocument(sub: Omit<BuiltSubmission, "hash" | "preimage" | "remoteRoot">): PyObject {
  return {
    work_base: sub.work_base,
    _abs_work_base: sub.abs_work_base,
    machine: sub.machine ? sub.machine.serialized : {},
    resources: sub.resources,
    forward_common_files: sub.forward_common_files,
    backward_common_files: sub.backward_common_files,
    belonging_jobs: sub.jobs.map((j) => ({ [j.hash]: jobDocument(j.tasks.map((t) => t.task), j.resources) })),
  };
}

/** The job working directory `RR` (spec §4.5). */
export function jobWorkingDirectory(machine: SerializedMachine, workBase: string, submissionHash: string, cwd: string): string {
  switch (machine.context_type) {
    case "SSHContext":
      return purePosix(pyJoin(machine.remote_root ?? "", submissionHash));
    case "LocalContext":
      return pyJoin(pyAbspath(machine.remote_root ?? "", cwd), submissionHash);
    case "LazyLocalContext":
      return pyJoin(pyAbspath(machine.local_root ?? "", cwd), workBase);
    default:
      throw new Error(`context ${machine.context_type} is not supported by this executor`);
  }
}

/** Build the submission: group tasks into jobs and compute every hash (no I/O). */
export function buildSubmission(input: SubmissionInput, opts: BuildOptions): BuiltSubmission {
  const tasks = input.task_list.map(hashTask);
  const groups = groupTaskIndices(tasks.length, input.resources.group_size);
  const jobs: BuiltJob[] = groups.map((idx, index) => {
    const jt = idx.map((i) => tasks[i]!);
    const resources = deepCopy(input.resources);
    const preimage = jobPreimage(jt.map((t) => t.task), resources);
    return { index, hash: sha1Hex(preimage), preimage, tasks: jt, resources };
  });
  const partial = {
    work_base: input.work_base,
    abs_work_base: pyAbspath(input.work_base, opts.cwd),
    machine: input.machine,
    resources: input.resources,
    forward_common_files: pySorted(input.forward_common_files),
    backward_common_files: pySorted(input.backward_common_files),
    tasks,
    jobs,
  };
  const preimage = canonicalJson(staticSubmissionDocument(partial));
  const hash = sha1Hex(preimage);
  const remoteRoot = input.machine ? jobWorkingDirectory(input.machine.serialized, input.work_base, hash, opts.cwd) : null;
  return { ...partial, preimage, hash, remoteRoot };
}

export interface JobRuntimeState {
  /** `null` before the first poll, else the JobStatus number (1..6, 100). */
  job_state: number | null;
  /** Scheduler id text (Shell: a number). */
  job_id: string | number;
  fail_count: number;
}

/** The `S.json` state document (spec §4.14), as an object. */
export function stateDocument(sub: BuiltSubmission, runtime?: (job: BuiltJob) => JobRuntimeState): PyObject {
  const doc = staticSubmissionDocument(sub);
  doc.belonging_jobs = sub.jobs.map((j) => {
    const rt = runtime ? runtime(j) : { job_state: null, job_id: "", fail_count: 0 };
    return {
      [j.hash]: {
        ...jobDocument(
          j.tasks.map((t) => t.task),
          j.resources,
        ),
        job_state: rt.job_state,
        job_id: rt.job_id,
        fail_count: rt.fail_count,
      },
    };
  });
  return doc;
}

/** `S.json` text: Python `json.dumps(doc, indent=4)`. */
export function stateFileText(sub: BuiltSubmission, runtime?: (job: BuiltJob) => JobRuntimeState): string {
  return pyJsonDumpsIndent(stateDocument(sub, runtime), 4);
}
