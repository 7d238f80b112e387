// Runs a whole workflow in this process (dflow's debug-mode submit): creates
// or re-opens <debug_workdir>/<id>, writes status/pid/type, runs the
// entrypoint with <wfdir> as its directory, and writes the final status
// only after all in-flight work has settled.
import fs from "node:fs";
import fsp from "node:fs/promises";
import pLimit from "p-limit";
import path from "node:path";
import { cancelRemoteJobs, closeClusters, hasRemoteJobs } from "./executors/remote-lazy.js";
import type { OPTemplate } from "../src/templates.js";
import { config as liveConfig } from "../src/config.js";
import { DflowConfigError, InfrastructureError } from "../src/errors.js";
import { typeString } from "../src/io.js";
import type { DAG, Steps } from "../src/steps.js";
import { ChildrenFile } from "./children.js";
import { type PV, type RunContext, type Scope } from "./context.js";
import type { ArgoStep } from "./api/steps-on-disk.js";
import { WorkflowStopped, registerRun, takeStopRequest } from "./control.js";
import { applyReuse } from "./reuse.js";
import { runBody } from "./run-step.js";
import { resolveArtifact } from "./scope.js";
import { writeMessage } from "./step-dir.js";
import { Journal, acquireLock, releaseLock, writeRunInfo } from "./store/engine-dir.js";
import { writeGraph } from "./store/graph.js";
import { type StorageError, clearStorageFailures, exists, isUnder, onStorageFailure, rand5, readTextOr, readTextOrSync, storageErrorIn, storageFailureUnder, writeAtomic, writeAtomicSync } from "./store/fsx.js";
import { killSteps } from "./executors/local.js";
import { WarmPool } from "./executors/warm.js";

export interface WorkflowRunResult {
  id: string;
  dir: string;
  status: "Succeeded" | "Failed";
  error?: Error;
  /** True when the workflow had already succeeded and nothing ran. */
  alreadySucceeded?: boolean;
}

export function debugRoot(): string {
  return path.resolve(liveConfig.debug_workdir);
}

/** Create the directory of a new workflow: `<name>-<rand5>`, never an existing one. */
export async function newWorkflowDir(name: string): Promise<{ id: string; dir: string }> {
  const root = debugRoot();
  await fsp.mkdir(root, { recursive: true });
  for (;;) {
    const id = `${name}-${rand5()}`;
    const dir = path.join(root, id);
    try {
      await fsp.mkdir(dir);
      return { id, dir };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
}

export interface RunOptions {
  id?: string;
  name: string;
  parallelism?: number;
  reuse?: ArgoStep[];
  log?: (line: string) => void;
  /** Called once the workflow has its directory, before anything runs. */
  onStart?: (id: string, dir: string) => void;
  /** dflow's Workflow(context=...): an executor applied to every step without one of its own. */
  context?: { render(t: OPTemplate): OPTemplate };
}

let runningWorkflows = 0;

/**
 * The one message of a workflow stopped by its file system (full, or no
 * longer writable): what, where, and the fix.
 */
function storageMessage(id: string, dir: string, e: StorageError): InfrastructureError {
  const fix = e.full ? "free space" : `make ${dir} writable again`;
  return new InfrastructureError(`${e.detail}: ${fix}, then \`dflow retry ${id}\``, { workflow: id }, { cause: e });
}

export async function runWorkflow(entry: Steps | DAG, opts: RunOptions): Promise<WorkflowRunResult> {
  const where = { id: opts.id ?? opts.name, dir: opts.id ? path.join(debugRoot(), opts.id) : "" };
  try {
    return await runWorkflowIn(entry, opts, where);
  } catch (e) {
    // The file system failed before the run could record anything (the lock, run.json, the status):
    // the same message, on stderr (by submit) and in the exit status, never a stack.
    const storage = storageErrorIn(e, where.dir || debugRoot());
    if (!storage) throw e;
    process.exitCode = 1;
    const error = storageMessage(where.id, where.dir || debugRoot(), storage);
    if (where.dir) releaseLockQuietly(where.dir);
    return { id: where.id, dir: where.dir, status: "Failed", error };
  }
}

function releaseLockQuietly(dir: string): void {
  try {
    releaseLock(dir);
  } catch {
    // an unwritable directory: the lock names this (soon dead) engine, which the next one takes over
  }
}

async function runWorkflowIn(entry: Steps | DAG, opts: RunOptions, where: { id: string; dir: string }): Promise<WorkflowRunResult> {
  const cfg = { ...liveConfig };
  let id: string;
  let dir: string;
  if (opts.id) {
    id = opts.id;
    dir = path.join(debugRoot(), id);
    const status = await readTextOr(path.join(dir, "status"), null);
    if (status === "Succeeded") {
      opts.log?.(`Workflow ${id} has been succeeded`);
      return { id, dir, status: "Succeeded", alreadySucceeded: true };
    }
    await fsp.mkdir(dir, { recursive: true });
    if (status !== null) opts.log?.(`Restart workflow ${id}`);
  } else {
    ({ id, dir } = await newWorkflowDir(opts.name));
  }
  where.id = id;
  where.dir = dir;
  // One engine per workflow; a dead engine's lock is taken over.
  acquireLock(dir, id);
  clearStorageFailures(dir);
  const earlier = Journal.read(dir);
  // Steps a killed engine left running would otherwise race their re-run.
  if (opts.id) killStaleSteps(dir);
  const journal = new Journal(dir);
  writeRunInfo(dir);
  writeGraph(dir, entry);
  if (opts.reuse?.length) await applyReuse(dir, opts.reuse, opts.log, path.resolve(cfg.debug_workdir, cfg.debug_artifact_dir));
  await writeAtomic(path.join(dir, "status"), "Running");
  await writeAtomic(path.join(dir, "pid"), String(process.pid));
  await writeAtomic(path.join(dir, "type"), entry.kind === "dag" ? "DAG" : "Steps");
  await fsp.rm(path.join(dir, "message"), { force: true });
  opts.log?.(`Workflow is running locally (ID: ${id})`);
  opts.onStart?.(id, dir);

  const ctx: RunContext = {
    wfid: id,
    wfdir: dir,
    artroot: path.resolve(cfg.debug_workdir, cfg.debug_artifact_dir),
    config: cfg,
    podLimit: opts.parallelism && opts.parallelism > 0 ? pLimit(opts.parallelism) : undefined,
    journal,
    earlier,
    active: new Set(),
    context: opts.context,
  };
  // Stopped (dflow stop, Ctrl-C, hang-up): running steps and the workflow
  // get a final phase and the reason before the engine exits (dflow leaves
  // them Running, Q17). Step process groups are killed by executors/local.
  const onSignal = (sig: NodeJS.Signals) => {
    // Workflow.terminate() / dflow stop from another process leave who asked in .engine/stop-request.
    const why = takeStopRequest(dir) ?? (sig === "SIGTERM" ? "stopped (SIGTERM, e.g. dflow stop)" : sig === "SIGINT" ? "interrupted (SIGINT)" : `stopped (${sig})`);
    markStopped(dir, ctx.active, why);
    journal.close();
    const exit = () => {
      releaseLock(dir);
      process.exit(128 + (sig === "SIGINT" ? 2 : sig === "SIGHUP" ? 1 : 15));
    };
    // A stop deletes the steps, so their HPC jobs are cancelled (as dflow's dispatcher does on
    // SIGTERM). A hang-up (terminal or laptop gone) leaves them running for `dflow retry` to re-attach.
    if (sig !== "SIGHUP" && hasRemoteJobs()) void cancelRemoteJobs(why).finally(exit);
    else exit();
  };
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(sig, onSignal);
  // The work directory filled up or became unwritable: the workflow cannot
  // go on (nothing it does can be recorded), so its running steps are
  // stopped now rather than left to finish into a disk that cannot keep
  // their results; steps not yet started are refused by runPod.
  const offStorage = onStorageFailure((e) => {
    if (!isUnder(e.path, dir)) return; // another workflow's
    killSteps(id);
    WarmPool.killJobs(id);
  });
  let error: Error | undefined;
  runningWorkflows++;
  let ended!: () => void;
  registerRun(ctx, new Promise<void>((r) => (ended = r)));
  try {
    // The entrypoint has no step directory: <wfdir> plays that role.
    const params = new Map<string, PV>();
    for (const [n, p] of Object.entries(entry.inputs.parameters)) {
      if (p.has_value) params.set(n, { value: p.value, type: typeString(p.type) });
    }
    const scope: Scope = { kind: entry.kind === "dag" ? "dag" : "steps", inputs: { parameters: params, artifacts: new Map() }, results: new Map(), parallelism: entry.parallelism };
    for (const [n, a] of Object.entries(entry.inputs.artifacts)) {
      const src = resolveArtifact(a.source, scope, ctx);
      if (src && "path" in src) scope.inputs.artifacts.set(n, src.path);
    }
    const children = await ChildrenFile.open(dir, journal, earlier.get(dir));
    await runBody(entry, scope, { children }, ctx);
  } catch (e) {
    error = e instanceof Error ? e : new Error(String(e));
    if (!(e instanceof DflowConfigError) && !(error.name === "StepFailed")) error.message = `workflow ${id}: ${error.message}`;
  }
  // Terminated in this process: that is the reason, whatever its steps failed with.
  if (ctx.stopped) error = new WorkflowStopped(`workflow ${id} ${ctx.stopped}`);
  offStorage();
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.off(sig, onSignal);
  // The SSH connections are shared by every workflow of this engine process; the last one closes them.
  if (--runningWorkflows === 0) await closeClusters();
  // A storage failure is the reason, whatever step met it first (steps' own records of it may be lost).
  const storage = storageFailureUnder(dir) ?? storageErrorIn(error, dir);
  if (storage) error = storageMessage(id, dir, storage);
  journal.close();
  try {
    if (error) await writeMessage(dir, error.message);
    await writeAtomic(path.join(dir, "status"), error ? "Failed" : "Succeeded");
  } catch (e) {
    const late = storageErrorIn(e, dir);
    if (!late) throw e;
    // Not even the status can be written: the message goes to stderr (submit prints it) and the exit status.
    error = error ?? storageMessage(id, dir, late);
    error.message += ` (the workflow's status could not be recorded: it still reads ${readTextOrSync(path.join(dir, "status"), "Running")})`;
    process.exitCode = 1;
  } finally {
    releaseLockQuietly(dir);
    ended();
  }
  return { id, dir, status: error ? "Failed" : "Succeeded", error };
}

export async function workflowExists(id: string): Promise<boolean> {
  return exists(path.join(debugRoot(), id, "status"));
}

/** Is `pid` a process whose cwd is inside `dir`? (a step process of that step directory) */
function runsIn(pid: number, dir: string): boolean {
  try {
    return fs.readlinkSync(`/proc/${pid}/cwd`).startsWith(dir);
  } catch {
    return false;
  }
}

/** The process group of `pid` (/proc/<pid>/stat: "pid (comm) state ppid pgrp ..."), null if unknown. */
function groupOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ", 3)[2]) || null;
  } catch {
    return null;
  }
}

/**
 * Kill the process group of the step in `dir` (its pid file names the
 * step's process), if it still runs there. `stale`: its engine is dead, so
 * the whole group of the process goes, the dead engine's leader co-process
 * that started it (executors/spawner.ts) included; a live engine's leader
 * must stay to reap its step (executors/local.ts kills its groups so).
 */
export function killStepProcess(dir: string, opts: { stale?: boolean } = {}): void {
  const pid = Number(readTextOrSync(path.join(dir, "pid"), ""));
  if (!pid || !runsIn(pid, dir)) return;
  const group = opts.stale ? groupOf(pid) : null;
  for (const target of [-(group ?? pid), pid]) {
    try {
      process.kill(target, "SIGKILL");
      break;
    } catch {
      // not a group leader, or gone
    }
  }
}

/** Kill the process groups of steps a dead engine left running. */
export function killStaleSteps(wfdir: string): void {
  for (const name of fs.readdirSync(wfdir)) {
    const dir = path.join(wfdir, name);
    if (readTextOrSync(path.join(dir, "phase"), "") === "Running") killStepProcess(dir, { stale: true });
  }
}

/**
 * Give every step still Running (or, with no live engine to ask, every
 * step directory not final) phase Failed and a message, and the workflow
 * status Failed with the reason. Synchronous: it runs in signal handlers.
 */
export function markStopped(wfdir: string, active: Iterable<string> | null, why: string): void {
  const dirs = active ? [...active] : fs.readdirSync(wfdir).map((n) => path.join(wfdir, n)).filter((d) => fs.existsSync(path.join(d, "name")));
  for (const dir of dirs) {
    const phase = readTextOrSync(path.join(dir, "phase"), "");
    if (phase === "Succeeded" || phase === "Failed") continue;
    try {
      writeAtomicSync(path.join(dir, "message"), `${why}\n`);
      writeAtomicSync(path.join(dir, "phase"), "Failed");
    } catch {
      // the directory went away
    }
  }
  try {
    writeAtomicSync(path.join(wfdir, "message"), `workflow ${path.basename(wfdir)} ${why}\n`);
    writeAtomicSync(path.join(wfdir, "status"), "Failed");
  } catch {
    // nothing more to do
  }
}
