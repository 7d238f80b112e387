// dflow's SlurmRemoteExecutor (compat spec §6.3), without the extender pod: the step's inputs and
// script go to <workdir>/<workflow>/<step dir> on the login node, `slurm.sh` = header + run line
// is submitted with sbatch, the job is polled with the cluster's shared status query, its output
// file becomes log.txt and the outputs come back into the step's workdir. The job id is kept in
// <stepdir>/slurm_job_id until the step ends, so an engine that died re-attaches to the job.
import { setTimeout as sleep } from "node:timers/promises";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { DflowConfigError, type ErrorContext, InfrastructureError, OPFailure } from "../../src/errors.js";
import type { SlurmRemoteExecutorOptions } from "../../src/dispatcher.js";
import { batchSystem } from "../dispatcher/batch/index.js";
import type { JobId, PollAnswer } from "../dispatcher/batch/types.js";
import { expandPaths } from "../dispatcher/context/files.js";
import { SSHContext } from "../dispatcher/context/ssh-context.js";
import { shellQuote as q } from "../dispatcher/paths.js";
import { DispatcherConfigError, normalizeMachine } from "../dispatcher/schema.js";
import { describeCode } from "../dispatcher/submission.js";
import type { RunContext } from "../context.js";
import { logTail } from "../step-dir.js";
import { writeAtomic } from "../store/fsx.js";
import { clusterFor } from "./clusters.js";
import { recordCluster } from "./where-ran.js";
import { WorkflowStopped } from "../control.js";
import { remoteCommandOf, type RemoteStep, taskFiles } from "./dispatcher-input.js";

/** One job of a SlurmRemoteExecutor step, wherever it is sent from (this engine's step, or an exported pod: slurm-remote-pod.ts). */
export interface SlurmRemoteJob {
  o: SlurmRemoteExecutorOptions;
  /** What runs the script on the cluster (remoteCommandOf). */
  remoteCommand: string;
  /** A job killed at its time limit is a transient error (the template's timeout_as_transient_error). */
  timeoutIsTransient: boolean;
  /** The local folder whose files go forward (the step's workdir; a pod's root) and where the outputs come back. */
  workdir: string;
  files: { forward: string[]; backward: string[]; optional: string[] };
  /** What `{{workflow.name}}` and `{{pod.name}}` in the workdir option are. */
  workflow: string;
  pod: string;
  /** Where the job's id is kept while it runs, so that a new engine re-attaches to it (none: always a new job). */
  idFile?: string;
  /** The job's output (slurm-<id>.out) is copied here. */
  logFile: string;
  /** Why to stop (scancel the job), asked at each status round; undefined to go on. */
  stopped(): string | undefined;
  /** Before the upload: the job's directory on the login node. */
  onStart?(remoteDir: string, host: string): void;
  onSubmitted?(id: string): void;
  where: ErrorContext;
}

/** Thrown when stopped() asked the job to stop: it was cancelled. */
export class SlurmJobStopped extends Error {}

export async function runSlurmRemote(step: RemoteStep, ctx: RunContext, shipped: string[], logFile: string): Promise<void> {
  const idFile = path.join(step.dir, "slurm_job_id");
  try {
    await slurmRemoteJob({
      o: step.template.remote!.options as SlurmRemoteExecutorOptions,
      remoteCommand: remoteCommandOf(step.template, step.template.remote!.options as SlurmRemoteExecutorOptions),
      timeoutIsTransient: step.template.timeout_as_transient_error,
      workdir: step.workdir,
      files: taskFiles(step.template, step.workdir, shipped),
      workflow: ctx.wfid,
      pod: step.dirName,
      idFile,
      logFile,
      stopped: () => ctx.stopped,
      onStart: (rr, host) => recordCluster(step.dir, { batch_type: "Slurm", context: "SSHContext", host, remote_dir: rr }),
      onSubmitted: (id) => fs.appendFileSync(path.join(step.dir, "job_ids"), `${id}\n`),
      where: { workflow: ctx.wfid, step: step.stepName },
    });
  } catch (e) {
    if (e instanceof SlurmJobStopped) throw new WorkflowStopped(`workflow ${ctx.wfid} ${ctx.stopped}`);
    throw e;
  }
}

/** Submit the job (or re-attach to the one idFile names), wait for it, and bring its outputs back. */
export async function slurmRemoteJob(j: SlurmRemoteJob): Promise<void> {
  const { o, where } = j;
  const username = o.username ?? "root";
  let machine;
  try {
    machine = normalizeMachine({
      batch_type: "Slurm",
      context_type: "SSHContext",
      local_root: ".",
      remote_root: o.workdir ?? "dflow/workflows",
      remote_profile: { hostname: o.host, username, port: o.port ?? 22, ...(o.password ? { password: o.password } : {}), ...(o.private_key_file ? { key_filename: path.resolve(o.private_key_file) } : {}) },
    });
  } catch (e) {
    if (e instanceof DispatcherConfigError) throw new DflowConfigError(`SlurmRemoteExecutor: ${e.message}`, where);
    throw e;
  }
  const cluster = clusterFor(machine, o);
  const batch = batchSystem("Slurm");
  const poller = cluster.poller(batch)!;
  const sshctx = new SSHContext(cluster.transport, { remoteRoot: o.workdir ?? "dflow/workflows", tarCompress: true });
  const { idFile, files, logFile } = j;
  try {
    // dflow's workdir is a template ("/data/dflow/workflows/{{workflow.name}}/{{pod.name}}"); a plain root gets both appended.
    const wd = o.workdir ?? "dflow/workflows";
    let rr = /\{\{\s*(workflow|pod)\.name\s*\}\}/.test(wd)
      ? wd.replace(/\{\{\s*workflow\.name\s*\}\}/g, j.workflow).replace(/\{\{\s*pod\.name\s*\}\}/g, j.pod)
      : `${wd}/${j.workflow}/${j.pod}`;
    if (!rr.startsWith("/")) rr = `${await cluster.transport.home()}/${rr}`;
    let id: JobId | null = idFile && fs.existsSync(idFile) ? fs.readFileSync(idFile, "utf8").trim() || null : null;
    if (id === null) {
      j.onStart?.(rr, cluster.transport.describe);
      await sshctx.bindTo(rr);
      await sshctx.uploadList(j.workdir, expandPaths(j.workdir, files.forward, "input of the step"), false, "dflow-inputs");
      const header = (o.header ?? "#!/bin/bash").split("\n").map((l) => l.replace(/^\s+#/, "#")).join("\n");
      const run = `cd ${q(rr)} && sed -i "s#\\$(pwd)#$(pwd)#g" script && ${j.remoteCommand} script`;
      await sshctx.writeFile("slurm.sh", `${header}\n${run}\n`);
      for (let attempt = 1; ; attempt++) {
        cluster.count("sbatch");
        const r = await sshctx.exec(`cd ${q(rr)} && sbatch slurm.sh`);
        const m = /^Submitted batch job (\d+)\s*$/m.exec(r.stdout);
        if (r.code === 0 && m) {
          id = m[1]!;
          cluster.stats.submitted++;
          break;
        }
        const transient = /Socket timed out|Unable to contact slurm controller|temporarily unable|Invalid user for SlurmUser/.test(r.stderr);
        if (!transient || attempt >= cluster.retry.attempts) {
          throw new OPFailure(`sbatch refused the job on ${cluster.transport.describe}: ${r.stderr.trim() || r.stdout.trim()} (header:\n${header})`, where);
        }
        await sleep(Math.min(cluster.retry.delayMs * 2 ** (attempt - 1), cluster.retry.maxDelayMs));
      }
      if (idFile) await writeAtomic(idFile, String(id));
      j.onSubmitted?.(String(id));
    } else {
      sshctx.rr = rr;
    }

    // Poll until the scheduler lets go of the job.
    let ended: PollAnswer | null = null;
    for (let attempt = 1; !ended; ) {
      const a = await poller.status(id!);
      // Stopped (Workflow.terminate() in this engine, a stopped pod): the job is cancelled at the next status round.
      if (j.stopped()) {
        cluster.count("scancel");
        await sshctx.exec(`scancel ${q(String(id))}`).catch(() => undefined);
        if (idFile) fs.rmSync(idFile, { force: true });
        throw new SlurmJobStopped(`Slurm job ${id} cancelled: ${j.stopped()}`);
      }
      if (a.kind === "ended") ended = a;
      else if (a.kind === "retry") {
        if (attempt++ >= cluster.retry.attempts) throw new InfrastructureError(`status of Slurm job ${id} could not be read: ${a.reason}`, where);
        await sleep(Math.min(cluster.retry.delayMs * 2 ** (attempt - 2), cluster.retry.maxDelayMs));
      } else if (a.kind === "error") throw new InfrastructureError(`status of Slurm job ${id}: ${a.reason}`, where);
      else attempt = 1;
    }
    let code = ended.code;
    if (!code) {
      // Gone from squeue (MinJobAge passed): ask the accounting.
      cluster.count("sacct");
      const r = await sshctx.exec(`sacct -n -X -P -o State -j ${id}`);
      const state = r.stdout.trim().split("\n")[0]?.split(/\s+/)[0] ?? "";
      code = state === "COMPLETED" ? "CD" : state === "TIMEOUT" ? "TO" : state.startsWith("CANCELLED") ? "CA" : state ? "F" : "CD";
    }
    const out = await sshctx.readFile(`slurm-${id}.out`).catch(() => null);
    if (out !== null) await fsp.writeFile(logFile, out);
    if (idFile) fs.rmSync(idFile, { force: true });
    if (code !== "CD") {
      const tail = await logTail(logFile);
      throw new OPFailure(`Slurm job ${id} ended ${describeCode("Slurm", code)}${tail ? `; last lines of ${logFile}:\n${tail}` : ""}`, where, { timedOut: code === "TO", retryable: code === "TO" && j.timeoutIsTransient });
    }
    // Outputs back into the workdir: required ones must be there.
    const want = files.backward.filter((f) => f !== "log"); // the job's output is slurm-<id>.out here
    for (const f of files.optional) if (await sshctx.exists(f)) want.push(f);
    await sshctx.downloadList(j.workdir, want, "dflow-outputs");
  } catch (e) {
    if (e instanceof OPFailure || e instanceof InfrastructureError || e instanceof DflowConfigError || e instanceof SlurmJobStopped) throw e;
    throw new InfrastructureError(`SlurmRemoteExecutor on ${cluster.transport.describe}: ${(e as Error).message}`, where, { cause: e });
  }
}
