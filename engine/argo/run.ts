// Runs an Argo Workflow manifest locally (issue 12, scope 2).
//
// DESIGN
// dflow renders its model to Argo, and our engine reproduces dflow's debug
// mode, so the first idea was to translate Argo YAML into our model
// (Workflow/Steps/DAG/ScriptOPTemplate) and run it unchanged. That
// translation cannot be faithful: the model's semantics are dflow's, and
// Argo's differ exactly where the corpus asserts —
//  * node phases: Argo has Error, Skipped and Omitted nodes; the model has
//    Succeeded/Failed and no directory for a skipped or omitted step;
//  * Argo's node tree (step groups `[i]`, loop children `x(0:item)`,
//    TaskGroups, Retry nodes with attempts `x(n)`, `.onExit`, `.hooks.h`)
//    has no counterpart in dflow's layout (keyed steps, dflow retries
//    in one directory);
//  * values: Argo parameters are strings (loop aggregation builds JSON
//    lists of strings, `outputs.result` is stdout), dflow's are typed;
//    absent outputs of skipped producers (§4.3), `depends` results,
//    `when` evaluated per item, exit handlers, hooks, memoization,
//    template scopes of templateRef all need Argo's own rules.
// Bending the model to all of that would change dflow's semantics for
// dflow users. So an Argo workflow runs in its own interpreter, this
// module, built on the engine's parts rather than beside them:
//  * the same work directory and layout: <debug_workdir>/<workflow id>
//    with status/type/pid, one step directory per Argo node (name, type,
//    phase, message, inputs/outputs parameter files, log.txt, children),
//    so `dflow list/get/logs/ui` show it (store.ts), plus node.json with the
//    Argo node; nodes.ts turns the directories back into `status.nodes`;
//  * processes through the engine's local executor (executors/local.ts:
//    process groups, timeouts, kill on stop), one sandbox per node
//    (sandbox.ts: the image ignored but its entrypoint honoured, container
//    paths rewritten under the node's directory);
//  * expressions through the engine's expr-lang and govaluate evaluators
//    (engine/expr), with Argo's staged `{{...}}` substitution (tags.ts)
//    and `depends` (depends.ts);
//  * parameters of the workflow, retries (Argo's retryStrategy: policy,
//    expression, backoff, maxDuration), deadlines, parallelism (p-limit),
//    mutexes, memoization, exit handlers and hooks here, in Argo's terms.
// Loading (manifest.ts) resolves templateDefaults and (Cluster)WorkflowTemplate
// references from local files; check.ts refuses, before anything runs, what
// cannot be honoured (Kubernetes-only templates and fields), in one line.
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pLimit, { type LimitFunction } from "p-limit";
import { DflowConfigError } from "../../src/errors.js";
import { durationSeconds, parseGoDuration } from "../../src/options.js";
import { evaluate, evaluateWhen } from "../expr/index.js";
import { toJsonText } from "../expr/evaluate.js";
import { killSteps, runLocal } from "../executors/local.js";
import { debugRoot, killStepProcess, newWorkflowDir } from "../workflow-run.js";
import { filesUnder, isUnder, readTextOrSync, writeAtomic, writeAtomicSync } from "../store/fsx.js";
import { acquireLock, engineDir, releaseLock } from "../store/engine-dir.js";
import { deleteWorkflow, takeStopRequest, waitForResume } from "../control.js";
import { type PodRequest, machine, podRequest, withinMachine } from "./capacity.js";
import { type ArgoTemplate, type ArgoWorkflow, type Obj, ArgoSpecError, ArgoUnsupported, allTemplates, asList, asObj, fromSaved, loadWorkflow, parseManifests, stepGroups, templateKind, toSaved, workflowNamespace } from "./manifest.js";
import { withLocks } from "./sync.js";
import { meets, parseRequirements, valueAt } from "./selector.js";
import { readArgoStatus } from "./nodes.js";
import { hostDirs } from "./rootfs.js";
import { type Isolation, POD_BIN, POD_PROGRESS, POD_STAGING, Sandbox, imageDefaults, noNamespaceReason, noOwnRootReason, PRIVATE_ROOTS, shims, withStdoutCapture } from "./sandbox.js";
import { ARGO_REPOSITORY, type ArgoNode, keyFile, type NodeArtifact, type NodeParam, type NodePhase, NodeStore, PROGRESS_FILE, WORKFLOW_FILE, type WorkflowRecord, readNodes, timestamp } from "./store.js";
import { ArtifactValue, TagError, type Vars, exprEnv, soleReference, substitute, substituteDeep, tagText } from "./tags.js";
import { type TaskState, dagPhase, evaluateDepends, taskGraph, upstream } from "./depends.js";
import { checkWorkflow, resourceRefusal } from "./check.js";
import { type MemoEntry, fromArgoEntry, memoFile, writeMemo } from "./memo.js";
import { type ConfigMapFiles, configMapEntries, configMapKey, mountConfigMaps, mountPaths, volumeBinds, volumeSpec } from "./volumes.js";
import { mergeInto } from "../artifacts/place.js";
import type { ArgoRunControl } from "./control.js";
import { Boundaries } from "./daemons.js";
import { SCHEDULED_TIME } from "./cron.js";
import { HOST_NODE, POD_IP, type ProbeExec, waitReady } from "./probe.js";
import { unarchive } from "./archive.js";
import { collectGarbage, gcStrategy } from "./gc.js";
import { RemoteArtifactError, type S3Keys, cloneGitArtifact, fetchHttpArtifact, fetchS3Artifact, listS3Keys, putHttpArtifact, putS3Artifact } from "./remote.js";

/** The template's timeout passed while its node waited for a lock. */
class LockTimeout extends Error {}

/** An abort at `timeout` (a Go duration) after `start` (ms), for a wait for locks; a duration Argo cannot read is left to the pod, which fails on it. */
function lockTimeout(timeout: string, start: number): { signal: AbortSignal; clear(): void } | undefined {
  let ms: number;
  try {
    ms = parseGoDuration(timeout) / 1e6;
  } catch {
    return undefined;
  }
  const c = new AbortController();
  const timer = setTimeout(() => c.abort(new LockTimeout("timeout")), Math.max(0, start + ms - Date.now()));
  return { signal: c.signal, clear: () => clearTimeout(timer) };
}

const str = (v: unknown): string => (v === undefined || v === null ? "" : typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v));

/** An ISO time in RFC 3339 to the second, as Argo's controller writes times into variables ("" stays ""). */
const rfc3339 = (iso: string): string => iso.replace(/\.\d+Z$/, "Z");

/** Where templates are looked up: the workflow's, or a stored template's for templateRef (its spec: volumes it declares). */
interface TemplateScope {
  templates: ArgoTemplate[];
  stored?: string;
  spec?: Obj;
}

/** Outputs of a finished node, as later references see them. */
interface Outputs {
  parameters: Map<string, string | undefined>;
  artifacts: Map<string, Art | undefined>;
  result?: string;
  exitCode?: string;
}

type Art = ArtifactValue;

interface Outcome {
  node: ArgoNode;
  phase: NodePhase;
  outputs: Outputs;
  /** Loop children (steps/tasks expanded by withItems/withParam/withSequence). */
  children?: Outcome[];
  /** A daemon, Daemoned (phase Running): `ended` settles with its final outcome once it is stopped or dies. */
  daemon?: { ended: Promise<Outcome> };
}

/**
 * The children of one steps/DAG node: at most `parallelism` active
 * (p-limit), and with the template's failFast, none started once one failed
 * (those never get a node, §11).
 */
interface Gate {
  limit: LimitFunction;
  failFast: boolean;
  stopped: boolean;
}

function gate(t: ArgoTemplate): Gate {
  return { limit: pLimit(Number(t.parallelism ?? 0) > 0 ? Number(t.parallelism) : Infinity), failFast: t.failFast === true, stopped: false };
}

/** Where an artifact comes from before it is in the repository: raw data, or an http, git or s3-with-endpoint location (remote.ts). */
type Located = Art | { raw: string } | { remote: Obj };

interface Args {
  parameters: Map<string, string | undefined>;
  artifacts: Map<string, Located | undefined>;
}

/** Stops the workflow at its activeDeadlineSeconds. */
class Deadline {
  at = Infinity;
  remaining(): number {
    return this.at === Infinity ? Infinity : (this.at - Date.now()) / 1000;
  }
  passed(): boolean {
    return this.remaining() <= 0;
  }
}

export interface ArgoRunResult {
  id: string;
  dir: string;
  phase: "Succeeded" | "Failed" | "Error";
  message?: string;
}

export interface ArgoRunOptions {
  log?: (line: string) => void;
  onStart?: (id: string, dir: string) => void;
  /** The workflow's name, exactly (the Argo Server API's metadata.name); else `<name>-<5 random>`. */
  id?: string;
  /** Shutdown and suspension from outside (the Argo Server API's stop/terminate/suspend). */
  control?: ArgoRunControl;
  /**
   * With a control: the process is this run's too, so SIGTERM, SIGINT and SIGHUP end the run and
   * the process as without one (`dflow run` of a file of several Workflows); a server's are its own.
   */
  signals?: boolean;
  /** Where a resource template's Workflows are created (the Argo Server API's namespace); else runs of this process. */
  workflows?: ChildWorkflows;
  /**
   * `argo resubmit --memoized`: the Failed or Errored run whose succeeded nodes this new run
   * starts with (copied, named after it), as Argo's FormulateResubmitWorkflow does.
   */
  memoizedFrom?: { id: string; dir: string };
}

/** The Workflows a resource template creates, gets and deletes (Argo's workflow of workflows). */
export interface ChildWorkflows {
  /** Create and start one; resolves with its name once it runs. */
  create(manifest: Obj): Promise<string>;
  /** The workflow as Argo's API shows it (metadata, spec, status), or undefined when there is none. */
  get(name: string): Obj | undefined;
  delete(name: string): Promise<void>;
}

/** A retry: the earlier run's directory, continued (retryArgoWorkflow). */
interface Resume {
  id: string;
  dir: string;
  record: WorkflowRecord;
  /** Succeeded nodes to run again (`argo retry --restart-successful --node-field-selector`), by id. */
  restart?: Set<string>;
}

const DISPLAY_NAME_ANNOTATION = "workflows.argoproj.io/display-name";
/** What Argo takes for a node's display name (operator.go displayNameRegex). */
const DISPLAY_NAME = /^[a-zA-Z0-9][a-zA-Z0-9-.]{0,61}[a-zA-Z0-9]$/;

/** The workflow as it ran (manifest.ts toSaved), in the engine's folder of its directory: what a retry runs. */
const SAVED_RUN = "argo-run.json";

/** A parameter's description goes with its value into the node, as Argo's status has it (dflow's client reads the type it holds). */
function described(p: Obj): { description?: string } {
  return p.description === undefined ? {} : { description: str(p.description) };
}

/** The local default artifact repository (keys are paths under it). */
export function artifactRepository(root = debugRoot()): string {
  return path.join(root, ARGO_REPOSITORY);
}

/** The file of a key of the local repository (keyFile), or the node's error naming the key. */
function repositoryFile(key: string, where: string): string {
  const file = keyFile(artifactRepository(), key);
  if (file === null) throw new NodeError(`${where}: ${JSON.stringify(key)} is no key of the artifact repository (it leads out of it)`);
  return file;
}

/** The keys of the local repository's files under `prefix` (all without one), in S3's order. */
function repositoryKeys(prefix: string): string[] {
  const repo = artifactRepository();
  const dir = path.join(repo, prefix.replace(/\/+$/, ""));
  if (!isUnder(dir, repo) || !fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return [];
  const base = path.relative(repo, dir).split(path.sep).join("/");
  return filesUnder(dir)
    .map((f) => (base ? `${base}/${f}` : f))
    .sort();
}

/**
 * The message of a step or task that could not be resolved. One that names another's variable that
 * is not there (an output its failed producer did not write: TagError.waits) would wait on Argo,
 * the workflow Running there; here the node ends in Error, and says so.
 */
function unresolved(e: unknown): string {
  const message = (e as Error).message;
  return e instanceof TagError && e.waits ? `${message} (on Argo the controller would wait for it, the workflow Running until stopped)` : message;
}

class Run {
  readonly store: NodeStore;
  readonly globals: Vars = new Map();
  readonly globalOutputs = { parameters: new Map<string, string>(), artifacts: new Map<string, Art>() };
  readonly podLimit?: LimitFunction;
  readonly deadline = new Deadline();
  readonly failures: ArgoNode[] = [];
  readonly shimDir: string;
  /** DFLOW_ARGO_HOST_DIRS: folders its pods write for real. */
  readonly hostDirs: string[];
  readonly started = Date.now();
  labels: Record<string, string>;
  annotations: Record<string, string>;
  control?: ArgoRunControl;
  /** A retry: the earlier run's succeeded nodes by node name, kept with their subtrees instead of run again. */
  previous?: Map<string, ArgoNode>;
  /** A retry: the earlier run's nodes by id, and which of them this run kept. */
  previousById = new Map<string, ArgoNode>();
  readonly adopted = new Set<string>();
  readonly daemons = new Boundaries();
  workflows: ChildWorkflows = localWorkflows(this);

  constructor(
    readonly wf: ArgoWorkflow,
    readonly wfid: string,
    readonly wfdir: string,
  ) {
    this.store = new NodeStore(wfid, wfdir);
    const spec = wf.spec;
    const par = Number(spec.parallelism ?? 0);
    if (par > 0) this.podLimit = pLimit(par);
    this.shimDir = shims(debugRoot());
    // Read once a run (checkWorkflow refused a wrong one): every pod of it binds them.
    this.hostDirs = hostDirs();
    this.labels = Object.fromEntries(Object.entries(asObj(wf.metadata.labels)).map(([k, v]) => [k, str(v)]));
    this.annotations = Object.fromEntries(Object.entries(asObj(wf.metadata.annotations)).map(([k, v]) => [k, str(v)]));
    this.setGlobals();
  }

  private setGlobals(): void {
    const g = this.globals;
    const spec = this.wf.spec;
    g.set("workflow.name", this.wfid);
    g.set("workflow.namespace", workflowNamespace(this.wf));
    g.set("workflow.uid", str(this.wf.metadata.uid) || crypto.randomUUID());
    g.set("workflow.mainEntrypoint", spec.entrypoint);
    g.set("workflow.serviceAccountName", str(spec.serviceAccountName ?? "default"));
    g.set("workflow.priority", str(spec.priority ?? 0));
    const created = new Date(this.started);
    const iso = rfc3339(created.toISOString());
    g.set("workflow.creationTimestamp", iso);
    g.set("workflow.creationTimestamp.RFC3339", iso);
    g.set("workflow.creationTimestamp.s", String(Math.floor(this.started / 1000)));
    const pad = (n: number) => String(n).padStart(2, "0");
    const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    const strf: Record<string, string> = {
      Y: String(created.getUTCFullYear()),
      y: pad(created.getUTCFullYear() % 100),
      m: pad(created.getUTCMonth() + 1),
      d: pad(created.getUTCDate()),
      H: pad(created.getUTCHours()),
      M: pad(created.getUTCMinutes()),
      S: pad(created.getUTCSeconds()),
      b: months[created.getUTCMonth()],
      e: String(created.getUTCDate()),
      j: pad(Math.floor((this.started - Date.UTC(created.getUTCFullYear(), 0, 1)) / 86400000) + 1).padStart(3, "0"),
    };
    for (const [k, v] of Object.entries(strf)) g.set(`workflow.creationTimestamp.${k}`, v);
    // A CronWorkflow's run: when it was due.
    const scheduled = asObj(this.wf.metadata.annotations)[SCHEDULED_TIME];
    if (scheduled !== undefined) g.set("workflow.scheduledTime", str(scheduled));
    const params: Array<{ name: string; value: string }> = [];
    for (const p of asList(asObj(spec.arguments).parameters)) {
      const v = this.parameterValue(p, g);
      if (v !== undefined) {
        g.set(`workflow.parameters.${str(p.name)}`, v);
        params.push({ name: str(p.name), value: v, ...described(p) });
      }
    }
    g.set("workflow.parameters.json", JSON.stringify(params));
    g.set("workflow.parameters", JSON.stringify(params));
    this.refreshMetadata();
  }

  refreshMetadata(): void {
    const g = this.globals;
    for (const [k, v] of Object.entries(this.labels)) g.set(`workflow.labels.${k}`, v);
    for (const [k, v] of Object.entries(this.annotations)) g.set(`workflow.annotations.${k}`, v);
    g.set("workflow.labels.json", JSON.stringify(this.labels));
    g.set("workflow.annotations.json", JSON.stringify(this.annotations));
    // The deprecated whole forms, still in Argo's catalog (util/variables/keys).
    g.set("workflow.labels", JSON.stringify(this.labels));
    g.set("workflow.annotations", JSON.stringify(this.annotations));
  }

  /** A parameter's literal value: `value`, else `default`, substituted with what is known. */
  parameterValue(p: Obj, vars: Vars): string | undefined {
    const vf = asObj(p.valueFrom);
    // A ConfigMap's key (given locally), unless a value is given; its default when the key is not there.
    if (p.value === undefined && vf.configMapKeyRef !== undefined) {
      const v = configMapKey(this.wf.configMaps, asObj(vf.configMapKeyRef));
      if (v !== undefined) return v;
    }
    const raw = p.value !== undefined ? p.value : vf.default !== undefined ? vf.default : p.default;
    if (raw === undefined) return undefined;
    return substitute(str(raw), vars, true);
  }

  vars(extra?: Vars): Vars {
    const v = new Map(this.globals);
    // Go's %f, as the controller writes it.
    v.set("workflow.duration", ((Date.now() - this.started) / 1000).toFixed(6));
    // The workflow's phase as the controller knows it: Running until the exit handler is told the end.
    v.set("workflow.status", "Running");
    if (extra) for (const [k, x] of extra) v.set(k, x);
    return v;
  }

  template(name: string, scope: TemplateScope, where: string): ArgoTemplate {
    const t = scope.templates.find((x) => x.name === name);
    if (!t) throw new ArgoSpecError(`${where}: template name '${name}' undefined`);
    return t;
  }

  /** The template a step/task calls, and the scope its own references resolve in. */
  callee(step: Obj, scope: TemplateScope, where: string): { template: ArgoTemplate; scope: TemplateScope } {
    if (step.inline) return { template: { name: "", ...asObj(step.inline) } as ArgoTemplate, scope };
    if (step.templateRef) {
      const ref = asObj(step.templateRef);
      const stored = this.wf.library.get(`${ref.clusterScope ? "cluster:" : ""}${str(ref.name)}`);
      if (!stored) throw new ArgoSpecError(`${where}: templateRef: ${ref.clusterScope ? "ClusterWorkflowTemplate" : "WorkflowTemplate"} ${JSON.stringify(ref.name)} not found`);
      const s = { templates: stored.spec.templates, stored: stored.name, spec: stored.spec };
      return { template: this.template(str(ref.template), s, where), scope: s };
    }
    return { template: this.template(str(step.template), scope, where), scope };
  }

  // ------------------------------------------------------------ templates

  /**
   * Run one template as node `name` (child of `parent`): inputs bound,
   * retries, memoization and mutexes around the body.
   */
  async execute(t: ArgoTemplate, scope: TemplateScope, args: Args, name: string, displayName: string, parent: ArgoNode | undefined, extra?: Vars): Promise<Outcome> {
    const done = this.previous?.get(name);
    if (done && (done.templateName ?? "") === (t.name ?? "")) return this.adopt(done, parent);
    const out = await this.retried(t, scope, args, name, displayName, parent, extra);
    // A template's own exit hook runs after its node, whatever the phase.
    const exit = asObj(t.hooks).exit;
    if (exit) await this.hook(asObj(exit), `${name}.onExit`, `${displayName}.onExit`, parent, this.vars(inherited(extra ?? new Map())), scope);
    return out;
  }

  /**
   * A retry's node that succeeded in the earlier run: kept, with its subtree
   * (its exit hook ran then), and its outputs are what it had; as Argo's
   * retry keeps succeeded nodes.
   */
  private adopt(node: ArgoNode, parent: ArgoNode | undefined): Outcome {
    this.store.attach(node, parent);
    withDescendants(this.previousById, [node.id], this.adopted);
    return { node, phase: node.phase, outputs: outputsOf(node.outputs) };
  }

  private async retried(t: ArgoTemplate, scope: TemplateScope, args: Args, name: string, displayName: string, parent: ArgoNode | undefined, extra?: Vars): Promise<Outcome> {
    const retry = asObj(t.retryStrategy ?? (parent === undefined && name === this.wfid ? this.wf.spec.retryStrategy : undefined));
    const hasRetry = t.retryStrategy !== undefined || (parent === undefined && this.wf.spec.retryStrategy !== undefined);
    if (!hasRetry) return this.attempt(t, scope, args, name, displayName, parent, extra, undefined);
    const node = this.store.create({ name, displayName, type: "Retry", templateName: t.name, phase: "Running" }, parent);
    // A daemon's retry node is Daemoned with its first attempt that is: the caller goes on then, while
    // the attempts go on until the daemon's boundary stops them (daemons.ts).
    let announce: (o: Outcome) => void = () => undefined;
    const daemoned = new Promise<Outcome>((resolve) => (announce = resolve));
    const finished = this.attempts(t, scope, args, displayName, node, retry, extra, announce);
    if (t.daemon === true && node.boundaryID !== undefined) this.daemons.track(node.boundaryID, finished);
    return Promise.race([daemoned.then((o) => ({ ...o, daemon: { ended: finished } })), finished]);
  }

  /** The attempts of retry node `node` (`daemoned`: told once an attempt is a daemon that is ready); the node's outcome. */
  private async attempts(t: ArgoTemplate, scope: TemplateScope, args: Args, displayName: string, node: ArgoNode, retry: Obj, extra: Vars | undefined, daemoned: (o: Outcome) => void): Promise<Outcome> {
    const name = node.name;
    const limitRaw = retry.limit;
    let limit = limitRaw === undefined ? Infinity : Number(substitute(str(limitRaw), this.vars(extra)));
    if (!Number.isFinite(limit) && limitRaw !== undefined) limit = 0;
    const policy = str(retry.retryPolicy || (retry.expression ? "Always" : "OnFailure"));
    const backoff = asObj(retry.backoff);
    const maxDuration = backoff.maxDuration !== undefined ? durationSeconds(str(backoff.maxDuration)) : Infinity;
    const first = Date.now();
    let last: Outcome | undefined;
    let message: string | undefined;
    for (let n = 0; ; n++) {
      const vars = new Map(extra ?? []);
      vars.set("retries", String(n));
      for (const [k, v] of lastRetry(last)) vars.set(k, v);
      last = await this.attempt(t, scope, args, `${name}(${n})`, `${displayName}(${n})`, node, vars, maxDuration === Infinity ? undefined : first + maxDuration * 1000);
      if (last.daemon) {
        if (!node.daemoned) {
          node.daemoned = true;
          this.store.save(node);
          daemoned({ node, phase: "Running", outputs: last.outputs });
        }
        last = await last.daemon.ended;
      }
      if (last.phase === "Succeeded" || last.phase === "Skipped") break;
      if (n >= limit) {
        message = "No more retries left";
        break;
      }
      const retryable = policy === "Always" || (policy === "OnFailure" && last.phase === "Failed") || (policy === "OnError" && last.phase === "Error") || (policy === "OnTransientError" && (last.phase === "Error" || last.phase === "Failed") && isTransient(last.node.message ?? ""));
      if (!retryable) break;
      if (retry.expression) {
        const env = exprEnv(this.vars(new Map([...lastRetry(last), ...(extra ?? [])])));
        let ok: unknown;
        try {
          ok = evaluate(str(retry.expression), env);
        } catch {
          ok = false;
        }
        if (ok !== true) {
          message = "retryStrategy.expression evaluated to false";
          break;
        }
      }
      if (this.deadline.passed() || this.control?.shutdown || (node.boundaryID !== undefined && this.daemons.isClosed(node.boundaryID))) break;
      let wait = 0;
      if (backoff.duration !== undefined) {
        wait = durationSeconds(str(backoff.duration)) * Math.pow(Number(backoff.factor ?? 1) || 1, n);
        if (backoff.cap !== undefined) wait = Math.min(wait, durationSeconds(str(backoff.cap)));
      }
      if (Date.now() + wait * 1000 > first + maxDuration * 1000) {
        message = Date.now() > first + maxDuration * 1000 ? "Max duration limit exceeded" : "Backoff would exceed max duration limit";
        break;
      }
      if (wait > 0) await sleep(wait * 1000);
    }
    delete node.daemoned;
    node.inputs = last.node.inputs;
    node.outputs = last.node.outputs;
    this.store.finish(node, last.phase, message ?? last.node.message);
    return { node, phase: last.phase, outputs: last.outputs };
  }

  private async attempt(t: ArgoTemplate, scope: TemplateScope, args: Args, name: string, displayName: string, parent: ArgoNode | undefined, extra: Vars | undefined, maxEnd: number | undefined): Promise<Outcome> {
    const kind = templateKind(t);
    const type = { container: "Pod", script: "Pod", containerSet: "Pod", steps: "Steps", dag: "DAG", suspend: "Suspend", http: "HTTP" }[kind] ?? "Pod";
    const node = this.store.create({ name, displayName, type, templateName: t.name || undefined, phase: "Running" }, parent);
    try {
      const inputs = await this.bindInputs(t, args);
      const vars = this.vars(extra);
      for (const [k, v] of inputs.vars) vars.set(k, v);
      vars.set("node.name", name);
      vars.set("pod.name", node.id);
      node.inputs = { parameters: inputs.params, ...(inputs.arts.length ? { artifacts: inputs.arts } : {}) };
      await this.store.writeParams(node, "inputs", inputs.params);
      this.store.save(node);
      // Global and input tags are replaced in the whole template now; steps.*, tasks.*, item later (§4.1).
      const body = substituteDeep(t, vars, ["inline", "name", "inputs"]) as ArgoTemplate;
      if (t.inputs !== undefined) body.inputs = inputs.declared;
      // The template's display-name annotation, its tags resolved, names the node (Argo's setNodeDisplayName).
      const shown = asObj(body.annotations)[DISPLAY_NAME_ANNOTATION];
      if (shown !== undefined && str(shown) !== "") {
        if (!DISPLAY_NAME.test(str(shown))) throw new NodeError(`displayName must match the regex ${DISPLAY_NAME.source}`);
        node.displayName = str(shown);
        this.store.save(node);
      }
      const waitFrom = Date.now();
      const run = () => {
        if (body.synchronization !== undefined) this.lockWaits.set(node, Date.now() - waitFrom);
        return this.memoized(body, node, vars, scope, inputs.artifacts, maxEnd);
      };
      // A template's timeout counts from its node's start, its wait for a lock included: Argo
      // fails a node still Pending past it ("timeout"; checkTemplateTimeout).
      const giveUp = body.synchronization !== undefined && body.timeout !== undefined ? lockTimeout(str(body.timeout), Date.parse(node.startedAt)) : undefined;
      try {
        // Waiting for a lock, the node is Pending with Argo's message (`argo get` shows who waits for what).
        return await withLocks(
          body.synchronization,
          this.wf,
          run,
          (message) => {
            node.phase = message ? "Pending" : "Running";
            if (message) node.message = message;
            else delete node.message;
            this.store.save(node);
          },
          giveUp?.signal,
        );
      } catch (e) {
        if (!(e instanceof LockTimeout)) throw e;
        this.fail(node, "Failed", "timeout");
        return { node, phase: "Failed", outputs: emptyOutputs() };
      } finally {
        giveUp?.clear();
      }
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      // Whatever kept the template from running (a reference, an input, an artifact) is an Error, not a Failure (§3).
      this.fail(node, "Error", message);
      return { node, phase: node.phase, outputs: emptyOutputs() };
    }
  }

  /** How long a node waited for its locks (ms): its template's timeout counts that wait, as Argo's does. */
  private readonly lockWaits = new WeakMap<ArgoNode, number>();

  fail(node: ArgoNode, phase: NodePhase, message: string): void {
    this.store.finish(node, phase, message);
    if (phase === "Failed" || phase === "Error") this.failures.push(node);
  }

  private async memoized(t: ArgoTemplate, node: ArgoNode, vars: Vars, scope: TemplateScope, inArts: Map<string, Art>, maxEnd: number | undefined): Promise<Outcome> {
    const memo = asObj(t.memoize);
    if (!t.memoize) return this.body(t, node, vars, scope, inArts, maxEnd);
    const key = substitute(str(memo.key), vars, true);
    // The ConfigMap's name may use the inputs too (dflow's: dflow-<workflow>-{{inputs.parameters.dflow_key}}).
    const cacheName = substitute(str(asObj(asObj(memo.cache).configMap).name), vars, true) || "default";
    const file = memoFile(debugRoot(), cacheName, key);
    node.memoizationStatus = { hit: false, key, cacheName };
    const maxAge = memo.maxAge !== undefined ? durationSeconds(str(memo.maxAge)) : Infinity;
    let hit: MemoEntry | undefined;
    try {
      hit = JSON.parse(await fsp.readFile(file, "utf8")) as MemoEntry;
    } catch {
      // A cache given with the manifest (a ConfigMap of type Cache in a -t file: `dflow export`'s for reuse_step), as Argo reads it.
      const given = configMapKey(this.wf.configMaps, { name: cacheName, key });
      if (given !== undefined) hit = fromArgoEntry(given, `ConfigMap ${cacheName} data.${key}`);
    }
    if (hit) {
      // An entry whose artifacts are gone from the repository (their workflow deleted) is a miss.
      const arts = hit.outputs?.artifacts ?? [];
      if ((Date.now() - hit.at) / 1000 <= maxAge && arts.every((a) => a.key !== undefined && fs.existsSync(path.join(artifactRepository(), a.key)))) {
        node.memoizationStatus.hit = true;
        node.outputs = hit.outputs;
        const outputs = outputsOf(hit.outputs);
        await this.store.writeParams(node, "outputs", hit.outputs?.parameters ?? []);
        this.store.finish(node, "Succeeded");
        return { node, phase: "Succeeded", outputs };
      }
    }
    const out = await this.body(t, node, vars, scope, inArts, maxEnd);
    if (out.phase === "Succeeded") {
      await writeMemo(debugRoot(), cacheName, key, { at: Date.now(), outputs: node.outputs ?? {} });
    }
    return out;
  }

  private async body(t: ArgoTemplate, node: ArgoNode, vars: Vars, scope: TemplateScope, inArts: Map<string, Art>, maxEnd: number | undefined): Promise<Outcome> {
    const kind = templateKind(t);
    if (kind === "steps" || kind === "dag") {
      try {
        return await (kind === "steps" ? this.steps(t, node, vars, scope) : this.dag(t, node, vars, scope));
      } finally {
        // The daemons this template started end with it (Argo's killDaemonedChildren).
        await this.daemons.close(node.id);
      }
    }
    if (kind === "suspend") return this.suspend(t, node, vars);
    if (kind === "http") return this.http(t, node, vars, maxEnd);
    if (kind === "data") return this.data(t, node, vars);
    if (kind === "resource") return this.resource(t, node, vars);
    return this.pod(t, node, vars, inArts, maxEnd, volumeSpec(this.wf.spec, scope.spec));
  }

  /**
   * Inputs from the caller's arguments, else the input's value or default (§12).
   * `declared`: the template's inputs with their artifacts' paths substituted (what the pod places).
   */
  private async bindInputs(t: ArgoTemplate, args: Args): Promise<{ params: NodeParam[]; arts: NodeArtifact[]; vars: Vars; artifacts: Map<string, Art>; declared: Obj }> {
    const inputs = asObj(t.inputs);
    const params: NodeParam[] = [];
    const vars: Vars = new Map();
    const base = this.vars();
    for (const p of asList(inputs.parameters)) {
      const name = str(p.name);
      let v = args.parameters.get(name);
      // An input's own value may use the inputs before it.
      if (v === undefined) v = this.parameterValue(p, new Map([...base, ...vars]));
      if (v === undefined && args.parameters.has(name)) throw new NodeError(`inputs.parameters.${name}: its argument refers to an absent optional value (the producer was skipped or omitted and has no default), and the input has no default`);
      if (v === undefined) throw new ArgoSpecError(`invalid spec: templates.${t.name}.inputs.parameters.${name} was not supplied`);
      if (Array.isArray(p.enum) && p.enum.length && !p.enum.map(str).includes(v)) throw new ArgoSpecError(`inputs.parameters.${name}: value ${JSON.stringify(v)} is not one of the enum values ${JSON.stringify(p.enum.map(str))}`);
      params.push({ name, value: v, ...described(p) });
      vars.set(`inputs.parameters.${name}`, v);
    }
    vars.set("inputs.parameters", JSON.stringify(params.map((p) => ({ name: p.name, value: p.value }))));
    // An input artifact's path may use the input parameters (dflow's sub-path slices do).
    const withParams = new Map([...base, ...vars]);
    const declared = { ...inputs, artifacts: asList(inputs.artifacts).map((a) => (a.path === undefined ? a : { ...a, path: substitute(str(a.path), withParams, true) })) };
    const artifacts = new Map<string, Art>();
    const arts: NodeArtifact[] = [];
    for (const a of declared.artifacts) {
      const name = str(a.name);
      let src: Located | undefined = args.artifacts.get(name);
      if (!src) src = this.artifactLocation(a, withParams);
      if (!src) {
        if (a.optional) continue;
        if (args.artifacts.has(name)) throw new NodeError(`inputs.artifacts.${name}: its argument's from: could not be resolved to an artifact`);
        throw new NodeError(`inputs.artifacts.${name} was not supplied`);
      }
      if ("raw" in src) src = await this.rawArtifact(src.raw);
      else if ("remote" in src) {
        const got = await this.remoteArtifact(name, src.remote, a.optional === true);
        if (!got) continue;
        src = got;
      }
      artifacts.set(name, src);
      vars.set(`inputs.artifacts.${name}`, src);
      if (a.path !== undefined) vars.set(`inputs.artifacts.${name}.path`, a.path);
      arts.push({ name, path: a.path === undefined ? undefined : str(a.path), key: src.key });
    }
    const outputs = asObj(t.outputs);
    for (const p of asList(outputs.parameters)) if (asObj(p.valueFrom).path) vars.set(`outputs.parameters.${str(p.name)}.path`, str(asObj(p.valueFrom).path));
    for (const a of asList(outputs.artifacts)) if (a.path) vars.set(`outputs.artifacts.${str(a.name)}.path`, str(a.path));
    return { params, arts, vars, artifacts, declared };
  }

  /** An http, Artifactory, git or s3-with-endpoint artifact, fetched into the repository under a key of the run (remote.ts); none when optional and not there. */
  private async remoteArtifact(name: string, r: Obj, optional: boolean): Promise<Art | undefined> {
    const key = `${this.wfid}/fetched/${crypto.randomUUID()}/${name}`;
    const file = path.join(artifactRepository(), key);
    await fsp.mkdir(path.dirname(file), { recursive: true });
    const where = `inputs.artifacts.${name}`;
    try {
      if (r.http !== undefined || r.artifactory !== undefined) await fetchHttpArtifact(r, file, where, this.secret);
      else if (r.s3 !== undefined) await fetchS3Artifact(asObj(r.s3), this.s3Keys(asObj(r.s3)), file, where);
      else await cloneGitArtifact(asObj(r.git), file, where);
    } catch (e) {
      // Nothing half-fetched is left in the repository.
      await fsp.rm(path.dirname(file), { recursive: true, force: true });
      if (optional && e instanceof RemoteArtifactError && e.notFound) return undefined;
      throw new NodeError((e as Error).message);
    }
    return new ArtifactValue(key, file);
  }

  /** A Secret's key given locally (check.ts made sure it is). */
  private readonly secret = (ref: unknown): string => configMapKey(this.wf.configMaps, asObj(ref), true) ?? "";

  /** An s3 location's keys, from the Secrets given locally. */
  private s3Keys(s3: Obj): S3Keys {
    return { accessKey: this.secret(s3.accessKeySecret), secretKey: this.secret(s3.secretKeySecret) };
  }

  /** Raw artifact data, kept in the repository like any artifact (it may be passed on by `from:`). */
  private async rawArtifact(data: string): Promise<Art> {
    const key = `${this.wfid}/raw/${crypto.randomUUID()}`;
    const file = path.join(artifactRepository(), key);
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await fsp.writeFile(file, data);
    return new ArtifactValue(key, file);
  }

  /** A literal artifact location: raw data, a key of the default repository, or one outside it (remote.ts). */
  private artifactLocation(a: Obj, vars: Vars): Located | undefined {
    if (a.raw) return { raw: substitute(str(asObj(a.raw).data), vars) };
    if (a.http !== undefined || a.git !== undefined || a.artifactory !== undefined) return { remote: substituteDeep({ http: a.http, git: a.git, artifactory: a.artifactory }, vars, [], true) as Obj };
    const s3 = asObj(a.s3);
    if (s3.endpoint !== undefined) return { remote: { s3: substituteDeep(s3, vars, [], true) } };
    if (s3.key !== undefined) {
      const key = substitute(str(s3.key), vars, true);
      return new ArtifactValue(key, repositoryFile(key, `inputs.artifacts.${str(a.name)}.s3.key`));
    }
    return undefined;
  }

  // ------------------------------------------------------------ pods

  private async pod(t: ArgoTemplate, node: ArgoNode, vars: Vars, inArts: Map<string, Art>, maxEnd: number | undefined, volumes: Obj): Promise<Outcome> {
    const dir = this.store.dir(node);
    const run = async (): Promise<Outcome> => {
      // Held while the workflow is suspended: Pending, as Argo shows a pod not created yet.
      const halt = await this.control?.beforePod(() => this.store.save(Object.assign(node, { phase: "Pending" })));
      // When the pod is asked for: past the workflow's parallelism and a suspension (Argo has no
      // node for such a pod yet), less the node's wait for a lock (Pending, which Argo counts).
      const asked = Date.now() - (this.lockWaits.get(node) ?? 0);
      if (node.phase === "Pending") this.store.save(Object.assign(node, { phase: "Running" }));
      if (halt) {
        this.fail(node, "Failed", halt);
        return { node, phase: "Failed", outputs: emptyOutputs() };
      }
      if (this.deadline.passed()) {
        this.fail(node, "Failed", "Step exceeded its deadline");
        return { node, phase: "Failed", outputs: emptyOutputs() };
      }
      // Late variables (retries, pod.name) are bound now; a `{{name}}` still unresolved is an error, an expression stays as Argo leaves it.
      const spec: ArgoTemplate = { ...t };
      for (const k of ["container", "script", "containerSet", "initContainers", "sidecars"]) if (t[k] !== undefined) spec[k] = substituteDeep(t[k], vars, [], "pod");
      for (const k of ["activeDeadlineSeconds", "timeout", "pendingTimeout"]) if (t[k] !== undefined) spec[k] = substituteDeep(t[k], vars, [], true);
      // This machine is the node: the pod starts once its requests fit (capacity.ts), Pending until then.
      const release = await this.admit(spec, node, asked);
      if (typeof release === "string") {
        this.fail(node, "Failed", release);
        return { node, phase: "Failed", outputs: emptyOutputs() };
      }
      let held = false;
      try {
        const out = await this.podBody(spec, node, vars, inArts, maxEnd, volumes, dir, asked);
        // A daemon keeps its share until its process ends.
        if (out.daemon) {
          held = true;
          void out.daemon.ended.finally(release);
        }
        return out;
      } finally {
        if (!held) release();
      }
    };
    return this.podLimit ? this.podLimit(run) : run();
  }

  /**
   * Waits until the pod's requests fit in what this machine has left (its
   * node Pending with the scheduler's reason meanwhile); the release of its
   * share, or why it cannot start (a request Kubernetes would not take, a
   * shutdown or the workflow's deadline while it waited).
   */
  private async admit(spec: ArgoTemplate, node: ArgoNode, asked: number): Promise<(() => void) | string> {
    let req: PodRequest;
    try {
      req = podRequest(spec, this.wf.spec.podResources, `templates.${spec.name}`);
    } catch (e) {
      return (e as Error).message;
    }
    const host = machine();
    req = withinMachine(req, host.total);
    // The template's timeout and pendingTimeout count the time it waits here too (Argo's checkTemplateTimeouts, from the node's start).
    let pending: number[]; // when each ends (ms)
    try {
      // A value a parameter gave that is no duration: Argo's controller fails the node with Go's message.
      pending = [spec.timeout, spec.pendingTimeout].filter((v) => v !== undefined && str(v) !== "").map((v) => asked + parseGoDuration(str(v)) / 1e6);
    } catch (e) {
      return (e as Error).message;
    }
    // Made only for a pod that has to wait.
    const abort = () => {
      const limits = [this.deadline.remaining() * 1000, ...pending.map((end) => end - Date.now())].filter((x) => Number.isFinite(x));
      const signals = [...(this.control ? [this.control.signal] : []), ...(limits.length ? [AbortSignal.timeout(Math.max(1, Math.min(...limits)))] : [])];
      return signals.length ? AbortSignal.any(signals) : undefined;
    };
    try {
      const release = await host.admit(req, (message) => this.store.save(Object.assign(node, { phase: "Pending", message })), abort, { daemon: spec.daemon === true });
      if (node.phase === "Pending") {
        delete node.message;
        this.store.save(Object.assign(node, { phase: "Running" }));
      }
      return release;
    } catch {
      // Argo's ErrTimeout ("timeout") for a template's own limit; the workflow's deadline is the step's.
      return this.control?.message ?? (this.deadline.passed() ? "Step exceeded its deadline" : "timeout");
    }
  }

  /** The pod, once admitted: its init containers, sidecars and main (or its containerSet). */
  private async podBody(spec: ArgoTemplate, node: ArgoNode, vars: Vars, inArts: Map<string, Art>, maxEnd: number | undefined, volumes: Obj, dir: string, asked: number): Promise<Outcome> {
    if (templateKind(spec) === "containerSet") return this.containerSet(spec, node, vars, inArts, maxEnd);
    const timeout = this.timeout(spec, maxEnd, asked);
    // Init containers, one after another before main: the first that fails fails the pod, named as Argo names it.
    for (const ic of asList(spec.initContainers)) {
      const r = await this.sideContainer(spec, "initContainers", ic, dir, volumes, timeout);
      if (r.exitCode !== 0 || r.spawnError || r.timedOut) {
        this.fail(node, "Failed", containerFailure(str(ic.name), r));
        return { node, phase: "Failed", outputs: emptyOutputs() };
      }
    }
    const sidecars = this.startSidecars(spec, dir, volumes, timeout);
    // A daemon outlives this call (its boundary stops it, daemons.ts); one with no boundary (the entrypoint) runs as a pod.
    const daemonized = spec.daemon === true && node.boundaryID !== undefined;
    try {
      const c = asObj(spec.container ?? spec.script);
      const declared = declaredPaths(spec);
      const binds = volumeBinds(spec, volumes, { pod: dir, workflow: this.wfdir, work: debugRoot() });
      const sandbox = new Sandbox(path.join(dir, "root"), declared, this.shimDir, binds);
      const cwd = str(c.workingDir) || "/";
      const hostCwd = sandbox.prepare(cwd);
      sandbox.willIsolate(declared, cwd, containerTexts(c, spec.script));
      mountConfigMaps(spec, { spec: volumes, configMaps: this.wf.configMaps }, (p) => sandbox.host(p));
      await this.placeInputs(spec, sandbox, inArts);
      const argv = this.argv(spec, c, sandbox, dir);
      const env = this.env(c, sandbox, dir);
      const isolation = await this.isolate(sandbox, binds, env, cwd, dir, dir);
      if (daemonized) {
        const probe: ProbeExec = (a, ms) => probeExec(a.map((x) => sandbox.rewrite(x, false)), hostCwd, env, ms);
        return await this.daemon(spec, node, c, { sandbox, cwd, isolation, probe, sidecars, exited: (abort) => this.process(argv, hostCwd, dir, env, timeout, "log.txt", "stdout", isolation, abort) });
      }
      // A sidecar that cannot run here (its program is missing) ends the pod at once, rather than a main that waits for it forever.
      const broken = new AbortController();
      let brokenBy: string | undefined;
      void sidecars.broken.then((why) => {
        brokenBy = why;
        broken.abort();
      });
      let r: Awaited<ReturnType<Run["process"]>>;
      try {
        r = await this.process(argv, hostCwd, dir, env, timeout, "log.txt", "stdout", isolation, broken.signal);
      } finally {
        await isolation?.done();
      }
      const sidecarFailure = await sidecars.stop();
      return await this.podOutcome(spec, node, sandbox, cwd, r, { isolated: isolation !== null, failure: brokenBy ?? sidecarFailure, mainFirst: brokenBy === undefined, daemon: spec.daemon === true });
    } finally {
      // Whatever ended the pod (main, an error preparing it), its sidecars end with it.
      if (!daemonized) await sidecars.stop();
    }
  }

  /**
   * A container's mount namespace (sandbox.ts). With a root of its own: the
   * shims, its script and its progress file at container paths, the /tmp
   * paths its environment names, DFLOW_ARGO_HOST_DIRS. Without: its /tmp and
   * /mnt, with the host paths it is given there (the workflow's directory,
   * the shims, its volumes) bound back in.
   */
  private async isolate(sandbox: Sandbox, binds: Array<[string, string]>, env: Record<string, string>, cwd: string, podDir: string, dir: string): Promise<Isolation | null> {
    // The container's own env values are container paths: only the PATH this engine gives it is the host's.
    const needed = () => (sandbox.contained ? [] : [this.wfdir, this.shimDir, process.execPath, ...binds.map(([, d]) => d)]).concat(pathsIn({ PATH: env.PATH }), hostEnvPaths());
    if (!sandbox.contained) return await sandbox.isolate(needed);
    // A root of its own holds nothing of this engine's but the shims, its script and its progress file, at container paths.
    const progress = path.join(podDir, PROGRESS_FILE);
    // Made (empty) for its bind; appending nothing keeps what a sidecar of the pod may have written.
    fs.writeFileSync(progress, "", { flag: "a" });
    const own: Array<[string, string]> = [[this.shimDir, POD_BIN], [progress, POD_PROGRESS], [path.join(dir, "script"), `${POD_STAGING}/script`]];
    return await sandbox.isolate(needed, { writable: this.hostDirs, cwd, binds: own });
  }

  /** Seconds the pod may run: the least of its deadlines; the template's `timeout` counts from when the pod was asked for (`since`, ms), its wait for room included, as Argo counts it from the node's start. */
  private timeout(t: ArgoTemplate, maxEnd: number | undefined, since?: number): number | undefined {
    const limits: number[] = [];
    if (t.activeDeadlineSeconds !== undefined) limits.push(Number(str(t.activeDeadlineSeconds)));
    if (t.timeout !== undefined) limits.push(durationSeconds(str(t.timeout)) - (since !== undefined ? (Date.now() - since) / 1000 : 0));
    limits.push(this.deadline.remaining());
    if (maxEnd !== undefined) limits.push((maxEnd - Date.now()) / 1000);
    const n = Math.min(...limits.filter((x) => Number.isFinite(x)));
    return Number.isFinite(n) ? Math.max(0.001, n) : undefined;
  }

  private argv(t: ArgoTemplate, c: Obj, sandbox: Sandbox, dir: string): string[] {
    const image = str(c.image);
    const defaults = imageDefaults(image);
    const command = Array.isArray(c.command) ? c.command.map(str) : undefined;
    const args = Array.isArray(c.args) ? c.args.map(str) : undefined;
    let argv: string[];
    if (command) argv = [...command, ...(args ?? [])];
    else if (defaults) argv = [...defaults.entrypoint, ...(args ?? defaults.cmd)];
    else throw new NodeError(`templates.${t.name}: no command, and the entrypoint of image ${JSON.stringify(image)} is not known: give container.command`);
    argv = argv.map((a) => sandbox.rewrite(a));
    // The image's /bin/sh is not the host's dash (see sandbox.ts).
    if (argv[0] === "/bin/sh") argv[0] = "sh";
    if (t.script && asObj(t.script).source !== undefined) {
      // Host paths are not container paths: the script's own path is added after rewriting.
      const file = path.join(dir, "script");
      // Executable, as Argo's /argo/staging/script: `command: [sh, -c]` runs it as a command.
      fs.writeFileSync(file, sandbox.rewrite(str(asObj(t.script).source)), { mode: 0o755 });
      argv.push(sandbox.contained ? `${POD_STAGING}/script` : file);
    }
    if (!argv.length) throw new NodeError(`templates.${t.name}: nothing to run`);
    return argv;
  }

  private env(c: Obj, sandbox: Sandbox, podDir: string): Record<string, string> {
    // ARGO_PROGRESS_FILE: where a pod reports "<current>/<total>" (node progress, as Argo reads it).
    const env: Record<string, string> = sandbox.contained
      ? { PATH: `${POD_BIN}:${process.env.PATH ?? ""}`, ARGO_PROGRESS_FILE: POD_PROGRESS }
      : { PATH: `${this.shimDir}:${process.env.PATH ?? ""}`, ARGO_PROGRESS_FILE: path.join(podDir, PROGRESS_FILE) };
    // As Kubernetes: envFrom first (each key, after its prefix), then env, which wins.
    for (const f of asList(c.envFrom)) {
      const secret = f.secretRef !== undefined;
      for (const [k, v] of configMapEntries(this.wf.configMaps, str(asObj(secret ? f.secretRef : f.configMapRef).name), secret)) env[`${str(f.prefix)}${k}`] = v;
    }
    for (const e of asList(c.env)) {
      if (e.valueFrom !== undefined) {
        const vf = asObj(e.valueFrom);
        const v = configMapKey(this.wf.configMaps, asObj(vf.secretKeyRef ?? vf.configMapKeyRef), vf.secretKeyRef !== undefined);
        if (v !== undefined) env[str(e.name)] = v;
        continue;
      }
      env[str(e.name)] = sandbox.rewrite(str(e.value));
    }
    return env;
  }

  private async process(argv: string[], cwd: string, dir: string, env: Record<string, string>, timeout: number | undefined, logName = "log.txt", stdoutName = "stdout", isolation?: Isolation | null, signal?: AbortSignal) {
    const stdout = path.join(dir, stdoutName);
    // The pid file: a retry after the engine died kills what it left running (killStepProcess).
    const onSpawn = (pid: number) => writeAtomic(path.join(dir, "pid"), String(pid));
    const r = await runLocal({ command: withStdoutCapture(argv, stdout, isolation), cwd, logFile: path.join(dir, logName), env, timeout, owner: this.wfid, onSpawn, signal });
    const result = await fsp.readFile(stdout, "utf8").catch(() => "");
    return { ...r, stdout: result };
  }

  /**
   * An init container or a sidecar: a process in <pod dir>/containers/<name>
   * with a file-system view of its own, holding the volumes it mounts (with
   * mirrorVolumeMounts, main's too), as a container of the pod. What keeps it
   * from starting (no command, an unknown volume) is thrown now.
   */
  private sideContainer(t: ArgoTemplate, kind: "sidecars" | "initContainers", c: Obj, podDir: string, volumes: Obj, timeout: number | undefined, signal?: AbortSignal): Promise<Awaited<ReturnType<Run["process"]>>> {
    const cdir = path.join(podDir, "containers", str(c.name));
    fs.mkdirSync(cdir, { recursive: true });
    const main = asObj(t.container ?? t.script);
    const mounts = [...(c.mirrorVolumeMounts === true ? asList(main.volumeMounts) : []), ...asList(c.volumeMounts)];
    // Named so that what keeps it from running names it (argv's messages).
    const as = { name: `${t.name}.${kind}.${str(c.name)}`, volumes: t.volumes, container: { ...c, volumeMounts: mounts } } as ArgoTemplate;
    const binds = volumeBinds(as, volumes, { pod: podDir, workflow: this.wfdir, work: debugRoot() });
    const sandbox = new Sandbox(path.join(cdir, "root"), [], this.shimDir, binds);
    const cwd = str(c.workingDir) || "/";
    const hostCwd = sandbox.prepare(cwd);
    sandbox.willIsolate(binds.map(([p]) => p), cwd, containerTexts(c));
    mountConfigMaps(as, { spec: volumes, configMaps: this.wf.configMaps }, (p) => sandbox.host(p));
    const argv = this.argv(as, c, sandbox, cdir);
    const env = this.env(c, sandbox, podDir);
    return this.isolate(sandbox, binds, env, cwd, podDir, cdir).then((isolation) => this.process(argv, hostCwd, cdir, env, timeout, "log.txt", "stdout", isolation, signal).finally(() => isolation?.done()));
  }

  /**
   * Sidecars, started beside main. stop() ends them (SIGTERM, then SIGKILL)
   * as Argo's executor does once main is done, and tells the first that had
   * failed by itself (its exit status other than a kill's), as Argo names it.
   * `broken` settles when one cannot run on this machine at all.
   */
  private startSidecars(t: ArgoTemplate, podDir: string, volumes: Obj, timeout: number | undefined): { stop(): Promise<string | undefined>; broken: Promise<string> } {
    const list = asList(t.sidecars);
    if (!list.length) return { stop: async () => undefined, broken: new Promise<string>(() => undefined) };
    const abort = new AbortController();
    let broke: (why: string) => void = () => undefined;
    const broken = new Promise<string>((resolve) => (broke = resolve));
    const failures: string[] = [];
    const start = (c: Obj) =>
      this.sideContainer(t, "sidecars", c, podDir, volumes, timeout, abort.signal).then((r) => {
        if (abort.signal.aborted && !r.spawnError) return;
        const code = r.exitCode;
        if (!r.spawnError && (code === 0 || code === 137 || code === 143 || (code === null && !r.timedOut))) return;
        const why = containerFailure(str(c.name), r);
        failures.push(why);
        // 126/127: the shell found no such program (or could not run it).
        if (r.spawnError || code === 126 || code === 127) {
          const log = path.join(podDir, "containers", str(c.name), "log.txt");
          const said = lastLine(log);
          broke(`sidecar ${why}${said ? `: ${said}` : ""}: it cannot run on this machine (its log: ${log})`);
        }
      });
    const runs: Array<Promise<void>> = [];
    try {
      for (const c of list) runs.push(start(c));
    } catch (e) {
      // One that cannot start: those started already end with the pod that never runs.
      abort.abort();
      throw e;
    }
    let stopped: Promise<string | undefined> | undefined;
    return {
      broken,
      stop: () =>
        (stopped ??= (async () => {
          abort.abort();
          await Promise.all(runs);
          return failures[0];
        })()),
    };
  }

  /**
   * A daemon: its process keeps running once ready (readinessProbe, or at
   * once without one), its node Daemoned, until its boundary stops it; then
   * Succeeded. One that ends by itself, or is never ready, Failed.
   */
  private async daemon(t: ArgoTemplate, node: ArgoNode, c: Obj, p: { sandbox: Sandbox; cwd: string; isolation: Isolation | null; probe: ProbeExec; sidecars: { stop(): Promise<string | undefined> }; exited: (abort: AbortSignal) => Promise<Awaited<ReturnType<Run["process"]>>> }): Promise<Outcome> {
    const boundary = node.boundaryID!;
    const abort = new AbortController();
    let stopping = false;
    const exited = p.exited(abort.signal);
    const handle = {
      stop: async () => {
        stopping = true;
        abort.abort();
        await ended;
      },
    };
    const ended: Promise<Outcome> = exited.then(async (r) => {
      await p.isolation?.done();
      delete node.daemoned;
      this.daemons.remove(boundary, handle);
      const sidecarFailure = await p.sidecars.stop();
      if (!stopping) return this.podOutcome(t, node, p.sandbox, p.cwd, r, { isolated: p.isolation !== null, failure: sidecarFailure, daemon: true });
      this.store.finish(node, "Succeeded");
      return { node, phase: "Succeeded" as NodePhase, outputs: emptyOutputs() };
    });
    this.daemons.add(boundary, handle);
    const ready = await waitReady(c.readinessProbe, { ports: c.ports, exec: p.probe, exited, signal: this.control?.signal });
    if (!ready) {
      if (!stopping) abort.abort();
      return ended;
    }
    node.daemoned = true;
    this.store.save(node);
    return { node, phase: "Running", outputs: emptyOutputs(), daemon: { ended } };
  }

  /**
   * The pod's phase and outputs from its main process. `failure`: another
   * container's (a sidecar's), which fails a pod whose main succeeded, or
   * (`mainFirst` false) whatever main did. `daemon`: a daemon that ended by
   * itself failed, whatever its exit code (Argo: daemons run until stopped).
   */
  private async podOutcome(t: ArgoTemplate, node: ArgoNode, sandbox: Sandbox, cwd: string, r: { exitCode: number | null; signal: NodeJS.Signals | null; timedOut?: boolean; spawnError?: Error; stdout: string }, o: { isolated?: boolean; failure?: string; mainFirst?: boolean; daemon?: boolean } = {}): Promise<Outcome> {
    const isolated = o.isolated ?? false;
    const outputs = emptyOutputs();
    outputs.result = lastKiB(r.stdout.replace(/\n$/, ""));
    outputs.exitCode = r.exitCode === null ? "-1" : String(r.exitCode);
    let phase: NodePhase = "Succeeded";
    let message: string | undefined;
    if (r.spawnError) {
      phase = "Failed";
      message = r.spawnError.message;
    } else if (r.timedOut) {
      phase = "Failed";
      message = this.deadline.passed() ? "Step exceeded its deadline" : "Pod was active on the node longer than the specified deadline";
    } else if (r.exitCode !== 0) {
      phase = "Failed";
      message = this.control?.message ?? (r.signal ? `killed by ${r.signal}` : `Error (exit code ${r.exitCode})${r.exitCode === 127 ? notHere(path.join(this.store.dir(node), "log.txt")) : ""}`);
    }
    if (o.failure && (phase === "Succeeded" || o.mainFirst === false)) {
      phase = "Failed";
      message = o.failure;
    } else if (o.daemon && phase === "Succeeded") {
      phase = "Failed";
      message = "daemon exited (exit code 0) before the steps or DAG template that started it ended";
    }
    node.outputs = { result: outputs.result, exitCode: outputs.exitCode };
    // A failed pod's outputs are collected as far as they exist; a succeeded pod's must all be there.
    try {
      await this.collectOutputs(t, node, outputs, (p) => sandbox.host(p, cwd), phase === "Succeeded");
    } catch (e) {
      if (phase === "Succeeded") {
        phase = "Error";
        message = (e as Error).message + escapedHint(t, sandbox, cwd, isolated);
      }
    }
    // finish() saves the node, its outputs with it: one write of node.json, not two.
    if (phase === "Succeeded") this.store.finish(node, phase, message);
    else this.fail(node, phase, message ?? phase);
    return { node, phase, outputs };
  }

  /** Output parameters from files, output artifacts saved to the repository; globalName published. */
  private async collectOutputs(t: ArgoTemplate, node: ArgoNode, outputs: Outputs, host: (p: string) => string, strict: boolean, supplied: Record<string, string> = {}): Promise<void> {
    const decl = asObj(t.outputs);
    const params: NodeParam[] = [];
    for (const p of asList(decl.parameters)) {
      const name = str(p.name);
      const vf = asObj(p.valueFrom);
      let v: string | undefined;
      if (vf.path !== undefined) {
        try {
          v = (await fsp.readFile(host(str(vf.path)), "utf8")).replace(/\n$/, "");
        } catch {
          v = vf.default !== undefined ? str(vf.default) : undefined;
          if (v === undefined && strict) throw new NodeError(`outputs.parameters.${name}: ${str(vf.path)} was not written (no such file), and it has no default`);
        }
      } else if (p.value !== undefined) v = str(p.value);
      else if (vf.supplied !== undefined && supplied[name] !== undefined) v = supplied[name];
      else if (vf.default !== undefined) v = str(vf.default);
      else if (vf.supplied !== undefined) v = undefined;
      // A failed node's outputs that were never written do not exist (references to them stay unresolved).
      if (v === undefined && !strict) continue;
      outputs.parameters.set(name, v);
      params.push({ name, value: v, ...described(p) });
      if (p.globalName && v !== undefined) this.publishParam(str(p.globalName), v);
    }
    const arts: NodeArtifact[] = [];
    for (const a of asList(decl.artifacts)) {
      const name = str(a.name);
      if (a.path === undefined) continue;
      const src = host(str(a.path));
      if (!fs.existsSync(src)) {
        if (a.optional || !strict) continue;
        throw new NodeError(`outputs.artifacts.${name}: ${str(a.path)} does not exist`);
      }
      const s3 = asObj(a.s3);
      // The default key ends with the path's own name, so an S3 client that downloads it (dflow's
      // download_artifact) gets bar.txt as from Argo's tarball, and a listing of the key matches
      // nothing of another artifact (`out` is no prefix of `out2/…`).
      const base = path.basename(str(a.path));
      const key = s3.key !== undefined ? str(s3.key) : `${this.wfid}/${node.id}/${name}/${base && base !== "." && base !== ".." ? base : name}`;
      const dest = repositoryFile(key, `outputs.artifacts.${name}.s3.key`);
      await this.upload(src, dest);
      // A location of its own (an s3 bucket with an endpoint, an http URL, Artifactory) gets it too: the local copy serves this run's later steps.
      const where = `outputs.artifacts.${name}`;
      if (s3.endpoint !== undefined) await putS3Artifact(s3, this.s3Keys(s3), src, name, asObj(a.archive), where);
      else if (a.http !== undefined || a.artifactory !== undefined) await putHttpArtifact({ http: a.http, artifactory: a.artifactory }, src, name, asObj(a.archive), where, this.secret);
      const art = new ArtifactValue(key, dest);
      outputs.artifacts.set(name, art);
      const gc = gcStrategy(a, asObj(this.wf.spec));
      arts.push({ name, path: str(a.path), key, ...(gc ? { artifactGC: { strategy: gc } } : {}) });
      if (a.globalName) this.publishArt(str(a.globalName), art);
    }
    node.outputs = { ...(node.outputs ?? {}), ...(params.length ? { parameters: params } : {}), ...(arts.length ? { artifacts: arts } : {}) };
    await this.store.writeParams(node, "outputs", params);
  }

  /**
   * An artifact saved under its key as S3 stores it: a directory's files become objects under the
   * key, next to those other pods put there (dflow's sliced outputs: every loop item uploads its
   * slice to the init-artifact's key, and the consumer reads them all); a file replaces what the
   * key held. The engine's mergeInto does the merge, one at a time into a key.
   */
  private async upload(src: string, dest: string): Promise<void> {
    if ((await fsp.stat(src)).isFile()) await fsp.rm(dest, { recursive: true, force: true });
    await mergeInto(src, dest, "copy");
  }

  /**
   * `vars` with the global outputs published so far: a node that ended puts its globalName outputs in
   * the workflow's scope at once (Argo's addOutputsToGlobalScope), for the steps and tasks that start
   * after it, whenever their template's scope was made.
   */
  private withGlobalOutputs(vars: Vars): Vars {
    const v = new Map(vars);
    for (const [k, x] of this.globals) if (k.startsWith("workflow.outputs.")) v.set(k, x);
    return v;
  }

  publishParam(name: string, v: string): void {
    this.globalOutputs.parameters.set(name, v);
    this.globals.set(`workflow.outputs.parameters.${name}`, v);
  }

  publishArt(name: string, a: Art): void {
    this.globalOutputs.artifacts.set(name, a);
    this.globals.set(`workflow.outputs.artifacts.${name}`, a);
  }

  /** Input artifacts copied to their paths in the sandbox. */
  private async placeInputs(t: ArgoTemplate, sandbox: Sandbox, inArts: Map<string, Art>): Promise<void> {
    for (const a of asList(asObj(t.inputs).artifacts)) {
      const src = inArts.get(str(a.name));
      if (!src || a.path === undefined) continue;
      const dest = sandbox.host(str(a.path));
      await fsp.mkdir(path.dirname(dest), { recursive: true });
      let from = src.file;
      if (a.subPath !== undefined) from = path.join(from, str(a.subPath));
      if (!fs.existsSync(from)) {
        if (a.optional) continue;
        throw new NodeError(`inputs.artifacts.${str(a.name)}: key ${src.key}${a.subPath ? ` (subPath ${str(a.subPath)})` : ""} not found in the artifact repository`);
      }
      await fsp.rm(dest, { recursive: true, force: true });
      if (!(await unarchive(from, dest, a))) await fsp.cp(from, dest, { recursive: true });
      if (a.mode !== undefined) await fsp.chmod(dest, fileMode(a.mode));
    }
  }

  private async containerSet(t: ArgoTemplate, node: ArgoNode, vars: Vars, inArts: Map<string, Art>, maxEnd: number | undefined): Promise<Outcome> {
    const cs = asObj(t.containerSet);
    const dir = this.store.dir(node);
    const volumes = asList(cs.volumeMounts).map((m) => [str(m.mountPath), path.join(dir, "volumes", str(m.name))] as [string, string]);
    for (const [, d] of volumes) fs.mkdirSync(d, { recursive: true });
    const containers = asList(cs.containers);
    node.dependencies = Object.fromEntries(containers.map((c) => [str(c.name), (Array.isArray(c.dependencies) ? c.dependencies : []).map(str)]));
    this.store.save(node);
    const retries = Number(str(asObj(cs.retryStrategy).retries ?? 0)) || 0;
    const done = new Map<string, Promise<boolean>>();
    let mainResult: { r: Awaited<ReturnType<Run["process"]>>; sandbox: Sandbox; cwd: string } | undefined;
    let failed: string | undefined;
    const runOne = async (c: Obj): Promise<boolean> => {
      const deps = (Array.isArray(c.dependencies) ? c.dependencies : []).map(str);
      const ok = await Promise.all(deps.map((d) => done.get(d) ?? Promise.resolve(false)));
      const name = str(c.name);
      const child = this.store.create({ name: `${node.name}.${name}`, displayName: name, type: "Container", templateName: t.name, phase: "Running" }, node);
      if (!ok.every(Boolean)) {
        this.store.finish(child, "Omitted");
        return false;
      }
      const cdir = this.store.dir(child);
      const declared = [...declaredPaths(t), ...volumes.map(([p]) => p)];
      const sandbox = new Sandbox(path.join(cdir, "root"), declared, this.shimDir, volumes);
      const cwd = str(c.workingDir) || "/";
      const hostCwd = sandbox.prepare(cwd);
      sandbox.willIsolate(declared, cwd, containerTexts(c));
      await this.placeInputs(t, sandbox, inArts);
      const argv = this.argv({ ...t, script: undefined } as ArgoTemplate, c, sandbox, cdir);
      const env = this.env(c, sandbox, dir);
      const isolation = await this.isolate(sandbox, volumes, env, cwd, dir, cdir);
      let r: Awaited<ReturnType<Run["process"]>>;
      try {
        r = await this.process(argv, hostCwd, cdir, env, this.timeout(t, maxEnd), "log.txt", "stdout", isolation);
        for (let i = 0; i < retries && (r.exitCode !== 0 || r.spawnError); i++) r = await this.process(argv, hostCwd, cdir, env, this.timeout(t, maxEnd), "log.txt", "stdout", isolation);
      } finally {
        await isolation?.done();
      }
      const good = r.exitCode === 0 && !r.spawnError && !r.timedOut;
      child.outputs = { exitCode: r.exitCode === null ? "-1" : String(r.exitCode) };
      this.store.finish(child, good ? "Succeeded" : "Failed", good ? undefined : `Error (exit code ${r.exitCode})`);
      if (!good && !failed) failed = name;
      if (name === "main") mainResult = { r, sandbox, cwd };
      return good;
    };
    for (const c of containers) done.set(str(c.name), Promise.resolve().then(() => runOne(c)));
    await Promise.all(done.values());
    // The pod's log: its containers' logs, in order.
    const logs = await Promise.all(node.children.map((id) => fsp.readFile(path.join(this.store.wfdir, id, "log.txt"), "utf8").catch(() => "")));
    await fsp.writeFile(path.join(dir, "log.txt"), logs.join(""));
    const outputs = emptyOutputs();
    if (mainResult) outputs.result = lastKiB(mainResult.r.stdout.replace(/\n$/, ""));
    node.outputs = outputs.result !== undefined ? { result: outputs.result } : {};
    const host = (p: string) => (mainResult ? mainResult.sandbox.host(p, mainResult.cwd) : path.join(dir, "volumes", p));
    try {
      await this.collectOutputs(t, node, outputs, host, !failed);
    } catch (e) {
      this.fail(node, "Error", (e as Error).message);
      return { node, phase: "Error", outputs };
    }
    if (failed) {
      this.fail(node, "Failed", `container ${failed} failed`);
      return { node, phase: "Failed", outputs };
    }
    this.store.finish(node, "Succeeded");
    return { node, phase: "Succeeded", outputs };
  }

  /**
   * An HTTP template, as Argo's agent runs it: the request from this process,
   * the response body as outputs.result; success by successCondition (an
   * expression over request and response) or else a 2xx status. A request
   * that cannot be made, or times out, fails the node with the reason.
   */
  private async http(t: ArgoTemplate, node: ArgoNode, vars: Vars, maxEnd: number | undefined): Promise<Outcome> {
    const h = asObj(substituteDeep(t.http, vars, [], "pod"));
    const method = str(h.method) || "GET";
    const url = str(h.url);
    const headers: Record<string, string> = {};
    for (const x of asList(h.headers)) headers[str(x.name)] = x.valueFrom !== undefined ? (configMapKey(this.wf.configMaps, asObj(asObj(x.valueFrom).secretKeyRef), true) ?? "") : str(x.value);
    const body = h.bodyFrom !== undefined ? Buffer.from(str(asObj(h.bodyFrom).bytes), "base64") : h.body !== undefined ? str(h.body) : undefined;
    const limits = [Number(h.timeoutSeconds ?? Infinity), this.timeout(t, maxEnd) ?? Infinity].filter((x) => Number.isFinite(x));
    const signals = [...(limits.length ? [AbortSignal.timeout(Math.max(1, Math.min(...limits) * 1000))] : []), ...(this.control ? [this.control.signal] : [])];
    const log = path.join(this.store.dir(node), "log.txt");
    const outputs = emptyOutputs();
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, { method, headers, body: method === "GET" || method === "HEAD" ? undefined : body, signal: signals.length ? AbortSignal.any(signals) : undefined });
      text = await res.text();
    } catch (e) {
      const err = e as Error & { cause?: { message?: string } };
      const why = err.name === "TimeoutError" ? `no response within ${Math.min(...limits)} s` : (err.cause?.message ?? err.message);
      await fsp.writeFile(log, `${method} ${url}: ${why}\n`);
      this.fail(node, "Failed", `${method} ${url}: ${why}`);
      return { node, phase: "Failed", outputs };
    }
    await fsp.writeFile(log, `${method} ${url}: ${res.status} ${res.statusText}\n${text}${text.endsWith("\n") || !text ? "" : "\n"}`);
    outputs.result = text;
    node.outputs = { result: text };
    let message: string | undefined;
    if (h.successCondition === undefined) {
      if (res.status < 200 || res.status > 299) message = `received non-2xx response code: ${res.status}`;
    } else {
      const responseHeaders: Record<string, string[]> = {};
      res.headers.forEach((v, k) => (responseHeaders[k] = [...(responseHeaders[k] ?? []), v]));
      const scope = { request: { method, url, body: typeof body === "string" ? body : "", headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])) }, response: { statusCode: res.status, body: text, headers: responseHeaders } };
      let ok: unknown;
      try {
        ok = evaluate(str(h.successCondition), scope);
      } catch (e) {
        this.fail(node, "Failed", `successCondition '${str(h.successCondition)}': ${(e as Error).message}`);
        return { node, phase: "Failed", outputs };
      }
      if (ok !== true) message = `successCondition '${str(h.successCondition)}' evaluated false`;
    }
    if (message) {
      this.fail(node, "Failed", message);
      return { node, phase: "Failed", outputs };
    }
    this.store.finish(node, "Succeeded");
    return { node, phase: "Succeeded", outputs };
  }

  /**
   * A data template, as Argo's executor runs it (in this process here): the
   * keys under its s3 location (the local repository's, or a bucket's with an
   * endpoint), then each transformation, an expression of `data`; the JSON of
   * what the last gives is outputs.result.
   */
  private async data(t: ArgoTemplate, node: ArgoNode, vars: Vars): Promise<Outcome> {
    const d = asObj(substituteDeep(t.data, vars, [], "pod"));
    const s3 = asObj(asObj(asObj(d.source).artifactPaths).s3);
    const where = "data.source.artifactPaths";
    const keys = s3.endpoint !== undefined ? await listS3Keys(s3, this.s3Keys(s3), where) : repositoryKeys(str(s3.key));
    const outputs = emptyOutputs();
    let data: unknown = keys.length ? keys : null; // Go marshals an empty listing as null
    for (const [i, x] of asList(d.transformation).entries()) {
      try {
        data = evaluate(str(x.expression), { data });
      } catch (e) {
        this.fail(node, "Error", `unable to process data transformation: error processing data step ${i}: ${(e as Error).message}`);
        return { node, phase: "Error", outputs };
      }
    }
    const result = toJsonText(data);
    await fsp.writeFile(path.join(this.store.dir(node), "log.txt"), `${keys.length} key(s) under ${s3.endpoint !== undefined ? `s3://${str(s3.bucket)}/${str(s3.key)}` : `the local repository's ${str(s3.key) || "root"}`}\n${result}\n`);
    outputs.result = result;
    node.outputs = { result };
    this.store.finish(node, "Succeeded");
    return { node, phase: "Succeeded", outputs };
  }

  /**
   * A resource template, for the one kind of resource a local run has:
   * Workflows (Argo's workflow of workflows). create/apply start one, get and
   * delete name one; then, with a successCondition or failureCondition, it
   * waits until either holds of the workflow's JSON (Argo's executor polls
   * it so); output parameters by jsonPath or a path-only jqFilter.
   */
  private async resource(t: ArgoTemplate, node: ArgoNode, vars: Vars): Promise<Outcome> {
    const r = asObj(substituteDeep(t.resource, vars, [], "pod"));
    const action = str(r.action);
    const outputs = emptyOutputs();
    const [manifest = {}] = parseManifests(str(r.manifest), `templates.${t.name}.resource.manifest`);
    const refused = resourceRefusal(manifest.kind, manifest.apiVersion);
    if (refused) throw new ArgoUnsupported(`templates.${t.name}.resource.manifest is not supported when running Argo workflows locally: ${refused}`);
    let name = str(asObj(manifest.metadata).name);
    const log = path.join(this.store.dir(node), "log.txt");
    if (action === "create" || action === "apply") {
      if (r.setOwnerReference === true) manifest.metadata = { ...asObj(manifest.metadata), ownerReferences: [{ apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", name: this.wfid, uid: str(this.globals.get("workflow.uid")), blockOwnerDeletion: true, controller: true }] };
      if (action === "apply" && name && this.workflows.get(name)) await fsp.writeFile(log, `workflow.argoproj.io/${name} unchanged\n`);
      else {
        name = await this.workflows.create(manifest);
        await fsp.writeFile(log, `workflow.argoproj.io/${name} created\n`);
      }
    } else if (action === "delete") {
      await this.workflows.delete(name);
      await fsp.writeFile(log, `workflow.argoproj.io "${name}" deleted\n`);
      this.store.finish(node, "Succeeded");
      return { node, phase: "Succeeded", outputs };
    } else if (!this.workflows.get(name)) {
      this.fail(node, "Failed", `workflows.argoproj.io "${name}" not found`);
      return { node, phase: "Failed", outputs };
    }
    const conditions = (k: string) => parseRequirements(str(r[k]));
    const success = conditions("successCondition");
    const failure = conditions("failureCondition");
    let wf = this.workflows.get(name);
    while (success.length || failure.length) {
      if (!wf) {
        this.fail(node, "Failed", `The resource has been deleted while its status was still being checked. Will not be retried: workflows.argoproj.io "${name}" not found`);
        return { node, phase: "Failed", outputs };
      }
      const failed = failure.find((q) => meets(q, valueAt(wf, q.key)));
      if (failed) {
        this.fail(node, "Failed", `failure condition '${failed.text}' evaluated true`);
        return { node, phase: "Failed", outputs };
      }
      if (success.every((q) => meets(q, valueAt(wf, q.key)))) break;
      if (this.control?.message || this.deadline.passed()) {
        this.fail(node, "Failed", this.control?.message ?? "Step exceeded its deadline");
        return { node, phase: "Failed", outputs };
      }
      await sleep(RESOURCE_POLL_MS, undefined, { signal: this.control?.signal }).catch(() => undefined);
      wf = this.workflows.get(name);
    }
    const params: NodeParam[] = [];
    for (const p of asList(asObj(t.outputs).parameters)) {
      const vf = asObj(p.valueFrom);
      const at = vf.jsonPath !== undefined ? str(vf.jsonPath).replace(/^\{|\}$/g, "") : vf.jqFilter !== undefined ? str(vf.jqFilter) : undefined;
      const v = at === undefined ? undefined : valueAt(wf, at.replace(/^\./, "")) ?? (vf.default !== undefined ? str(vf.default) : undefined);
      if (v === undefined) continue;
      outputs.parameters.set(str(p.name), v);
      params.push({ name: str(p.name), value: v, ...described(p) });
      if (p.globalName) this.publishParam(str(p.globalName), v);
    }
    node.outputs = params.length ? { parameters: params } : {};
    await this.store.writeParams(node, "outputs", params);
    this.store.finish(node, "Succeeded");
    return { node, phase: "Succeeded", outputs };
  }

  /**
   * Wait for the duration, or (none given) for a resume, as Argo's suspend
   * node: `argo resume`, `dflow resume` and the UI's Resume end the wait
   * either way, from any process.
   */
  private async suspend(t: ArgoTemplate, node: ArgoNode, vars: Vars): Promise<Outcome> {
    const s = asObj(substituteDeep(t.suspend, vars, [], true));
    const secs = s.duration === undefined ? Infinity : durationSeconds(str(s.duration));
    const wait = Math.min(secs, this.deadline.remaining());
    // A shutdown ends the wait (but not one of a Stop's exit handler: the shutdown has happened by then).
    const set = this.control?.message ? {} : await waitForResume(this.wfdir, node.id, Date.parse(node.startedAt), Math.max(0, wait) * 1000, this.control?.shutdown ? undefined : this.control?.signal);
    if (this.control?.message) {
      this.fail(node, "Failed", this.control.message);
      return { node, phase: "Failed", outputs: emptyOutputs() };
    }
    if (this.deadline.passed()) {
      this.fail(node, "Failed", "Step exceeded its deadline");
      return { node, phase: "Failed", outputs: emptyOutputs() };
    }
    // `argo node set` gave its supplied outputs (else their defaults) and may have ended it Failed or Error.
    const outputs = emptyOutputs();
    await this.collectOutputs(t, node, outputs, (p) => p, false, set.outputParameters);
    if (set.phase === "Failed" || set.phase === "Error") {
      this.fail(node, set.phase, set.message ?? `set to ${set.phase}`);
      return { node, phase: set.phase, outputs };
    }
    this.store.finish(node, "Succeeded", set.message);
    return { node, phase: "Succeeded", outputs };
  }

  // ------------------------------------------------------------ steps and DAG

  /** Variables a step/task result gives to later references: `<prefix>.<name>.outputs...`. */
  resultVars(prefix: string, name: string, o: Outcome, into: Vars): void {
    const base = `${prefix}.${name}`;
    into.set(`${base}.id`, o.node.id);
    into.set(`${base}.status`, o.phase);
    into.set(`${base}.startedAt`, rfc3339(o.node.startedAt));
    into.set(`${base}.finishedAt`, rfc3339(o.node.finishedAt ?? ""));
    if (o.node.type === "Pod" || o.node.type === "Retry") into.set(`${base}.hostNodeName`, HOST_NODE);
    if (o.daemon) into.set(`${base}.ip`, POD_IP);
    if (o.children) {
      // Loop aggregation (§4.2): the children that succeeded, in index order.
      const ok = o.children.filter((c) => c.phase === "Succeeded");
      const names = new Set(ok.flatMap((c) => [...c.outputs.parameters.keys()]));
      for (const n of names) {
        const vals = ok.map((c) => c.outputs.parameters.get(n)).filter((v): v is string => v !== undefined);
        const parsed = vals.map(tryJson);
        const allJson = vals.length > 0 && parsed.every((p) => p !== null && typeof p === "object");
        into.set(`${base}.outputs.parameters.${n}`, JSON.stringify(allJson ? parsed : vals));
      }
      into.set(`${base}.outputs.parameters`, JSON.stringify(ok.map((c) => Object.fromEntries(c.outputs.parameters))));
      if (ok.some((c) => c.outputs.result !== undefined)) into.set(`${base}.outputs.result`, JSON.stringify(ok.map((c) => (c.outputs.result === undefined ? null : tryJsonOrString(c.outputs.result)))));
      return;
    }
    const skipped = o.phase === "Skipped" || o.phase === "Omitted";
    for (const [n, v] of o.outputs.parameters) into.set(`${base}.outputs.parameters.${n}`, v);
    if (o.outputs.result !== undefined || skipped) into.set(`${base}.outputs.result`, o.outputs.result);
    if (o.outputs.exitCode !== undefined) {
      into.set(`${base}.exitCode`, o.outputs.exitCode);
      into.set(`${base}.outputs.exitCode`, o.outputs.exitCode);
    }
    for (const [n, a] of o.outputs.artifacts) into.set(`${base}.outputs.artifacts.${n}`, a);
  }

  /** Outputs of a skipped/omitted producer: declared defaults, else absent (§4.3). */
  skippedOutputs(t: ArgoTemplate | undefined): Outputs {
    const out = emptyOutputs();
    for (const p of asList(asObj(t?.outputs).parameters)) {
      const d = asObj(p.valueFrom).default;
      out.parameters.set(str(p.name), d === undefined ? undefined : str(d));
    }
    return out;
  }

  /**
   * A step or task's arguments, substituted (an absent sole reference is dropped, so the input's
   * default applies); `strict` as a step or task is resolved (a hook's or the workflow's are not).
   */
  private arguments(step: Obj, vars: Vars, lenient = false, strict = false): Args {
    const a = asObj(step.arguments);
    const parameters = new Map<string, string | undefined>();
    for (const p of asList(a.parameters)) {
      const name = str(p.name);
      const raw = p.value !== undefined ? str(p.value) : undefined;
      if (raw === undefined) {
        const vf = asObj(p.valueFrom);
        if (vf.configMapKeyRef !== undefined) {
          // The ConfigMap's key, else the defaults: as an input's own value is found.
          const v = this.parameterValue(p, vars);
          if (v !== undefined) parameters.set(name, v);
        } else if (vf.expression !== undefined) {
          const v = evaluate(str(vf.expression), exprEnv(vars));
          if (v !== null && v !== undefined) parameters.set(name, tagText(v));
        } else if (p.default !== undefined) parameters.set(name, str(p.default));
        continue;
      }
      const ref = soleReference(raw);
      if (ref && vars.has(ref) && vars.get(ref) === undefined) {
        parameters.set(name, undefined);
        continue;
      }
      try {
        parameters.set(name, substitute(raw, vars, lenient ? false : strict ? "strict" : true));
      } catch (e) {
        throw new TagError(`arguments.parameters.${name}: ${(e as Error).message}`, e instanceof TagError && e.waits);
      }
    }
    const artifacts = new Map<string, Located | undefined>();
    for (const x of asList(a.artifacts)) {
      const name = str(x.name);
      let src: Located | undefined;
      if (x.from !== undefined) {
        const ref = soleReference(str(x.from));
        const v = ref ? vars.get(ref) : undefined;
        // Unresolved: the input decides (an optional input artifact is then left out).
        if (v instanceof ArtifactValue) src = v;
        else if (!x.optional) artifacts.set(name, undefined);
      } else if (x.fromExpression !== undefined) {
        const v = evaluate(str(x.fromExpression), exprEnv(vars));
        if (v instanceof ArtifactValue) src = v;
        else if (!x.optional) throw new TagError(`arguments.artifacts.${name}: fromExpression ${JSON.stringify(x.fromExpression)} gave no artifact`);
      } else src = this.artifactLocation(x, vars);
      if (src instanceof ArtifactValue && x.subPath !== undefined) {
        const sub = substitute(str(x.subPath), vars, true);
        src = new ArtifactValue(`${src.key}/${sub}`, path.join(src.file, sub));
      }
      if (src) artifacts.set(name, src);
    }
    return { parameters, artifacts };
  }

  /** Loop items of a step/task (§8), or null when it has no loop. */
  private items(step: Obj, vars: Vars): unknown[] | null {
    if (step.withItems !== undefined) return substituteDeep(step.withItems as unknown[], vars, [], "strict");
    if (step.withParam !== undefined) {
      const text = substitute(str(step.withParam), vars, "strict");
      let v: unknown;
      try {
        v = JSON.parse(text);
      } catch {
        throw new TagError(`withParam value could not be parsed as a JSON list: ${text.slice(0, 200)}`);
      }
      if (!Array.isArray(v)) throw new TagError(`withParam value is not a JSON list: ${text.slice(0, 200)}`);
      return v;
    }
    if (step.withSequence !== undefined) {
      const s = asObj(substituteDeep(step.withSequence, vars, [], "strict"));
      const fmt = s.format !== undefined ? str(s.format) : undefined;
      let start: number;
      let end: number;
      // Go's strconv.Atoi, as Argo's expandSequence: a value that is no whole number is an error, not no items.
      const atoi = (v: unknown): number => {
        const text = str(v).trim();
        if (!/^[-+]?\d+$/.test(text)) throw new TagError(`withSequence: strconv.Atoi: parsing ${JSON.stringify(str(v))}: invalid syntax`);
        return Number(text);
      };
      if (s.count !== undefined) {
        const count = atoi(s.count);
        start = atoi(s.start ?? 0);
        end = start + count - 1;
        if (count === 0) return [];
      } else {
        start = atoi(s.start ?? 0);
        end = atoi(s.end ?? 0);
      }
      const out: string[] = [];
      const step1 = start <= end ? 1 : -1;
      for (let i = start; step1 > 0 ? i <= end : i >= end; i += step1) out.push(fmt ? printf(fmt, i) : String(i));
      return out;
    }
    return null;
  }

  /** Variables of a loop item: `item`, and `item.<key>` for maps. */
  private itemVars(item: unknown, vars: Vars): Vars {
    const v = new Map(vars);
    v.set("item", item !== null && typeof item === "object" ? item : tagText(item));
    if (item && typeof item === "object" && !Array.isArray(item)) for (const [k, x] of Object.entries(item)) v.set(`item.${k}`, x !== null && typeof x === "object" ? x : tagText(x));
    return v;
  }

  /** `when` (§6): substituted, then govaluate. An unparsable `when` is an error. */
  private when(step: Obj, vars: Vars): boolean {
    if (step.when === undefined || str(step.when).trim() === "") return true;
    const text = substitute(str(step.when), vars, "strict");
    try {
      return evaluateWhen(text, { dflowTokens: false });
    } catch (e) {
      throw new TagError(`Invalid 'when' expression '${text}': ${(e as Error).message}`);
    }
  }

  /**
   * One step or task: loop expansion, `when` per item, the call, hooks.
   * `parent` is the step group (steps) or the DAG node; loop children go to
   * `parent` in steps and to a TaskGroup in a DAG (§3 node names).
   */
  async runStep(step: Obj, kind: "steps" | "tasks", name: string, parent: ArgoNode, vars: Vars, scope: TemplateScope, g: Gate): Promise<Outcome | null> {
    const stepName = str(step.name);
    const display = stepName;
    let callee: { template: ArgoTemplate; scope: TemplateScope } | undefined;
    try {
      callee = this.callee(step, scope, name);
    } catch (e) {
      const node = this.store.create({ name, displayName: display, type: "Skipped", phase: "Error" }, parent);
      this.fail(node, "Error", (e as Error).message);
      return { node, phase: "Error", outputs: emptyOutputs() };
    }
    let items: unknown[] | null;
    try {
      items = this.items(step, vars);
    } catch (e) {
      // A step whose own `when` is false tolerates what its body cannot resolve.
      if (e instanceof TagError && step.when !== undefined && this.whenQuietly(step, vars) === false) return this.skipped(name, display, parent, callee.template, `when '${str(step.when)}' evaluated false`);
      const node = this.store.create({ name, displayName: display, type: "Skipped", phase: "Error" }, parent);
      this.fail(node, "Error", unresolved(e));
      return { node, phase: "Error", outputs: emptyOutputs() };
    }
    if (items === null) return this.runOne(step, name, display, parent, vars, callee, g);
    if (items.length === 0) {
      const node = this.store.create({ name, displayName: display, type: "Skipped", templateName: callee.template.name, phase: "Skipped", message: "Skipped, empty params" }, parent);
      this.store.finish(node, "Skipped");
      // Not a group of no children: Argo finds this Skipped node by the step's name and gives later
      // references a skipped producer's outputs (declared defaults, else absent; steps.go, dag.go).
      return { node, phase: "Skipped", outputs: this.skippedOutputs(callee.template) };
    }
    const group = kind === "tasks" ? this.store.create({ name, displayName: display, type: "TaskGroup", templateName: callee.template.name, phase: "Running" }, parent) : parent;
    const started = await Promise.all(
      items.map((item, i) => {
        const label = itemLabel(item);
        return this.runOne(step, `${name}(${i}:${label})`, `${display}(${i}:${label})`, group, this.itemVars(item, vars), callee!, g);
      }),
    );
    const children = started.filter((c): c is Outcome => c !== null);
    const co = asObj(step.continueOn);
    const bad = children.find((c) => (c.phase === "Failed" && !co.failed) || (c.phase === "Error" && !co.error));
    const phase: NodePhase = bad ? (bad.phase === "Error" ? "Error" : "Failed") : children.every((c) => c.phase === "Skipped") ? "Skipped" : "Succeeded";
    if (group !== parent) {
      if (phase === "Failed" || phase === "Error") this.fail(group, phase, `child '${bad!.node.name}' ${phase.toLowerCase()}`);
      else this.store.finish(group, phase === "Skipped" ? "Succeeded" : phase);
    }
    return { node: group, phase: bad ? bad.phase : "Succeeded", outputs: emptyOutputs(), children };
  }

  private whenQuietly(step: Obj, vars: Vars): boolean | null {
    try {
      return this.when(step, vars);
    } catch {
      return null;
    }
  }

  private skipped(name: string, display: string, parent: ArgoNode, t: ArgoTemplate | undefined, message: string): Outcome {
    const node = this.store.create({ name, displayName: display, type: "Skipped", templateName: t?.name, phase: "Skipped", message }, parent);
    this.store.finish(node, "Skipped");
    return { node, phase: "Skipped", outputs: this.skippedOutputs(t) };
  }

  /** One item: `when`, arguments, the template (under the steps/DAG template's parallelism), then its hooks. */
  private async runOne(step: Obj, name: string, display: string, parent: ArgoNode, vars: Vars, callee: { template: ArgoTemplate; scope: TemplateScope }, g: Gate): Promise<Outcome | null> {
    let run: boolean;
    let args: Args;
    try {
      run = this.when(step, vars);
      if (!run) return this.skipped(name, display, parent, callee.template, `when '${substitute(str(step.when), vars)}' evaluated false`);
      args = this.arguments(step, vars, false, true);
    } catch (e) {
      const node = this.store.create({ name, displayName: display, type: "Skipped", templateName: callee.template.name, phase: "Error" }, parent);
      this.fail(node, "Error", unresolved(e));
      return { node, phase: "Error", outputs: emptyOutputs() };
    }
    const hooks = asObj(step.hooks);
    const stepVarsFor = (o: Outcome | null): Vars => {
      const v = new Map(vars);
      const prefix = vars.has("__kind") ? str(vars.get("__kind")) : "steps";
      const self = str(step.name);
      if (o) this.resultVars(prefix, self, o, v);
      else v.set(`${prefix}.${self}.status`, "Running");
      return v;
    };
    const fired = new Set<string>();
    const hookRuns: Promise<unknown>[] = [];
    const fire = (phaseVars: Vars) => this.fireHooks(hooks, fired, hookRuns, phaseVars, name, display, parent, callee.scope);
    const out = await g.limit(async () => {
      if (g.stopped) return null;
      if (Object.keys(hooks).length) fire(stepVarsFor(null));
      const o = await this.execute(callee.template, callee.scope, args, name, display, parent, inherited(vars, { [vars.get("__kind") === "tasks" ? "tasks.name" : "steps.name"]: display }));
      // Inside the limit: p-limit starts the next child as soon as this callback settles.
      if (g.failFast && (o.phase === "Failed" || o.phase === "Error")) g.stopped = true;
      return o;
    });
    if (!out) return null;
    if (Object.keys(hooks).length) fire(stepVarsFor(out));
    await Promise.all(hookRuns);
    const exit = step.onExit !== undefined ? { template: step.onExit } : hooks.exit;
    if (exit && out.phase !== "Skipped" && out.phase !== "Omitted") await this.hook(asObj(exit), `${name}.onExit`, `${display}.onExit`, parent, stepVarsFor(out), callee.scope);
    return out;
  }

  /** A hook or exit handler: its template with its arguments, as a node beside the step. */
  /**
   * Lifecycle hooks (of a step or task, or of the workflow) whose expression holds under `vars`
   * and that have not fired yet: each starts now, its run added to `runs`. `exit` is the exit
   * handler's, not a hook's.
   */
  private fireHooks(hooks: Obj, fired: Set<string>, runs: Promise<unknown>[], vars: Vars, name: string, display: string, parent: ArgoNode | undefined, scope: TemplateScope): void {
    for (const [hname, h] of Object.entries(hooks)) {
      if (hname === "exit" || fired.has(hname)) continue;
      const ho = asObj(h);
      let ok: unknown = false;
      try {
        ok = evaluate(str(ho.expression), exprEnv(vars));
      } catch {
        ok = false;
      }
      if (ok !== true) continue;
      fired.add(hname);
      runs.push(this.hook(ho, `${name}.hooks.${hname}`, `${display}.hooks.${hname}`, parent, vars, scope));
    }
  }

  async hook(h: Obj, name: string, display: string, parent: ArgoNode | undefined, vars: Vars, scope: TemplateScope): Promise<Outcome> {
    try {
      const callee = this.callee(h, scope, name);
      // An exit handler runs whatever its step left: a reference to an output it never wrote stays as written.
      const args = this.arguments(h, vars, name.endsWith(".onExit"));
      return await this.execute(callee.template, callee.scope, args, name, display, parent, inherited(vars, { "steps.name": "" }));
    } catch (e) {
      const node = this.store.create({ name, displayName: display, type: "Pod", phase: "Error" }, parent);
      this.fail(node, "Error", (e as Error).message);
      return { node, phase: "Error", outputs: emptyOutputs() };
    }
  }

  private async steps(t: ArgoTemplate, node: ArgoNode, vars: Vars, scope: TemplateScope): Promise<Outcome> {
    const groups = stepGroups(t);
    const local = new Map(vars);
    local.set("__kind", "steps");
    const g = gate(t);
    let failure: { phase: NodePhase; message: string } | undefined;
    for (let i = 0; i < groups.length && !failure; i++) {
      const members = groups[i]!;
      const group = this.store.create({ name: `${node.name}[${i}]`, displayName: `[${i}]`, type: "StepGroup", templateName: t.name, phase: "Running" }, node);
      // Members see the scope as it was when the group started, not each other's outputs.
      const snapshot = this.withGlobalOutputs(local);
      const outcomes = await Promise.all(
        members.map(async (s) => {
          const sv = new Map(snapshot);
          sv.set("steps.name", str(s.name));
          return [s, await this.runStep(s, "steps", `${node.name}[${i}].${str(s.name)}`, group, sv, scope, g)] as const;
        }),
      );
      let groupFailed: Outcome | undefined;
      for (const [s, o] of outcomes) {
        if (!o) continue; // never started (failFast)
        this.resultVars("steps", str(s.name), o, local);
        const co = asObj(s.continueOn);
        if ((o.phase === "Failed" && !co.failed) || (o.phase === "Error" && !co.error)) groupFailed ??= o;
      }
      if (groupFailed) {
        // A loop's items are the group's own children: the group names the item that failed.
        const culprit = groupFailed.node === group ? group.children.map((id) => this.store.nodes.get(id)).find((n) => n?.phase === "Failed" || n?.phase === "Error") ?? groupFailed.node : groupFailed.node;
        const message = g.stopped ? "template has failed or errored children and failFast enabled" : `child '${culprit.name}' failed`;
        this.fail(group, "Failed", message);
        // The Steps node gets its group's message (Argo's steps.go).
        failure = { phase: "Failed", message };
      } else this.store.finish(group, "Succeeded");
    }
    if (failure) {
      this.fail(node, failure.phase, failure.message);
      return { node, phase: failure.phase, outputs: emptyOutputs() };
    }
    return this.templateOutputs(t, node, local);
  }

  /** Outputs of a steps/DAG template, from its children (§12). */
  private async templateOutputs(t: ArgoTemplate, node: ArgoNode, vars: Vars): Promise<Outcome> {
    const outputs = emptyOutputs();
    const params: NodeParam[] = [];
    const decl = asObj(t.outputs);
    try {
      for (const p of asList(decl.parameters)) {
        const name = str(p.name);
        const vf = asObj(p.valueFrom);
        let v: string | undefined;
        if (vf.parameter !== undefined) {
          // One variable, its braces optional: Argo's scope.resolveVar trims them, and dflow's
          // default mode writes it bare (value_from_parameter "to avoid double rendering").
          const given = str(vf.parameter).trim();
          const raw = given.includes("{{") ? given : `{{${given}}}`;
          const ref = soleReference(raw);
          if (ref && vars.has(ref) && vars.get(ref) === undefined) v = vf.default !== undefined ? str(vf.default) : undefined;
          else {
            try {
              v = substitute(raw, vars, true);
            } catch (e) {
              if (vf.default === undefined) throw e;
              v = str(vf.default);
            }
          }
        } else if (vf.expression !== undefined) {
          let r: unknown;
          try {
            r = evaluate(str(vf.expression), exprEnv(vars));
          } catch (e) {
            if (vf.default === undefined) throw new TagError(`outputs.parameters.${name}: ${(e as Error).message}`);
          }
          v = r === null || r === undefined ? (vf.default !== undefined ? str(vf.default) : undefined) : tagText(r);
          if (v === undefined) throw new TagError(`outputs.parameters.${name}: expression ${JSON.stringify(vf.expression)} evaluated to nil`);
        } else if (p.value !== undefined) v = substitute(str(p.value), vars, true);
        else if (vf.default !== undefined) v = str(vf.default);
        outputs.parameters.set(name, v);
        params.push({ name, value: v, ...described(p) });
        if (p.globalName && v !== undefined) this.publishParam(substitute(str(p.globalName), vars), v);
      }
      const arts: NodeArtifact[] = [];
      for (const a of asList(decl.artifacts)) {
        const name = str(a.name);
        let src: unknown;
        if (a.from !== undefined) {
          const ref = soleReference(str(a.from));
          src = ref ? vars.get(ref) : undefined;
        } else if (a.fromExpression !== undefined) {
          src = evaluate(str(a.fromExpression), exprEnv(vars));
        }
        if (src instanceof ArtifactValue) {
          outputs.artifacts.set(name, src);
          arts.push({ name, key: src.key });
          if (a.globalName) this.publishArt(str(a.globalName), src);
        } else if (!a.optional) throw new TagError(`outputs.artifacts.${name}: unable to resolve ${str(a.from ?? a.fromExpression)}`);
      }
      node.outputs = { ...(params.length ? { parameters: params } : {}), ...(arts.length ? { artifacts: arts } : {}) };
      await this.store.writeParams(node, "outputs", params);
    } catch (e) {
      this.fail(node, "Error", (e as Error).message);
      return { node, phase: "Error", outputs };
    }
    this.store.finish(node, "Succeeded");
    return { node, phase: "Succeeded", outputs };
  }

  private async dag(t: ArgoTemplate, node: ArgoNode, vars: Vars, scope: TemplateScope): Promise<Outcome> {
    const d = asObj(t.dag);
    const tasks = asList(d.tasks);
    let graph: ReturnType<typeof taskGraph>;
    try {
      graph = taskGraph(tasks, `templates.${t.name}`);
    } catch (e) {
      this.fail(node, "Error", `invalid spec: ${(e as Error).message}`);
      return { node, phase: "Error", outputs: emptyOutputs() };
    }
    const { specs, exprs, deps } = graph;
    const known = new Set(specs.keys());
    // target: only these tasks and their ancestors run.
    const targets = d.target !== undefined ? substitute(str(d.target), vars, true).split(/\s+/).filter(Boolean) : [];
    const wanted = targets.length ? upstream(deps, targets) : new Set(known);
    const dependedOn = new Set([...wanted].flatMap((n) => deps.get(n) ?? []));
    const leaves = targets.length ? targets : [...wanted].filter((n) => !dependedOn.has(n));
    node.dependencies = Object.fromEntries([...wanted].map((n) => [n, deps.get(n) ?? []]));
    node.targets = leaves;
    this.store.save(node);
    const local = new Map(vars);
    local.set("__kind", "tasks");
    const g = gate(t);
    const states = new Map<string, TaskState>();
    const running = new Map<string, Promise<void>>();
    const waiting = new Set([...wanted]);
    const byName = new Map(tasks.map((x) => [str(x.name), x]));
    while (waiting.size || running.size) {
      let progressed = false;
      for (const name of [...waiting]) {
        const ds = deps.get(name) ?? [];
        if (!ds.every((x) => states.has(x))) continue;
        waiting.delete(name);
        progressed = true;
        const task = byName.get(name)!;
        const nodeName = `${node.name}.${name}`;
        let go: boolean;
        try {
          go = evaluateDepends(exprs.get(name)!, specs, states);
        } catch (e) {
          const n = this.store.create({ name: nodeName, displayName: name, type: "Skipped", phase: "Error" }, node);
          this.fail(n, "Error", (e as Error).message);
          states.set(name, { phase: "Error" });
          continue;
        }
        if (g.stopped) {
          // failFast: a task not started once a sibling failed gets no node.
          states.set(name, { phase: "Omitted" });
          continue;
        }
        if (!go) {
          const n = this.store.create({ name: nodeName, displayName: name, type: "Skipped", templateName: str(task.template) || undefined, phase: "Omitted", message: "omitted: depends condition not met" }, node);
          this.store.finish(n, "Omitted");
          const callee = (() => {
            try {
              return this.callee(task, scope, nodeName).template;
            } catch {
              return undefined;
            }
          })();
          this.resultVars("tasks", name, { node: n, phase: "Omitted", outputs: this.skippedOutputs(callee) }, local);
          states.set(name, { phase: "Omitted" });
          continue;
        }
        const tv = this.withGlobalOutputs(local);
        tv.set("tasks.name", name);
        const p = this.runStep(task, "tasks", nodeName, node, tv, scope, g).then((o) => {
          running.delete(name);
          if (!o) {
            states.set(name, { phase: "Omitted" });
            return;
          }
          this.resultVars("tasks", name, o, local);
          states.set(name, { phase: o.phase, childPhases: o.children?.map((c) => c.phase), daemoned: o.daemon !== undefined });
        });
        running.set(name, p);
      }
      if (running.size) await Promise.race(running.values());
      else if (!progressed && waiting.size) {
        this.fail(node, "Error", `invalid spec: tasks ${[...waiting].join(", ")} can never run (their dependencies form a cycle)`);
        return { node, phase: "Error", outputs: emptyOutputs() };
      }
    }
    const { phase, culprit } = dagPhase(leaves, deps, specs, states);
    if (phase === "Failed" || phase === "Error") {
      this.fail(node, phase, g.stopped ? "template has failed or errored children and failFast enabled" : `child '${node.name}.${culprit}' ${phase === "Error" ? "errored" : "failed"}`);
      return { node, phase, outputs: emptyOutputs() };
    }
    return this.templateOutputs(t, node, local);
  }

  // ------------------------------------------------------------ the workflow

  async run(): Promise<{ phase: "Succeeded" | "Failed" | "Error"; message?: string }> {
    const spec = this.wf.spec;
    if (spec.activeDeadlineSeconds !== undefined) this.deadline.at = this.started + Number(str(spec.activeDeadlineSeconds)) * 1000;
    this.labelsFrom();
    const scope: TemplateScope = { templates: spec.templates };
    const wfHooks = asObj(spec.hooks);
    const hookRuns: Promise<unknown>[] = [];
    const fired = new Set<string>();
    const fire = (status: string) => this.fireHooks(wfHooks, fired, hookRuns, this.vars(new Map([["workflow.status", status]])), this.wfid, this.wfid, undefined, scope);
    fire("Running");
    let root: Outcome;
    try {
      const entry = this.template(spec.entrypoint, scope, "spec.entrypoint");
      const args = this.arguments({ arguments: spec.arguments }, this.vars());
      root = await this.execute(entry, scope, args, this.wfid, this.wfid, undefined, new Map([["steps.name", ""]]));
    } catch (e) {
      const node = this.store.create({ name: this.wfid, displayName: this.wfid, type: "Pod", phase: "Error" }, undefined);
      this.fail(node, "Error", (e as Error).message);
      root = { node, phase: "Error", outputs: emptyOutputs() };
    }
    let phase: "Succeeded" | "Failed" | "Error" = root.phase === "Failed" ? "Failed" : root.phase === "Error" ? "Error" : "Succeeded";
    let message = phase === "Succeeded" ? undefined : root.node.message;
    // Argo's spec.shutdown: the workflow Fails whatever its nodes did; Terminate skips the exit handler.
    const shutdown = () => {
      if (!this.control?.shutdown) return;
      phase = "Failed";
      message = `Stopped with strategy '${this.control.shutdown}'`;
    };
    shutdown();
    fire(phase);
    await Promise.all(hookRuns);
    const exit = spec.onExit !== undefined ? { template: spec.onExit } : wfHooks.exit;
    if (exit && this.control?.shutdown !== "Terminate") {
      this.control?.enterExitHandler();
      this.deadline.at = Infinity; // exit handlers run to completion after a deadline (§10)
      const vars = this.vars(
        new Map<string, unknown>([
          ["workflow.status", phase],
          [
            "workflow.failures",
            JSON.stringify(this.failures.map((n) => ({ displayName: n.displayName, message: n.message ?? "", templateName: n.templateName ?? "", phase: n.phase, podName: n.id, finishedAt: rfc3339(n.finishedAt ?? "") }))),
          ],
        ]),
      );
      const o = await this.hook(asObj(exit), `${this.wfid}.onExit`, `${this.wfid}.onExit`, undefined, vars, scope);
      if (phase === "Succeeded" && (o.phase === "Failed" || o.phase === "Error")) {
        phase = o.phase === "Error" ? "Error" : "Failed";
        message = o.node.message;
      }
    }
    shutdown();
    return { phase, message };
  }

  /** workflowMetadata.labelsFrom: labels computed by expressions. */
  private labelsFrom(): void {
    const meta = asObj(this.wf.spec.workflowMetadata);
    for (const [k, v] of Object.entries(asObj(meta.labels))) this.labels[k] = str(v);
    for (const [k, v] of Object.entries(asObj(meta.annotations))) this.annotations[k] = str(v);
    for (const [k, v] of Object.entries(asObj(meta.labelsFrom))) this.labels[k] = tagText(evaluate(str(asObj(v).expression), exprEnv(this.vars())));
    this.refreshMetadata();
  }

  record(phase: string, message?: string, finished = false): WorkflowRecord {
    const params = [...this.globalOutputs.parameters].map(([name, value]) => ({ name, value }));
    const arts = [...this.globalOutputs.artifacts].map(([name, a]) => ({ name, key: a.key }));
    return {
      name: this.wfid,
      phase,
      ...(message ? { message } : {}),
      startedAt: new Date(this.started).toISOString(),
      ...(finished ? { finishedAt: timestamp() } : {}),
      labels: this.labels,
      annotations: this.annotations,
      ...(params.length || arts.length ? { outputs: { ...(params.length ? { parameters: params } : {}), ...(arts.length ? { artifacts: arts } : {}) } } : {}),
    };
  }
}

/** How often a resource template looks at the workflow it waits for (a whole status read: not too often; Argo looks every 5 s). */
const RESOURCE_POLL_MS = 1000;

/**
 * The Workflows of a resource template where no server gives them: runs of
 * this process (their own directories in the work directory, as `dflow run`
 * makes), with the templates and ConfigMaps the parent workflow was given.
 */
function localWorkflows(parent: Run): ChildWorkflows {
  const runs = new Map<string, { dir: string; manifest: Obj }>();
  return {
    async create(manifest) {
      const wf = loadWorkflow([manifest], parent.wf.library, `a Workflow created by ${parent.wfid}`, parent.wf.configMaps);
      let started: (v: { id: string; dir: string }) => void = () => undefined;
      const ready = new Promise<{ id: string; dir: string }>((r) => (started = r));
      const done = runArgoWorkflow(wf, { onStart: (id, dir) => started({ id, dir }) });
      // Refused before it starts (what it asks cannot run here): that reason is the node's.
      const { id, dir } = await Promise.race([ready, done]);
      runs.set(id, { dir, manifest });
      void done.catch(() => undefined);
      return id;
    },
    get(name) {
      const dir = runs.get(name)?.dir ?? path.join(debugRoot(), name);
      const st = fs.existsSync(path.join(dir, WORKFLOW_FILE)) ? readArgoStatus(dir) : null;
      if (!st) return undefined;
      const manifest = runs.get(name)?.manifest ?? {};
      return { apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", metadata: { ...asObj(manifest.metadata), name, labels: st.labels, annotations: st.annotations }, spec: asObj(manifest.spec), status: { phase: st.phase, ...(st.message ? { message: st.message } : {}), startedAt: st.startedAt, finishedAt: st.finishedAt, progress: st.progress, nodes: st.nodes, ...(st.outputs ? { outputs: st.outputs } : {}) } };
    },
    async delete(name) {
      const dir = runs.get(name)?.dir ?? path.join(debugRoot(), name);
      if (!fs.existsSync(dir)) throw new NodeError(`workflows.argoproj.io "${name}" not found`);
      await deleteWorkflow(dir, { force: true, forceHint: "", by: parent.wfid });
    },
  };
}

/** `roots` and every node below them (by `children`), added to `into`. */
function withDescendants(nodes: Map<string, ArgoNode>, roots: Iterable<string>, into = new Set<string>()): Set<string> {
  const ids = [...roots];
  while (ids.length) {
    const id = ids.pop()!;
    if (into.has(id)) continue;
    into.add(id);
    ids.push(...(nodes.get(id)?.children ?? []));
  }
  return into;
}

/** An exit handler's or a lifecycle hook's node: a retry or a memoized resubmit runs it again, as Argo. */
const isHandlerNode = (n: ArgoNode) => /\.onExit$|\.hooks\./.test(n.name);

/** `lastRetry.*` of the attempt after `last`; the first has none: Argo's defaults, so that what refers to them resolves. */
function lastRetry(last: Outcome | undefined): Array<[string, string]> {
  if (!last) return [["lastRetry.exitCode", "0"], ["lastRetry.status", ""], ["lastRetry.duration", "0"], ["lastRetry.message", ""]];
  const ms = (Date.parse(last.node.finishedAt ?? "") || Date.now()) - Date.parse(last.node.startedAt);
  return [["lastRetry.exitCode", last.outputs.exitCode ?? "-1"], ["lastRetry.status", last.phase], ["lastRetry.duration", String(ms / 1000)], ["lastRetry.message", last.node.message ?? ""]];
}

/**
 * After Argo's "Error (exit code 127)": the shell's word that a program is not there, where its log
 * ends so (an image's program this machine lacks: nginx, cmd, a tool of the image's own), else nothing.
 */
function notHere(log: string): string {
  const last = lastLine(log);
  return /(command not found|No such file or directory)$/.test(last) ? `: ${last} (the image's programs are not all on this machine)` : "";
}

/** The last line a container's log ends with ("" when it has none). */
function lastLine(log: string): string {
  return readTextOrSync(log, "").trim().split("\n").at(-1)?.trim() ?? "";
}

/** Why a pod's other container (an init container, a sidecar) failed, as Argo names it: `<name>: Error (exit code 3)`. */
function containerFailure(name: string, r: { exitCode: number | null; timedOut?: boolean; spawnError?: Error }): string {
  return `${name}: ${r.spawnError ? r.spawnError.message : r.timedOut ? "DeadlineExceeded" : `Error (exit code ${r.exitCode ?? -1})`}`;
}

/** An exec readinessProbe's command, in the container's working directory and environment: ready when it exits 0. */
function probeExec(argv: string[], cwd: string, env: Record<string, string>, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(argv[0], argv.slice(1), { cwd, env: { ...process.env, ...env }, timeout: timeoutMs }, (err) => resolve(!err));
  });
}

/**
 * The variables a template runs with from its caller: the exit handler's workflow.status/failures,
 * which reach every node below it, and `caller`'s (Argo's local steps.name or tasks.name: the
 * calling step's or task's name; "" for the entrypoint, an exit handler or a hook).
 */
function inherited(vars: Vars, caller: Record<string, string> = {}): Vars {
  const out: Vars = new Map(Object.entries(caller));
  for (const k of ["workflow.status", "workflow.failures"]) if (vars.has(k)) out.set(k, vars.get(k));
  return out;
}

// Argo's transient errors as its controller tells them from a node's message
// (util/errors: network and etcd messages; its Kubernetes API error types
// cannot occur here), and this engine's own (a process that could not be
// started for want of resources, a launcher that died).
const TRANSIENT = [
  "Connection closed by foreign host", "net/http: TLS handshake timeout", "i/o timeout", "connection timed out", "connection reset by peer",
  "http2: client connection lost", "http2: server sent GOAWAY and closed the connection", "connect: connection refused", "invalid connection",
  "etcdserver: leader changed", "etcdserver: request timed out", "etcdserver: too many requests",
  "EAGAIN", "the process launcher (sh) died",
];

/** retryPolicy OnTransientError: the node's message is one of the above, or matches TRANSIENT_ERROR_PATTERN (as the controller's environment gives it). */
function isTransient(message: string): boolean {
  if (TRANSIENT.some((t) => message.includes(t))) return true;
  const pattern = process.env.TRANSIENT_ERROR_PATTERN;
  if (!pattern) return false;
  try {
    return new RegExp(pattern).test(message);
  } catch {
    return false; // a pattern JavaScript cannot read matches nothing, as an invalid one in Go
  }
}

/** A node-level failure that is not the user's process: the node ends Error. */
class NodeError extends Error {}

function emptyOutputs(): Outputs {
  return { parameters: new Map(), artifacts: new Map() };
}

/** A finished node's outputs as references see them, from its record (a retry's kept node, a memoized one). */
function outputsOf(o: ArgoNode["outputs"]): Outputs {
  const out = emptyOutputs();
  for (const p of o?.parameters ?? []) out.parameters.set(p.name, p.value);
  for (const a of o?.artifacts ?? []) if (a.key !== undefined) out.artifacts.set(a.name, new ArtifactValue(a.key, path.join(artifactRepository(), a.key)));
  if (o?.result !== undefined) out.result = o.result;
  if (o?.exitCode !== undefined) out.exitCode = o.exitCode;
  return out;
}

/**
 * Why a declared output may be missing from the node though the program wrote
 * it: the file is at its container path on this machine, reached through a
 * path built at run time, which only a mount namespace moves into the node.
 */
function escapedHint(t: ArgoTemplate, sandbox: Sandbox, cwd: string, isolated: boolean): string {
  const outs = outputPaths(t);
  // In a namespace, /tmp and /mnt were the node's: a file there on the host is someone else's.
  const p = outs.find((o) => o.startsWith("/") && !(isolated && PRIVATE_ROOTS.includes(o.split("/")[1])) && !fs.existsSync(sandbox.host(o, cwd)) && fs.existsSync(o));
  if (!p) return "";
  const why = noNamespaceReason();
  const how = PRIVATE_ROOTS.includes(p.split("/")[1]) ? (why ? `none here: ${why}` : "") : "which moves /tmp and /mnt, not other roots";
  return `. ${p} exists on this machine, outside the node: the program probably reached it through a path it built at run time, which a local run moves into the node only in a mount namespace of its own${how ? ` (${how})` : ""}; see README "Running Argo workflows without Kubernetes"`;
}

/** The texts a container's programs are given: a path under /tmp or /mnt in them gives it a namespace too (sandbox.ts). */
function containerTexts(c: Obj, script?: unknown): string[] {
  return [c.command, c.args, asObj(script).source, asList(c.env).map((e) => e.value)].flat().filter((x): x is string => typeof x === "string");
}

/** Absolute paths in environment values (PATH-like lists too): what a pod may need from the host. */
function pathsIn(env: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  for (const v of Object.values(env)) if (v?.includes("/")) for (const p of v.split(":")) if (p.startsWith("/")) out.push(p);
  return out;
}

let hostPaths: string[] | undefined;
/** Those of this engine's own environment, which every pod inherits: read once. */
const hostEnvPaths = () => (hostPaths ??= pathsIn(process.env));

/** The files a template's outputs are read from: output parameters' valueFrom.path, then output artifacts' paths. */
function outputPaths(t: ArgoTemplate): string[] {
  return [...asList(asObj(t.outputs).parameters).map((p) => str(asObj(p.valueFrom).path)), ...asList(asObj(t.outputs).artifacts).map((a) => str(a.path))].filter(Boolean);
}

/** Container paths a template declares (artifacts, output parameter files, workingDir, volume mounts). */
function declaredPaths(t: ArgoTemplate): string[] {
  const out: string[] = [];
  for (const a of asList(asObj(t.inputs).artifacts)) if (a.path) out.push(str(a.path));
  out.push(...outputPaths(t));
  const c = asObj(t.container ?? t.script);
  if (c.workingDir) out.push(str(c.workingDir));
  out.push(...mountPaths(t));
  return out;
}

/** A loop child's label (§8): text without parentheses; a map as sorted key:value pairs. */
function itemLabel(item: unknown): string {
  if (item && typeof item === "object" && !Array.isArray(item)) {
    return Object.keys(item)
      .sort()
      .map((k) => `${k}:${tagText((item as Obj)[k])}`)
      .join(",")
      .replace(/[()]/g, "");
  }
  return tagText(item).replace(/[()]/g, "");
}

function tryJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}

function tryJsonOrString(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

function lastKiB(s: string): string {
  const max = 256 * 1024;
  return s.length > max ? s.slice(s.length - max) : s;
}

/**
 * An artifact's `mode`. YAML 1.1 (Go) reads `0755` as octal, YAML 1.2 as
 * 755: a number above 0o777 is read back as the octal digits it was written with.
 */
function fileMode(m: unknown): number {
  if (typeof m === "number") return m > 0o777 ? parseInt(String(m), 8) : m;
  return parseInt(str(m), 8);
}

/** Go's fmt for withSequence.format (%d, %02d, %x, %s). */
function printf(fmt: string, n: number): string {
  return fmt.replace(/%(0?)(\d*)([dxXso])/g, (_, zero: string, width: string, verb: string) => {
    let s = verb === "x" ? n.toString(16) : verb === "X" ? n.toString(16).toUpperCase() : verb === "o" ? n.toString(8) : String(n);
    if (width) s = s.padStart(Number(width), zero ? "0" : " ");
    return s;
  });
}

/**
 * What each running Argo run of this process does on SIGTERM, SIGINT or
 * SIGHUP (by workflow directory). One listener per signal for all of them:
 * every run is marked, then the engine ends; a listener per run would end
 * the process after the first and leave the others Running.
 */
const onSignal = new (class extends Map<string, (sig: NodeJS.Signals) => void> {
  private readonly signals = ["SIGTERM", "SIGINT", "SIGHUP"] as const;
  private readonly listener = (sig: NodeJS.Signals) => {
    try {
      for (const mark of this.values()) {
        try {
          mark(sig);
        } catch {
          // Whatever could not be recorded (the directory gone, a full disk), the others are still marked.
        }
      }
    } finally {
      process.exit(128 + (os.constants.signals[sig] ?? 15));
    }
  };
  override set(dir: string, mark: (sig: NodeJS.Signals) => void): this {
    if (this.size === 0) for (const sig of this.signals) process.on(sig, this.listener);
    return super.set(dir, mark);
  }
  override delete(dir: string): boolean {
    const had = super.delete(dir);
    if (had && this.size === 0) for (const sig of this.signals) process.off(sig, this.listener);
    return had;
  }
})();

/**
 * Run a loaded Argo workflow in a new directory of the work directory.
 * Refusals (check.ts) throw before anything is created.
 */
export async function runArgoWorkflow(wf: ArgoWorkflow, opts: ArgoRunOptions = {}): Promise<ArgoRunResult> {
  return start(wf, opts);
}

/**
 * `dflow retry` / the API's retry of an Argo run that failed, errored or was
 * stopped (or whose engine died): the workflow as it ran (its saved form),
 * in its directory, where nodes that succeeded are kept with their outputs
 * and the others are removed and run again; the exit handler runs again.
 */
export async function retryArgoWorkflow(id: string, opts: Omit<ArgoRunOptions, "id"> & { restart?: ArgoRestart } = {}): Promise<ArgoRunResult> {
  const { dir, saved, record } = savedRun(id, "retried");
  const { restart, ...runOpts } = opts;
  if (!restart) {
    if (record.phase === "Succeeded") throw new DflowConfigError(`workflow ${id} Succeeded: there is nothing to retry (to run some of its nodes again, select them: argo retry --restart-successful --node-field-selector, dflow retry --node-field-selector)`);
    return start(saved, runOpts, { id, dir, record });
  }
  const picked = [...readNodes(dir).values()].filter((n) => n.phase === "Succeeded" && !isHandlerNode(n) && restart.pick(n));
  if (!picked.length) throw new DflowConfigError(`workflow ${id}: no succeeded node matches ${restart.selector}, so nothing would run again`);
  return start(saved, runOpts, { id, dir, record, restart: new Set(picked.map((n) => n.id)) });
}

/** The succeeded nodes a retry runs again, picked as Argo's nodeFieldSelector picks them (engine/api builds it). */
export interface ArgoRestart {
  pick: (node: ArgoNode) => boolean;
  /** The selector as the user wrote it, for messages. */
  selector: string;
}

/** `dflow resubmit` of an Argo run: the workflow as it ran, as a new workflow (`<name>-<random>`, a uid of its own). */
export async function resubmitArgoWorkflow(id: string, opts: Omit<ArgoRunOptions, "id" | "memoizedFrom"> & { memoized?: boolean } = {}): Promise<ArgoRunResult> {
  const { saved, dir, record } = savedRun(id, "resubmitted");
  const { uid: _, ...metadata } = saved.metadata;
  const { memoized, ...runOpts } = opts;
  if (memoized) checkMemoizable(id, record.phase);
  return start({ ...saved, metadata }, { ...runOpts, ...(memoized ? { memoizedFrom: { id, dir } } : {}) });
}

/** Argo's rule for a memoized resubmit: only of a run that failed. */
export function checkMemoizable(id: string, phase: string | undefined): void {
  if (phase !== "Failed" && phase !== "Error") throw new DflowConfigError(`workflow ${id} is ${phase ?? "not ended"}: workflow must be Failed/Error to resubmit in memoized mode`);
}

/** A template of a run as it ran, by name: the workflow's own, else a stored (Cluster)WorkflowTemplate's. */
export function templateOfRun(dir: string, name: string): ArgoTemplate | undefined {
  const text = readTextOrSync(path.join(engineDir(dir), SAVED_RUN), null);
  if (text === null) return undefined;
  const wf = fromSaved(JSON.parse(text) as Obj);
  return allTemplates(wf).find((t) => t.name === name);
}

function savedRun(id: string, how: string): { dir: string; saved: ArgoWorkflow; record: WorkflowRecord } {
  const dir = path.join(debugRoot(), id);
  const saved = readTextOrSync(path.join(engineDir(dir), SAVED_RUN), null);
  const record = readTextOrSync(path.join(dir, WORKFLOW_FILE), null);
  if (saved === null || record === null) {
    throw new DflowConfigError(fs.existsSync(dir) ? `workflow ${id} cannot be ${how}: it is not an Argo run, or one of an older dflow-ts that did not keep the workflow as it ran (${path.join(engineDir(dir), SAVED_RUN)}); run its manifest again with \`dflow run\`` : `no workflow ${id} in ${debugRoot()}`);
  }
  return { dir, saved: fromSaved(JSON.parse(saved) as Obj), record: JSON.parse(record) as WorkflowRecord };
}

async function start(wf: ArgoWorkflow, opts: ArgoRunOptions, resume?: Resume): Promise<ArgoRunResult> {
  checkWorkflow(wf);
  const meta = wf.metadata;
  const base = (str(meta.name) || str(meta.generateName).replace(/-+$/, "") || "workflow").toLowerCase();
  const { id, dir } = resume ?? (opts.id ? await exactWorkflowDir(opts.id) : await newWorkflowDir(base));
  // workflow.uid is the workflow's for good: a retry sees the same.
  if (!meta.uid) wf = { ...wf, metadata: { ...meta, uid: crypto.randomUUID() } };
  const run = new Run(wf, id, dir);
  run.control = opts.control;
  if (opts.workflows) run.workflows = opts.workflows;
  opts.control?.attach(id, dir);
  // The engine's lock: `dflow stop/terminate` find this process by it (engine/control.ts). A server's
  // runs (opts.control) are stopped by request, not by a signal that would end the server.
  acquireLock(dir, id, { requests: opts.control !== undefined });
  if (resume) keepSucceeded(run, resume);
  else writeAtomicSync(path.join(engineDir(dir), SAVED_RUN), JSON.stringify(toSaved(wf)));
  if (opts.memoizedFrom) seedMemoized(run, opts.memoizedFrom);
  await writeAtomic(path.join(dir, "status"), "Running");
  await writeAtomic(path.join(dir, "type"), "Argo");
  await writeAtomic(path.join(dir, "pid"), String(process.pid));
  run.store.writeWorkflow(run.record("Running"));
  opts.log?.(`Workflow is running locally (ID: ${id})`);
  const noRoot = noOwnRootReason(dir);
  if (noRoot) opts.log?.(`Note: pods get no root of their own here (${noRoot}): what a program writes outside /tmp and /mnt through a path it builds at run time reaches this machine's files (README, "Running Argo workflows without Kubernetes")`);
  opts.onStart?.(id, dir);
  // Stopped (dflow stop, Ctrl-C, hang-up): its processes are killed and every running node and the
  // workflow end Failed with the reason, so that the work directory does not show it Running forever.
  // A server (opts.control) handles its own signals; one run's handler must not end it.
  const stopped = (sig: NodeJS.Signals) => {
    const why = takeStopRequest(dir) ?? (sig === "SIGTERM" ? "stopped (SIGTERM, e.g. dflow stop)" : sig === "SIGINT" ? "interrupted (SIGINT)" : `stopped (${sig})`);
    killSteps(id);
    for (const n of run.store.nodes.values()) if (n.phase === "Running" || n.phase === "Pending") run.store.finish(n, "Failed", why);
    run.store.writeWorkflow(run.record("Failed", why, true));
    writeAtomicSync(path.join(dir, "message"), `workflow ${id} ${why}\n`);
    writeAtomicSync(path.join(dir, "status"), "Failed");
    releaseLock(dir);
  };
  if (!opts.control || opts.signals) onSignal.set(dir, stopped);
  let outcome: Awaited<ReturnType<Run["run"]>>;
  try {
    // A workflow-level lock is held for the whole run (other workflows of this engine process wait,
    // Pending with Argo's message, as Argo's controller keeps them).
    outcome = await withLocks(wf.spec.synchronization, wf, () => run.run(), (message) => run.store.writeWorkflow(run.record(message ? "Pending" : "Running", message)));
  } catch (e) {
    // A failure of this interpreter, not of the workflow: the run still ends (Error, with the reason),
    // its processes killed and its running nodes closed, so that it never shows Running for good.
    const message = `internal error of the local Argo interpreter: ${e instanceof Error ? e.message : String(e)}`;
    killSteps(id);
    for (const n of run.store.nodes.values()) if (n.phase === "Running" || n.phase === "Pending") run.store.finish(n, "Error", message);
    outcome = { phase: "Error", message };
  } finally {
    onSignal.delete(dir);
  }
  try {
    // A retry's earlier nodes that this run neither kept nor replaced (under a node it ran again).
    if (resume) for (const n of run.previousById.keys()) if (!run.adopted.has(n) && !run.store.nodes.has(n)) removeNode(resume, n);
    // A memoized resubmit's copies that it did not use (their artifacts are the earlier run's: kept).
    if (opts.memoizedFrom) for (const n of run.previousById.keys()) if (!run.adopted.has(n) && !run.store.nodes.has(n)) fs.rmSync(path.join(dir, n), { recursive: true, force: true });
    return await finish(run, id, dir, outcome);
  } finally {
    releaseLock(dir);
  }
}

/** An earlier node a retry does not keep: its directory, and the artifacts it saved under its default keys. */
function removeNode(resume: Resume, id: string): void {
  fs.rmSync(path.join(resume.dir, id), { recursive: true, force: true });
  fs.rmSync(path.join(artifactRepository(), resume.id, id), { recursive: true, force: true });
}

/**
 * Before a retry runs (holding the lock): which of the earlier run's nodes
 * it keeps: those that succeeded, but for exit handlers and hooks, which
 * run again as in Argo, with their subtrees. The others' directories are
 * removed now (they would otherwise show beside the nodes that replace
 * them); the workflow's global outputs are what the earlier run published.
 */
function keepSucceeded(run: Run, resume: Resume): void {
  const old = readNodes(resume.dir);
  const { kept, keep } = succeededNodes(old, run.wf, resume.restart);
  for (const n of old.values()) {
    if (keep.has(n.id)) continue;
    // Still Running: its engine died (a live one holds the lock), and its process may live on.
    if (n.phase === "Running") {
      killStepProcess(path.join(resume.dir, n.id), { stale: true });
      // and its sidecars' and init containers' (run.ts sideContainer)
      const side = path.join(resume.dir, n.id, "containers");
      for (const c of fs.existsSync(side) ? fs.readdirSync(side) : []) killStepProcess(path.join(side, c), { stale: true });
    }
    removeNode(resume, n.id);
  }
  fs.rmSync(path.join(resume.dir, "message"), { force: true });
  run.previous = kept;
  run.previousById = new Map([...old].filter(([id]) => keep.has(id)));
  for (const p of resume.record.outputs?.parameters ?? []) if (p.value !== undefined) run.publishParam(p.name, p.value);
  for (const a of resume.record.outputs?.artifacts ?? []) if (a.key !== undefined) run.publishArt(a.name, new ArtifactValue(a.key, path.join(artifactRepository(), a.key)));
}

/**
 * The nodes of an earlier run that a new run starts with (`kept`, by name:
 * those that succeeded, but for exit handlers and hooks, which run again as
 * in Argo, and those `restart` runs again), with their subtrees (`keep`, ids).
 */
function succeededNodes(old: Map<string, ArgoNode>, wf: ArgoWorkflow, restart?: Set<string>): { kept: Map<string, ArgoNode>; keep: Set<string> } {
  const kept = new Map<string, ArgoNode>();
  // A daemon stopped with its boundary "Succeeded"; where that boundary runs again, so must the daemon, for the steps that use it.
  const daemons = new Set(allTemplates(wf).filter((t) => t.daemon === true).map((t) => t.name));
  const rerunDaemon = (n: ArgoNode) => daemons.has(n.templateName ?? "") && n.boundaryID !== undefined && old.get(n.boundaryID)?.phase !== "Succeeded";
  for (const n of old.values()) if (n.phase === "Succeeded" && !isHandlerNode(n) && !rerunDaemon(n)) kept.set(n.name, n);
  if (restart) {
    const { again, ancestors } = restartSet(old, restart, wf);
    for (const n of old.values()) if (again.has(n.id) || ancestors.has(n.id)) kept.delete(n.name);
  }
  return { kept, keep: withDescendants(old, [...kept.values()].map((n) => n.id)) };
}

/**
 * `argo resubmit --memoized`: the new run starts with the earlier run's
 * succeeded nodes, each copied into its directory under the new workflow's
 * name (Argo renames them so: `^<old name>` -> the new one), their outputs
 * as they were (artifacts stay where the earlier run saved them). The pod's
 * file-system view (`root/`) is not copied: its outputs were saved already.
 */
function seedMemoized(run: Run, from: { id: string; dir: string }): void {
  const old = readNodes(from.dir);
  const { kept, keep } = succeededNodes(old, run.wf);
  const rename = (s: string) => (s.startsWith(from.id) ? run.wfid + s.slice(from.id.length) : s);
  const copies = new Map<string, ArgoNode>();
  for (const oldId of keep) {
    const n = old.get(oldId);
    if (!n) continue;
    const node: ArgoNode = { ...n, id: rename(n.id), name: rename(n.name), displayName: rename(n.displayName), children: n.children.map(rename), ...(n.boundaryID ? { boundaryID: rename(n.boundaryID) } : {}) };
    // Its artifacts are the earlier run's: this run's garbage collection leaves them to that run (Argo's
    // resubmit makes such copies Skipped nodes, which its collection passes over).
    if (node.outputs?.artifacts) node.outputs = { ...node.outputs, artifacts: node.outputs.artifacts.map(({ artifactGC: _, ...a }) => a) };
    const dir = path.join(run.wfdir, node.id);
    fs.cpSync(path.join(from.dir, oldId), dir, { recursive: true, verbatimSymlinks: true, filter: (src) => path.relative(path.join(from.dir, oldId), src) !== "root" });
    // Its node.json and the layout's files (name, children) under the new names, as the store writes them.
    run.store.save(node);
    copies.set(node.id, node);
  }
  run.previous = new Map([...kept.values()].map((n) => [rename(n.name), copies.get(rename(n.id))!]));
  run.previousById = copies;
}

/**
 * What a retry that restarts succeeded nodes runs again, as Argo's
 * FormulateRetryWorkflow resets them: those nodes with their subtrees, and
 * what ran after them and may have used them (the later step groups of
 * every Steps node above them, the DAG tasks that depend on the task above
 * them, transitively), with theirs (`again`); and the nodes above them
 * (`ancestors`), which run again around the children they keep.
 */
function restartSet(old: Map<string, ArgoNode>, restart: Set<string>, wf: ArgoWorkflow): { again: Set<string>; ancestors: Set<string> } {
  const parentOf = new Map<string, string>();
  for (const n of old.values()) for (const c of n.children) parentOf.set(c, n.id);
  const again = new Set<string>();
  const ancestors = new Set<string>();
  const subtree = (root: string) => withDescendants(old, [root], again);
  const templates = allTemplates(wf);
  for (const id of restart) {
    subtree(id);
    for (let cur = id, up = parentOf.get(id); up !== undefined; cur = up, up = parentOf.get(up)) {
      ancestors.add(up);
      const parent = old.get(up)!;
      if (parent.type === "StepGroup") {
        const steps = old.get(parentOf.get(up) ?? "");
        const groups = steps?.children ?? [];
        for (const g of groups.slice(groups.indexOf(up) + 1)) subtree(g);
      } else if (parent.type === "DAG") {
        // Checked at submit (check.ts): the DAG's dependencies name its tasks.
        const { deps } = taskGraph(asList(asObj(templates.find((t) => t.name === parent.templateName)?.dag).tasks), `templates.${parent.templateName}`);
        const down = new Set<string>();
        const frontier = [old.get(cur)!.name.slice(parent.name.length + 1)];
        while (frontier.length) {
          const f = frontier.pop()!;
          for (const [name, ds] of deps) if (ds.includes(f) && !down.has(name)) frontier.push(name), down.add(name);
        }
        for (const c of parent.children) if (down.has(old.get(c)?.name.slice(parent.name.length + 1) ?? "")) subtree(c);
      }
    }
  }
  return { again, ancestors };
}

async function finish(run: Run, id: string, dir: string, outcome: Awaited<ReturnType<Run["run"]>>): Promise<ArgoRunResult> {
  const { phase, message } = outcome;
  // The workflow completed (its exit handler too): what it asked to delete then goes. A deletion that
  // fails leaves the run complete all the same (Argo records it as a condition of the workflow).
  await collectGarbage(run.store.nodes.values(), artifactRepository(), "OnWorkflowCompletion", (n) => run.store.save(n)).catch((e: Error) => console.error(`dflow: ${id}: artifact garbage collection: ${e.message}`));
  run.store.writeWorkflow(run.record(phase, message, true));
  if (message) await writeAtomic(path.join(dir, "message"), `${message}\n`);
  // dflow's status file knows Succeeded and Failed; Argo's Error is in argo.json.
  await writeAtomic(path.join(dir, "status"), phase === "Succeeded" ? "Succeeded" : "Failed");
  return { id, dir, phase, message };
}

/** The directory of a workflow named exactly `id` (EEXIST when there is one). */
async function exactWorkflowDir(id: string): Promise<{ id: string; dir: string }> {
  const dir = path.join(debugRoot(), id);
  await fsp.mkdir(debugRoot(), { recursive: true });
  await fsp.mkdir(dir);
  return { id, dir };
}
