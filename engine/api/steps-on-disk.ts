// Reading a workflow back from disk (spec §8.2): step records with phase,
// key, decoded parameters and artifact paths, and the workflow's global
// outputs. Works from any process. An Argo run (`dflow run wf.yaml`) is read
// the same way: its nodes are step directories, and their artifacts, which
// its node.json names by key, are in the work directory's local artifact
// repository (engine/argo/store.ts, nodes.ts read them).
import fs from "node:fs";
import path from "node:path";
import { readArgoStatus } from "../argo/nodes.js";
import { type ArgoNode, type NodeArtifact, WORKFLOW_FILE, keyFile, readNodes, repositoryOf } from "../argo/store.js";
import { readTextOrSync } from "../store/fsx.js";
import { decodeValue } from "../store/values.js";

/** The phases a step ends in. */
export const FINAL_PHASES = new Set(["Succeeded", "Failed", "Error", "Skipped", "Omitted"]);

export interface ParameterRecord {
  name: string;
  value: unknown;
  type: string | null;
}

export interface ArtifactRecord {
  name: string;
  /** The link in the step directory (inputs|outputs/artifacts/<name>). */
  local_path: string;
}

export interface IORecord {
  parameters: Record<string, ParameterRecord>;
  artifacts: Record<string, ArtifactRecord>;
}

/** One step as found on disk (dflow's ArgoStep in debug mode). */
export class ArgoStep {
  workflow!: string;
  /** The step's name (the `name` file). */
  displayName!: string;
  /** The step directory's name. */
  id!: string;
  key!: string | null;
  phase!: string;
  type!: string;
  /**
   * Seconds since the epoch when the step started: when its `name` file was
   * written (dflow reports the directory's mtime, which moves with every
   * file added, Q20).
   */
  startedAt!: number;
  /** When the step got its final phase (the `phase` file's last write), or null while it runs. */
  finishedAt!: number | null;

  /** Seconds from start to finish (to now while running). */
  get duration(): number {
    return (this.finishedAt ?? Date.now() / 1000) - this.startedAt;
  }
  inputs!: IORecord;
  outputs!: IORecord;
  children!: Record<string, string>;
  /** Why the step failed, when it did. */
  message!: string | null;
  /** "<current>/<total>" as the OP last reported it, or null. */
  progress!: string | null;
  /** The step directory. */
  dir!: string;

  /** Change an output parameter before reusing this step (submit({ reuse_step })). */
  modify_output_parameter(name: string, value: unknown): void {
    const old = this.outputs.parameters[name];
    this.outputs.parameters[name] = { name, value, type: old?.type ?? null };
  }

  /** Point an output artifact elsewhere (e.g. an upload_artifact result) before reusing this step. */
  modify_output_artifact(name: string, artifact: { local_path: string }): void {
    this.outputs.artifacts[name] = { name, local_path: artifact.local_path };
  }

  /** Path of the step's log (Pod steps). */
  get log_path(): string {
    return path.join(this.dir, "log.txt");
  }
}

function readParameter(pdir: string, n: string): ParameterRecord {
  const text = fs.readFileSync(path.join(pdir, n), "utf8");
  const side = readTextOrSync(path.join(pdir, ".dflow", n), null);
  const type = side ? ((JSON.parse(side) as { type?: string }).type ?? null) : null;
  return { name: n, value: decodeValue(text, type), type };
}

/**
 * The Argo nodes of a workflow directory by id (readNodes), read when first
 * asked for and then kept; null for a workflow that is not an Argo run. One
 * of them is shared by the steps of one reading (a tree, a query), so that a
 * workflow's nodes are read once, not once per step.
 */
export type ArgoNodes = () => ReadonlyMap<string, ArgoNode> | null;

export function argoNodesOf(wfdir: string): ArgoNodes {
  let nodes: ReadonlyMap<string, ArgoNode> | null | undefined;
  return () => {
    if (nodes === undefined) {
      try {
        nodes = fs.existsSync(path.join(wfdir, WORKFLOW_FILE)) ? readNodes(wfdir) : null;
      } catch {
        nodes = null; // gone meanwhile
      }
    }
    return nodes;
  };
}

/**
 * An Argo artifact as a step's artifact record: its file in the work directory's local repository,
 * where an Argo run keeps it as the pod wrote it (not archived); none without a key or with one
 * that leads out of it.
 */
function argoArtifact(wfdir: string, a: NodeArtifact): ArtifactRecord | null {
  // Deleted by the run's artifact garbage collection: there is nothing to read or download.
  if (a.key === undefined || a.deleted) return null;
  const file = keyFile(repositoryOf(wfdir), a.key);
  return file === null ? null : { name: a.name, local_path: file };
}

function readIO(dir: string, io: "inputs" | "outputs", argo?: ArgoNodes): IORecord {
  const rec: IORecord = { parameters: {}, artifacts: {} };
  const pdir = path.join(dir, io, "parameters");
  let names: string[] = [];
  try {
    names = fs.readdirSync(pdir).filter((n) => n !== ".dflow" && !n.startsWith("."));
  } catch {
    // none
  }
  for (const n of names) rec.parameters[n] = readParameter(pdir, n);
  const adir = path.join(dir, io, "artifacts");
  try {
    for (const n of fs.readdirSync(adir)) rec.artifacts[n] = { name: n, local_path: path.join(adir, n) };
  } catch {
    // none
  }
  // An Argo node's artifacts are not linked in its directory: node.json names their keys.
  const node = argo?.()?.get(path.basename(dir));
  for (const a of node?.[io]?.artifacts ?? []) {
    const art = rec.artifacts[a.name] ? null : argoArtifact(path.dirname(dir), a);
    if (art) rec.artifacts[a.name] = art;
  }
  return rec;
}

/** `obj[name]` read by `load` when first asked for (and then kept); an assignment replaces it. */
function lazy<T extends object>(obj: T, name: keyof T & string, load: () => unknown): void {
  const own = (value: unknown) => Object.defineProperty(obj, name, { value, writable: true, enumerable: true, configurable: true });
  Object.defineProperty(obj, name, {
    enumerable: true,
    configurable: true,
    get() {
      const v = load();
      own(v);
      return v;
    },
    set(v: unknown) {
      own(v);
    },
  });
}

/**
 * A step as on disk. `lazyIO`: its parameters and artifacts are read when
 * first asked for, not now (a tree of 10,000 steps for a page or `dflow get`
 * needs their phases, not their values); the key is read either way.
 * `argo`: the nodes of its workflow when it is an Argo run, shared by the
 * steps read together (else read for this step when its artifacts are).
 */
export function readStep(wfid: string, dir: string, opts: { lazyIO?: boolean; argo?: ArgoNodes } = {}): ArgoStep | null {
  const name = readTextOrSync(path.join(dir, "name"), null);
  const type = readTextOrSync(path.join(dir, "type"), null);
  if (name === null || type === null) return null;
  const s = new ArgoStep();
  s.workflow = wfid;
  s.displayName = name;
  s.id = path.basename(dir);
  s.dir = dir;
  s.type = type;
  s.phase = readTextOrSync(path.join(dir, "phase"), "Pending");
  let key: unknown;
  const argo = opts.argo ?? argoNodesOf(path.dirname(dir));
  if (opts.lazyIO) {
    lazy(s, "inputs", () => readIO(dir, "inputs", argo));
    lazy(s, "outputs", () => readIO(dir, "outputs", argo));
    const pdir = path.join(dir, "inputs", "parameters");
    try {
      key = readParameter(pdir, "dflow_key").value;
    } catch {
      key = undefined; // no key
    }
  } else {
    s.inputs = readIO(dir, "inputs", argo);
    s.outputs = readIO(dir, "outputs", argo);
    key = s.inputs.parameters.dflow_key?.value;
  }
  s.key = typeof key === "string" && key !== "" ? key : null;
  // dflow keys are also the directory name; Steps/DAG steps record no dflow_key.
  if (s.key === null && type !== "Pod" && !/-[0-9a-z]{5}$/.test(s.id)) s.key = s.id;
  try {
    s.startedAt = fs.statSync(path.join(dir, "name")).mtimeMs / 1000;
  } catch {
    s.startedAt = 0;
  }
  s.finishedAt = null;
  // Every phase a step ends in (an Argo node's Error, Skipped and Omitted too): its duration stops there.
  if (FINAL_PHASES.has(s.phase)) {
    try {
      s.finishedAt = fs.statSync(path.join(dir, "phase")).mtimeMs / 1000;
    } catch {
      // phase vanished between reads
    }
  }
  const children = readTextOrSync(path.join(dir, "children"), null);
  s.children = children ? (JSON.parse(children) as Record<string, string>) : {};
  s.message = readTextOrSync(path.join(dir, "message"), null);
  s.progress = readTextOrSync(path.join(dir, "progress"), null) ?? readTextOrSync(path.join(dir, "workdir", "ARGO_PROGRESS_FILE"), null);
  return s;
}

export interface StepFilter {
  /** Exact name, a list of names, or a RegExp matched against the whole name. */
  name?: string | string[] | RegExp;
  key?: string | string[];
  phase?: string | string[];
  type?: string | string[];
  id?: string | string[];
}

function matches(value: string | null, want: string | string[] | undefined): boolean {
  if (want === undefined) return true;
  if (value === null) return false;
  return Array.isArray(want) ? want.includes(value) : value === want;
}

export function queryStepsIn(wfid: string, wfdir: string, filter: StepFilter = {}): ArgoStep[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(wfdir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: ArgoStep[] = [];
  const argo = argoNodesOf(wfdir);
  const n = filter.name;
  const nameOk = (name: string) => (n instanceof RegExp ? new RegExp(`^(?:${n.source})$`, n.flags).test(name) : matches(name, n));
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const dir = path.join(wfdir, e.name);
    // The cheap fields first: a step the filter refuses is not read whole (a 100k fan-out's
    // query for one name or phase would otherwise read every step's parameters).
    if (!matches(e.name, filter.id)) continue;
    if (n !== undefined) {
      const name = readTextOrSync(path.join(dir, "name"), null);
      if (name === null || !nameOk(name)) continue;
    }
    if (filter.phase !== undefined && !matches(readTextOrSync(path.join(dir, "phase"), "Pending"), filter.phase)) continue;
    const s = readStep(wfid, dir, { argo });
    if (!s) continue;
    if (!nameOk(s.displayName)) continue;
    if (!matches(s.key, filter.key) || !matches(s.phase, filter.phase) || !matches(s.type, filter.type) || !matches(s.id, filter.id)) continue;
    out.push(s);
  }
  return out.sort((a, b) => a.startedAt - b.startedAt);
}

/** A workflow's global outputs: parameters as raw text, artifacts as paths. */
export interface GlobalOutputs {
  parameters: Record<string, { name: string; value: string }>;
  artifacts: Record<string, ArtifactRecord>;
}

/**
 * The global outputs of the workflow in `wfdir` (null when it has none): an
 * Argo run's, from its status (globalName outputs; artifacts in the local
 * repository), else the `outputs` folder of the workflow directory.
 */
export function readGlobalOutputs(wfdir: string): GlobalOutputs | null {
  if (fs.existsSync(path.join(wfdir, WORKFLOW_FILE))) {
    const outputs = readArgoStatus(wfdir)?.outputs;
    if (!outputs) return null;
    const out: GlobalOutputs = { parameters: {}, artifacts: {} };
    for (const p of outputs.parameters ?? []) if (p.value !== undefined) out.parameters[p.name] = { name: p.name, value: p.value };
    for (const a of outputs.artifacts ?? []) {
      const art = argoArtifact(wfdir, a);
      // A global artifact's own record is not marked when garbage collection deleted its file.
      if (art && fs.existsSync(art.local_path)) out.artifacts[a.name] = art;
    }
    return out;
  }
  const base = path.join(wfdir, "outputs");
  if (!fs.existsSync(base)) return null;
  const out: GlobalOutputs = { parameters: {}, artifacts: {} };
  for (const n of fs.existsSync(path.join(base, "parameters")) ? fs.readdirSync(path.join(base, "parameters")) : []) {
    out.parameters[n] = { name: n, value: fs.readFileSync(path.join(base, "parameters", n), "utf8") };
  }
  for (const n of fs.existsSync(path.join(base, "artifacts")) ? fs.readdirSync(path.join(base, "artifacts")) : []) {
    out.artifacts[n] = { name: n, local_path: path.join(base, "artifacts", n) };
  }
  return out;
}
