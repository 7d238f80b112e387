// Argo nodes on disk, in the engine's layout: each node is a step directory
// of <wfdir> (name = display name, type, phase, message, inputs/outputs
// parameter files, log.txt for pods) so `dflow list/get/logs/ui` see it,
// plus node.json with what Argo's status.nodes entry holds (full node name,
// template, children, outputs.result, exit code). The workflow directory
// gets status/type as for any workflow and argo.json (phase, message,
// outputs, labels). engine/argo/nodes.ts reads them back.
import fs from "node:fs";
import path from "node:path";
import type { PV } from "../context.js";
import { writeParameters } from "../step-dir.js";
import { isUnder, rand5, readTextOrSync, writeAtomicSync } from "../store/fsx.js";

export type NodePhase = "Pending" | "Running" | "Succeeded" | "Failed" | "Error" | "Skipped" | "Omitted";

export interface NodeParam {
  name: string;
  value?: string;
  description?: string;
}

export interface NodeArtifact {
  name: string;
  path?: string;
  key?: string;
  /** Its garbage collection, when it has one that deletes (gc.ts). */
  artifactGC?: { strategy: string };
  /** Deleted by garbage collection. */
  deleted?: boolean;
}

export interface ArgoNode {
  id: string;
  name: string;
  displayName: string;
  type: string;
  templateName?: string;
  phase: NodePhase;
  message?: string;
  boundaryID?: string;
  children: string[];
  startedAt: string;
  finishedAt?: string;
  inputs?: { parameters?: NodeParam[]; artifacts?: NodeArtifact[] };
  outputs?: { parameters?: NodeParam[]; artifacts?: NodeArtifact[]; result?: string; exitCode?: string };
  memoizationStatus?: { hit: boolean; key: string; cacheName: string };
  /** A pod's "<current>/<total>", recorded when it ends (podProgress); others' are summed when read. */
  progress?: string;
  /** A daemon running and ready (Argo's `daemoned`): its step is done for those after it. */
  daemoned?: boolean;
  /** A DAG's tasks' (a container set's containers') dependencies, by name: Argo's graph is drawn from them (graph.ts). */
  dependencies?: Record<string, string[]>;
  /** A DAG's target tasks (its `target`, else the tasks nothing depends on), whose outbound nodes are the DAG's. */
  targets?: string[];
}

export interface WorkflowRecord {
  name: string;
  phase: string;
  message?: string;
  startedAt: string;
  finishedAt?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  outputs?: { parameters?: NodeParam[]; artifacts?: NodeArtifact[] };
}

export const NODE_FILE = "node.json";
/** The local artifact repository of a work directory, beside its workflows: where Argo runs keep every artifact under its key. */
export const ARGO_REPOSITORY = ".argo-artifacts";

/** The local artifact repository of the work directory that holds the workflow directory `wfdir`. */
export function repositoryOf(wfdir: string): string {
  return path.join(path.dirname(path.resolve(wfdir)), ARGO_REPOSITORY);
}

/** The file of `key` in the repository `repo`; null for a key that names none (empty) or leads out of it (`../`), as no S3 key can. */
export function keyFile(repo: string, key: string): string | null {
  const file = path.resolve(repo, key);
  return file !== repo && isUnder(file, repo) ? file : null;
}
/** The file in a pod's node directory its ARGO_PROGRESS_FILE names. */
export const PROGRESS_FILE = "progress";

/**
 * A pod's progress as Argo keeps it: what the pod last wrote to its
 * ARGO_PROGRESS_FILE ("<current>/<total>", dflow's OPs write it), else 0/1;
 * complete (total/total) once it succeeded.
 */
export function podProgress(podDir: string, phase: NodePhase): [number, number] {
  const m = /^(\d+)\/(\d+)$/.exec(readTextOrSync(path.join(podDir, PROGRESS_FILE), "").trim());
  const total = m && Number(m[2]) > 0 ? Number(m[2]) : 1;
  if (phase === "Succeeded") return [total, total];
  return [m ? Math.min(Number(m[1]), total) : 0, total];
}
export const WORKFLOW_FILE = "argo.json";

const now = () => new Date().toISOString();

export class NodeStore {
  readonly nodes = new Map<string, ArgoNode>();
  private readonly top: string[] = [];
  private readonly dirty = new Set<ArgoNode>();
  constructor(
    readonly wfid: string,
    readonly wfdir: string,
  ) {}

  /** A node directory named like the engine's step directories: <wfid>-<slug>-<n>. */
  create(init: Omit<ArgoNode, "id" | "children" | "startedAt"> & { children?: string[] }, parent?: ArgoNode): ArgoNode {
    const shown = init.displayName.startsWith(this.wfid) ? init.displayName.slice(this.wfid.length) : init.displayName;
    const slug = shown.replace(/[^a-zA-Z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40) || "node";
    let id = init.name === this.wfid ? this.wfid : "";
    while (!id || this.nodes.has(id)) id = `${this.wfid}-${slug}-${rand5()}`;
    // Argo's boundaryID: the Steps or DAG node whose template the node is part of (the argo CLI draws its tree by it),
    // or a container's pod (container_set_template.go).
    const boundaryID = parent ? (parent.type === "Steps" || parent.type === "DAG" || init.type === "Container" ? parent.id : parent.boundaryID) : undefined;
    const node: ArgoNode = { ...init, id, ...(boundaryID ? { boundaryID } : {}), children: init.children ?? [], startedAt: now() };
    this.attach(node, parent);
    this.save(node);
    return node;
  }

  /** A node under `parent` (or the workflow): a new one (create), or a retry's that succeeded in an earlier run, kept as it is. */
  attach(node: ArgoNode, parent?: ArgoNode): void {
    this.nodes.set(node.id, node);
    if (parent) {
      parent.children.push(node.id);
      this.saveSoon(parent);
    } else {
      // The root node, the exit handler and workflow hooks: children of the workflow directory.
      this.top.push(node.id);
      writeAtomicSync(path.join(this.wfdir, "children"), JSON.stringify(Object.fromEntries(this.top.map((c, i) => [String(i), c]))));
    }
  }

  dir(node: ArgoNode): string {
    return path.join(this.wfdir, node.id);
  }

  finish(node: ArgoNode, phase: NodePhase, message?: string): void {
    node.phase = phase;
    if (message !== undefined) node.message = message;
    node.finishedAt = now();
    // Read once here, so that status readers need not open every pod's progress file each time.
    if (node.type === "Pod") node.progress = podProgress(this.dir(node), phase).join("/");
    this.save(node);
  }

  /**
   * A parent gaining children is saved once per turn of the event loop, not
   * once per child: a loop of n items would otherwise rewrite its parent's
   * children n times (n² entries written).
   */
  private saveSoon(node: ArgoNode): void {
    if (this.dirty.size === 0) {
      setImmediate(() => {
        const nodes = [...this.dirty];
        this.dirty.clear();
        for (const n of nodes) this.save(n);
      });
    }
    this.dirty.add(node);
  }

  save(node: ArgoNode): void {
    this.dirty.delete(node);
    const dir = this.dir(node);
    let last = this.written.get(node);
    if (!last) {
      fs.mkdirSync(dir, { recursive: true });
      this.written.set(node, (last = {}));
    }
    writeAtomicSync(path.join(dir, NODE_FILE), JSON.stringify(node));
    // The engine's files of a step directory, each written again only when it changes: a rename over
    // an existing file costs about a millisecond here (ext4 flushes the new file's data first), and
    // a pod's node is saved three or four times (created, running, outputs, finished).
    this.put(dir, last, "name", node.displayName);
    this.put(dir, last, "type", node.type);
    this.put(dir, last, "phase", node.phase);
    if (node.message) this.put(dir, last, "message", `${node.message}\n`);
    // The children file of the engine's layout: order -> step directory.
    if (node.children.length) this.put(dir, last, "children", JSON.stringify(Object.fromEntries(node.children.map((c, i) => [String(i), c]))));
  }

  /** What save() last wrote of each node's small files (this process is their one writer while it runs). */
  private readonly written = new WeakMap<ArgoNode, Record<string, string>>();

  private put(dir: string, last: Record<string, string>, file: string, text: string): void {
    if (last[file] === text) return;
    writeAtomicSync(path.join(dir, file), text);
    last[file] = text;
  }

  /** Parameter files, as for the engine's steps. */
  async writeParams(node: ArgoNode, io: "inputs" | "outputs", params: NodeParam[]): Promise<void> {
    const dir = this.dir(node);
    for (const sub of ["parameters", "artifacts"]) fs.mkdirSync(path.join(dir, io, sub), { recursive: true });
    const m = new Map<string, PV>();
    for (const p of params) if (p.value !== undefined) m.set(p.name, { value: p.value, type: null });
    await writeParameters(dir, io, m);
  }

  writeWorkflow(rec: WorkflowRecord): void {
    writeAtomicSync(path.join(this.wfdir, WORKFLOW_FILE), JSON.stringify(rec));
  }
}

/** An Argo run's workflow record (its phase, message, times, global outputs); null when the directory holds no Argo run. */
export function readWorkflowRecord(wfdir: string): WorkflowRecord | null {
  const rec = readTextOrSync(path.join(wfdir, WORKFLOW_FILE), null);
  return rec === null ? null : (JSON.parse(rec) as WorkflowRecord);
}

/** The nodes written in a workflow directory (an earlier run's, for a retry), by id. */
export function readNodes(wfdir: string): Map<string, ArgoNode> {
  const out = new Map<string, ArgoNode>();
  for (const e of fs.readdirSync(wfdir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    // Not a node's directory (.engine), or one whose node.json was never written.
    const text = readTextOrSync(path.join(wfdir, e.name, NODE_FILE), null);
    if (text === null) continue;
    const n = JSON.parse(text) as ArgoNode;
    out.set(n.id, n);
  }
  return out;
}

export { now as timestamp };
