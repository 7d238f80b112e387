// The one API through which façades read and control the workflows of a work
// directory: the `dflow ui` server calls it for every request, and reports
// are made from it. Reading goes through read.ts (the step directories are
// the only truth), control through control.ts and the CLI's own commands, so
// that a button in the UI does exactly what the command does.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { checkDeletable, deleteWorkflow, suspendWorkflow, resumeWorkflow, terminateWorkflow } from "../control.js";
import { lockAlive, readLock, readRunInfo } from "../store/engine-dir.js";
import { isUnder, readTextOrSync } from "../store/fsx.js";
import { type GraphStep, type WorkflowGraph, readGraph } from "../store/graph.js";
import { DflowConfigError } from "../../src/errors.js";
import { type ClusterRecord, readCluster } from "../executors/where-ran.js";
import { type StepNode, findStep, isFinal, listWorkflowDirs, nodeJson, readWorkflow, snapshot, workflowJson } from "./read.js";

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

export type WorkflowJson = ReturnType<typeof workflowJson>;

export interface IOJson {
  parameters: Record<string, { value: unknown; type: string | null }>;
  /** Artifact name -> where it is: `path` relative to the workflow directory (for /files), `target` the link's own target. */
  artifacts: Record<string, { path: string; target: string | null }>;
}

export interface AttemptJson {
  attempt: number;
  message: string | null;
  /** Relative to the workflow directory, when the attempt kept a log. */
  log: string | null;
}

export interface StepDetail extends Record<string, unknown> {
  inputs: IOJson;
  outputs: IOJson;
  /** Earlier attempts (retries): their reason and log. */
  attempts: AttemptJson[];
  /** Relative to the workflow directory: log.txt of the step (Pod steps). */
  log: string | null;
  /** Relative to the workflow directory: the script the step ran. */
  script: string | null;
  pid: number | null;
  /** Cluster job ids of a remote step, oldest first. */
  job_ids: string[];
  /** Where a remote step's job ran (scheduler, host, remote directory); null for a local step. */
  cluster: ClusterRecord | null;
  /** The name of the template the step ran, from the workflow's graph (null when not recorded). */
  template: string | null;
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

export interface LogChunk {
  text: string;
  /** Where the next read starts (bytes). */
  offset: number;
  size: number;
  /** The step has ended: nothing more will be written. */
  done: boolean;
}

export type FileInfo = { kind: "file"; abs: string; size: number; name: string } | { kind: "dir"; abs: string; name: string; entries: Array<{ name: string; type: "file" | "dir" | "link" | "other"; size: number | null }> };

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const readText = (file: string): string | null => readTextOrSync(file, null);

export class WorkflowStore {
  readonly root: string;
  /** Directories files may be served from (after resolving symlinks): the work directory and the artifact root. */
  private readonly servable: string[];
  /** Ended workflows do not change until their status does: id -> [status mtime, summary]. */
  private readonly ended = new Map<string, [number, WorkflowJson]>();

  constructor(root: string, opts: { artifactRoot?: string } = {}) {
    this.root = path.resolve(root);
    const roots = [this.root, path.resolve(opts.artifactRoot ?? this.root)];
    this.servable = [...new Set(roots.map((r) => (fs.existsSync(r) ? fs.realpathSync(r) : r)))];
  }

  /** The directory of workflow `id`: refused unless it is a plain name of a workflow directly under the root. */
  dirOf(id: string): string {
    if (!ID.test(id)) throw new ApiError(400, `${JSON.stringify(id)} is not a workflow id`);
    const dir = path.join(this.root, id);
    if (!fs.existsSync(path.join(dir, "status"))) throw new ApiError(404, `no workflow ${JSON.stringify(id)} in ${this.root}`);
    return dir;
  }

  list(filter: WorkflowFilter = {}): WorkflowJson[] {
    const name = filter.name?.toLowerCase();
    const status = filter.status?.toLowerCase();
    const out: WorkflowJson[] = [];
    const seen = new Set<string>();
    for (const { id, dir } of listWorkflowDirs(this.root)) {
      seen.add(id);
      if (name && !id.toLowerCase().includes(name)) continue;
      const w = this.summary(id, dir);
      if (status && String(w.status).toLowerCase() !== status) continue;
      out.push(w);
    }
    for (const id of this.ended.keys()) if (!seen.has(id)) this.ended.delete(id);
    return out.sort((a, b) => String(b.started ?? "").localeCompare(String(a.started ?? "")) || String(a.id).localeCompare(String(b.id)));
  }

  /** A workflow's summary (`dflow list --json`'s shape). */
  summary(id: string, dir = this.dirOf(id)): WorkflowJson {
    let mtime = -1;
    try {
      mtime = fs.statSync(path.join(dir, "status")).mtimeMs;
    } catch {
      // gone meanwhile: read below gives Unknown
    }
    const cached = this.ended.get(id);
    if (cached && cached[0] === mtime) return cached[1];
    const w = workflowJson(readWorkflow(id, dir));
    if (isFinal(w.status as string) && mtime >= 0) this.ended.set(id, [mtime, w]);
    else this.ended.delete(id);
    return w;
  }

  /** A workflow and its step tree (`dflow get --json`'s shape), plus its graph. */
  get(id: string): WorkflowJson & { steps: ReturnType<typeof nodeJson>[]; graph: WorkflowGraph | null } {
    return this.read(id).workflow;
  }

  /** get()'s answer and the nodes it was made from, in one reading of the steps (for a report). */
  read(id: string): { workflow: ReturnType<WorkflowStore["get"]>; nodes: StepNode[] } {
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
  step(id: string, stepId: string): StepDetail {
    const { wfdir } = this.stepDir(id, stepId);
    const node = findStep(id, wfdir, stepId);
    if (!node) throw new ApiError(404, `workflow ${id} has no step ${JSON.stringify(stepId)}`);
    return this.detail(wfdir, node, readGraph(wfdir));
  }

  /** step()'s answer for a node already read (a report details many steps of one tree). */
  detail(wfdir: string, node: StepNode, graph: WorkflowGraph | null): StepDetail {
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

  /** Up to `limit` bytes of a step's log from `offset` (a negative offset: the last -offset bytes). */
  log(id: string, stepId: string, offset = 0, limit = 1 << 20): LogChunk {
    const { dir } = this.stepDir(id, stepId);
    const phase = readText(path.join(dir, "phase"));
    const done = isFinal(phase);
    let fd: number;
    try {
      fd = fs.openSync(path.join(dir, "log.txt"), "r");
    } catch {
      return { text: "", offset: 0, size: 0, done };
    }
    try {
      const size = fs.fstatSync(fd).size;
      let from = offset < 0 ? Math.max(0, size + offset) : Math.min(offset, size);
      // A new attempt starts the log over: read it from its start.
      if (offset > size) from = 0;
      const len = Math.min(limit, size - from);
      const buf = Buffer.alloc(len);
      const got = len > 0 ? fs.readSync(fd, buf, 0, len, from) : 0;
      // Stop before a character cut in two; its rest comes with the next read.
      let end = got;
      let k = got - 1;
      while (k >= 0 && got - k < 4 && (buf[k]! & 0xc0) === 0x80) k--;
      if (k >= 0) {
        const lead = buf[k]!;
        const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
        if (got - k < need) end = k;
      }
      return { text: buf.subarray(0, end).toString("utf8"), offset: from + end, size, done };
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * A file or directory of a workflow, `rel` to its directory (artifact links
   * resolved). Refused: anything that leaves the workflow directory as
   * written, or whose real path (symlinks resolved) is outside the work
   * directory and the artifact root.
   */
  file(id: string, rel: string): FileInfo {
    const wfdir = this.dirOf(id);
    if (rel.includes("\0")) throw new ApiError(400, "a path may not contain a NUL byte");
    if (path.isAbsolute(rel)) throw new ApiError(403, `${rel}: absolute paths are refused; give a path inside workflow ${id}`);
    const abs = path.resolve(wfdir, rel);
    if (!isUnder(abs, wfdir)) throw new ApiError(403, `${rel}: outside workflow ${id}`);
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

  suspend(id: string, by = "dflow ui"): string {
    try {
      return suspendWorkflow(this.dirOf(id), by) ? `Workflow ${id} suspended` : `Workflow ${id} was suspended already`;
    } catch (e) {
      throw e instanceof DflowConfigError ? new ApiError(409, e.message) : e;
    }
  }

  resume(id: string): string {
    return resumeWorkflow(this.dirOf(id)) ? `Workflow ${id} resumed` : `Workflow ${id} was not suspended`;
  }

  /** `dflow delete [--force]`. */
  async delete(id: string, force = false, by = "dflow ui"): Promise<string> {
    const dir = this.dirOf(id);
    try {
      checkDeletable(dir, { force, forceHint: "force" });
      await deleteWorkflow(dir, { force, forceHint: "force", by });
    } catch (e) {
      throw e instanceof DflowConfigError ? new ApiError(409, e.message) : e;
    }
    this.ended.delete(id);
    return `Workflow ${id} deleted`;
  }

  /**
   * `dflow retry <id> --detach` or `dflow resubmit <id> --detach`, run as
   * the CLI runs them (the same command in a child process), so that the
   * workflow's engine is not this server. Resolves once the workflow has
   * started in the background, with what the command printed and the id of
   * the workflow that runs (a new one for resubmit).
   */
  async rerun(id: string, how: "retry" | "resubmit"): Promise<{ message: string; id: string | null }> {
    const dir = this.dirOf(id);
    const lock = readLock(dir);
    if (how === "retry" && lock && lockAlive(lock)) throw new ApiError(409, `workflow ${id} is being run by engine pid ${lock.pid}: stop it first`);
    if (!readRunInfo(dir)) throw new ApiError(409, `workflow ${id} has no record of the script that ran it (${dir}/.engine/run.json), so it cannot be ${how === "retry" ? "retried" : "resubmitted"} from here`);
    // dist/engine/api/ -> dist/src/cli.js; from the sources (tests), the built one beside them.
    const cli = [new URL("../../src/cli.js", import.meta.url), new URL("../../dist/src/cli.js", import.meta.url)].map((u) => fileURLToPath(u)).find((f) => fs.existsSync(f));
    if (!cli) throw new ApiError(500, "the dflow command is not built (dist/src/cli.js): run `npm run build`");
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
}
