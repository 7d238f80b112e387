// Runs a step rendered by DispatcherExecutor (src/dispatcher.ts) as a DPDispatcher submission,
// the way dflow's generated dispatcher program does in debug mode (compat spec §6.1): the step's
// workdir is the work base, its script is the one task, input artifacts travel as forward files,
// outputs come back as backward files into the same places, and the job's log becomes log.txt.
import { setTimeout as sleep } from "node:timers/promises";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { DflowConfigError, InfrastructureError, OPFailure } from "../../src/errors.js";
import type { DispatcherExecutorOptions } from "../../src/dispatcher.js";
import type { TsOPTemplate } from "../../src/templates.js";
import { batchSystem } from "../dispatcher/batch/index.js";
import { boundedCount } from "../retry.js";
import { BackwardFileMissing, type DispatcherContext } from "../dispatcher/context/index.js";
import { LazyLocalContext, LocalContext } from "../dispatcher/context/local.js";
import { SSHContext } from "../dispatcher/context/ssh-context.js";
import { SSHAuthError, SSHConnectError, SSHHostKeyError } from "../dispatcher/context/ssh.js";
import { buildSubmission } from "../dispatcher/hash.js";
import type { NormalizedMachine } from "../dispatcher/schema.js";
import { dispatcherInput, type MergeOutputs, mergeOutputs, type normalizeDicts, type RemoteStep } from "./dispatcher-input.js";
import { parseJsonLoose, pyJson } from "../store/values.js";
import { writeCatalog } from "../artifacts/catalog.js";
import { JobFailed, SchedulerTransient, Submission, SubmissionError } from "../dispatcher/submission.js";
import { clusterFor, type Cluster } from "./clusters.js";
import type { RunContext } from "../context.js";
import { logTail } from "../step-dir.js";
import { recordCluster } from "./where-ran.js";

type Plain = Record<string, unknown>;

export function contextFor(m: NormalizedMachine, cluster: Cluster | null): DispatcherContext {
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

/** The step's task (or, merge_sliced_step, one per slice) submitted as DispatcherExecutor submits it, from the work base `cwd`: its context, and run() with dflow's retry_on_submission_error. */
export function dispatchedJob(
  input: ReturnType<typeof normalizeDicts> & { optional: string[][]; forward_common_files: string[] },
  o: DispatcherExecutorOptions,
  cwd: string,
  opts: { signal: AbortSignal; log: (m: string) => void; onSubmitted?: (id: string) => void },
): { dctx: DispatcherContext; cluster: Cluster | null; run(): Promise<void> } {
  const sub = buildSubmission({ work_base: ".", machine: input.machine, resources: input.resources, task_list: input.tasks, forward_common_files: input.forward_common_files, backward_common_files: [] }, { cwd });
  const batch = batchSystem(input.machine.serialized.batch_type);
  const cluster = input.machine.serialized.context_type === "SSHContext" ? clusterFor(input.machine, o) : null;
  const dctx = contextFor(input.machine, cluster);
  const submission = new Submission(sub, dctx, {
    batch,
    cwd,
    clean: o.clean ?? true,
    checkInterval: o.poll_interval ?? 10,
    pollMode: cluster?.poller(batch) ? "batched" : "per-job",
    poller: cluster?.poller(batch) ?? undefined,
    schedulerRetry: cluster?.retry,
    signal: opts.signal,
    log: opts.log,
    optionalBackward: input.optional,
    stats: cluster?.stats,
    slots: cluster?.slots,
    onSubmitted: (_job, id) => opts.onSubmitted?.(String(id)),
  });
  const attempts = boundedCount(o.retry_on_submission_error, 0) + 1;
  return {
    dctx,
    cluster,
    async run() {
      for (let i = 0; ; i++) {
        try {
          await submission.run();
          return;
        } catch (e) {
          const transient = e instanceof SubmissionError && e.retryable;
          if (!transient || i + 1 >= attempts || opts.signal.aborted) throw e;
          await sleep(2 ** i * 1000);
        }
      }
    },
  };
}

/**
 * merge_sliced_step, once its `n` tasks ended: each wrote its output parameters suffixed `_<i>`,
 * its slice's value as `[{"dflow_list_item", "order"}]`; the step's is the plain list of them in
 * slice order, what a sliced fan-out gives its consumers (dflow's pod writes the tasks' texts, which
 * its OPs merge). Over no items nothing was submitted (dflow's pod submits no task): its lists are
 * empty, and so are its artifacts, as a sliced fan-out without items leaves them.
 */
export async function joinMergedOutputs(merge: MergeOutputs, workdir: string, n: number): Promise<void> {
  for (const { file: f } of merge.params) {
    const file = path.join(workdir, f);
    const marks: Array<{ dflow_list_item: unknown; order: number }> = [];
    let any = false;
    for (let i = 0; i < n; i++) {
      const text = await fsp.readFile(`${file}_${i}`, "utf8").catch(() => null);
      if (text === null) continue;
      any = true;
      const v = parseJsonLoose(text);
      for (const m of Array.isArray(v) ? v : [v]) marks.push(m && typeof m === "object" && "dflow_list_item" in m ? (m as { dflow_list_item: unknown; order: number }) : { dflow_list_item: m, order: i });
    }
    if (!any && n > 0) continue;
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await fsp.writeFile(file, pyJson(marks.sort((a, b) => a.order - b.order).map((m) => m.dflow_list_item)));
  }
  if (n === 0) for (const a of merge.artifacts) await writeCatalog(path.join(workdir, a), []);
}

export async function runDispatched(step: RemoteStep, ctx: RunContext, extraForward: string[], logFile: string): Promise<void> {
  const o = step.template.remote!.options as DispatcherExecutorOptions;
  const where = { workflow: ctx.wfid, step: step.stepName };
  if (step.mergedTasks === 0) return joinMergedOutputs(mergeOutputs(step.template), step.workdir, 0);
  const input = dispatcherInput(step, o, extraForward);
  const abort = new AbortController();
  let timedOut = false;
  const timer = step.timeout ? setTimeout(() => ((timedOut = true), abort.abort(new Error("timeout"))), step.timeout * 1000) : null;
  inFlight.add(abort);
  // Workflow.terminate() in this process: cancel the job (as dflow stop from another process does).
  const onStop = () => abort.abort(new Error(ctx.stopped ?? "stopped"));
  (ctx.onStop ??= new Set()).add(onStop);
  if (ctx.stopped) onStop(); // terminated between the step's gate and here
  let clusterRecorded = false;
  const log = (m: string) => fs.appendFileSync(path.join(step.dir, "dispatcher.log"), `${new Date().toISOString()} ${m}\n`);
  const job = dispatchedJob(input, o, step.workdir, {
    signal: abort.signal,
    log,
    onSubmitted: (id) => {
      if (!clusterRecorded) {
        clusterRecorded = true;
        const s = input.machine.serialized;
        recordCluster(step.dir, { batch_type: s.batch_type, context: s.context_type, host: job.cluster?.transport.describe ?? "localhost", remote_dir: job.dctx.rr || null });
      }
      fs.appendFileSync(path.join(step.dir, "job_ids"), `${id}\n`);
    },
  });
  const dctx = job.dctx;
  try {
    await job.run();
    if (step.mergedTasks !== undefined) await joinMergedOutputs(mergeOutputs(step.template), step.workdir, step.mergedTasks);
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
    ctx.onStop.delete(onStop);
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
