/**
 * Shared parts of DPDispatcher's job scripts (spec §4.7): `J.sub` assembly, the environment block,
 * the footer, the `J.sub.run` task blocks (CUDA device round-robin and `para_deg` waits), and the
 * customized header template. Batch modules only supply their header (and SlurmJobArray its own
 * run file and footer).
 */
import { pyStr, type PyValue } from "../pyjson.js";
import { pyFormat } from "../pyformat.js";
import { purePosix, shellQuote as q } from "../paths.js";
import type { BatchType, SerializedResources, SerializedTask } from "../schema.js";

/**
 * Runtime counters of one job's resources copy. Upstream never resets them between
 * (re)submissions of the same job in one client process; keep one object per job to reproduce it.
 */
export interface RunCounters {
  task_in_para: number;
  gpu_in_use: number;
}

export const newRunCounters = (): RunCounters => ({ task_in_para: 0, gpu_in_use: 0 });

export interface JobScriptInput {
  /** Job hash `J`. */
  jobHash: string;
  /** `RR`, the job working directory (exported as `$REMOTE_ROOT`). */
  remoteRoot: string;
  /** Tasks in job order with their hashes. */
  tasks: { task: SerializedTask; hash: string }[];
  resources: SerializedResources;
  /** Counters carried across (re)submissions; a fresh set when omitted. Mutated. */
  counters?: RunCounters;
  /** Number of earlier failed submissions of this job (SlurmJobArray resubmission header). */
  failCount?: number;
  /** SlurmJobArray resubmission: array indices that still have an unfinished task. */
  unfinishedArrayIndices?: number[];
  /**
   * Content of `strategy.customized_script_header_template_file` (read by the caller, relative to
   * the client cwd, on every (re)submission). Required when the strategy names a template.
   */
  headerTemplate?: string;
}

export interface BatchScriptGenerator {
  readonly batchType: BatchType;
  /** The batch header generated from resources (no customized template). */
  header(input: JobScriptInput): string;
  /** `J.sub.run` content; defaults to {@link genRunFile}. */
  runFile?(input: JobScriptInput, counters: RunCounters): string;
  /** Post-process a rendered customized header template (default: used as is). */
  templatedHeader?(input: JobScriptInput, rendered: string): string;
  /** Footer; defaults to {@link genEnd}. */
  end?(input: JobScriptInput): string;
}

export interface JobScripts {
  header: string;
  /** Full `J.sub`. */
  sub: string;
  /** Full `J.sub.run`. */
  run: string;
  /** Parts of `J.sub`, for fragment comparisons. */
  customFlags: string;
  env: string;
  end: string;
}

/** Kwargs lookup with the schema default when the key is absent (no `batch_type` hint given). */
export function kwarg<T extends PyValue>(res: SerializedResources, key: string, dflt: T): T {
  return (key in res.kwargs ? res.kwargs[key] : dflt) as T;
}

/** Header from `strategy.customized_script_header_template_file`, Python `str.format` semantics. */
export function templateHeader(input: JobScriptInput): string | undefined {
  const file = input.resources.strategy.customized_script_header_template_file;
  if (file === undefined || file === null) return undefined;
  if (input.headerTemplate === undefined) {
    throw new Error(`resources.strategy.customized_script_header_template_file (${String(file)}) is set: pass its content as headerTemplate`);
  }
  return pyFormat(input.headerTemplate, input.resources);
}

export function genCustomFlags(res: SerializedResources): string {
  return res.custom_flags.map((f) => f + "\n").join("");
}

export function genEnv(input: JobScriptInput): string {
  const r = input.resources;
  const J = input.jobHash;
  const unload = (r.module_purge ? "module purge\n" : "") + r.module_unload_list.map((x) => `module unload ${x}\n`).join("");
  const load = r.module_list.map((x) => `module load ${x}\n`).join("");
  const source = r.source_list.map((x) => `source ${x}\n`).join("");
  const envs: Record<string, PyValue> = {
    DPDISPATCHER_NUMBER_NODE: r.number_node,
    DPDISPATCHER_CPU_PER_NODE: r.cpu_per_node,
    DPDISPATCHER_GPU_PER_NODE: r.gpu_per_node,
    DPDISPATCHER_QUEUE_NAME: r.queue_name,
    DPDISPATCHER_GROUP_SIZE: r.group_size,
  };
  for (const [k, v] of Object.entries(r.envs)) envs[k] = v;
  let exports = "";
  for (const [k, v] of Object.entries(envs)) {
    for (const item of Array.isArray(v) ? v : [v]) exports += `export ${k}=${pyStr(item)}\n`;
  }
  const prepend = r.prepend_script.join("\n");
  return (
    `\nREMOTE_ROOT=$(readlink -f ${q(input.remoteRoot)})\n` +
    `echo 0 > $REMOTE_ROOT/${J}_flag_if_job_task_fail\n` +
    `test $? -ne 0 && exit 1\n\n` +
    `${unload}\n${load}\n${source}\n${exports}\n${prepend}\n`
  );
}

export function genEnd(input: JobScriptInput): string {
  const J = input.jobHash;
  return (
    `\ncd $REMOTE_ROOT\ntest $? -ne 0 && exit 1\n\nwait\n` +
    `FLAG_IF_JOB_TASK_FAIL=$(cat ${J}_flag_if_job_task_fail)\n` +
    `if test $FLAG_IF_JOB_TASK_FAIL -eq 0; then touch ${J}_job_tag_finished; else exit 1;fi\n\n` +
    `${input.resources.append_script.join("\n")}\n`
  );
}

/** One task block followed by its wait-part; advances the counters. */
export function genTaskBlock(input: JobScriptInput, t: { task: SerializedTask; hash: string }, c: RunCounters): string {
  const r = input.resources;
  const J = input.jobHash;
  const cuda = r.strategy.if_cuda_multi_devices;
  if (cuda && r.gpu_per_node <= 0) throw new Error("strategy.if_cuda_multi_devices requires gpu_per_node >= 1");
  const ce = cuda ? `export CUDA_VISIBLE_DEVICES=${c.gpu_in_use % r.gpu_per_node};` : "";
  const task = t.task;
  const logs =
    (task.outlog !== null ? `1>>${q(task.outlog)} ` : "") + (task.errlog !== null ? `2>>${q(task.errlog)} ` : "");
  const tw = q(purePosix(task.task_work_path));
  const T = t.hash;
  const block =
    `\ncd $REMOTE_ROOT\ncd ${tw}\ntest $? -ne 0 && exit 1\n` +
    `if [ ! -f ${T}_task_tag_finished ] ;then\n` +
    `  ${ce} ( ${task.command} ) ${logs}\n` +
    `  if test $? -eq 0; then touch ${T}_task_tag_finished; else echo 1 > $REMOTE_ROOT/${J}_flag_if_job_task_fail;` +
    `tail -v -c 1000 $REMOTE_ROOT/${tw}/${q(task.errlog)} > $REMOTE_ROOT/${q(J + "_last_err_file")};fi\n` +
    `fi &\n`;
  let wait = "";
  c.task_in_para += 1;
  if (c.task_in_para >= r.para_deg) {
    c.task_in_para = 0;
    if (cuda) {
      c.gpu_in_use += 1;
      if (c.gpu_in_use % r.gpu_per_node === 0) wait = "wait \n";
    } else {
      wait = "wait \n";
    }
  }
  return block + wait;
}

export function genRunFile(input: JobScriptInput, c: RunCounters): string {
  return input.tasks.map((t) => genTaskBlock(input, t, c)).join("");
}

/** Generate header, `J.sub` and `J.sub.run` for one (re)submission of a job. */
export function generateWith(gen: BatchScriptGenerator, input: JobScriptInput): JobScripts {
  const counters = input.counters ?? newRunCounters();
  const rendered = templateHeader(input);
  const header =
    rendered === undefined ? gen.header(input) : gen.templatedHeader ? gen.templatedHeader(input, rendered) : rendered;
  const customFlags = genCustomFlags(input.resources);
  const env = genEnv(input);
  const end = (gen.end ?? genEnd)(input);
  const sub = `${header}\n${customFlags}\n${env}\nsource $REMOTE_ROOT/${input.jobHash}.sub.run\n${end}\n`;
  const run = gen.runFile ? gen.runFile(input, counters) : genRunFile(input, counters);
  return { header, sub, run, customFlags, env, end };
}
