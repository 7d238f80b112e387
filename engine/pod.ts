// Executes a script step (spec §2.4, §5): inputs recorded and placed, script
// rendered, the command run in <stepdir>/workdir with its output in
// log.txt, outputs collected. Every failure ends with phase Failed and the
// reason in <stepdir>/message.
import { setTimeout as sleep } from "node:timers/promises";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { DflowConfigError, EXIT_TRANSIENT, InfrastructureError, OPFailure } from "../src/errors.js";
import type { RetryStrategy, ScriptOPTemplate, TsOPTemplate } from "../src/templates.js";
import { typeString } from "../src/io.js";
import { mergeInto, placeTree } from "./artifacts/place.js";
import type { SliceSpec } from "./slices.js";
import type { PV, RunContext } from "./context.js";
import { type LocalResult, WRAPPER_NAME, runLocal } from "./executors/local.js";
import { renderScript, rerootTmp } from "./render.js";
import type { ArtifactSource } from "./scope.js";
import { EXIT_FILE, linkArtifact, logTail, mkdirOnce, readExitStatus, writeParameters, writePhase } from "./step-dir.js";
import { exists, storageErrorIn, storageFailureUnder, writeAtomic } from "./store/fsx.js";
import { WorkflowStopped, stepGate } from "./control.js";
import { decodeValue, parseJsonLoose } from "./store/values.js";
import { nextAttempt, retryPlan } from "./retry.js";
import { WarmPool } from "./executors/warm.js";
import { bundleFor } from "./ts-op-bundle.js";
import { type OPRunSpec, remoteTsOPScript, tsOPScript, tsOPSpec } from "./ts-op-script.js";
import { remoteExecutors } from "./executors/remote-lazy.js";

export interface PodRun {
  stepName: string;
  dir: string;
  dirName: string;
  template: ScriptOPTemplate;
  /** Every input parameter of the step (template-declared plus dflow_* internals). */
  parameters: Map<string, PV>;
  artifacts: Map<string, ArtifactSource | null>;
  key: string | null;
  /** Seconds (the step's, else the template's). */
  timeout?: number;
  /** A step-level retry strategy (the template's applies otherwise). */
  retryStrategy?: RetryStrategy;
  /** For an item of a sliced step: what its OP process slices. */
  slice?: SliceSpec;
  /**
   * The step was Running when its engine was killed: if its process
   * finished with status 0 since (EXIT_FILE), its outputs are collected
   * instead of running it again.
   */
  adopt?: boolean;
}

export interface PodResult {
  parameters: Map<string, PV>;
  artifacts: Map<string, string>;
}

/** Whether a TS-OP step runs in a warm worker (its template asks, or config.warm_workers > 0). */
function runsWarm(t: ScriptOPTemplate, ctx: RunContext): boolean {
  return t.kind === "ts-op" && ((t as TsOPTemplate).warm || Number(ctx.config.warm_workers ?? 0) > 0);
}

/** `<workdir>` + `/` + path, textually, as dflow joins declared paths (hence `workdir//tmp`). */
function under(workdir: string, p: string): string {
  return `${workdir}/${p}`;
}

export async function runPod(run: PodRun, ctx: RunContext): Promise<PodResult> {
  const { dir, template: t } = run;
  const where = { workflow: ctx.wfid, step: run.stepName };
  const workdir = path.join(dir, "workdir");
  if (run.adopt && !t.remote && readExitStatus(dir) === 0) {
    // Collected as if this engine had seen the exit. Outputs that do not
    // check out (which a normal run would report) send it round again instead:
    // running twice costs time, a wrong adoption would cost the result.
    try {
      return await collectOutputs(run, ctx, workdir);
    } catch {
      // run it again below
    }
  }
  mkdirOnce(workdir);
  await writeParameters(dir, "inputs", run.parameters);

  // Input artifacts: link the source into inputs/artifacts, then place it at its declared path.
  for (const [name, decl] of Object.entries(t.inputs.artifacts)) {
    const src = run.artifacts.get(name) ?? null;
    if (!src) {
      if (decl.optional) continue; // nothing at all for an absent optional artifact (Q14)
      throw new DflowConfigError(`input artifact ${name} has no source: pass it in the step's artifacts or mark it optional`, { ...where, artifact: name });
    }
    let recorded: string;
    // sub_path slices: this item gets only its own part of the artifact (§4.9).
    const sub = run.slice?.sub_paths?.[name];
    if ("content" in src) {
      recorded = path.join(dir, "inputs", "artifacts", name);
      await writeAtomic(recorded, src.content);
    } else {
      let target = sub ? `${src.path}/${sub}` : src.path;
      if (!(await exists(target))) throw new DflowConfigError(`input artifact ${name}: ${target} does not exist`, { ...where, artifact: name });
      if (ctx.config.dereference_symlink) target = await fsp.realpath(target);
      recorded = await linkArtifact(dir, "inputs", name, target);
    }
    if (decl.path) {
      const declared = renderScript(decl.path, { workflowName: ctx.wfid, podName: run.dirName, parameters: run.parameters, where });
      const dest = under(workdir, sub ? `${declared}/${sub}` : declared);
      await placeTree(recorded, dest, ctx.config.debug_copy_method as "symlink");
    }
  }

  // The script, exactly as it will run.
  let script: string;
  let opSpec: OPRunSpec | undefined;
  let shipped: string[] = [];
  if (t.remote) {
    // Runs as an HPC job: paths are the job directory's, known only there ($(pwd), replaced by the task's sed).
    if (t.kind === "ts-op") {
      const spec = tsOPSpec(t as TsOPTemplate, run.parameters, "$(pwd)", run.key, ctx.wfid, run.slice, "$(pwd)/dflow-op.mjs");
      script = remoteTsOPScript(spec, t as TsOPTemplate, dir);
      shipped = await (await remoteExecutors()).shipBundle(t as TsOPTemplate, workdir, await bundleFor((t as TsOPTemplate).module, { standalone: true }));
      if (run.slice?.merged) {
        // merge_sliced_step: task i of the submission runs script<i>, slice i alone, its output files suffixed _<i>.
        const tasks = run.slice.indices.map((idx, i) => remoteTsOPScript({ ...spec, slices: { ...run.slice!, indices: [idx] }, output_suffix: `_${i}` }, t as TsOPTemplate, dir));
        await Promise.all(tasks.map((text, i) => writeAtomic(path.join(workdir, `script${i}`), text)));
        script = `// merge_sliced_step: ${tasks.length} tasks of one submission, each running workdir/script<i>; script0:\n${tasks[0] ?? ""}`;
      }
    } else {
      const mapTmp = (t.remote.options as { map_tmp_dir?: boolean }).map_tmp_dir ?? true;
      const base = t.script_rendered || !mapTmp ? t.script : rerootTmp(t.script, "$(pwd)");
      script = renderScript(base, { workflowName: ctx.wfid, podName: run.dirName, parameters: run.parameters, where });
    }
    await writeAtomic(path.join(workdir, "script"), script);
  } else if (t.kind === "ts-op") {
    // Fresh processes start faster from a bundle, and so do warm workers (no tsx).
    const bundle = await bundleFor((t as TsOPTemplate).module);
    opSpec = tsOPSpec(t as TsOPTemplate, run.parameters, workdir, run.key, ctx.wfid, run.slice, bundle);
    script = tsOPScript(opSpec, t as TsOPTemplate, dir);
  } else {
    const base = t.script_rendered ? t.script : rerootTmp(t.script, workdir);
    script = renderScript(base, { workflowName: ctx.wfid, podName: run.dirName, parameters: run.parameters, where });
  }
  const scriptFile = path.join(dir, "script");
  await writeAtomic(scriptFile, script);
  mkdirOnce(path.join(workdir, "tmp"));
  // A Python-OP step always has tmp/inputs/artifacts (its dflow_python_packages
  // artifact is placed there), even without input artifacts of its own; a
  // TS-OP step keeps the same workdir layout (§5.5).
  if (t.kind === "ts-op") await fsp.mkdir(path.join(workdir, "tmp", "inputs", "artifacts"), { recursive: true });

  if (t.success_tag) await fsp.mkdir(path.join(workdir, "tmp", "outputs"), { recursive: true }); // Q10

  // Attempts: run, and on a failure the retry rules allow, keep the
  // attempt's log and reason under attempts/<n>/ and run again.
  const plan = retryPlan(t, run.retryStrategy);
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    const t0 = Date.now();
    try {
      // A full or unwritable work directory stops the workflow: start nothing more (workflow-run.ts).
      const halted = storageFailureUnder(ctx.wfdir);
      if (halted) throw halted;
      // Suspended: the step stays Pending until resumed; terminated: it does not start.
      await stepGate(ctx, dir);
      await writePhase(dir, "Running");
      return await attemptOnce(run, ctx, workdir, scriptFile, opSpec, shipped);
    } catch (e) {
      if (storageErrorIn(e, ctx.wfdir)) throw e; // another attempt would meet the same disk
      const next = nextAttempt(plan, attempt, e, (Date.now() - started) / 1000, (Date.now() - t0) / 1000);
      if (!next.retry) {
        if (attempt > 0 && e instanceof Error) e.message += ` (attempt ${attempt + 1}${next.why ? `; ${next.why}` : ""}; earlier attempts in ${path.join(dir, "attempts")})`;
        throw e;
      }
      await archiveAttempt(dir, attempt, e as Error);
      if (next.wait > 0) await sleep(next.wait * 1000);
    }
  }
}

/** Move a failed attempt's log (and pid) to attempts/<n>/ with its reason. */
async function archiveAttempt(dir: string, attempt: number, err: Error): Promise<void> {
  const adir = path.join(dir, "attempts", String(attempt));
  await fsp.mkdir(adir, { recursive: true });
  for (const f of ["log.txt", "pid", EXIT_FILE]) await fsp.rename(path.join(dir, f), path.join(adir, f)).catch(() => undefined);
  await writeAtomic(path.join(adir, "message"), `${err.message}\n`);
}

async function attemptOnce(run: PodRun, ctx: RunContext, workdir: string, scriptFile: string, opSpec?: OPRunSpec, shipped: string[] = []): Promise<PodResult> {
  const { dir, template: t } = run;
  const where = { workflow: ctx.wfid, step: run.stepName };
  const exitFile = path.join(dir, EXIT_FILE);
  // Only this attempt's process may leave a record.
  // (Usually there is none: one access() and no exception.)
  if (fs.existsSync(exitFile)) fs.rmSync(exitFile, { force: true });
  const logFile = path.join(dir, "log.txt");
  const timeout = run.timeout;
  // Warm mode: the OP runs in a long-lived worker instead of a fresh node (same files, same log).
  const warm = opSpec !== undefined && runsWarm(t, ctx);
  // Every step gets its progress file (dflow's ARGO_PROGRESS_FILE, §9).
  const env = { ...t.envs, ARGO_PROGRESS_FILE: path.join(dir, "progress") };
  const launch = () => warm ? WarmPool.get(Number(ctx.config.warm_workers) || undefined).run({ spec: opSpec!, cwd: workdir, logFile, env, timeout, exitFile, owner: ctx.wfid, onSpawn: (pid) => writeAtomic(path.join(dir, "pid"), String(pid)) }) : runLocal({
    command: [...t.command, scriptFile],
    cwd: workdir,
    logFile,
    env,
    timeout,
    exitFile,
    owner: ctx.wfid,
    onSpawn: (pid) => writeAtomic(path.join(dir, "pid"), String(pid)),
  });
  const remote = t.remote ? () => remoteExecutors().then((m) => m.runRemoteStep({ stepName: run.stepName, dirName: run.dirName, dir, workdir, template: t, wfid: ctx.wfid, timeout, mergedTasks: run.slice?.merged ? run.slice.indices.length : undefined }, ctx, shipped, logFile)).then((): LocalResult => ({ exitCode: 0, signal: null })) : null;
  // Remote steps are not capped by local parallelism: they wait in the cluster's queue (max_queued_jobs).
  // A step that waited for a free slot checks the gate again before it starts.
  const gated = async () => (await stepGate(ctx, dir), launch());
  const res = remote
    ? await remote().catch((e: unknown) => {
        // Terminated while its job ran: the job was cancelled for that reason.
        throw ctx.stopped ? new WorkflowStopped(`workflow ${ctx.wfid} ${ctx.stopped}`) : e;
      })
    : ctx.podLimit
      ? await ctx.podLimit(gated)
      : await launch();
  // Terminated while it ran: its process was killed for that reason, not for a failure of its own.
  if (ctx.stopped) throw new WorkflowStopped(`workflow ${ctx.wfid} ${ctx.stopped}`);
  if (res.spawnError) {
    const e = res.spawnError;
    if (e.code === "ENOENT") throw new DflowConfigError(`command ${JSON.stringify(t.command[0])} not found: install it or set the template's command`, where);
    throw new InfrastructureError(`could not start ${t.command[0]}: ${e.message}`, where);
  }
  const what = t.kind === "ts-op" ? `OP ${(t as TsOPTemplate).opName}` : "script";
  if (res.timedOut) {
    const tail = await logTail(logFile);
    throw new OPFailure(
      `${what} timed out after ${timeout}s (timeout=${timeout}); its process group was killed${t.timeout_as_transient_error ? " (counted as a transient error)" : ""}${tail ? `; last lines of ${logFile}:\n${tail}` : ""}`,
      where,
      { retryable: t.timeout_as_transient_error, timedOut: true },
    );
  }
  if (res.exitCode !== 0) {
    const tail = await logTail(logFile);
    // The launcher's exec failed: the interpreter is missing (exit 126/127 from setsid or the exit-status wrapper).
    if ((res.exitCode === 127 || res.exitCode === 126) && (/setsid: failed to execute/.test(tail) || new RegExp(`^${WRAPPER_NAME}: \\d+: .*: (not found|Permission denied)$`, "m").test(tail))) {
      throw new DflowConfigError(`command ${JSON.stringify(t.command[0])} not found or not executable: install it or set the template's command (${tail.trim()})`, where);
    }
    const how = res.signal ? `was killed by ${res.signal}` : `exited with code ${res.exitCode}`;
    throw new OPFailure(`${what} ${how}${tail ? `; last lines of ${logFile}:\n${tail}` : ""}`, where, { retryable: res.exitCode === EXIT_TRANSIENT, exitCode: res.exitCode ?? undefined });
  }
  return collectOutputs(run, ctx, workdir);
}

/** A finished step's outputs, from its workdir (the process exited with 0). */
async function collectOutputs(run: PodRun, ctx: RunContext, workdir: string): Promise<PodResult> {
  const { template: t } = run;
  const where = { workflow: ctx.wfid, step: run.stepName };
  // Defaults of output parameters apply when the script wrote nothing (dflow §4.12).
  const defaults = new Map<string, PV>();
  for (const [name, op] of Object.entries(t.outputs.parameters)) {
    if (op.has_default) defaults.set(name, { value: op.default, type: typeString(op.type) });
  }
  // Output parameters.
  const parameters = new Map<string, PV>();
  for (const [name, op] of Object.entries(t.outputs.parameters)) {
    const type = typeString(op.type);
    if (op.value_from_path) {
      const file = under(workdir, op.value_from_path);
      let text: string | null = null;
      try {
        // Synchronous, as the state files (fsx.ts): on the sequential path each promise-based step is a thread-pool round trip.
        text = fs.readFileSync(file, "utf8");
      } catch {
        text = null;
      }
      if (text !== null) parameters.set(name, { value: decodeValue(text, type), type });
      else if (defaults.has(name)) parameters.set(name, defaults.get(name)!);
      else throw new OPFailure(`output parameter ${name}: ${op.value_from_path} was not written by the ${t.kind === "ts-op" ? "OP" : "script"} (looked for ${file}); write it or declare a default`, { ...where, parameter: name });
    } else if (op.has_value) {
      const v = typeof op.value === "string" ? renderScript(op.value, { workflowName: ctx.wfid, podName: run.dirName, parameters: run.parameters, where }) : op.value;
      parameters.set(name, { value: v, type });
    } else if (defaults.has(name)) {
      parameters.set(name, defaults.get(name)!);
    }
  }

  // merge_sliced_step: a sliced output parameter is the list its job joined, whatever one slice's type is.
  if (run.slice?.merged) {
    for (const name of run.slice.output_parameter) {
      const v = parameters.get(name)?.value;
      if (v !== undefined) parameters.set(name, { value: typeof v === "string" ? parseJsonLoose(v) : v, type: "typing.List" });
    }
  }

  // Output artifacts: must exist unless optional (dflow records a dangling link, Q15).
  const artifacts = new Map<string, string>();
  for (const [name, oa] of Object.entries(t.outputs.artifacts)) {
    if (!oa.path) continue;
    const local = under(workdir, oa.path);
    if (!(await exists(local))) {
      if (oa.optional) continue;
      throw new OPFailure(`output artifact ${name} not found at ${oa.path} (looked for ${local})`, { ...where, artifact: name });
    }
    // Explicit storage (sliced outputs, output_artifact_save): merged into
    // <artroot>/<key> with debug_save_copy_method, which becomes the artifact (§2.8.5).
    const save = oa.save?.[0] as { key?: unknown } | undefined;
    if (save && typeof save.key === "string") {
      const key = renderScript(save.key, { workflowName: ctx.wfid, podName: run.dirName, parameters: run.parameters, where });
      const savePath = path.resolve(ctx.artroot, key);
      await mergeInto(local, savePath, ctx.config.debug_save_copy_method as "symlink");
      artifacts.set(name, savePath);
      continue;
    }
    artifacts.set(name, local);
  }
  return { parameters, artifacts };
}
