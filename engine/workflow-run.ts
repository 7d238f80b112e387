// Runs a whole workflow in this process (dflow's debug-mode submit): creates
// or re-opens <debug_workdir>/<id>, writes status/pid/type, runs the
// entrypoint with <wfdir> as its directory, and writes the final status
// only after all in-flight work has settled.
import fsp from "node:fs/promises";
import pLimit from "p-limit";
import path from "node:path";
import { config as liveConfig } from "../src/config.js";
import { DflowConfigError } from "../src/errors.js";
import { typeString } from "../src/io.js";
import type { DAG, Steps } from "../src/steps.js";
import { ChildrenFile } from "./children.js";
import { type PV, type RunContext, type Scope } from "./context.js";
import { runBody } from "./run-step.js";
import { resolveArtifact } from "./scope.js";
import { writeMessage } from "./step-dir.js";
import { exists, rand5, readTextOr, writeAtomic } from "./store/fsx.js";

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

export async function runWorkflow(entry: Steps | DAG, opts: { id?: string; name: string; parallelism?: number; log?: (line: string) => void }): Promise<WorkflowRunResult> {
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
  await writeAtomic(path.join(dir, "status"), "Running");
  await writeAtomic(path.join(dir, "pid"), String(process.pid));
  await writeAtomic(path.join(dir, "type"), entry.kind === "dag" ? "DAG" : "Steps");
  await fsp.rm(path.join(dir, "message"), { force: true });
  opts.log?.(`Workflow is running locally (ID: ${id})`);

  const ctx: RunContext = {
    wfid: id,
    wfdir: dir,
    artroot: path.resolve(cfg.debug_workdir, cfg.debug_artifact_dir),
    config: cfg,
    podLimit: opts.parallelism && opts.parallelism > 0 ? pLimit(opts.parallelism) : undefined,
  };
  let error: Error | undefined;
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
    const children = await ChildrenFile.open(dir);
    await runBody(entry, scope, { children }, ctx);
  } catch (e) {
    error = e instanceof Error ? e : new Error(String(e));
    if (!(e instanceof DflowConfigError) && !(error.name === "StepFailed")) error.message = `workflow ${id}: ${error.message}`;
  }
  const status = error ? "Failed" : "Succeeded";
  if (error) await writeMessage(dir, error.message);
  await writeAtomic(path.join(dir, "status"), status);
  return { id, dir, status, error };
}

export async function workflowExists(id: string): Promise<boolean> {
  return exists(path.join(debugRoot(), id, "status"));
}
