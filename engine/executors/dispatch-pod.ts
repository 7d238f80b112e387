// A DispatcherExecutor step exported to Argo, rendered as dflow renders it
// (DispatcherExecutor.render, dflow/plugins/dispatcher.py): a pod that writes
// the step's script, submits it as a DPDispatcher job (its input artifacts
// as forward files, its outputs as backward files, back where Argo collects
// them) and waits for it; stopping the pod cancels the job. dflow's pod runs
// Python's DPDispatcher; ours runs this engine's (byte-identical job scripts),
// from a bundle the export ships as a ConfigMap (src/argo/export-bundle.ts),
// so the pod needs a plain `node` image. A SlurmRemoteExecutor step is such a
// pod too, submitting its `slurm.sh` with sbatch as this engine does. This is
// the pods' program; the job it is given is made at export time
// (dispatch-pod-job.ts).
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { shellQuote } from "../dispatcher/paths.js";
import { mergedTasks, normalizeDicts } from "./dispatcher-input.js";
import { dispatchedJob, joinMergedOutputs } from "./dispatcher.js";
import { closeClusters } from "./clusters.js";
import type { DispatchPodJob, SlurmRemotePodJob } from "./dispatch-pod-job.js";
import { slurmRemoteJob } from "./slurm-remote.js";

type Plain = Record<string, unknown>;

/** The step's script: its text, or a TypeScript OP's run spec (parameters read in the pod) and the OP bundle to ship with it. */
export type DispatchScript = { script: string } | { op: Plain; opBundle: string };

/** The job's script for a TypeScript OP: the bundle travels with it (dflow-op.mjs); $(pwd) is the job directory (the task's sed). */
function remoteOPScript(op: Plain): string {
  const spec = { ...op, workdir: "$(pwd)", bundle: "$(pwd)/dflow-op.mjs" };
  return [
    `// dflow-ts: runs OP ${String(op.op)} (${String(op.module)}) from the workflow's OP bundle, as a batch job.`,
    `const spec = ${JSON.stringify(spec, null, 2)};`,
    "import(\"node:url\").then((u) => import(u.pathToFileURL(spec.bundle).href)).then((m) => m.run(spec));",
    "",
  ].join("\n");
}

/**
 * In the pod: write the script, submit it and wait. The pod's working
 * directory is its root (workingDir: /), the job's work base: the inputs Argo
 * placed under tmp/ go forward, the outputs come back there. The job's log
 * is printed, so that the pod's log shows the OP's output. Exit code 1 when
 * the job fails, or its outputs are missing.
 */
export async function dispatch(job: DispatchPodJob | SlurmRemotePodJob, what: DispatchScript): Promise<void> {
  const root = process.cwd();
  const abort = new AbortController();
  // Argo stops a pod with SIGTERM (a timeout, `argo stop`): cancel the job, as dflow's handler does.
  const stop = (sig: string) => abort.abort(new Error(`the pod got ${sig}`));
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  try {
    if ("op" in what) await fsp.copyFile(what.opBundle, path.join(root, "dflow-op.mjs"));
    await fsp.writeFile(path.join(root, "script"), "op" in what ? remoteOPScript(what.op) : what.script);
    // merge_sliced_step: a task per slice, running script<i> with that slice alone (as the engine's pod.ts writes them).
    const slices = "op" in what ? (what.op.slices as { indices: number[] } | undefined) : undefined;
    const merged = job.kind === "dispatcher" && job.merge && slices ? slices.indices.length : undefined;
    if (merged !== undefined && "op" in what) {
      await Promise.all(slices!.indices.map((idx, i) => fsp.writeFile(path.join(root, `script${i}`), remoteOPScript({ ...what.op, slices: { ...slices, indices: [idx] }, output_suffix: `_${i}` }))));
    }
    // As dflow's pod: forward files that are not there (an optional artifact not given) are left out.
    const present = (files: string[]) => files.filter((f) => fs.existsSync(path.join(root, f)));
    const password = job.passwordEnv ? process.env[job.passwordEnv] : undefined;
    if (job.kind === "slurm-remote") {
      const log = path.join(root, "log");
      try {
        await slurmRemoteJob({
          o: { ...job.options, ...(password !== undefined ? { password } : {}) },
          remoteCommand: job.remoteCommand,
          timeoutIsTransient: job.timeoutIsTransient,
          workdir: root,
          files: { ...job.files, forward: present(job.files.forward) },
          workflow: job.workflow,
          pod: job.pod,
          logFile: log,
          stopped: () => (abort.signal.aborted ? (abort.signal.reason as Error).message : undefined),
          where: {},
        });
      } finally {
        if (fs.existsSync(log)) process.stdout.write(await fsp.readFile(log));
      }
      return;
    }
    const resources = { ...job.resources, envs: { ...(job.resources.envs as Plain) } };
    for (const n of job.envs) if (process.env[n] !== undefined) (resources.envs as Plain)[n] = shellQuote(process.env[n]);
    const machine = { ...job.machine };
    if (password !== undefined) machine.remote_profile = { ...(machine.remote_profile as Plain), password };
    if (merged === 0) return await joinMergedOutputs(job.merge!, root, 0);
    const split = merged !== undefined ? mergedTasks(job.merge!, job.tasks[0]!, job.optional[0]!, merged) : { tasks: job.tasks, optional: job.optional, forward_common_files: job.forward_common_files };
    const tasks = split.tasks.map((t): Plain => ({ ...t, forward_files: present(t.forward_files as string[]) }));
    for (const t of tasks) for (const f of t.backward_files as string[]) await fsp.mkdir(path.dirname(path.join(root, f)), { recursive: true });
    const input = { ...normalizeDicts({ machine, resources, tasks }, {}), optional: split.optional, forward_common_files: present(split.forward_common_files) };
    const run = dispatchedJob(input, job.options, root, { signal: abort.signal, log: (m) => process.stdout.write(`dflow-ts dispatcher: ${m}\n`) });
    try {
      await run.run();
      if (merged !== undefined) await joinMergedOutputs(job.merge!, root, merged);
    } catch (e) {
      const log = await run.dctx.readFile("log").catch(() => null);
      if (log) process.stdout.write(log);
      throw e;
    }
    const log = path.join(root, "log");
    if (fs.existsSync(log)) process.stdout.write(await fsp.readFile(log));
  } catch (e) {
    process.stderr.write(`dflow-ts dispatcher: ${abort.signal.aborted ? `the job was cancelled: ${(abort.signal.reason as Error).message}` : (e as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await closeClusters();
  }
}
