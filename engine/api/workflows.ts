// The one API through which façades read and control the workflows of a work
// directory: the `dflow` commands and the `dflow ui` server call it, and
// reports are made from it. Reading goes through read.ts and logs.ts (the step
// directories are the only truth), control through control.ts, so that a
// button in the UI does exactly what the command does.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { checkDeletable, deleteWorkflow, suspendWorkflow, resumeWorkflow, terminateWorkflow } from "../control.js";
import { WORKFLOW_FILE, readNodes, repositoryOf } from "../argo/store.js";
import { lockAlive, readLock, readRunInfo } from "../store/engine-dir.js";
import { isUnder, readTextOrSync } from "../store/fsx.js";
import { readGraph } from "../store/graph.js";
import { DflowConfigError } from "../../src/errors.js";
import { readCluster } from "../executors/where-ran.js";
import type { AttemptJson, GraphStep, IOJson, LogChunkJson, StepDetailJson, WorkflowDetailJson, WorkflowGraph, WorkflowJson } from "./json.js";
import { readLogBytes, wholeCharacters } from "./logs.js";
import { type StepNode, type WorkflowInfo, engineAlive, findStep, isFinal, label, listWorkflowDirs, nodeJson, podsOf, readWorkflow, selectSteps, snapshot, stepTree, workflowJson } from "./read.js";

/** How `dflow retry` / `resubmit` of an Argo run differ from the plain ones (argo retry's and resubmit's options). */
export interface ArgoRerun {
  /** retry: the succeeded nodes to run again too (`--restart-successful --node-field-selector`). */
  restartSelector?: string;
  /** resubmit: start with the failed run's succeeded nodes (`--memoized`). */
  memoized?: boolean;
}

/** A request the API cannot answer, with the HTTP status that says why. */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 500,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface WorkflowFilter {
  /** Running, Succeeded, Failed (case-insensitive). */
  status?: string;
  /** A part of the id (case-insensitive). */
  name?: string;
}

/** The template a step ran: its name looked up in its parent's template, from the entrypoint down. */
function templateOf(graph: WorkflowGraph | null, node: StepNode): string | null {
  if (!graph) return null;
  const names: string[] = [];
  for (let n: StepNode | undefined = node; n; n = n.parent) names.unshift(n.step.displayName);
  let template: string | null = graph.entrypoint;
  for (const name of names) {
    const t = template === null ? undefined : graph.templates[template];
    if (!t) return null;
    const steps: GraphStep[] = t.type === "Steps" ? t.groups.flat() : t.tasks;
    template = steps.find((x) => x.name === name)?.template ?? null;
  }
  return template;
}

export type FileInfo = { kind: "file"; abs: string; size: number; name: string } | { kind: "dir"; abs: string; name: string; entries: Array<{ name: string; type: "file" | "dir" | "link" | "other"; size: number | null }> };

/** What `dflow retry` / `dflow resubmit` run: the workflow's script, as recorded when it first ran. */
export interface RerunPlan {
  script: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

/** The Pod steps whose logs `dflow logs` shows: of the workflow, or of the steps `sel` names. */
export interface LogSelection {
  pods: StepNode[];
  /** The steps asked for (or the workflow) have ended: their logs will not grow. */
  done: boolean;
  /** `sel` names one Pod step. */
  single: boolean;
}

export interface StoreOptions {
  artifactRoot?: string;
  /**
   * How the user runs dflow (e.g. "npx dflow"), for a command line: the
   * store's refusals then say which command to run instead.
   */
  command?: string;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const readText = (file: string): string | null => readTextOrSync(file, null);

/** The dflow command: dist/engine/api/ -> dist/src/cli.js; from the sources (tests), the built one beside them. */
function cliPath(): string {
  const cli = [new URL("../../src/cli.js", import.meta.url), new URL("../../dist/src/cli.js", import.meta.url)].map((u) => fileURLToPath(u)).find((f) => fs.existsSync(f));
  if (!cli) throw new ApiError(500, "the dflow command is not built (dist/src/cli.js): run `npm run build`");
  return cli;
}

export class WorkflowStore {
  readonly root: string;
  /** Directories files may be served from (after resolving symlinks): the work directory and the artifact root. */
  private readonly servable: string[];
  /** Ended workflows do not change until their status does: id -> [status mtime, summary]. */
  private readonly ended = new Map<string, [number, WorkflowInfo]>();
  private readonly command: string | undefined;

  constructor(root: string, opts: StoreOptions = {}) {
    this.root = path.resolve(root);
    this.command = opts.command;
    const roots = [this.root, path.resolve(opts.artifactRoot ?? this.root)];
    this.servable = [...new Set(roots.map((r) => (fs.existsSync(r) ? fs.realpathSync(r) : r)))];
  }

  /** The directory of workflow `id`: refused unless it is a plain name of a workflow directly under the root. */
  dirOf(id: string): string {
    if (!ID.test(id)) throw new ApiError(400, `${JSON.stringify(id)} is not a workflow id`);
    const dir = path.join(this.root, id);
    if (!fs.existsSync(path.join(dir, "status"))) {
      const hint = this.command ? ` (set DFLOW_DEBUG_WORKDIR or cd to where it ran; \`${this.command} list\` shows the workflows there)` : "";
      throw new ApiError(404, `no workflow ${JSON.stringify(id)} in ${this.root}${hint}`);
    }
    return dir;
  }

  /** The workflows (`dflow list`), newest first. */
  workflows(filter: WorkflowFilter = {}): WorkflowInfo[] {
    const name = filter.name?.toLowerCase();
    const status = filter.status?.toLowerCase();
    const out: WorkflowInfo[] = [];
    const seen = new Set<string>();
    for (const { id, dir } of listWorkflowDirs(this.root)) {
      seen.add(id);
      if (name && !id.toLowerCase().includes(name)) continue;
      const w = this.info(id, dir);
      if (status && w.status.toLowerCase() !== status) continue;
      out.push(w);
    }
    for (const id of this.ended.keys()) if (!seen.has(id)) this.ended.delete(id);
    return out.sort((a, b) => (b.started ?? 0) - (a.started ?? 0) || a.id.localeCompare(b.id));
  }

  /** workflows() as JSON (`dflow list --json`'s shape). */
  list(filter: WorkflowFilter = {}): WorkflowJson[] {
    return this.workflows(filter).map(workflowJson);
  }

  /** A workflow's summary (`dflow list --json`'s shape). */
  summary(id: string, dir = this.dirOf(id)): WorkflowJson {
    return workflowJson(this.info(id, dir));
  }

  private info(id: string, dir: string): WorkflowInfo {
    let mtime = -1;
    try {
      mtime = fs.statSync(path.join(dir, "status")).mtimeMs;
    } catch {
      // gone meanwhile: read below gives Unknown
    }
    const cached = this.ended.get(id);
    if (cached && cached[0] === mtime) return cached[1];
    const info = readWorkflow(id, dir);
    if (isFinal(info.status) && mtime >= 0) this.ended.set(id, [mtime, info]);
    else this.ended.delete(id);
    return info;
  }

  /** A workflow and its step tree, read together (`dflow get`, `dflow watch`). */
  snapshot(id: string): { info: WorkflowInfo; nodes: StepNode[] } {
    return snapshot(id, this.dirOf(id));
  }

  /** A workflow's step tree, in execution order. */
  tree(id: string): StepNode[] {
    return stepTree(id, this.dirOf(id));
  }

  /** The steps `sel` (a key, id or name) names; refused when there is none. */
  selectSteps(id: string, sel: string, nodes = this.tree(id)): StepNode[] {
    const found = selectSteps(nodes, sel);
    if (!found.length) throw new ApiError(404, `workflow ${id} has no step with key, id or name ${JSON.stringify(sel)}${this.command ? ` (\`${this.command} get ${id}\` lists them)` : ""}`);
    return found;
  }

  /**
   * `dflow download`: artifact `name` of the one step `sel` names (an output
   * artifact, else an input artifact) copied into `dir` by download_artifact
   * (a single-file artifact keeps the name of the file the step wrote, as in
   * dflow), with `method` (copy, link or symlink).
   */
  async download(id: string, sel: string, name: string, dir: string, opts: { method: string; skipExists?: boolean }): Promise<{ node: StepNode; paths: unknown }> {
    const nodes = this.selectSteps(id, sel);
    if (nodes.length > 1) throw new ApiError(400, `${nodes.length} steps of workflow ${id} are named ${JSON.stringify(sel)}: give a key or an id (${nodes.slice(0, 5).map((n) => n.step.key ?? n.step.id).join(", ")}${nodes.length > 5 ? ", …" : ""})`);
    const node = nodes[0]!;
    const step = node.step;
    const art = step.outputs.artifacts[name] ?? step.inputs.artifacts[name];
    if (!art) {
      const have = [...Object.keys(step.outputs.artifacts).map((a) => `output ${a}`), ...Object.keys(step.inputs.artifacts).map((a) => `input ${a}`)];
      throw new ApiError(404, `step ${label(node)} (${step.id}) has no artifact ${JSON.stringify(name)}${have.length ? ` (it has: ${have.join(", ")})` : " (it has none)"}`);
    }
    // Loaded when asked for: the server never downloads.
    const { downloadArtifact } = await import("../artifacts/upload.js");
    try {
      return { node, paths: await downloadArtifact(art, { path: dir, skip_exists: opts.skipExists }, opts.method) };
    } catch (e) {
      throw new ApiError(500, `cannot download ${name} of step ${label(node)}: ${(e as Error).message}`);
    }
  }

  /** Whether the engine running the workflow is alive (null: no engine ever recorded). */
  engineAlive(id: string): boolean | null {
    return engineAlive(this.dirOf(id));
  }

  /** The workflow's `status` file (Running, Succeeded, Failed), null if unreadable. */
  status(id: string): string | null {
    return readText(path.join(this.dirOf(id), "status"));
  }

  /**
   * The Pod steps whose logs to show (all of the workflow's, or those at or
   * below the steps `sel` names: refused when there is none), and whether
   * they have ended. The status is read before the steps: a log is complete
   * once its step's phase is final.
   */
  logSelection(id: string, sel?: string): LogSelection {
    const dir = this.dirOf(id);
    const wfDone = isFinal(readText(path.join(dir, "status")));
    const nodes = stepTree(id, dir);
    if (sel === undefined) return { pods: podsOf(nodes), done: wfDone, single: false };
    const found = this.selectSteps(id, sel, nodes);
    return {
      pods: podsOf(found),
      done: wfDone || found.every((n) => isFinal(n.step.phase)),
      single: found.length === 1 && found[0]!.step.type === "Pod",
    };
  }

  /** A workflow and its step tree (`dflow get --json`'s shape), plus its graph. */
  get(id: string): WorkflowDetailJson {
    return this.read(id).workflow;
  }

  /** get()'s answer and the nodes it was made from, in one reading of the steps (for a report). */
  read(id: string): { workflow: WorkflowDetailJson; nodes: StepNode[] } {
    const dir = this.dirOf(id);
    const { info, nodes } = snapshot(id, dir);
    return { workflow: { ...workflowJson(info), steps: nodes.map(nodeJson), graph: readGraph(dir) }, nodes };
  }

  private stepDir(id: string, stepId: string): { wfdir: string; dir: string } {
    const wfdir = this.dirOf(id);
    if (!ID.test(stepId)) throw new ApiError(400, `${JSON.stringify(stepId)} is not a step id`);
    const dir = path.join(wfdir, stepId);
    if (!fs.existsSync(path.join(dir, "type"))) throw new ApiError(404, `workflow ${id} has no step ${JSON.stringify(stepId)}`);
    return { wfdir, dir };
  }

  /** Everything about one step: its summary, parameters (values), artifacts, attempts, log, script and template. */
  step(id: string, stepId: string): StepDetailJson {
    const { wfdir } = this.stepDir(id, stepId);
    const node = findStep(id, wfdir, stepId);
    if (!node) throw new ApiError(404, `workflow ${id} has no step ${JSON.stringify(stepId)}`);
    return this.detail(wfdir, node, readGraph(wfdir));
  }

  /** step()'s answer for a node already read (a report details many steps of one tree). */
  detail(wfdir: string, node: StepNode, graph: WorkflowGraph | null): StepDetailJson {
    const s = node.step;
    const dir = s.dir;
    const base = { ...nodeJson(node), children: undefined };
    const rel = (p: string) => path.relative(wfdir, p);
    const io = (rec: typeof s.inputs): IOJson => ({
      parameters: Object.fromEntries(Object.values(rec.parameters).map((p) => [p.name, { value: p.value, type: p.type }])),
      artifacts: Object.fromEntries(
        Object.values(rec.artifacts).map((a) => {
          let target: string | null = null;
          try {
            target = fs.readlinkSync(a.local_path);
          } catch {
            // a plain file or directory (content artifacts)
          }
          return [a.name, { path: rel(a.local_path), target }];
        }),
      ),
    });
    const attempts: AttemptJson[] = [];
    const adir = path.join(dir, "attempts");
    let names: string[] = [];
    try {
      names = fs.readdirSync(adir).filter((n) => /^\d+$/.test(n));
    } catch {
      // no retries
    }
    for (const n of names.sort((a, b) => Number(a) - Number(b))) {
      const log = path.join(adir, n, "log.txt");
      attempts.push({ attempt: Number(n) + 1, message: readText(path.join(adir, n, "message")), log: fs.existsSync(log) ? rel(log) : null });
    }
    const pid = Number.parseInt(readText(path.join(dir, "pid")) ?? "", 10);
    return {
      ...base,
      inputs: io(s.inputs),
      outputs: io(s.outputs),
      attempts,
      log: s.type === "Pod" ? rel(s.log_path) : null,
      script: fs.existsSync(path.join(dir, "script")) ? rel(path.join(dir, "script")) : null,
      pid: Number.isInteger(pid) ? pid : null,
      job_ids: (readText(path.join(dir, "job_ids")) ?? "").split("\n").filter(Boolean),
      cluster: readCluster(dir),
      template: templateOf(graph, node),
    };
  }

  /** Up to `limit` bytes of a step's log from `offset` (a negative offset: the last -offset bytes); `file`: another log of the step's directory (a sidecar's). */
  log(id: string, stepId: string, offset = 0, limit = 1 << 20, file = "log.txt"): LogChunkJson {
    const { dir } = this.stepDir(id, stepId);
    const phase = readText(path.join(dir, "phase"));
    const done = isFinal(phase);
    // A new attempt starts the log over (shorter than the offset): read it from its start.
    const got = readLogBytes(path.join(dir, file), (size) => (offset < 0 ? size + offset : offset > size ? 0 : offset), limit);
    if (!got) return { text: "", offset: 0, size: 0, done };
    const end = wholeCharacters(got.bytes);
    return { text: got.bytes.subarray(0, end).toString("utf8"), offset: got.from + end, size: got.size, done };
  }

  /**
   * A file or directory of a workflow, `rel` to its directory (artifact links
   * resolved). Refused: anything that leaves the workflow directory (or the
   * local artifact repository, where an Argo run's artifacts are) as
   * written, or whose real path (symlinks resolved) is outside the work
   * directory and the artifact root.
   */
  file(id: string, rel: string): FileInfo {
    const wfdir = this.dirOf(id);
    if (rel.includes("\0")) throw new ApiError(400, "a path may not contain a NUL byte");
    if (path.isAbsolute(rel)) throw new ApiError(403, `${rel}: absolute paths are refused; give a path inside workflow ${id}`);
    const abs = path.resolve(wfdir, rel);
    // An Argo run's artifacts are in the work directory's local repository, beside the workflow (step detail names them so).
    if (!isUnder(abs, wfdir) && !isUnder(abs, repositoryOf(wfdir))) throw new ApiError(403, `${rel}: outside workflow ${id}`);
    let real: string;
    try {
      real = fs.realpathSync(abs);
    } catch {
      throw new ApiError(404, `${rel}: no such file in workflow ${id}`);
    }
    if (!this.servable.some((r) => isUnder(real, r))) throw new ApiError(403, `${rel}: leads outside the work directory and the artifact root (to ${real})`);
    const st = fs.statSync(real);
    const name = path.basename(abs);
    if (st.isFile()) return { kind: "file", abs: real, size: st.size, name };
    if (!st.isDirectory()) throw new ApiError(403, `${rel}: not a regular file or directory`);
    const entries = fs.readdirSync(real, { withFileTypes: true }).map((e) => {
      let size: number | null = null;
      let type: "file" | "dir" | "link" | "other" = e.isDirectory() ? "dir" : e.isFile() ? "file" : e.isSymbolicLink() ? "link" : "other";
      try {
        const t = fs.statSync(path.join(real, e.name));
        if (e.isSymbolicLink()) type = t.isDirectory() ? "dir" : t.isFile() ? "file" : "other";
        if (t.isFile()) size = t.size;
      } catch {
        // a dangling link
      }
      return { name: e.name, type, size };
    });
    entries.sort((a, b) => (a.type === "dir" ? 0 : 1) - (b.type === "dir" ? 0 : 1) || a.name.localeCompare(b.name));
    return { kind: "dir", abs: real, name, entries };
  }

  // ------------------------------------------------------------ control

  /** `dflow stop`. */
  async stop(id: string, by = "dflow ui"): Promise<string> {
    try {
      const r = await terminateWorkflow(this.dirOf(id), by, "stopped");
      return r.outcome === "stopped" ? `Workflow ${id} stopped` : r.outcome === "cleaned" ? `Workflow ${id} stopped (its engine was already gone)` : `Workflow ${id} is not running (${r.status})`;
    } catch (e) {
      throw e instanceof DflowConfigError ? new ApiError(409, e.message) : e;
    }
  }

  /** `dflow suspend`. */
  suspend(id: string, by = "dflow ui"): string {
    try {
      return suspendWorkflow(this.dirOf(id), by) ? `Workflow ${id} suspended` : `Workflow ${id} was already suspended`;
    } catch (e) {
      throw e instanceof DflowConfigError ? new ApiError(409, e.message) : e;
    }
  }

  /** `dflow resume`. */
  resume(id: string): string {
    const dir = this.dirOf(id);
    const resumed = resumeWorkflow(dir);
    // A running Argo suspend node whose wait is only about to begin is resumed too (resumeWorkflow): say so.
    const starting = !resumed && fs.existsSync(path.join(dir, WORKFLOW_FILE)) && engineAlive(dir) !== false && [...readNodes(dir).values()].some((n) => n.type === "Suspend" && n.phase === "Running");
    return resumed || starting ? `Workflow ${id} resumed` : `Workflow ${id} was not suspended`;
  }

  /** Refused (409) unless delete() would delete the workflow: `dflow delete a b` checks every id first. */
  checkDeletable(id: string, force = false): void {
    try {
      checkDeletable(this.dirOf(id), { force, forceHint: this.forceHint });
    } catch (e) {
      throw e instanceof DflowConfigError ? new ApiError(409, e.message) : e;
    }
  }

  /** `dflow delete [--force]`. */
  async delete(id: string, force = false, by = "dflow ui"): Promise<string> {
    const dir = this.dirOf(id);
    try {
      checkDeletable(dir, { force, forceHint: this.forceHint });
      await deleteWorkflow(dir, { force, forceHint: this.forceHint, by });
    } catch (e) {
      throw e instanceof DflowConfigError ? new ApiError(409, e.message) : e;
    }
    this.ended.delete(id);
    return `Workflow ${id} deleted`;
  }

  /** How a refusal names the option that deletes a running workflow anyway. */
  private get forceHint(): string {
    return this.command ? "--force" : "force";
  }

  /** Whether `id` is an Argo run (`dflow run wf.yaml`, the Argo Server API): rerun by rerunArgo, not by its script. */
  isArgo(id: string): boolean {
    return readTextOrSync(path.join(this.dirOf(id), "type"), "").trim() === "Argo";
  }

  /**
   * `dflow retry` / `resubmit` of an Argo run, in this process as `dflow run
   * wf.yaml` runs a manifest: retry continues it in its directory (its
   * succeeded nodes kept), resubmit runs the same workflow as a new one.
   * Both run the workflow as it ran (kept with the run), not the files now.
   */
  async rerunArgo(id: string, how: "retry" | "resubmit", log: (line: string) => void, o: ArgoRerun = {}): Promise<{ id: string; phase: string; message?: string }> {
    this.refuseRetryWhileRunning(id, this.dirOf(id), how);
    const argo = await import("../argo/index.js");
    try {
      // `argo retry --restart-successful --node-field-selector`: those succeeded nodes run again too.
      const { argoRestart, ArgoApiError } = await import("./argo-nodes.js");
      let restart: ReturnType<typeof argoRestart> | undefined;
      try {
        restart = o.restartSelector === undefined ? undefined : argoRestart(o.restartSelector);
      } catch (e) {
        throw e instanceof ArgoApiError ? new ApiError(400, e.message) : e;
      }
      const r = how === "retry" ? await argo.retryArgoWorkflow(id, { log, restart }) : await argo.resubmitArgoWorkflow(id, { log, memoized: o.memoized });
      return { id: r.id, phase: r.phase, ...(r.message ? { message: r.message } : {}) };
    } catch (e) {
      if (e instanceof DflowConfigError) throw new ApiError(409, e.message);
      throw e;
    }
  }

  /** A retry continues the workflow in its directory: refused (409) while an engine runs it. */
  private refuseRetryWhileRunning(id: string, dir: string, how: "retry" | "resubmit"): void {
    const lock = readLock(dir);
    if (how === "retry" && lock && lockAlive(lock)) {
      throw new ApiError(409, `workflow ${id} is being run by engine pid ${lock.pid} on ${lock.host} (since ${lock.started}); stop it first${this.command ? ` with \`${this.command} stop ${id}\`` : ""}`);
    }
  }

  /**
   * What `dflow retry` (the workflow continues in its directory) or `dflow
   * resubmit` (a new workflow reusing its succeeded keyed steps) runs: the
   * script that ran it, as recorded then. Refused (409) while its engine runs
   * (retry), or without that record.
   */
  rerunPlan(id: string, how: "retry" | "resubmit"): RerunPlan {
    const dir = this.dirOf(id);
    this.refuseRetryWhileRunning(id, dir, how);
    const info = readRunInfo(dir);
    const env = how === "retry" ? "DFLOW_RESUME_ID" : "DFLOW_REUSE_FROM";
    if (!info) {
      const instead = this.command ? `${how === "retry" ? "re-run" : "run"} that script with ${env}=${id}` : `so it cannot be ${how === "retry" ? "retried" : "resubmitted"} from here`;
      throw new ApiError(409, `workflow ${id} has no record of the script that ran it (${dir}/.engine/run.json)${this.command ? ";" : ","} ${instead}`);
    }
    return { script: info.script, args: info.args, cwd: info.cwd, env: { ...info.env, [env]: id } };
  }

  /**
   * `dflow retry <id> --detach` or `dflow resubmit <id> --detach`, run as
   * the CLI runs them (the same command in a child process), so that the
   * workflow's engine is not this server. Resolves once the workflow has
   * started in the background, with what the command printed and the id of
   * the workflow that runs (a new one for resubmit).
   */
  async rerun(id: string, how: "retry" | "resubmit", o: ArgoRerun = {}): Promise<{ message: string; id: string | null }> {
    if (this.isArgo(id)) return this.rerunArgoInBackground(id, how, o);
    // Refused here already (409, not the command's output) when the command would refuse.
    this.rerunPlan(id, how);
    const cli = cliPath();
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [cli, how, id, "--detach"], { cwd: this.root, env: { ...process.env, DFLOW_DEBUG_WORKDIR: this.root }, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (out += d.toString()));
      child.on("error", reject);
      child.on("close", (code) => {
        if (code !== 0) return reject(new ApiError(409, out.trim() || `dflow ${how} ${id} ended with status ${code}`));
        // The workflow that now runs: the same one for retry, a new one for resubmit.
        resolve({ message: out.trim(), id: /^Workflow (\S+) is running/m.exec(out)?.[1] ?? null });
      });
    });
  }

  /**
   * The UI's retry/resubmit of an Argo run: `dflow retry|resubmit <id>` (an
   * Argo run's rerun is in the foreground) in a process of its own, left
   * running; resolves once its workflow has started, with the command's
   * output so far. Its output goes on in a file of the system's temp folder.
   */
  private async rerunArgoInBackground(id: string, how: "retry" | "resubmit", o: ArgoRerun): Promise<{ message: string; id: string | null }> {
    this.refuseRetryWhileRunning(id, this.dirOf(id), how);
    const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-rerun-")), "output.log");
    const out = fs.openSync(log, "a");
    const restart = [...(o.restartSelector === undefined ? [] : ["--restart-successful", "--node-field-selector", o.restartSelector]), ...(o.memoized ? ["--memoized"] : [])];
    const child = spawn(process.execPath, [cliPath(), how, id, ...restart], { cwd: this.root, env: { ...process.env, DFLOW_DEBUG_WORKDIR: this.root }, detached: true, stdio: ["ignore", out, out] });
    fs.closeSync(out);
    child.unref();
    let exited: number | null = null;
    child.on("exit", (code) => (exited = code ?? 1));
    for (let waited = 0; waited < 120_000; waited += 100) {
      const text = readTextOrSync(log, "");
      const started = /Workflow is running locally \(ID: (\S+)\)/.exec(text);
      if (started) return { message: `${text.trim()}\n(its output goes on in ${log})`, id: started[1]! };
      if (exited !== null) throw new ApiError(409, text.trim() || `dflow ${how} ${id} ended with status ${exited}`);
      await sleep(100);
    }
    throw new ApiError(500, `dflow ${how} ${id} did not start a workflow within 120 s (process ${child.pid}; its output is in ${log})`);
  }
}
