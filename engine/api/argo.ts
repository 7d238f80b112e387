// The workflow part of the Argo Server API (issue 12 scope 4) over the work
// directory: Argo workflows created over the API run in this process (the
// server's) with the local interpreter (engine/argo), in the same layout as
// every workflow, so `dflow list`, `dflow get` and the UI see them. Answers
// have Argo's shapes (Workflow with status.nodes from engine/argo/nodes.ts);
// what cannot be honoured is refused with Argo's error shape (argo-shapes.ts).
//
// What is kept beside the engine's files: the Workflow as submitted (its
// metadata: namespace, uid, generateName, labels; its spec) in
// <wfdir>/argo-workflow.json. Workflows run by `dflow run wf.yaml` have no
// such file: they are served in namespace "argo" (the interpreter's
// workflow.namespace) with the status only.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { type ArgoRunResult, type ArgoStatus, argoGraph, artifactRepository, checkMemoizable, readArgoStatus, retryArgoWorkflow, runArgoWorkflow } from "../argo/index.js";
import type { ArgoRunOptions, ChildWorkflows } from "../argo/run.js";
import { DflowConfigError } from "../../src/errors.js";
import { type ArgoNode, WORKFLOW_FILE, keyFile, readWorkflowRecord } from "../argo/store.js";
import { HOST_NODE, POD_IP } from "../argo/probe.js";
import { ArgoRunControl, type ShutdownStrategy } from "../argo/control.js";
import { fromArgoEntry, writeMemo } from "../argo/memo.js";
import { lockAlive, readLock } from "../store/engine-dir.js";
import { isUnder, readTextOrSync, writeAtomicSync } from "../store/fsx.js";
import { isSuspended, registerForeignRun } from "../control.js";
import { engineAlive, isFinal, listWorkflowDirs } from "./read.js";
import { ApiError, type WorkflowStore } from "./workflows.js";
import { type ObjectKind, TemplateStore, type TemplateKind, randomSuffix } from "./argo-templates.js";
import { CronWorkflows } from "./argo-cron.js";
import { workflowEvents } from "./argo-events.js";
import { argoRestart, setSuspendNodes } from "./argo-nodes.js";
import { ArgoApiError, type GrpcCode, type Obj, asObj, checkName, filterFields, k8sTime, lintManifest, matchesLabels, parseFieldSelector, str, type WorkflowSelection, workflowSelection } from "./argo-shapes.js";

export { ArgoApiError, GRPC_HTTP } from "./argo-shapes.js";
export { setSuspendNodes } from "./argo-nodes.js";
/** Where the Argo runner keeps artifacts under a work directory (the server's S3 API serves it). */
export { artifactRepository };
export type { TemplateKind } from "./argo-templates.js";

const SAVED = "argo-workflow.json";
/** The namespace of Argo runs that were not created over the API. */
const CLI_NAMESPACE = "argo";
// How often a watch or a followed log reads the run again: a person is watching, a quarter second is live.
const WATCH_POLL_MS = 250;

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: string;
  continue?: string;
  /** How a metadata.name field selector matches: Exact, Contains, Prefix or NotEquals (Argo's UI's name filter). */
  nameFilter?: string;
  createdAfter?: string;
  finishedBefore?: string;
  /** A watch's: the list's metadata.resourceVersion, after which it reports changes. */
  resourceVersion?: string;
}

/** What a list saw, for the watch that starts from its resourceVersion: each workflow's text, by a hash, and when. */
interface ListSnapshot {
  at: number;
  hashes: Map<string, string>;
}
/** The lists a watch may start from: the latest few (Argo's UI watches from its list at once). */
const SNAPSHOTS_KEPT = 64;
/** The fields an event stream's field selector may name. */
const EVENT_FIELDS = new Set(["involvedObject.kind", "involvedObject.name", "involvedObject.namespace", "involvedObject.uid", "involvedObject.apiVersion", "reason", "type", "metadata.name", "metadata.namespace"]);
const textHash = (text: string) => crypto.createHash("sha1").update(text).digest("base64");

export interface LogQuery {
  podName?: string;
  container?: string;
  follow?: boolean;
  grep?: string;
  tailLines?: number;
  selector?: string;
}

/** An engine ApiError (the WorkflowStore's refusals) in Argo's terms. */
function fromApiError(e: unknown): never {
  if (e instanceof ApiError) {
    const code: GrpcCode = e.status === 404 ? 5 : e.status === 400 ? 3 : e.status === 403 ? 7 : e.status === 409 ? 9 : 13;
    throw new ArgoApiError(code, e.message);
  }
  throw e;
}

/** `key=value` texts (`argo submit -l`, `-p`) split at their first `=`; InvalidArgument naming the field for one without. */
function keyValues(texts: string[], field: string, key: "key" | "name"): Array<[string, string]> {
  return texts.map((kv) => {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new ArgoApiError(3, `${field}: ${JSON.stringify(kv)} is not ${key}=value`);
    return [kv.slice(0, eq), kv.slice(eq + 1)];
  });
}

/**
 * A run whose engine is gone (the server or `dflow run` that ran it was
 * killed, or the machine restarted) never ends by itself: shown to Argo's
 * clients as Error, with what to do, so that `argo wait` and Hera's
 * wait() end instead of polling forever. `dflow list` says "Running (engine
 * gone)"; a retry continues it where it stopped.
 */
function orphaned(dir: string, st: ArgoStatus): ArgoStatus {
  if (isFinal(st.phase) || engineAlive(dir) !== false) return st;
  return { ...st, phase: "Error", message: `the engine that ran this workflow is gone (the dflow server or \`dflow run\` that ran it was stopped or killed); retry it to continue where it stopped (PUT .../retry, \`argo retry\`, \`dflow retry ${st.name}\`)` };
}

/** A run's uid: the one it was created with, else one derived from its directory (`dflow run wf.yaml` gives none). */
function uidOf(dir: string, meta: Obj): string {
  return str(meta.uid) || crypto.createHash("sha256").update(dir).digest("hex").replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*/, "$1-$2-$3-$4-$5");
}


/** Node inputs/outputs in Argo's shape: an artifact of the local repository is an s3 key. */
function io(v: unknown): Obj | undefined {
  if (!v) return undefined;
  const o = { ...asObj(v) };
  if (Array.isArray(o.artifacts)) o.artifacts = (o.artifacts as Obj[]).map(({ key, ...a }) => (key === undefined ? a : { ...a, s3: { key } }));
  return o;
}

export class ArgoWorkflowService {
  readonly templates: TemplateStore;
  /** CronWorkflows, and their scheduler (started by the server: cron.start()). */
  readonly cron: CronWorkflows;
  /**
   * Argo's status.artifactRepositoryRef of every workflow: the local repository, which `dflow server`
   * serves as S3 at its own address (any bucket name; set once it listens). Argo's UI reads it for a
   * node's artifacts.
   */
  artifactRepositoryRef: Obj = { default: true, artifactRepository: {} };
  /** Runs this process started: their shutdown/suspension, and when they end. */
  private readonly runs = new Map<string, { control: ArgoRunControl; done: Promise<unknown> }>();

  constructor(readonly store: WorkflowStore) {
    this.templates = new TemplateStore(store.root);
    this.cron = new CronWorkflows(store.root, this);
  }

  /**
   * A ConfigMap created through the Kubernetes API (POST /api/v1/namespaces/{ns}/configmaps).
   * The entries of a memoization cache (label workflows.argoproj.io/configmap-type: Cache)
   * become this runner's cache entries, so a workflow that memoizes with them reuses the
   * outputs they hold (dflow's Python client prepares `submit(reuse_step=...)` this way);
   * any other is kept for the namespace's workflows to mount or take semaphore limits from.
   */
  async createConfigMap(namespace: string, cm: Obj): Promise<Obj> {
    const meta = asObj(cm.metadata);
    const name = typeof meta.name === "string" ? meta.name : "";
    if (!name) throw new ArgoApiError(3, "the ConfigMap has no metadata.name");
    // Any other ConfigMap is kept for the namespace's workflows (volumes, semaphore limits).
    if (asObj(meta.labels)["workflows.argoproj.io/configmap-type"] !== "Cache") return this.templates.putObject("ConfigMap", namespace, cm, true);
    const entries = Object.entries(asObj(cm.data)).map(([k, v]) => {
      try {
        return [k, fromArgoEntry(String(v), `ConfigMap ${name} data.${k}`)] as const;
      } catch (e) {
        throw new ArgoApiError(3, (e as Error).message);
      }
    });
    for (const [k, e] of entries) await writeMemo(this.store.root, name, k, e);
    return { apiVersion: "v1", kind: "ConfigMap", metadata: { ...meta, namespace, uid: crypto.randomUUID(), creationTimestamp: k8sTime(new Date()) }, data: cm.data ?? {} };
  }

  /** PUT /api/v1/namespaces/{ns}/configmaps|secrets/{name}: the namespace's ConfigMap or Secret replaced. */
  replaceObject(kind: ObjectKind, namespace: string, name: string, o: Obj): Obj {
    const meta = asObj(o.metadata);
    if (meta.name !== undefined && meta.name !== name) throw new ArgoApiError(3, `metadata.name ${JSON.stringify(meta.name)} does not match the name in the path (${name})`);
    return this.templates.putObject(kind, namespace, { ...o, metadata: { ...meta, name } }, false);
  }

  private savedText(dir: string): string | null {
    return readTextOrSync(path.join(dir, SAVED), null);
  }

  private saved(dir: string, text = this.savedText(dir)): Obj | null {
    return text === null ? null : (JSON.parse(text) as Obj);
  }

  private namespaceOf(dir: string, saved = this.saved(dir)): string {
    return str(asObj(saved?.metadata).namespace) || CLI_NAMESPACE;
  }

  /** The directory of Argo workflow `name` of `namespace`; NotFound otherwise. */
  private find(namespace: string, name: string): string {
    const notFound = new ArgoApiError(5, `workflows.argoproj.io "${name}" not found`);
    let dir: string;
    try {
      dir = this.store.dirOf(name);
    } catch (e) {
      if (e instanceof ApiError) throw notFound;
      throw e;
    }
    // An Argo run has its record (the status itself is read by the caller that needs it).
    if (!fs.existsSync(path.join(dir, WORKFLOW_FILE)) || this.namespaceOf(dir) !== namespace) throw notFound;
    return dir;
  }

  /** The Workflow object: as submitted, with Argo's status read from the run's directory. */
  private workflow(dir: string, st: ArgoStatus, saved = this.saved(dir)): Obj {
    const meta = asObj(saved?.metadata);
    st = orphaned(dir, st);
    const done = isFinal(st.phase);
    const labels: Record<string, string> = {
      ...(asObj(meta.labels) as Record<string, string>),
      ...st.labels,
      "workflows.argoproj.io/phase": st.phase,
      ...(done ? { "workflows.argoproj.io/completed": "true" } : { "workflows.argoproj.io/completed": "false" }),
    };
    // Pods are named by their node's id (Argo's pod name format v1): clients that name a node's pod
    // (Argo's UI, for its logs) read this annotation, which Argo's controller sets on every workflow.
    const annotations = { ...(asObj(meta.annotations) as Record<string, string>), ...st.annotations, "workflows.argoproj.io/pod-name-format": "v1" };
    // Go's spec.arguments is a struct, always in Argo's JSON (Argo's UI reads spec.arguments.parameters).
    const spec = { ...asObj(saved?.spec) };
    spec.arguments ??= {};
    if (!done && isSuspended(dir)) spec.suspend = true;
    const nodes = Object.fromEntries(
      Object.entries(argoGraph(st.nodes, st.name)).map(([id, n]) => {
        const { inputs, outputs, ...rest } = n;
        const ins = io(inputs);
        const outs = io(outputs);
        const times = { startedAt: k8sTime(rest.startedAt), ...(rest.finishedAt ? { finishedAt: k8sTime(rest.finishedAt) } : {}) };
        // A pod that started ran on this machine, at the address its daemons serve on ({{steps.X.ip}}).
        const where = rest.type === "Pod" && rest.phase !== "Pending" ? { hostNodeName: HOST_NODE, podIP: POD_IP } : {};
        return [id, { ...rest, ...times, ...where, ...(ins ? { inputs: ins } : {}), ...(outs ? { outputs: outs } : {}) }];
      }),
    );
    return {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Workflow",
      metadata: {
        ...meta,
        name: st.name,
        namespace: str(meta.namespace) || CLI_NAMESPACE,
        uid: uidOf(dir, meta),
        creationTimestamp: str(meta.creationTimestamp) || k8sTime(st.startedAt ?? new Date()),
        labels,
        annotations,
      },
      spec,
      status: {
        phase: st.phase,
        ...(st.startedAt ? { startedAt: k8sTime(st.startedAt) } : {}),
        ...(st.finishedAt ? { finishedAt: k8sTime(st.finishedAt) } : {}),
        progress: st.progress,
        ...(st.message ? { message: st.message } : {}),
        nodes,
        ...(st.outputs ? { outputs: io(st.outputs) } : {}),
        artifactRepositoryRef: this.artifactRepositoryRef,
      },
    };
  }

  // ------------------------------------------------------------ workflows

  /** A list's or watch's selection, refused (InvalidArgument) before anything is read or streamed. */
  listQuery(namespace: string, q: ListQuery) {
    return workflowSelection(namespace, q);
  }

  /** resourceVersion -> what that list saw (the newest SNAPSHOTS_KEPT); versions unique across this server's restarts. */
  private readonly snapshots = new Map<string, ListSnapshot>();
  private versions = Date.now() * 1000;

  /**
   * The workflows of `namespace` (of every namespace for "", as Argo's UI lists them before one is
   * chosen), newest first, as Argo's ListWorkflows selects and pages them; metadata.resourceVersion
   * lets a watch start where the list ended, and metadata.continue gives the next page's offset.
   */
  list(namespace: string, q: ListQuery = {}, fields?: string): Obj {
    const sel = this.listQuery(namespace, q);
    const found = this.select(sel);
    const { limit, offset } = sel;
    const page = found.slice(offset, limit ? offset + limit : undefined).map((f) => f.wf);
    const resourceVersion = String(++this.versions);
    this.snapshots.set(resourceVersion, { at: Date.now(), hashes: new Map(found.map((f) => [f.name, f.hash])) });
    if (this.snapshots.size > SNAPSHOTS_KEPT) this.snapshots.delete(this.snapshots.keys().next().value!);
    const more = limit > 0 && offset + page.length < found.length;
    return filterFields({ metadata: { resourceVersion, ...(more ? { continue: String(offset + page.length) } : {}) }, items: page }, fields) as Obj;
  }

  /** Every workflow the query selects (no paging), newest first. */
  private select(sel: WorkflowSelection): Array<{ name: string; wf: Obj; hash: string }> {
    // The cheap tests first (a watch lists every 250 ms): the name, then the namespace (one small
    // file), and only then the run's status, which reads every node; a finished run's once.
    const found: Array<{ started: string; name: string; wf: Obj; hash: string }> = [];
    for (const { id, dir } of listWorkflowDirs(this.store.root)) {
      if (!sel.name(id)) continue;
      const savedText = this.savedText(dir);
      const saved = this.saved(dir, savedText);
      if (!sel.namespace(this.namespaceOf(dir, saved))) continue;
      const read = this.finishedWorkflow(dir, savedText, () => {
        const st = readArgoStatus(dir);
        return st && this.workflow(dir, st, saved);
      });
      if (!read) continue;
      const { wf, hash } = read;
      if (sel.timed(wf) && matchesLabels(sel.labels, asObj(wf.metadata).labels as Record<string, string>)) found.push({ started: str(asObj(wf.status).startedAt), name: id, wf, hash });
    }
    // Newest first, as `dflow list` and Argo list them.
    found.sort((a, b) => b.started.localeCompare(a.started) || a.name.localeCompare(b.name));
    return found;
  }

  /** Finished runs' Workflow objects, by directory, with what they were read from (argo.json's mtime and size, the saved manifest). */
  private readonly finished = new Map<string, { stamp: string; savedText: string | null; wf: Obj; hash: string }>();

  /**
   * The Workflow of the run in `dir` (`read` makes it) and its text's hash. A finished run's is kept:
   * nothing of it changes until argo.json is written again (a retry) or its manifest is, and reading
   * every node of every run for each turn of a watch took ~6 ms per 100 nodes (Argo's UI watches
   * the whole namespace).
   */
  private finishedWorkflow(dir: string, savedText: string | null, read: () => Obj | null): { wf: Obj; hash: string } | null {
    let stamp = "";
    try {
      const s = fs.statSync(path.join(dir, WORKFLOW_FILE));
      stamp = `${s.mtimeMs}:${s.size}`;
    } catch {
      this.finished.delete(dir);
      return null;
    }
    const kept = this.finished.get(dir);
    if (kept && kept.stamp === stamp && kept.savedText === savedText) return kept;
    const wf = read();
    if (!wf) return null;
    const made = { stamp, savedText, wf, hash: textHash(JSON.stringify(wf)) };
    if (isFinal(str(asObj(wf.status).phase))) this.finished.set(dir, made);
    else this.finished.delete(dir);
    return made;
  }

  /**
   * The namespace's workflows created over the API that carry label `key`,
   * by its value, read cheaply (their saved metadata and argo.json's phase,
   * no nodes): the CronWorkflows' runs, looked at each second. A run whose
   * engine is gone is Error, as orphaned() shows it.
   */
  labelled(namespace: string, key: string): Map<string, Obj[]> {
    const out = new Map<string, Obj[]>();
    for (const { id, dir } of listWorkflowDirs(this.store.root)) {
      const saved = this.saved(dir);
      const meta = asObj(saved?.metadata);
      const value = asObj(meta.labels)[key];
      if (!saved || value === undefined || this.namespaceOf(dir, saved) !== namespace) continue;
      const rec = readWorkflowRecord(dir);
      if (rec === null) continue;
      let phase = rec.phase;
      if (!isFinal(phase) && engineAlive(dir) === false) phase = "Error";
      const list = out.get(str(value)) ?? [];
      list.push({ metadata: { name: id, uid: meta.uid, creationTimestamp: meta.creationTimestamp }, status: { phase } });
      out.set(str(value), list);
    }
    return out;
  }

  /** Where an artifact of a node of the workflow in `dir` is in the local repository (a file or a directory); NotFound otherwise. */
  private artifactEntry(dir: string, nodeId: string, artifactName: string, input: boolean): { file: string; key: string } {
    const node = readArgoStatus(dir)!.nodes[nodeId];
    if (!node) throw new ArgoApiError(5, `workflow ${path.basename(dir)} has no node ${nodeId}`);
    const art = (input ? node.inputs : node.outputs)?.artifacts?.find((a) => a.name === artifactName);
    if (!art?.key) throw new ArgoApiError(5, `node ${nodeId} has no ${input ? "input" : "output"} artifact ${artifactName}`);
    // A key is the manifest's (s3.key): never a path out of the repository.
    const file = keyFile(artifactRepository(), art.key);
    if (file === null || !fs.existsSync(file)) throw new ArgoApiError(5, `artifact ${artifactName} of node ${nodeId} is gone from the repository (${art.key})`);
    return { file, key: art.key };
  }

  private workflowDir(at: { namespace: string; name: string } | { uid: string }): string {
    if (!("uid" in at)) return this.find(at.namespace, at.name);
    const found = listWorkflowDirs(this.store.root).find((w) => fs.existsSync(path.join(w.dir, WORKFLOW_FILE)) && uidOf(w.dir, asObj(this.saved(w.dir)?.metadata)) === at.uid);
    if (!found) throw new ArgoApiError(5, `no workflow has uid ${at.uid}`);
    return found.dir;
  }

  /**
   * A node's artifact for the Argo Server's downloads (/artifacts/, /input-artifacts/ and their
   * by-uid forms, which Hera's get_output_artifact uses): a file as it is, a directory as a .tgz of
   * its contents, named as Argo names a download (its key's last part).
   */
  async artifact(at: { namespace: string; name: string } | { uid: string }, nodeId: string, artifactName: string, input: boolean): Promise<{ body: ReadableStream; filename: string; contentType: string }> {
    const { file, key } = this.artifactEntry(this.workflowDir(at), nodeId, artifactName, input);
    const filename = path.basename(key);
    if (!fs.statSync(file).isDirectory()) return { body: Readable.toWeb(fs.createReadStream(file)) as ReadableStream, filename, contentType: "application/octet-stream" };
    const tar = await import("tar");
    // tar's stream is a Minipass: async-iterable, which Readable.from takes.
    const tgz = Readable.from(tar.c({ gzip: true, cwd: file, portable: true }, fs.readdirSync(file)));
    return { body: Readable.toWeb(tgz) as ReadableStream, filename: `${filename}.tgz`, contentType: "application/gzip" };
  }

  /**
   * Argo Server's /artifact-files/{namespace}/workflows/{name}/{nodeId}/{inputs|outputs}/{artifact}[/{path}]
   * (the links of Argo's UI; server/artifacts/artifact_server.go GetArtifactFile): a file as it is; a
   * directory redirected to its URL with a trailing slash, which lists it (or goes to its index.html).
   * `sub` is the path below the artifact; `listing` whether the URL ended with a slash; a redirect is
   * what to append to the URL.
   */
  artifactFile(namespace: string, kind: string, name: string, nodeId: string, direction: string, artifactName: string, sub: string, listing: boolean): { body: ReadableStream; filename: string } | { redirect: string } | { entries: string[] } {
    if (kind === "archived-workflows") throw new ArgoApiError(5, "the workflow archive is not served by dflow server");
    if (kind !== "workflows" || (direction !== "inputs" && direction !== "outputs")) throw new ArgoApiError(3, "the path is /artifact-files/{namespace}/workflows/{name}/{nodeId}/{inputs|outputs}/{artifact}[/{file}]");
    const { file: root } = this.artifactEntry(this.find(namespace, name), nodeId, artifactName, direction === "inputs");
    const target = path.resolve(root, path.posix.normalize(`/${sub}`).slice(1));
    if (target !== root && !isUnder(target, root)) throw new ArgoApiError(5, `${sub} is not in artifact ${artifactName}`);
    let st: fs.Stats;
    try {
      st = fs.statSync(target);
    } catch {
      throw new ArgoApiError(5, `artifact ${artifactName} of node ${nodeId} has no ${sub}`);
    }
    if (!st.isDirectory()) return { body: Readable.toWeb(fs.createReadStream(target)) as ReadableStream, filename: path.basename(target) };
    if (!listing) return { redirect: "/" };
    const entries = fs.readdirSync(target, { withFileTypes: true }).map((e) => (e.isDirectory() ? `${e.name}/` : e.name)).sort();
    if (entries.includes("index.html")) return { redirect: "index.html" };
    return { entries };
  }

  get(namespace: string, name: string, fields?: string, uid?: string): Obj {
    const dir = this.find(namespace, name);
    const wf = this.workflow(dir, readArgoStatus(dir)!);
    if (uid && asObj(wf.metadata).uid !== uid) throw new ArgoApiError(5, `workflows.argoproj.io "${name}" with uid ${uid} not found`);
    return filterFields(wf, fields) as Obj;
  }

  /** The Workflow of a create/lint request: kind checked, namespace from the path, name (generateName honoured). */
  private prepare(namespace: string, workflow: unknown, named: boolean): Obj {
    checkName(namespace, "namespace");
    if (!workflow || typeof workflow !== "object" || Array.isArray(workflow)) throw new ArgoApiError(3, "workflow is required (the body is {namespace, workflow, serverDryRun})");
    const w = workflow as Obj;
    if (w.kind !== undefined && w.kind !== "Workflow") throw new ArgoApiError(3, `workflow.kind is ${JSON.stringify(w.kind)}, expected Workflow`);
    const meta = { ...asObj(w.metadata) };
    if (meta.namespace !== undefined && meta.namespace !== "" && meta.namespace !== namespace) throw new ArgoApiError(3, `the workflow's metadata.namespace (${str(meta.namespace)}) differs from the request's namespace (${namespace})`);
    let name = str(meta.name);
    if (!name && named && str(meta.generateName)) name = `${str(meta.generateName)}${randomSuffix()}`;
    if (!name && named) throw new ArgoApiError(3, `Workflow.argoproj.io "" is invalid: metadata.name: Required value: name or generateName is required`);
    if (name) checkName(name, "workflow name");
    return { apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", metadata: { ...meta, ...(name ? { name } : {}), namespace }, spec: asObj(w.spec) };
  }

  /** `argo lint`: the workflow as it would run; InvalidArgument when it cannot. */
  lint(namespace: string, body: Obj): Obj {
    const wf = this.prepare(namespace, body.workflow, false);
    lintManifest(wf, this.templates.library(namespace), this.templates.sync.table());
    return wf;
  }

  /** `argo submit`: create the workflow and start it in this process; resolves once it has started. */
  /** `memoizedFrom`: a memoized resubmit's earlier run (resubmit). */
  async create(namespace: string, body: Obj, internal: Pick<ArgoRunOptions, "memoizedFrom"> = {}): Promise<Obj> {
    const wf = this.prepare(namespace, body.workflow, true);
    const name = str(asObj(wf.metadata).name);
    const loaded = lintManifest(wf, this.templates.library(namespace), this.templates.sync.table());
    const meta = asObj(wf.metadata);
    meta.uid = crypto.randomUUID();
    meta.creationTimestamp = k8sTime(new Date());
    loaded.metadata = { ...loaded.metadata, namespace, uid: meta.uid };
    if (fs.existsSync(path.join(this.store.root, name))) throw new ArgoApiError(6, `workflows.argoproj.io "${name}" already exists`);
    // serverDryRun, or Kubernetes' createOptions.dryRun: ["All"]: checked, named, not run.
    const dryRun = asObj(body.createOptions).dryRun;
    if (body.serverDryRun === true || body.serverDryRun === "true" || (Array.isArray(dryRun) && dryRun.length)) return wf;
    await this.launch(name, (o) => runArgoWorkflow(loaded, { ...o, ...internal, id: name, workflows: this.childWorkflows(namespace) }), (dir) => writeAtomicSync(path.join(dir, SAVED), JSON.stringify({ metadata: meta, spec: wf.spec })));
    return this.get(namespace, name);
  }

  /**
   * Start a run of workflow `name` in this process (create, retry); resolves
   * once it has started. Its stop and terminate come through its control,
   * from the API, `dflow ui` or `dflow stop`.
   */
  private async launch(name: string, run: (o: ArgoRunOptions) => Promise<ArgoRunResult>, onStart?: (dir: string) => void): Promise<void> {
    const control = new ArgoRunControl();
    let started: (() => void) | undefined;
    const ready = new Promise<void>((r) => (started = r));
    const done = run({
      control,
      onStart: (_id, dir) => {
        onStart?.(dir);
        // `dflow ui`'s Stop (this process) stops it as Argo's stop does; its Terminate, as Argo's terminate.
        registerForeignRun(dir, (verb) => this.stopRun(name, verb === "stopped" ? "Stop" : "Terminate"), done.catch(() => undefined));
        started!();
      },
    });
    this.runs.set(name, { control, done });
    const outcome = await Promise.race([ready.then(() => "started" as const), done.then(() => "started" as const, (e: unknown) => e)]);
    if (outcome !== "started") {
      this.runs.delete(name);
      if ((outcome as NodeJS.ErrnoException).code === "EEXIST") throw new ArgoApiError(6, `workflows.argoproj.io "${name}" already exists`);
      // The workflow cannot run so (a retry of one that succeeded): the caller's to change.
      if (outcome instanceof DflowConfigError) throw new ArgoApiError(9, outcome.message);
      throw outcome;
    }
    // An interpreter failure ends the run as Error itself (engine/argo/run.ts); what is left (the disk) has nothing to record it on.
    void done.catch(() => undefined).finally(() => this.runs.delete(name));
  }

  /** The Workflows a resource template of a run in `namespace` creates: workflows of the namespace, as on Argo. */
  private childWorkflows(namespace: string): ChildWorkflows {
    return {
      create: async (manifest) => str(asObj((await this.create(namespace, { workflow: manifest })).metadata).name),
      get: (name) => {
        try {
          return this.get(namespace, name);
        } catch {
          return undefined;
        }
      },
      delete: async (name) => {
        await this.delete(namespace, name, true);
      },
    };
  }

  /** `argo submit --from workflowtemplate/<name>`. */
  async submit(namespace: string, body: Obj): Promise<Obj> {
    const kind = str(body.resourceKind);
    const name = str(body.resourceName);
    if (/^(CronWorkflow|cronworkflow|cronwf)$/.test(kind)) {
      if (!name) throw new ArgoApiError(3, "resourceName is required");
      return this.create(namespace, { workflow: this.cron.workflowNow(namespace, name), serverDryRun: asObj(body.submitOptions).serverDryRun });
    }
    const tkind: TemplateKind | undefined = /^(WorkflowTemplate|workflowtemplate|wftmpl)$/.test(kind) ? "WorkflowTemplate" : /^(ClusterWorkflowTemplate|clusterworkflowtemplate|cwftmpl)$/.test(kind) ? "ClusterWorkflowTemplate" : undefined;
    if (!tkind) throw new ArgoApiError(3, `resourceKind ${JSON.stringify(kind)}: expected WorkflowTemplate or ClusterWorkflowTemplate`);
    if (!name) throw new ArgoApiError(3, "resourceName is required");
    const t = this.templates.get(tkind, namespace, name);
    const o = asObj(body.submitOptions);
    for (const k of ["serviceAccount", "podPriorityClassName", "ownerReference"]) if (o[k]) throw new ArgoApiError(3, `submitOptions.${k} configures Kubernetes pods and cannot be honoured locally`);
    if (o.dryRun) throw new ArgoApiError(3, "submitOptions.dryRun: use serverDryRun");
    const labels: Record<string, string> = { "workflows.argoproj.io/workflow-template": name };
    if (tkind === "ClusterWorkflowTemplate") labels["workflows.argoproj.io/cluster-workflow-template"] = name;
    for (const [k, v] of keyValues(str(o.labels).split(",").filter(Boolean), "submitOptions.labels", "key")) labels[k.trim()] = v.trim();
    const annotations: Record<string, string> = {};
    for (const [k, v] of keyValues(str(o.annotations).split(",").filter(Boolean), "submitOptions.annotations", "key")) annotations[k.trim()] = v.trim();
    const parameters = keyValues((Array.isArray(o.parameters) ? o.parameters : []).map(str), "submitOptions.parameters", "name").map(([name, value]) => ({ name, value }));
    const known = new Set((asObj(asObj(t.spec).arguments).parameters as Obj[] | undefined)?.map((p) => str(p.name)) ?? []);
    for (const p of parameters) if (!known.has(p.name)) throw new ArgoApiError(3, `submitOptions.parameters: ${tkind} ${name} has no argument ${JSON.stringify(p.name)} (it has ${[...known].join(", ") || "none"})`);
    const workflow: Obj = {
      metadata: { ...(o.name ? { name: o.name } : { generateName: str(o.generateName) || `${name}-` }), labels, ...(Object.keys(annotations).length ? { annotations } : {}) },
      spec: {
        workflowTemplateRef: { name, ...(tkind === "ClusterWorkflowTemplate" ? { clusterScope: true } : {}) },
        ...(parameters.length ? { arguments: { parameters } } : {}),
        ...(o.entryPoint ? { entrypoint: o.entryPoint } : {}),
        ...(o.priority !== undefined ? { priority: o.priority } : {}),
      },
    };
    return this.create(namespace, { workflow, serverDryRun: o.serverDryRun });
  }

  /** `argo delete`: a run of this server is terminated first; one of another process must have ended (or force). */
  async delete(namespace: string, name: string, force = false): Promise<Obj> {
    this.find(namespace, name);
    const mine = this.runs.get(name);
    if (mine) {
      this.stopRun(name, "Terminate");
      await mine.done.catch(() => undefined);
    }
    try {
      await this.store.delete(name, force, "the Argo Server API");
    } catch (e) {
      fromApiError(e);
    }
    return {};
  }

  /** A run this server started and that is still going, for stop/terminate/suspend/resume. */
  private controlled(namespace: string, name: string, verb: string): { dir: string; run: { control: ArgoRunControl; done: Promise<unknown> } } {
    const dir = this.find(namespace, name);
    const phase = readArgoStatus(dir)!.phase;
    if (isFinal(phase)) throw new ArgoApiError(9, `cannot ${verb} a completed workflow (${name} is ${phase})`);
    const run = this.runs.get(name);
    if (!run) throw new ArgoApiError(9, `workflow ${name} is run by another process (not this server; pid ${readTextOrSync(path.join(dir, "pid"), "?").trim()}): it can be ${verb === "stop" || verb === "terminate" ? "stopped" : "controlled"} only where it runs`);
    return { dir, run };
  }

  /** Shut a run of this server down, and say so in its spec (spec.shutdown, as Argo records it: `argo list` shows "Failed (Terminated)"). */
  private stopRun(name: string, strategy: ShutdownStrategy): void {
    const run = this.runs.get(name);
    if (!run || run.control.shutdown) return;
    const dir = path.join(this.store.root, name);
    const saved = this.saved(dir);
    if (saved) writeAtomicSync(path.join(dir, SAVED), JSON.stringify({ ...saved, spec: { ...asObj(saved.spec), shutdown: strategy } }));
    run.control.stop(strategy);
  }

  /** `argo stop` (exit handlers run) / `argo terminate` (they do not): resolves once the run has ended. */
  async shutdown(namespace: string, name: string, body: Obj, strategy: ShutdownStrategy): Promise<Obj> {
    // Argo's util.StopWorkflow: with a nodeFieldSelector, the suspend nodes it picks end Failed with the
    // message, and the workflow goes on; `message` is used only then.
    if (strategy === "Stop" && str(body.nodeFieldSelector)) {
      const { dir } = this.controlled(namespace, name, "stop");
      setSuspendNodes(dir, str(body.nodeFieldSelector), { phase: "Failed", message: str(body.message) || undefined });
      return this.get(namespace, name);
    }
    const { run } = this.controlled(namespace, name, strategy === "Stop" ? "stop" : "terminate");
    this.stopRun(name, strategy);
    await run.done.catch(() => undefined);
    return this.get(namespace, name);
  }

  /** `argo suspend`: no new pod starts until resumed (running ones finish). */
  suspend(namespace: string, name: string): Obj {
    this.controlled(namespace, name, "suspend");
    try {
      this.store.suspend(name, "the Argo Server API");
    } catch (e) {
      fromApiError(e);
    }
    return this.get(namespace, name);
  }

  resume(namespace: string, name: string, body: Obj): Obj {
    if (str(body.nodeFieldSelector)) {
      // One node's resume is a set of its phase (Argo's util.ResumeWorkflow).
      const { dir } = this.controlled(namespace, name, "resume");
      setSuspendNodes(dir, str(body.nodeFieldSelector), { phase: "Succeeded" });
      return this.get(namespace, name);
    }
    this.controlled(namespace, name, "resume");
    try {
      this.store.resume(name);
    } catch (e) {
      fromApiError(e);
    }
    return this.get(namespace, name);
  }

  /**
   * `argo node set`: the phase, message or `valueFrom.supplied` output
   * parameters (a JSON object, as the argo CLI sends them) of the suspend
   * nodes that wait now and that nodeFieldSelector picks; a phase ends their
   * wait (Succeeded, or Failed/Error to fail them), as Argo's util.SetWorkflow.
   */
  set(namespace: string, name: string, body: Obj): Obj {
    const { dir } = this.controlled(namespace, name, "set");
    const phase = str(body.phase) || undefined;
    if (phase && !["Succeeded", "Failed", "Error"].includes(phase)) throw new ArgoApiError(3, `phase ${JSON.stringify(phase)}: a suspend node is set to Succeeded, Failed or Error`);
    let outputParameters: Record<string, string> | undefined;
    if (str(body.outputParameters)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(str(body.outputParameters));
      } catch {
        parsed = null;
      }
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new ArgoApiError(3, `outputParameters must be a JSON object of names and values, got ${JSON.stringify(body.outputParameters)}`);
      outputParameters = Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
    }
    setSuspendNodes(dir, str(body.nodeFieldSelector), { phase, message: str(body.message) || undefined, outputParameters });
    return this.get(namespace, name);
  }

  /**
   * `argo retry`: the workflow continues in its directory from the workflow
   * as it ran; its succeeded nodes are kept, the others run again, and with
   * restartSuccessful and nodeFieldSelector the succeeded nodes it picks too
   * (engine/argo/run.ts retryArgoWorkflow). Resolves once it has started.
   */
  async retry(namespace: string, name: string, body: Obj): Promise<Obj> {
    const dir = this.find(namespace, name);
    // Argo's FormulateRetryWorkflow: succeeded nodes run again only with both; a selector alone selects nothing.
    const selector = str(body.nodeFieldSelector);
    const restart = (body.restartSuccessful === true || body.restartSuccessful === "true") && selector ? argoRestart(selector) : undefined;
    if (Array.isArray(body.parameters) && body.parameters.length) throw new ArgoApiError(12, "retry with parameters is not supported; resubmit with parameters instead");
    const st = readArgoStatus(dir);
    const phase = st && orphaned(dir, st).phase;
    if (phase !== "Succeeded" && phase !== "Failed" && phase !== "Error") throw new ArgoApiError(9, `workflow ${name} is ${phase ?? "running"}; stop it first, or wait for it to end`);
    if (phase === "Succeeded" && !restart) throw new ArgoApiError(3, "To retry a succeeded workflow, set the options restartSuccessful and nodeFieldSelector");
    // Ended, but its engine may still be closing (releasing the lock after writing the phase): a client
    // that retries as soon as it sees the phase (`argo wait && argo retry`) must not be refused for that.
    await this.runs.get(name)?.done.catch(() => undefined);
    // Another process's (dflow run's) holds the run's lock until it has closed. Its lock, not its pid:
    // the pid of a run this server made is the server's, alive long after the run ended.
    const locked = () => {
      const lock = readLock(dir);
      return lock !== null && lockAlive(lock);
    };
    for (let i = 0; i < 100 && locked(); i++) await sleep(50);
    await this.launch(name, (o) => retryArgoWorkflow(name, { ...o, workflows: this.childWorkflows(namespace), restart }));
    return this.get(namespace, name);
  }

  /** `argo resubmit`: the same Workflow again, as a new one named <name>-<random>. */
  async resubmit(namespace: string, name: string, body: Obj): Promise<Obj> {
    const dir = this.find(namespace, name);
    const memoized = body.memoized === true || body.memoized === "true";
    if (memoized) {
      const st = readArgoStatus(dir);
      const phase = st ? orphaned(dir, st).phase : undefined;
      try {
        checkMemoizable(name, phase);
      } catch (e) {
        throw new ArgoApiError(3, (e as Error).message);
      }
    }
    const saved = this.saved(dir);
    if (!saved) throw new ArgoApiError(9, `workflow ${name} was not created over this API (dflow run): its manifest is not kept; run the manifest again`);
    const meta = asObj(saved.metadata);
    const spec = structuredClone(asObj(saved.spec));
    const params = Array.isArray(body.parameters) ? body.parameters.map(str) : [];
    if (params.length) {
      const args = asObj(spec.arguments);
      const list = (Array.isArray(args.parameters) ? args.parameters : []) as Obj[];
      for (const [name, value] of keyValues(params, "parameters", "name")) {
        const p = list.find((x) => x.name === name);
        if (p) {
          p.value = value;
          delete p.valueFrom;
        } else list.push({ name, value });
      }
      spec.arguments = { ...args, parameters: list };
    }
    const labels = { ...(asObj(meta.labels) as Record<string, string>), "workflows.argoproj.io/resubmitted-from-workflow": name };
    return this.create(namespace, { workflow: { metadata: { generateName: `${name}-`, labels, ...(meta.annotations ? { annotations: meta.annotations } : {}) }, spec } }, memoized ? { memoizedFrom: { id: name, dir } } : {});
  }

  /**
   * WatchWorkflows (`argo watch`, `argo wait`, `argo submit --wait`, Argo's UI): one
   * `{"result": {"type", "object"}}` per change of a selected workflow (ADDED, MODIFIED, DELETED),
   * until the client goes away; found by reading the workflows again every WATCH_POLL_MS. From a
   * list's resourceVersion, only what changed since that list (Kubernetes' watch: Argo's UI lists a
   * page, then watches from it); without one, every workflow first as ADDED.
   */
  async *watch(namespace: string, q: ListQuery, fields: string | undefined, signal: AbortSignal): AsyncGenerator<string> {
    // The fields of an event's object may be given as paths of the event (result.object.x) or of the object.
    const objectFields = fields?.replace(/(^-?|,)\s*(result\.)?object\./g, "$1");
    const from = q.resourceVersion ? this.snapshots.get(q.resourceVersion) : undefined;
    // name -> the workflow's namespace and its last text's hash (names are unique in a work directory).
    const seen = new Map<string, { namespace: string; hash: string }>();
    const selection = this.listQuery(namespace, { ...q, limit: undefined, continue: undefined });
    for (let first = true; ; first = false) {
      const now = new Set<string>();
      for (const { name, wf, hash } of this.select(selection)) {
        const meta = asObj(wf.metadata);
        now.add(name);
        const before = seen.get(name);
        if (before?.hash === hash) continue;
        seen.set(name, { namespace: str(meta.namespace), hash });
        let type = before === undefined ? "ADDED" : "MODIFIED";
        if (first && from) {
          // What the list saw: reported only if changed since; what it did not see (another page's, or
          // selected otherwise), only if made since.
          const listed = from.hashes.get(name);
          if (listed === hash || (listed === undefined && Date.parse(str(meta.creationTimestamp)) < Math.floor(from.at / 1000) * 1000)) continue;
          if (listed !== undefined) type = "MODIFIED";
        }
        yield `${JSON.stringify({ result: { type, object: filterFields(wf, objectFields) } })}\n`;
      }
      for (const [name, { namespace: ns }] of [...seen]) {
        if (now.has(name)) continue;
        seen.delete(name);
        yield `${JSON.stringify({ result: { type: "DELETED", object: { metadata: { name, namespace: ns } } } })}\n`;
      }
      await sleep(WATCH_POLL_MS, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return;
    }
  }

  /**
   * Kubernetes' event stream as Argo Server serves it (/api/v1/stream/events/{namespace}: Argo's UI's
   * Events tabs): `{"result": Event}` per Event that Argo's controller would have recorded for the
   * namespace's workflows (argo-events.ts), those the field selector picks, each once, new ones as the
   * runs go on. There are no pods here, so nothing is recorded on one.
   */
  async *events(namespace: string, fieldSelector: string | undefined, signal: AbortSignal): AsyncGenerator<string> {
    const picks = this.eventSelector(fieldSelector);
    // The events of one workflow when the selector names it: its run is the only one read.
    const named = /(?:^|,)involvedObject\.name==?([^,]+)/.exec(fieldSelector ?? "")?.[1];
    const selection = this.listQuery(namespace, named ? { fieldSelector: `metadata.name=${named}` } : {});
    const sent = new Set<string>();
    // A workflow whose text has not changed since the last turn has no new events: not made again.
    const seen = new Map<string, string>();
    for (;;) {
      for (const { name, wf, hash } of this.select(selection)) {
        if (seen.get(name) === hash) continue;
        seen.set(name, hash);
        for (const e of workflowEvents(wf)) {
          const id = str(asObj(e.metadata).name);
          if (sent.has(id)) continue;
          sent.add(id);
          const o = asObj(e.involvedObject);
          if (picks({ "involvedObject.kind": str(o.kind), "involvedObject.name": str(o.name), "involvedObject.namespace": str(o.namespace), "involvedObject.uid": str(o.uid), "involvedObject.apiVersion": str(o.apiVersion), reason: str(e.reason), type: str(e.type), "metadata.name": id, "metadata.namespace": namespace }))
            yield `${JSON.stringify({ result: e })}\n`;
        }
      }
      await sleep(WATCH_POLL_MS, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return;
    }
  }

  /** An event stream's field selector, read (InvalidArgument for a field events cannot be selected by), before the stream starts. */
  eventSelector(fieldSelector: string | undefined): (fields: Record<string, string>) => boolean {
    return parseFieldSelector(fieldSelector ?? "", "listOptions.fieldSelector", (k) => EVENT_FIELDS.has(k));
  }

  /**
   * `argo logs`: newline-delimited `{"result":{"content","podName"}}`, one
   * per log line of each pod (in start order), or of pod `podName`; with
   * `follow`, until the workflow (or the pod) has ended.
   */
  logs(namespace: string, name: string, q: LogQuery, signal: AbortSignal): AsyncGenerator<string> {
    const dir = this.find(namespace, name);
    if (q.container === "init" || q.container === "wait") throw new ArgoApiError(3, `logOptions.container ${JSON.stringify(q.container)}: Argo's executor containers do not exist locally; the pod's own containers are main, its sidecars and init containers`);
    if (q.container && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(q.container)) throw new ArgoApiError(3, `logOptions.container ${JSON.stringify(q.container)} is not a container name`);
    // A sidecar's or init container's log is beside main's (engine/argo/run.ts sideContainer).
    const file = q.container && q.container !== "main" ? `containers/${q.container}/log.txt` : "log.txt";
    if (q.selector) throw new ArgoApiError(3, "selector: pods have no labels locally; give podName instead");
    let grep: RegExp | undefined;
    try {
      grep = q.grep ? new RegExp(q.grep) : undefined;
    } catch (e) {
      throw new ArgoApiError(3, `grep: ${(e as Error).message}`);
    }
    const pick = (st: ArgoStatus) =>
      Object.values(st.nodes)
        .filter((n) => n.type === "Pod" && (!q.podName || n.id === q.podName || n.name === q.podName || n.displayName === q.podName))
        .sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id));
    if (q.podName && !pick(readArgoStatus(dir)!).length && (!q.follow || isFinal(readArgoStatus(dir)!.phase))) throw new ArgoApiError(5, `pods "${q.podName}" not found`);
    // Refusals above are thrown now, before a stream starts; the lines come from here.
    return this.logLines(name, dir, q, grep, pick, signal, file);
  }

  private async *logLines(name: string, dir: string, q: LogQuery, grep: RegExp | undefined, pick: (st: ArgoStatus) => ArgoNode[], signal: AbortSignal, file: string): AsyncGenerator<string> {
    const offsets = new Map<string, number>();
    const partial = new Map<string, string>();
    const lines = (podName: string, text: string, last: boolean): string[] => {
      const all = (partial.get(podName) ?? "") + text;
      const parts = all.split("\n");
      partial.set(podName, last ? "" : parts.pop()!);
      if (last && parts.at(-1) === "") parts.pop();
      return parts;
    };
    // Kubernetes' tailLines applies to each pod's log as it is when first read; grep to what is then shown.
    const tailed = new Set<string>();
    for (;;) {
      // The status is read before the logs: a log is complete once its node's phase is final.
      const st = readArgoStatus(dir)!;
      const ended = isFinal(st.phase);
      for (const n of pick(st)) {
        const nodeDone = isFinal(n.phase);
        let got: string[] = [];
        for (;;) {
          const chunk = this.store.log(name, n.id, offsets.get(n.id) ?? 0, undefined, file);
          offsets.set(n.id, chunk.offset);
          got.push(...lines(n.id, chunk.text, nodeDone && chunk.offset >= chunk.size));
          if (chunk.offset >= chunk.size || !chunk.text) break;
        }
        if (q.tailLines !== undefined && !tailed.has(n.id) && (got.length || nodeDone)) {
          tailed.add(n.id);
          got = q.tailLines ? got.slice(-q.tailLines) : [];
        }
        for (const content of got) if (!grep || grep.test(content)) yield `${JSON.stringify({ result: { content, podName: n.id } })}\n`;
      }
      if (!q.follow || ended) return;
      await sleep(WATCH_POLL_MS, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return;
    }
  }
}
