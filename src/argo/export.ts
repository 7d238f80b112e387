// Argo export (issue 12, scope 1): the model -> an Argo `Workflow` object
// (argoproj.io/v1alpha1), rendered the way dflow's default mode renders it
// (dflow's convert_to_argo in workflow.py, op_template.py, step.py, task.py,
// steps.py, dag.py, io.py, python_op_template.py). Plain objects only: YAML,
// validation and submission are the caller's. Below the engine: a TS OP's
// code is bundled by the `bundle` function the caller passes (see
// export-bundle.ts and README "From laptop to Kubernetes").
//
// Where we leave dflow's rendering, it is for one of three reasons, each
// said where it happens: the schema (int-or-string fields are written as
// strings: Argo takes both, its JSON schema only strings), our own local
// semantics (what runs on Argo must do what `dflow run` does), or noise
// (dflow also writes empty lists/maps and `false` flags; we leave them out,
// which Argo reads the same).
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { DflowConfigError, type ErrorContext } from "../errors.js";
import { ArgoSequence, ArgoVar, conditionText, exprOf, quoteName, usesItem } from "../expr.js";
import { InputArtifact, InputParameter, OutputArtifact, OutputParameter, StepItemCount, StepOutputArtifact, StepOutputParameter, typeString } from "../io.js";
import { durationSeconds, MAX_RETRIES } from "../options.js";
import { mergesSlices } from "../dispatcher.js";
import { S3Artifact } from "../s3.js";
import { pyJson, typeNameOfClass } from "../types.js";
import type { Step } from "../step.js";
import { checkOf, DAG, Steps } from "../steps.js";
import { type OPTemplate, type RetryStrategy, ScriptOPTemplate, TsOPTemplate } from "../templates.js";

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

/** What the renderer needs of a Workflow (src/workflow.ts passes itself). */
export interface ExportableWorkflow {
  name: string;
  id?: string;
  entrypoint?: Steps | DAG;
  context?: { render(t: OPTemplate): OPTemplate };
  parameters: Record<string, unknown>;
  parallelism?: number;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

/** The OP bundle of a workflow: the ConfigMap its TS-OP pods mount, and the key each OP module has in it. */
export interface OPBundle {
  /** The ConfigMap's name (content-addressed: `dflow-ts-ops-<hash>`). */
  configMap: string;
  /** The file in the ConfigMap holding the bundle. */
  file: string;
  /** Module path -> the name the bundle knows it by. */
  keys: Record<string, string>;
  /** The ConfigMap manifest to create before the workflow runs. */
  manifest: Obj;
}

/** A DispatcherExecutor or SlurmRemoteExecutor step's job as its pod submits it (engine/executors/dispatch-pod-job.ts). */
export interface DispatchJobRendering {
  job: object;
  /** A script template's script as the job runs it. */
  script?: string;
  /** Files from this machine the pod needs (private key, known_hosts), and the SSH password. */
  secret?: { files: Record<string, string>; password?: string };
}

/** How DispatcherExecutor and SlurmRemoteExecutor steps become pods: their jobs, and the program that submits them (src/workflow.ts gives the engine's). */
export interface DispatcherRendering {
  /** `merged`: the step's slices are merged (merge_sliced_step), its task split per item in the pod. */
  job(t: ScriptOPTemplate, options: Record<string, unknown>, where: ErrorContext, merged: boolean): DispatchJobRendering;
  bundle(): Omit<OPBundle, "keys">;
}

export interface ExportOptions {
  /** Image of templates that run `node` (TS OPs, dflow-ts's helper steps) and have none of their own. */
  node_image?: string;
  /** Image of script templates that have none of their own; without it such a template is refused. */
  image?: string;
  /** Bundles the modules of the workflow's TS OPs (src/argo/export-bundle.ts). */
  bundle?: (modules: string[]) => OPBundle;
  /** Renders DispatcherExecutor and SlurmRemoteExecutor steps (without it they are refused). */
  dispatcher?: DispatcherRendering;
  /**
   * Steps of an earlier run (`query_step()`) to reuse, as `submit({ reuse_step })` reuses them: as
   * dflow's default mode does, a memoization cache (a ConfigMap) for each keyed one that succeeded,
   * which the workflow's keyed templates look up; their artifacts go in the repository (`uploads`).
   */
  reuse_step?: ReusedStep[];
}

/** What the export reads of a step to reuse (engine/api/steps-on-disk.ts ArgoStep). */
export interface ReusedStep {
  workflow: string;
  /** The step directory's name. */
  id: string;
  /** The step directory (its workflow's directory is in the work directory, beside the artifacts' storage). */
  dir: string;
  key: string | null;
  phase: string;
  finishedAt: number | null;
  inputs: { parameters: Record<string, { name: string; value: unknown }> };
  outputs: { parameters: Record<string, { name: string; value: unknown }>; artifacts: Record<string, { name: string; local_path: string }> };
}

export interface ArgoExport {
  workflow: Obj;
  /** Kubernetes objects the workflow needs (the OP bundle's ConfigMap), to create first. */
  dependencies: Obj[];
  /** Files of this machine the workflow reads (upload_artifact), to put in its artifact repository under `key` first. */
  uploads: Array<{ key: string; path: string }>;
}

/** Where TS-OP pods mount the workflow's OP bundle. */
export const OP_BUNDLE_MOUNT = "/opt/dflow-ts-ops";
/** Where dispatcher pods mount dflow-ts's dispatcher, and the Secret of their SSH files. */
export const DISPATCH_MOUNT = "/opt/dflow-ts-dispatch";
export const SSH_MOUNT = "/etc/dflow-ts-ssh";
export const SSH_PASSWORD_ENV = "DFLOW_SSH_PASSWORD";
const DEFAULT_NODE_IMAGE = `node:${process.versions.node.split(".")[0]}`;
/** Part of the message of a pod Kubernetes stopped at its activeDeadlineSeconds (kubelet's DeadlineExceeded), which Argo gives its node. */
const POD_DEADLINE_MESSAGE = "longer than the specified deadline";

/** The init-artifact step a sliced step's output artifact is read from (its loop has none on Argo), if it is one. */
function slicedInit(a: StepOutputArtifact): Step | undefined {
  const init = (a.step as Step).init_step;
  return init && a.name in init.template.outputs.artifacts ? init : undefined;
}

/**
 * A `when`'s references to outputs of `tasks` (which may fail or be skipped), each made an expression that
 * gives '0' where the output is not there. Argo resolves a DAG task's `when` before evaluating any of it
 * (dag.go resolveDependencyReferences, strictly): a reference to an output a failed task did not write
 * would requeue the task forever, though the gate beside it (`"{{tasks.a.status}}" == "Succeeded"`)
 * makes the `when` false whatever the value. '0' reads as a number and, quoted, as a string.
 */
function guardOutputs(when: string, tasks: ReadonlySet<string>): string {
  if (!tasks.size) return when;
  const optional = (n: string) => `?.${quoteName(n).replace(/^\./, "")}`;
  return when.replace(/\{\{\s*tasks\.([\w-]+)\.outputs\.(?:parameters\.([\w-]+)|(result))\s*\}\}/g, (whole, task: string, param?: string) =>
    tasks.has(task) ? `{{=tasks${quoteName(task)}?.outputs${param === undefined ? "?.result" : `?.parameters${optional(param)}`} ?? '0'}}` : whole,
  );
}

/** A DAG task's wait for another: `any` after whatever it ended with (a success check's), `reads` its values. */
interface Edge {
  name: string;
  any: boolean;
  reads: boolean;
}

// ------------------------------------------------------------------ values

/** `{"type": "int"}`: dflow keeps a parameter's declared type in its description. */
function typeDescription(t: unknown): string | undefined {
  const s = typeString(t as Parameters<typeof typeString>[0]);
  return s ? pyJson({ type: s }) : undefined;
}

const isLocalArtifact = (v: unknown): v is { local_path: string; subPath?: string } => typeof v === "object" && v !== null && typeof (v as { local_path?: unknown }).local_path === "string";

/**
 * The repository key of an uploaded artifact: its `upload/<uuid>/<dir>`, as dflow's default mode
 * keys it; another local path under `upload/<its hash>/`.
 */
function uploadKey(localPath: string): string {
  const m = /(?:^|\/)(upload\/[0-9a-f-]{36}\/[^/]+)\/?$/.exec(localPath);
  if (m) return m[1]!;
  const base = localPath.replace(/\/+$/, "").split("/").pop() || "artifact";
  return `upload/${createHash("sha256").update(localPath).digest("hex").slice(0, 32)}/${base}`;
}

/** Drop undefined fields and empty lists/maps (dflow writes them; Argo reads their absence the same). */
function compact(o: Record<string, unknown>): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0 && k !== "none") continue;
    out[k] = v as Json;
  }
  return out;
}

/** An int-or-string field: a string, which both Argo and its JSON schema accept (dflow writes the int). */
const intOrString = (v: unknown): string => String(v);

/** Seconds (or a duration text) as an Argo duration string ("90s"). */
function duration(v: number | string): string {
  const n = durationSeconds(v);
  return Number.isFinite(n) ? `${n}s` : String(v);
}

/** The field of an item a Slices pattern selects: "" for "{{item}}", "f" for "{{item.f}}", else undefined. */
function sliceField(pattern: string): string | undefined {
  const m = /^\{\{\s*item(?:\.([A-Za-z_][\w-]*))?\s*\}\}$/.exec(pattern);
  return m ? (m[1] ?? "") : undefined;
}

// ------------------------------------------------------------------ renderer

/** How a step renders its template: with a key, its own timeout or retries, its items shuffled in the pod. */
interface Variant {
  key?: boolean;
  timeout?: number | string;
  retry?: RetryStrategy;
  /** Slices shuffled over items known only when the workflow runs: each pod takes its group of them (dflow's pre_script). */
  shuffled?: boolean;
  /** merge_sliced_step: one pod for every slice, each a task of its submission (dflow's dflow_with_param). */
  merged?: boolean;
}

class Renderer {
  readonly templates = new Map<string, Obj>();
  private modules: string[] = [];
  private bundled?: OPBundle;

  constructor(
    readonly wf: ExportableWorkflow,
    readonly opts: ExportOptions,
  ) {
    if (opts.reuse_step?.length) this.memoPrefix = wf.id ?? `${wf.name}-${Math.random().toString(36).slice(2, 7).padEnd(5, "0")}`;
  }

  where(ctx: ErrorContext): ErrorContext {
    return { ...ctx, workflow: this.wf.name };
  }

  fail(detail: string, ctx: ErrorContext): never {
    throw new DflowConfigError(detail, this.where(ctx));
  }

  /** Collect the TS OP modules first: one bundle (one ConfigMap) serves the whole workflow. */
  collectModules(t: OPTemplate, out: Set<string>, seen = new Set<object>()): void {
    if (seen.has(t)) return;
    seen.add(t);
    if (t instanceof Steps || t instanceof DAG) {
      const steps = t instanceof Steps ? t.steps.flatMap((g) => (Array.isArray(g) ? g : [g])) : t.tasks;
      for (const s of steps) this.collectModules(this.templateOf(s), out, seen);
    } else if (t instanceof TsOPTemplate) out.add(t.module);
  }

  /** Executor renderings, once per (executor, template) pair as the engine does: a copy made each time would never end a recursion. */
  private readonly rendered = new Map<object, Map<OPTemplate, OPTemplate>>();

  /** The template a step runs on Argo: its executor's rendering, else the workflow context's, as the engine does. */
  templateOf(s: Step): OPTemplate {
    const ex = s.executor ?? this.wf.context;
    if (!ex) return s.template;
    let byTemplate = this.rendered.get(ex);
    if (!byTemplate) this.rendered.set(ex, (byTemplate = new Map()));
    let t = byTemplate.get(s.template);
    if (!t) byTemplate.set(s.template, (t = ex.render(s.template)));
    return t;
  }

  /**
   * With steps to reuse: the workflow's name, which prefixes its memoization keys and caches
   * (dflow's convert_to_argo gives the workflow an id then, `<name>-<random>`).
   */
  private readonly memoPrefix: string | undefined;

  render(): ArgoExport {
    const entry = this.wf.entrypoint;
    if (!entry) this.fail("the workflow has no steps: wf.add(step) or new Workflow({ steps }) / ({ dag })", {});
    const caches = this.memoPrefix ? this.reuseCaches(this.memoPrefix) : [];
    const modules = new Set<string>();
    this.collectModules(entry, modules);
    this.modules = [...modules].sort();
    const entryName = this.template(entry, {});
    const metadata = compact({
      ...(this.wf.id || this.memoPrefix ? { name: this.wf.id ?? this.memoPrefix } : { generateName: `${this.wf.name}-` }),
      annotations: this.wf.annotations,
      labels: this.wf.labels,
    });
    const spec = compact({
      arguments: compact({ parameters: Object.entries(this.wf.parameters).map(([name, v]) => ({ name, value: typeof v === "string" ? v : pyJson(v) })) }),
      // dflow's default mode always names this service account (workflow.py); the cluster must have it.
      serviceAccountName: "argo",
      entrypoint: entryName,
      templates: [...this.templates.values()],
      parallelism: this.wf.parallelism,
    });
    const dependencies = [this.bundled?.manifest, this.dispatchBundle?.manifest, ...this.secrets.values(), ...caches].filter((d): d is Obj => d !== undefined);
    return { workflow: { apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", metadata, spec }, dependencies, uploads: this.uploads };
  }

  /**
   * The memoization caches of the steps to reuse (dflow's handle_reused_step): a ConfigMap
   * `dflow-<prefix>-<key>` of type Cache per keyed step that succeeded, holding its outputs under
   * `<prefix>-<key>`, as Argo keeps a node's; its artifacts, files of this machine, go in the
   * repository under `reuse/<workflow>/<step>/<name>` (uploads). Steps without a key are left
   * out, as dflow leaves them, and so are steps that did not succeed, as `dflow run` leaves them.
   *
   * A reused item of a keyed sliced step saved its part into its group's storage
   * (`<workflow>/<group key>`, every item's merged): that storage goes in the repository whole,
   * under `reuse/<workflow>/<group key>`, and the group's init-artifact step gets a cache too
   * (`<prefix>-<group key>-init-artifact`, as dflow's handle_reused_artifact makes one) that
   * points the group there: the items that run save their parts beside the reused ones, and
   * consumers read them all.
   */
  private reuseCaches(prefix: string): Obj[] {
    const out: Obj[] = [];
    const cache = (name: string, ctx: ErrorContext, what: string, entry: Obj) => {
      const cm = `dflow-${name}`;
      if (cm.length > 253 || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(cm)) this.fail(`${what} makes the ConfigMap name ${JSON.stringify(cm)}, which Kubernetes refuses (lowercase letters, digits, '-' and '.', at most 253): use such keys to reuse steps on Argo`, ctx);
      out.push({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: cm, labels: { "workflows.argoproj.io/configmap-type": "Cache" } }, data: { [name]: JSON.stringify(entry) } });
    };
    const groups = new Set<string>();
    for (const s of this.opts.reuse_step ?? []) {
      if (!s.key || s.phase !== "Succeeded") continue;
      const ctx = { workflow: this.wf.name, step: s.key };
      const at = new Date((s.finishedAt ?? Date.now() / 1000) * 1000).toISOString().replace(/\.\d+Z$/, "Z");
      // A sliced item: its group's storage, and the group's init-artifact cache, once per group.
      const groupKey = s.inputs.parameters.dflow_artifact_key?.value;
      let group: { key: string; dir: string } | undefined;
      if (groupKey !== undefined) {
        const g = String(groupKey);
        if (!g.startsWith(`${s.workflow}/`) || Object.keys(s.inputs.parameters).some((n) => /^dflow_.+_sub_path$/.test(n))) {
          this.fail(`the step to reuse with key ${s.key} is an item of a sliced step (${s.workflow}/${s.id}) whose slices are ${g.startsWith(`${s.workflow}/`) ? "sub-paths" : "not kept under its workflow"}; reusing such items cannot be exported yet: reuse the step's consumers instead, or run it with dflow run`, ctx);
        }
        group = { key: `reuse/${g}`, dir: path.join(path.dirname(path.dirname(s.dir)), g) };
        if (!fs.existsSync(group.dir)) this.fail(`the step to reuse with key ${s.key} saved its slices in ${group.dir}, which is gone: reuse the steps of a run whose files are still there`, ctx);
        group.dir = fs.realpathSync(group.dir);
        if (!groups.has(g)) {
          groups.add(g);
          this.uploads.push({ key: group.key, path: group.dir });
          const names = fs.readdirSync(group.dir).filter((n) => fs.statSync(path.join(group!.dir, n)).isDirectory()).sort();
          cache(`${prefix}-${g.slice(s.workflow.length + 1)}-init-artifact`, ctx, `the group of the step to reuse with key ${s.key}`, {
            nodeID: `${s.id}-init-artifact`,
            outputs: compact({ parameters: [{ name: "dflow_artifact_key", value: group.key }], artifacts: names.length ? names.map((n) => ({ name: n, s3: { key: `${group!.key}/${n}` }, archive: { none: {} } })) : undefined }),
            creationTimestamp: at,
            lastHitTimestamp: at,
          });
        }
      }
      const parameters = Object.values(s.outputs.parameters).map((p) => ({ name: p.name, value: typeof p.value === "string" ? p.value : pyJson(p.value) }));
      const artifacts = Object.values(s.outputs.artifacts).map((a) => {
        if (!fs.existsSync(a.local_path)) this.fail(`the output artifact ${a.name} of the step to reuse with key ${s.key} is gone (${a.local_path}): reuse the steps of a run whose files are still there`, { ...ctx, artifact: a.name });
        // A sliced output is its group's storage (the item's outputs link there), put in the repository once above.
        const real = fs.realpathSync(a.local_path);
        if (group && path.dirname(real) === group.dir) return { name: a.name, s3: { key: `${group.key}/${path.basename(real)}` }, archive: { none: {} } };
        const key = `reuse/${s.workflow}/${s.id}/${a.name}`;
        this.uploads.push({ key, path: a.local_path });
        return { name: a.name, s3: { key }, archive: { none: {} } };
      });
      cache(`${prefix}-${s.key}`, ctx, `the key ${JSON.stringify(s.key)} of a step to reuse`, {
        nodeID: s.id,
        outputs: compact({ parameters: parameters.length ? parameters : undefined, artifacts: artifacts.length ? artifacts : undefined }),
        creationTimestamp: at,
        lastHitTimestamp: at,
      });
    }
    return out;
  }

  /** One bundle of all the workflow's TS OP modules, made when the first TS OP is rendered (a refusal before costs no bundling). */
  private get bundle(): OPBundle {
    if (!this.bundled) {
      if (!this.opts.bundle) this.fail("the workflow has TypeScript OPs and no bundler was given to carry their code to the pods", {});
      this.bundled = this.opts.bundle(this.modules);
    }
    return this.bundled;
  }

  private dispatchBundle?: Omit<OPBundle, "keys">;
  private readonly uploads: ArgoExport["uploads"] = [];
  /** The Secrets of dispatcher pods' SSH files, by name (named after their content). */
  private readonly secrets = new Map<string, Obj>();

  /** Steps/DAG templates being rendered or rendered, by object: a recursive template calls itself by name. */
  private readonly composite = new Map<object, { plain?: string; keyed?: string }>();

  private freeName(base: string): string {
    for (let n = 0; ; n++) {
      const name = n === 0 ? base : `${base}-${n}`;
      if (!this.templates.has(name)) return name;
    }
  }

  /**
   * Render a template once and return its name. An OP template rendered
   * again differently (a step's own timeout, a key, a success tag) becomes a
   * variant named `<name>-<n>`, as dflow's deepcopy() gives `<name>-<random>`.
   */
  template(t: OPTemplate, ctx: ErrorContext, extra: Variant = {}): string {
    const base = t.name.toLowerCase();
    if (t instanceof Steps || t instanceof DAG) {
      // A step-level key gives the template the input dflow_key: another variant.
      const variant = extra.key ? "keyed" : "plain";
      const names = this.composite.get(t) ?? {};
      const known = names[variant];
      if (known) return known;
      const name = this.freeName(base);
      this.templates.set(name, { name }); // taken while its steps render: they may call it
      this.composite.set(t, { ...names, [variant]: name });
      this.templates.set(name, { ...this.memoized(this.renderTemplate(t, name, ctx, extra), t, extra), name });
      return name;
    }
    const rendered = this.memoized(this.renderTemplate(t, base, ctx, extra), t, extra);
    // The same rendering again is the same template: looked up by its text, not compared with each variant.
    const body = `${base}\n${JSON.stringify({ ...rendered, name: undefined })}`;
    const known = this.variants.get(body);
    if (known) return known;
    const name = this.freeName(base);
    this.templates.set(name, { ...rendered, name });
    this.variants.set(body, name);
    return name;
  }

  /**
   * With steps to reuse, a template that takes a key looks its outputs up by it (dflow's
   * OPTemplate.handle_key): a hit is a reused step, and a miss runs and fills the cache. Argo's
   * schema requires maxAge, which dflow leaves out: a century, for no limit.
   */
  private memoized(rendered: Obj, t: OPTemplate, extra: Variant): Obj {
    if (!this.memoPrefix) return rendered;
    // A keyed sliced step's init-artifact step is memoized by its group (dflow's handle_key): a reused group's storage.
    const by = extra.key || "dflow_key" in t.inputs.parameters ? "{{inputs.parameters.dflow_key}}" : "dflow_group_key" in t.inputs.parameters ? "{{inputs.parameters.dflow_group_key}}-init-artifact" : undefined;
    if (!by) return rendered;
    const key = `${this.memoPrefix}-${by}`;
    return { ...rendered, memoize: { key, maxAge: "876000h", cache: { configMap: { name: `dflow-${key}` } } } };
  }

  /** OP templates rendered, by their rendering (base name and body): a step's template is one of them or a new variant. */
  private readonly variants = new Map<string, string>();

  private renderTemplate(t: OPTemplate, name: string, ctx: ErrorContext, extra: Variant): Obj {
    const tctx = { ...ctx, template: t.name };
    t.normalise();
    const inputs = this.templateInputs(t, tctx, extra);
    const outputs = this.templateOutputs(t, tctx);
    const meta = (annotations: Record<string, string>) => compact({ annotations: compact(annotations), labels: t.labels });
    if (t instanceof Steps || t instanceof DAG) {
      const body = t instanceof Steps ? { steps: this.steps(t, tctx) } : { dag: { tasks: this.tasks(t, tctx) } };
      // dflow sets a Steps/DAG template's parallelism to the smallest of its own and its steps' (steps.py, dag.py add()):
      // on Argo it bounds the whole template, where `dflow run` bounds that step's items; never more at once than asked.
      const pars = [t.parallelism, ...(t instanceof Steps ? t.steps.flatMap((g) => (Array.isArray(g) ? g : [g])) : t.tasks).map((s) => s.parallelism)].filter((p): p is number => typeof p === "number");
      return compact({ name, metadata: meta({ ...t.annotations }), inputs, outputs, ...body, parallelism: pars.length ? Math.min(...pars) : undefined });
    }
    if (!(t instanceof ScriptOPTemplate)) this.fail(`a ${t.constructor.name} has no Argo rendering`, tctx);
    if (t instanceof TsOPTemplate && t.slices) {
      const s = t.slices;
      if (s.group_size && sliceField(s.slices) === undefined) this.fail(`Slices with group_size and the pattern ${JSON.stringify(s.slices)} cannot be exported: use "{{item}}" or "{{item.<field>}}"`, tctx);
    }
    const annotations: Record<string, string> = { "workflows.argoproj.io/progress": "0/1", ...t.annotations };
    if (t.script_rendered) annotations["workflow.dp.tech/script_rendered"] = "true";
    const runsNode = t instanceof TsOPTemplate || t.command[0] === process.execPath || t.command[0] === "node";
    if (t.remote) return this.dispatcherPod(t, name, tctx, extra, { metadata: meta(annotations), inputs, outputs });
    const image = t.image ?? (runsNode ? (this.opts.node_image ?? DEFAULT_NODE_IMAGE) : this.opts.image);
    if (!image) this.fail(`${t.constructor.name} ${t.name} has no image: set { image } on the template, or give a default (\`dflow export --image <image>\`, wf.to_yaml({ image }))`, tctx);
    const script = t instanceof TsOPTemplate ? this.tsOPScript(t, tctx, extra) : { command: runsNode ? ["node", ...t.command.slice(1)] : t.command, source: t.script, env: Object.entries(t.envs).map(([n, v]) => ({ name: n, value: String(v) })) };
    const volumes = t instanceof TsOPTemplate ? [{ name: "dflow-ts-ops", configMap: { name: this.bundle.configMap } }] : [];
    return compact({
      name,
      metadata: meta(annotations),
      inputs,
      outputs,
      // dflow renders a timeout as the template's `timeout` ("<n>s"), not activeDeadlineSeconds: it counts Pending time too.
      timeout: (extra.timeout ?? t._timeout) !== undefined ? duration((extra.timeout ?? t._timeout)!) : undefined,
      retryStrategy: this.retryStrategy(t, extra.retry, tctx),
      volumes,
      script: compact({ image, imagePullPolicy: t.image_pull_policy, ...script }),
    });
  }

  /**
   * A DispatcherExecutor step, as dflow renders it (DispatcherExecutor.render): a pod that writes the
   * step's script, submits it as a DPDispatcher job and waits for it (engine/executors/dispatch-pod.ts),
   * with the template's inputs and outputs, placed and collected by Argo as for any pod. Its image
   * runs node (the executor's `image`, else the node image), whatever the OP's image is: the OP runs
   * on the cluster. A SlurmRemoteExecutor step is the same pod, with the executor's own job (dflow's
   * is a shell script of ssh, scp and sbatch in its extender image).
   */
  private dispatcherPod(t: ScriptOPTemplate, name: string, ctx: ErrorContext, extra: Variant, io: { metadata: Obj; inputs: Obj; outputs: Obj }): Obj {
    const executor = t.remote!.kind === "slurm-remote" ? "SlurmRemoteExecutor" : "DispatcherExecutor";
    if (!this.opts.dispatcher) this.fail(`the step runs through a ${executor}, and no dispatcher was given to render its pod`, ctx);
    const o = t.remote!.options as { image?: string; image_pull_policy?: string; envs?: Record<string, unknown> };
    const r = this.opts.dispatcher.job(t, t.remote!.options, this.where(ctx), extra.merged ?? false);
    this.dispatchBundle ??= this.opts.dispatcher.bundle();
    const volumes: Json[] = [{ name: "dflow-ts-dispatch", configMap: { name: this.dispatchBundle.configMap } }];
    const volumeMounts: Json[] = [{ name: "dflow-ts-dispatch", mountPath: DISPATCH_MOUNT, readOnly: true }];
    const env: Json[] = [];
    if (r.secret) {
      const data: Obj = {};
      for (const [f, text] of Object.entries(r.secret.files)) data[f] = Buffer.from(text).toString("base64");
      if (r.secret.password !== undefined) data.password = Buffer.from(r.secret.password).toString("base64");
      const secret = `dflow-ts-ssh-${createHash("sha256").update(JSON.stringify(data)).digest("hex").slice(0, 16)}`;
      this.secrets.set(secret, { apiVersion: "v1", kind: "Secret", metadata: { name: secret, labels: { "app.kubernetes.io/managed-by": "dflow-ts" } }, type: "Opaque", data });
      volumes.push({ name: "dflow-ts-ssh", secret: { secretName: secret } });
      volumeMounts.push({ name: "dflow-ts-ssh", mountPath: SSH_MOUNT, readOnly: true });
      if (r.secret.password !== undefined) env.push({ name: SSH_PASSWORD_ENV, valueFrom: { secretKeyRef: { name: secret, key: "password" } } });
    }
    const submit = (what: string, before = "") => `import(${JSON.stringify(`${DISPATCH_MOUNT}/${this.dispatchBundle!.file}`)}).then((m) => ${before ? `{ ${before}return m.dispatch(job, ${what}); }` : `m.dispatch(job, ${what})`});`;
    const job = `const job = ${JSON.stringify(r.job)};`;
    let script: Obj;
    if (t instanceof TsOPTemplate) {
      const ts = this.tsOPScript(t, ctx, extra, (spec, before) => [job, submit(`{ op: ${spec}, opBundle: ${JSON.stringify(`${OP_BUNDLE_MOUNT}/${this.bundle.file}`)} }`, before)]);
      volumes.push({ name: "dflow-ts-ops", configMap: { name: this.bundle.configMap } });
      script = { ...ts, env: [...(ts.env as Json[]), ...env], volumeMounts: [...(ts.volumeMounts as Json[]), ...volumeMounts] };
    } else {
      // The script reaches the pod in an environment variable, in which Argo fills in the inputs
      // without any quoting problem (dflow writes it into a Python string literal).
      const source = [`// dflow-ts: submits the script of template ${t.name} as a batch job (${executor}) and waits for it.`, job, submit("{ script: process.env.DFLOW_SCRIPT }"), ""].join("\n");
      const own = Object.entries(t.envs).map(([n, v]) => ({ name: n, value: String(v) }));
      script = { command: ["node"], source, workingDir: "/", env: [...own, { name: "DFLOW_SCRIPT", value: r.script ?? "" }, ...env], volumeMounts };
    }
    // The executor's envs are the pod's (dflow: new_template.envs.update(self.envs)), not the job's.
    const podEnv = Object.entries(o.envs ?? {}).map(([n, v]) => ({ name: n, value: String(v) }));
    const image = o.image ?? this.opts.node_image ?? DEFAULT_NODE_IMAGE;
    return compact({
      name,
      ...io,
      timeout: (extra.timeout ?? t._timeout) !== undefined ? duration((extra.timeout ?? t._timeout)!) : undefined,
      retryStrategy: this.retryStrategy(t, extra.retry, ctx),
      volumes,
      script: compact({ image, imagePullPolicy: o.image_pull_policy ?? t.image_pull_policy, ...script, env: [...(script.env as Json[]), ...podEnv] }),
    });
  }

  /** The pod of a TS OP: node runs the OP from the workflow's bundle, mounted from its ConfigMap (or, for a dispatcher pod, what `run` says with the spec). */
  private tsOPScript(t: TsOPTemplate, ctx: ErrorContext, extra: Variant, run?: (spec: string, before: string) => string[]): Obj {
    const keyed = extra.key ?? false;
    const key = this.bundle.keys[t.module];
    if (!key) this.fail(`OP ${t.opName}'s module ${t.module} is not in the workflow's bundle`, ctx);
    // Parameters reach the OP through environment variables, which Argo fills in without any
    // quoting problem (a value in the source text would end a string literal at its first quote).
    const params = Object.keys(t.input_sign.entries).filter((n) => n in t.inputs.parameters);
    const env = params.map((n, i) => ({ name: `DFLOW_PARAMETER_${i}`, value: `{{inputs.parameters.${n}}}` }));
    env.push({ name: "DFLOW_WORKFLOW_NAME", value: "{{workflow.name}}" });
    if (keyed || "dflow_key" in t.inputs.parameters) env.push({ name: "DFLOW_KEY", value: "{{inputs.parameters.dflow_key}}" });
    const sl = t.slices;
    if (sl) env.push(extra.merged ? { name: "DFLOW_WITH_PARAM", value: "{{inputs.parameters.dflow_with_param}}" } : { name: "DFLOW_SLICE", value: "{{inputs.parameters.dflow_slice}}" });
    // One slice per item, as engine/slices.ts sliceSpec() gives the OP runner locally; in sub_path
    // mode Argo places only the item's part of each sliced artifact (the step's subPath).
    // With group_size an item is a list of items, each giving one slice by the Slices pattern.
    // merge_sliced_step: every item's slice, one task each (the pod writes a script per task).
    const field = sl?.group_size || extra.merged ? sliceField(sl!.slices) : undefined;
    if (extra.merged && field === undefined) this.fail(`Slices with merge_sliced_step and the pattern ${JSON.stringify(sl!.slices)} cannot be exported: use "{{item}}" or "{{item.<field>}}"`, ctx);
    const slice = (x: string) => `Number(${field === "" ? x : `${x}[${JSON.stringify(field)}]`})`;
    // Shuffled at run time: the item is the group's number; the pod takes that group of all the items
    // (DFLOW_ITEMS), shuffled as Slices.groups shuffles them (the bundle's shuffledGroup).
    if (extra.shuffled) env.push({ name: "DFLOW_ITEMS", value: "{{inputs.parameters.dflow_items}}" });
    const indices = field === undefined ? "[Number(env.DFLOW_SLICE)]" : extra.shuffled ? "[]" : `JSON.parse(env.${extra.merged ? "DFLOW_WITH_PARAM" : "DFLOW_SLICE"}).map((x) => ${slice("x")})`;
    const slices = sl ? `, slices: { indices: ${indices}, group: ${field !== undefined && !extra.merged}, ${extra.merged ? "merged: true, " : ""}...${JSON.stringify(sl.runnerFields())} }` : "";
    const group = extra.shuffled ? `spec.slices.indices = m.shuffledGroup(JSON.parse(env.DFLOW_ITEMS), Number(env.DFLOW_SLICE), ${sl!.group_size}, ${sl!.random_seed}).map((x) => ${slice("x")}); ` : "";
    env.push(...Object.entries(t.envs).map(([n, v]) => ({ name: n, value: String(v) })));
    const source = [
      `// dflow-ts: runs OP ${t.opName} (${key}) from the workflow's OP bundle, ConfigMap ${this.bundle.configMap}.`,
      // The pod's root, where Argo reads tmp/outputs, is the working directory (workingDir: /, below),
      // not a literal "/": a local Argo run re-roots the container's / under the node's sandbox.
      // The OP's relative paths mean what they mean in a local step: relative to the folder holding tmp/.
      "const root = process.cwd();",
      "const env = process.env;",
      `const names = ${JSON.stringify(params)};`,
      "const parameters = {};",
      "names.forEach((n, i) => { if (env[`DFLOW_PARAMETER_${i}`] !== undefined) parameters[n] = env[`DFLOW_PARAMETER_${i}`]; });",
      `const spec = { module: ${JSON.stringify(key)}, op: ${JSON.stringify(t.opName)}, workdir: root, parameters, key: env.DFLOW_KEY || null, workflow_name: env.DFLOW_WORKFLOW_NAME${t.success_tag ? ", success_tag: true" : ""}${slices} };`,
      ...(run ? run("spec", group) : [`import(${JSON.stringify(`${OP_BUNDLE_MOUNT}/${this.bundle.file}`)}).then((m) => { ${group}return m.run(spec); });`]),
      "",
    ].join("\n");
    return { command: ["node"], source, workingDir: "/", env, volumeMounts: [{ name: "dflow-ts-ops", mountPath: OP_BUNDLE_MOUNT, readOnly: true }] };
  }

  /**
   * dflow's retry_on_* options (python_op_template.py convert_to_argo) and
   * our retry_strategy, with the meaning engine/retry.ts gives them.
   */
  private retryStrategy(t: ScriptOPTemplate, stepRetry: RetryStrategy | undefined, ctx: ErrorContext): Obj | undefined {
    const limit = (n: number | string | undefined | null) => intOrString(n ?? MAX_RETRIES);
    // Our OPs exit 1 for a TransientError and 2 for a FatalError, as dflow's, but 3 for any other
    // error (dflow's 1), so dflow's `!= 2` for timeout_as_transient_error would retry those too:
    // a timeout is told by the message Kubernetes gives a pod stopped at its deadline (Argo's
    // template timeout is the pod's activeDeadlineSeconds), as `dflow run` tells it by its own timer.
    const transient = t.timeout_as_transient_error ? `(asInt(lastRetry.exitCode) == 1 || lastRetry.message contains '${POD_DEADLINE_MESSAGE}')` : "asInt(lastRetry.exitCode) == 1";
    const given = ([["retry_on_transient_error", t.retry_on_transient_error], ["retry_on_failure", t.retry_on_failure], ["retry_on_error", t.retry_on_error], ["retry_on_failure_and_error", t.retry_on_failure_and_error]] as const).filter(([, n]) => n !== undefined && n !== null && n > 0);
    const rs = stepRetry ?? t.retry_strategy;
    // `dflow run` retries when any of them allows it; an Argo template has one retry strategy.
    if (given.length + (rs ? 1 : 0) > 1) {
      this.fail(`${[...given.map(([k]) => k), ...(rs ? [stepRetry ? "the step's retry_strategy" : "retry_strategy"] : [])].join(" and ")} are set: an Argo template has one retry strategy; keep one of them`, ctx);
    }
    if (given.length) {
      const [k, n] = given[0]!;
      if (k === "retry_on_transient_error") return { limit: limit(n), expression: transient };
      return { limit: limit(n), retryPolicy: { retry_on_failure: "OnFailure", retry_on_error: "OnError", retry_on_failure_and_error: "Always" }[k] };
    }
    if (!rs) return undefined;
    // Argo's own OnTransientError means Kubernetes' transient errors; ours a TransientError (exit code 1) or an error of the machine.
    const onTransient = rs.retry_policy === "OnTransientError";
    const expression = [onTransient ? `(lastRetry.status == 'Error' || ${transient})` : undefined, rs.expression ? `(${rs.expression})` : undefined].filter(Boolean).join(" && ");
    const policy = onTransient ? "Always" : (rs.retry_policy ?? (rs.expression ? "Always" : undefined));
    const set = (v: unknown) => v !== undefined && v !== null;
    const backoff = compact({
      duration: set(rs.duration) ? duration(rs.duration!) : undefined,
      // engine/retry.ts doubles the wait when no factor is given.
      factor: set(rs.factor) ? intOrString(rs.factor) : set(rs.duration) ? "2" : undefined,
      cap: set(rs.cap) ? duration(rs.cap!) : undefined,
      maxDuration: set(rs.max_duration) ? duration(rs.max_duration!) : undefined,
    });
    // No limit: Argo would retry forever; `dflow run` stops at MAX_RETRIES, and so does the export.
    return compact({ limit: limit(rs.limit), retryPolicy: policy, expression: expression || undefined, backoff });
  }

  // ---------------------------------------------------------------- inputs and outputs

  private templateInputs(t: OPTemplate, ctx: ErrorContext, extra: Variant): Obj {
    const keyed = extra.key ?? false;
    const parameters: Json[] = Object.values(t.inputs.parameters).map((p) =>
      compact({ name: p.name, value: p.has_value ? this.paramValue(p.value, { ...ctx, parameter: p.name }) : undefined, description: typeDescription(p.type) }),
    );
    // dflow gives a template used by a keyed step the input dflow_key (value "") and passes the key in it (step.py).
    if (keyed && !("dflow_key" in t.inputs.parameters)) parameters.push({ name: "dflow_key", value: "" });
    // The slice an item runs, rendered by Argo from the Slices pattern in the step (dflow's dflow_var_<n>, python_op_template.py).
    if (extra.merged) parameters.push({ name: "dflow_with_param" });
    else if (t instanceof TsOPTemplate && t.slices) parameters.push({ name: "dflow_slice" });
    // All the items, from which each pod takes its shuffled group (dflow's dflow_with_param).
    if (extra.shuffled) parameters.push({ name: "dflow_items" });
    const artifacts: Json[] = Object.values(t.inputs.artifacts).map((a) => {
      const base = { name: a.name, path: a.path, optional: a.optional || undefined, archive: { none: {} } };
      return a.source === undefined || a.source === null ? compact(base) : compact({ ...base, ...this.artifactSource(a.source, { ...ctx, artifact: a.name }) });
    });
    return compact({ parameters, artifacts });
  }

  private templateOutputs(t: OPTemplate, ctx: ErrorContext): Obj {
    const parameters = Object.values(t.outputs.parameters).map((p) => this.outputParameter(p, { ...ctx, parameter: p.name }));
    const steps = t instanceof Steps ? t.steps.flatMap((g) => (Array.isArray(g) ? g : [g])) : t instanceof DAG ? t.tasks : [];
    const artifacts = Object.values(t.outputs.artifacts).map((a) => this.outputArtifact(a, { ...ctx, artifact: a.name }, steps));
    return compact({ parameters, artifacts });
  }

  /**
   * An expression with the sliced output artifacts of `steps` read from their init-artifact steps, as
   * dflow redirects them (io.py: an expression over a redirected artifact names the redirect): a
   * loop has no artifacts on Argo.
   */
  private redirectSliced(text: string, steps: Step[]): string {
    // `.name` or `['name']`, as exprOf writes a name.
    const name = (n: string) => {
      const e = n.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
      return `(?:\\.${e}|\\['${e}'\\])`;
    };
    let out = text;
    for (const s of steps) {
      const init = s.init_step;
      if (!init) continue;
      const kind = s.isTask ? "tasks" : "steps";
      for (const a of Object.keys(init.template.outputs.artifacts)) {
        out = out.replace(new RegExp(`\\b${kind}${name(s.name)}\\.outputs\\.artifacts${name(a)}`, "g"), `${kind}['${init.name}'].outputs.artifacts['${a}']`);
      }
    }
    return out;
  }

  /** io.py OutputParameter.convert_to_argo_parameter. */
  private outputParameter(p: OutputParameter, ctx: ErrorContext): Obj {
    const dflt = p.has_default ? (typeof p.default === "string" ? p.default : pyJson(p.default)) : undefined;
    const common = { globalName: p.global_name, description: typeDescription(p.type) };
    if (p.value_from_path) return compact({ name: p.name, valueFrom: compact({ path: p.value_from_path, default: dflt }), ...common });
    if (p.value_from_parameter !== undefined && p.value_from_parameter !== null) {
      // A fan-out's outputs are absent when it ran no items (outputRef): the default gives `dflow run`'s [].
      const src = p.value_from_parameter;
      const empty = dflt === undefined && src instanceof StepOutputParameter && this.mayRunNoItems(src.step as Step) ? "[]" : undefined;
      // dflow strips the braces "to avoid double rendering".
      return compact({ name: p.name, valueFrom: compact({ parameter: String(src).replace(/\{\{|\}\}/g, ""), default: dflt ?? empty }), ...common });
    }
    if (p.value_from_expression !== undefined && p.value_from_expression !== null) {
      const e = p.value_from_expression instanceof ArgoVar ? p.value_from_expression.expr : String(p.value_from_expression);
      return compact({ name: p.name, valueFrom: compact({ expression: e, default: dflt }), ...common });
    }
    if (p.has_value) return compact({ name: p.name, value: typeof p.value === "string" ? p.value : this.paramValue(p.value, ctx), ...common });
    if (dflt !== undefined) return compact({ name: p.name, valueFrom: { default: dflt }, ...common });
    return this.fail("the output parameter has no value_from_path, value_from_parameter, value_from_expression or value", ctx);
  }

  /** io.py OutputArtifact.convert_to_argo: archive none (the files as they are), S3 storage from `save`. */
  private outputArtifact(a: OutputArtifact, ctx: ErrorContext, steps: Step[] = []): Obj {
    const s3 = (a.save ?? []).filter((s): s is S3Artifact => s instanceof S3Artifact).pop();
    if ((a.save ?? []).some((s) => !(s instanceof S3Artifact))) this.fail("only S3Artifact targets of `save` can be exported", ctx);
    const base = { name: a.name, globalName: a.global_name, optional: a.optional || undefined, archive: a.archive === "tar" ? undefined : { none: {} }, s3: s3 ? { key: s3.key } : undefined };
    if (a.path) return compact({ ...base, path: a.path });
    // A sliced step's artifact is its init-artifact step's, for the template's outputs as for its consumers.
    // (With a sub-path, the reference as written: the local runner takes no subPath on an output's from.)
    if (a._from !== undefined && a._from !== null) return compact({ ...base, from: a._from instanceof StepOutputArtifact && !a._from.subPath ? this.artifactRef(a._from) : String(a._from) });
    if (a.from_expression !== undefined && a.from_expression !== null) {
      return compact({ ...base, fromExpression: this.redirectSliced(a.from_expression instanceof ArgoVar ? a.from_expression.expr : String(a.from_expression), steps) });
    }
    if (a.optional) return compact(base);
    return this.fail("the output artifact has no path, _from or from_expression", ctx);
  }

  /**
   * A step's output artifact as Argo names it. Argo gathers no artifacts of a loop's items: a sliced
   * output artifact is read where every item saved its part, the storage its init-artifact step made
   * (dflow's OutputArtifact.redirect, step.py).
   */
  private artifactRef(src: StepOutputArtifact): string {
    const stepName = slicedInit(src)?.name ?? src.step.name;
    return `{{${src.step.isTask ? "tasks" : "steps"}.${stepName}.outputs.artifacts.${src.name}}}`;
  }

  /** Where an artifact argument comes from (io.py InputArtifact.convert_to_argo). */
  private artifactSource(src: unknown, ctx: ErrorContext): Obj {
    if (src instanceof StepOutputArtifact) return compact({ from: this.artifactRef(src), subPath: src.subPath });
    if (src instanceof InputArtifact) return { from: String(src) };
    if (src instanceof S3Artifact) return { s3: { key: src.key } };
    if (isLocalArtifact(src)) {
      // As dflow's default mode uploads it (upload_artifact: `upload/<uuid>/<dir>` in the repository):
      // read by key, and listed for the caller to put there (`dflow export` does).
      const key = uploadKey(src.local_path);
      if (!this.uploads.some((u) => u.key === key)) this.uploads.push({ key, path: src.local_path });
      return { s3: { key: src.subPath ? `${key}/${src.subPath}` : key } };
    }
    if (typeof src === "string") return src.includes("{{") ? { from: src } : { raw: { data: src } };
    return this.fail(`cannot export an artifact source of type ${src === null ? "null" : typeof src}`, ctx);
  }

  /**
   * A parameter value as Argo text (io.py convert_value_to_str): strings as
   * they are, references as `{{...}}`, expressions as `{{=...}}`, other
   * values as JSON, with references inside lists and objects spliced in.
   * A sliced output parameter is the list it stands for (slicedList), but
   * where `raw` (a TS OP's own argument: its pod merges the marked lists, as
   * dflow's OPs do) or inside a list or object.
   */
  paramValue(v: unknown, ctx: ErrorContext, raw = true): string {
    if (typeof v === "string") return v;
    if (v instanceof ArgoVar) return this.tag(v.expr, ctx);
    if (v instanceof StepOutputParameter && !raw && this.isSliced(v)) return this.tag(this.slicedText(v), ctx);
    if (v instanceof StepOutputParameter) return this.outputRef(v, ctx);
    if (v instanceof InputParameter) return String(v);
    if (v instanceof StepOutputArtifact || v instanceof InputArtifact) return this.fail("an artifact cannot be passed as a parameter value", ctx);
    if (v instanceof StepItemCount) return this.fail("internal: an item count outside a success-ratio check", ctx);
    const refs: string[] = [];
    const swap = (x: unknown): unknown => {
      if (x instanceof ArgoVar) return placeholder(this.tag(`toJson(${x.expr})`, ctx));
      if (x instanceof StepOutputParameter && this.isSliced(x)) return placeholder(this.tag(this.slicedText(x), ctx));
      if (x instanceof StepOutputParameter || x instanceof InputParameter) {
        const t = x instanceof StepOutputParameter ? x.type : typeString(x.type);
        const text = x instanceof StepOutputParameter ? this.outputRef(x, ctx) : String(x);
        // A string parameter's text goes in quoted, any other's (JSON already) as it is.
        return placeholder(t === "str" ? `"${text}"` : text);
      }
      if (x instanceof StepOutputArtifact || x instanceof InputArtifact || x instanceof StepItemCount) return this.fail("an artifact cannot be passed inside a parameter value", ctx);
      if (Array.isArray(x)) return x.map(swap);
      if (x !== null && typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype) return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, swap(y)]));
      if (x !== null && typeof x === "object") {
        // An instance of a registered class, tagged as a local step's parameter file has it (engine/store/values.ts).
        if (typeof (x as { toJSON?: unknown }).toJSON === "function") return swap((x as { toJSON(): unknown }).toJSON());
        const ctor = (Object.getPrototypeOf(x) as { constructor?: abstract new (...a: never[]) => unknown } | null)?.constructor;
        return { "py/object": (ctor && typeNameOfClass(ctor)) ?? ctor?.name ?? "object", ...Object.fromEntries(Object.entries(x).map(([k, y]) => [k, swap(y)])) };
      }
      return x;
    };
    const placeholder = (text: string) => {
      refs.push(text);
      return `dflow_placeholder_${refs.length - 1}`;
    };
    let s = pyJson(swap(v));
    // A function, not the text: a `$'` in an expression (jsonpath(x, '$')) is a replacement pattern.
    refs.forEach((r, i) => (s = s.replace(`"dflow_placeholder_${i}"`, () => r)));
    return s;
  }

  /** Whether a step's output parameter is a sliced one: each item's a list of its slices' values marked with their order. */
  private isSliced(p: StepOutputParameter): boolean {
    const t = this.templateOf(p.step as Step);
    return t instanceof TsOPTemplate && (t.slices?.output_parameter.includes(p.name) ?? false);
  }

  /**
   * A sliced output parameter as the plain list `dflow run` gives its consumers (engine/slices.ts
   * stackSliced): what Argo gathers of the items (one list of `{dflow_list_item, order}` each, or
   * one list for a merged step) flattened, sorted by order and unmarked. dflow leaves that to its
   * OPs (handle_input_parameter), so a script step would get the marked lists. Sorted as text
   * keyed by the zero-padded order: expr-lang's sort takes numbers or strings, not a key.
   */
  private slicedList(p: StepOutputParameter): string {
    const width = 12;
    const keyed = `repeat('0', ${width} - len(string(#.order))) + string(#.order) + toJson(#.dflow_list_item)`;
    return `map(sort(map(flatten(jsonpath(${this.outputTerm(p)}, '$')), ${keyed})), fromJSON(#[${width}:]))`;
  }

  /**
   * A step's output parameter as a reference. A fan-out's may be over no items, when Argo skips it
   * ("Skipped, empty params") and its outputs are absent (a consumer ends in Error, §4.3 of the
   * Argo semantics), where `dflow run` gives its consumers the empty list: `?? '[]'` gives it on Argo too.
   */
  private outputRef(p: StepOutputParameter, ctx: ErrorContext): string {
    const term = this.outputTerm(p);
    return term === exprOf(p) ? String(p) : this.tag(term, ctx);
  }

  /** outputRef as an expr-lang term. */
  private outputTerm(p: StepOutputParameter): string {
    return this.mayRunNoItems(p.step as Step) ? `(${exprOf(p)} ?? '[]')` : exprOf(p);
  }

  /**
   * Whether a step fans out over items that may be none: all but a list given here with items in it,
   * a sequence of numbers (one item at least), or slices of such a list.
   */
  private mayRunNoItems(s: Step): boolean {
    if (!this.fansOut(s)) return false;
    const nonEmpty = (v: unknown): boolean | undefined => {
      if (Array.isArray(v)) return v.length > 0;
      if (typeof v !== "string" || v.includes("{{")) return undefined;
      try {
        const list: unknown = JSON.parse(v);
        return Array.isArray(list) ? list.length > 0 : undefined;
      } catch {
        return undefined;
      }
    };
    if (s.with_param !== undefined && s.with_param !== null) return nonEmpty(s.with_param) !== true;
    if (s.with_sequence instanceof ArgoSequence) {
      const { count, start, end } = s.with_sequence.opts;
      if (count !== undefined && count !== null) return !(typeof count === "number" && count > 0);
      return !(typeof end === "number" && (start === undefined || start === null || typeof start === "number"));
    }
    const t = this.templateOf(s);
    const name = t instanceof TsOPTemplate ? t.slices?.input_parameter[0] : undefined;
    if (name === undefined) return true;
    return nonEmpty(name in s.parameters ? s.parameters[name] : s.template.inputs.parameters[name]?.value) !== true;
  }

  /** The list as `dflow run` writes it (pyJson's ", " between items; toJson writes none). */
  private slicedText(p: StepOutputParameter): string {
    return `'[' + join(map(${this.slicedList(p)}, toJson(#)), ', ') + ']'`;
  }

  /**
   * `{{=expr}}`. Argo ends the tag at the first "}}", so an expression
   * holding one (a map literal inside a closure, `{{'k': #}}`) would be cut
   * short there: refused, rather than exported to fail or mean something else.
   */
  private tag(expr: string, ctx: ErrorContext): string {
    if (expr.includes("}}")) this.fail(`the expression ${JSON.stringify(expr)} contains "}}", where Argo would end it; put a space between the braces ("} }")`, ctx);
    return `{{=${expr}}}`;
  }

  // ---------------------------------------------------------------- steps and tasks

  private steps(t: Steps, ctx: ErrorContext): Json[] {
    if (!t.steps.length) this.fail(`Steps ${t.name} is empty`, ctx);
    return t.steps.map((g) => (Array.isArray(g) ? g : [g]).map((s) => this.step(s, ctx)));
  }

  /**
   * A DAG's tasks. Without a continue-on task, each waits through `depends` as dflow writes it.
   * With one, Argo refuses `continueOn` beside `depends` (validate.go), and dropping continueOn is
   * no way out: a failed leaf without it fails the DAG (dag.go assessDAGPhase), where `dflow run`'s
   * DAG succeeds. So such a DAG keeps continueOn and waits through `dependencies`, which Argo reads
   * as `(x.Succeeded || x.Skipped || x.Daemoned)`, plus `|| x.Failed` / `|| x.Errored` for a task
   * with continueOn. Where that runs a task `dflow run` leaves out, the task also gets a `when` on
   * its dependency's status (see gating below).
   */
  private tasks(t: DAG, ctx: ErrorContext): Json[] {
    if (!t.tasks.length) this.fail(`DAG ${t.name} is empty`, ctx);
    const all = t.tasks;
    const byName = new Map(all.map((x) => [x.name, x] as const));
    const edges = new Map(all.map((task) => [task, this.dependencies(task, byName)] as const));
    const bodies = new Map(all.map((task) => [task.name, this.step(task, ctx)] as const));
    const fans = (n: string) => this.fansOut(byName.get(n)!);
    const ownWhen = (n: string) => byName.get(n)!.when !== undefined && byName.get(n)!.when !== null;
    // A fan-out over no items is Skipped on Argo ("Skipped, empty params"), where `dflow run` has it
    // succeed and goes on: without a `when` of its own Skipped can mean nothing else, and a task may
    // go on past it unless it reads what Argo has none of then (outputRef gives its parameters `[]`).
    const emptyOk = (e: Edge) => !e.reads && fans(e.name) && !ownWhen(e.name);
    const continues = all.some((x) => x.continue_on_failed || x.continue_on_error);
    const gating = continues ? this.gating(all, byName, edges) : new Set<string>();
    // The phases after which `dflow run` goes on past a dependency: it succeeded (an after_any one: ended);
    // a fan-out that continues on failure (or error) counts as succeeded there, where Argo's TaskGroup
    // takes the phase of a failed item.
    const passing = (e: Edge): string[] => {
      const dep = byName.get(e.name)!;
      const f = fans(e.name);
      return ["Succeeded", ...(e.any || (f && dep.continue_on_failed) ? ["Failed"] : []), ...(f && dep.continue_on_error ? ["Error"] : []), ...(emptyOk(e) ? ["Skipped"] : [])];
    };
    const status = (n: string) => `"{{tasks.${n}.status}}"`;
    // A task's `when` as rendered: its own, and what keeps it from running where `dflow run` would not.
    // A fan-out skipped by its `when` is skipped item by item on Argo, its group then Succeeded: its
    // dependents take that `when` (as it finally is) into theirs. In `dependencies` form, a task also
    // waits on the status of the dependencies after which Argo would run it and `dflow run` would not.
    const finals = new Map<string, string | undefined>();
    const finalWhen = (name: string): string | undefined => {
      if (finals.has(name)) return finals.get(name);
      finals.set(name, undefined); // no `when` through itself, should the tasks form a cycle
      const body = bodies.get(name)!;
      const parts: string[] = [];
      const gatedBy = new Set<string>();
      for (const e of edges.get(byName.get(name)!)!) {
        const inherited = fans(e.name) ? finalWhen(e.name) : undefined;
        if (inherited !== undefined && !usesItem(inherited)) parts.push(`(${inherited})`);
        if (gating.has(e.name)) {
          gatedBy.add(e.name);
          const ok = passing(e).map((p) => `${status(e.name)} == "${p}"`);
          parts.push(ok.length > 1 ? `(${ok.join(" || ")})` : ok[0]!);
        }
      }
      const ownText = body.when === undefined ? undefined : guardOutputs(String(body.when), gatedBy);
      const own = ownText === undefined ? [] : [parts.length ? `(${ownText})` : ownText];
      const when = [...own, ...parts].join(" && ") || undefined;
      finals.set(name, when);
      return when;
    };
    return all.map((task) => {
      const body = bodies.get(task.name)!;
      const deps = edges.get(task)!;
      const when = finalWhen(task.name);
      if (!continues) {
        const depends = deps.map((e) => `(${["Succeeded", ...(e.any ? ["Failed"] : []), ...(emptyOk(e) ? ["Skipped"] : [])].map((p) => `${e.name}.${p}`).join(" || ")})`).join(" && ");
        return compact({ ...body, when, depends: depends || undefined });
      }
      // Argo refuses continueOn beside depends: `dependencies`, which let Skipped through.
      return compact({ ...body, when, dependencies: deps.map((e) => e.name) });
    });
  }

  /**
   * The tasks of a DAG in `dependencies` form after which `dflow run` may leave out tasks that
   * Argo would run: one that does not fan out and may fail under continueOn (`dflow run` runs
   * nothing after a failed task), or may be skipped (its `when`, or a gate of its own), as may a
   * fan-out whose `when` does not use the item (skipped whole by `dflow run`, item by item by
   * Argo). A fan-out that continues on failure is not one by itself: `dflow run` goes on after it
   * whatever its items did (tasks() lets its failed group pass where it gates).
   */
  private gating(all: Step[], byName: ReadonlyMap<string, Step>, edges: Map<Step, Edge[]>): Set<string> {
    const memo = new Map<string, boolean>();
    const gates = (name: string): boolean => {
      const known = memo.get(name);
      if (known !== undefined) return known;
      memo.set(name, false); // no gate through itself, should the tasks form a cycle
      const task = byName.get(name)!;
      const fans = this.fansOut(task);
      const hasWhen = task.when !== undefined && task.when !== null;
      const g = (!fans && (task.continue_on_failed || task.continue_on_error)) || (hasWhen && !(fans && usesItem(task.when))) || edges.get(task)!.some((e) => gates(e.name));
      memo.set(name, g);
      return g;
    };
    return new Set(all.map((x) => x.name).filter(gates));
  }

  /** Whether a step runs as a loop of items on Argo (a merged sliced step is one pod). */
  private fansOut(s: Step): boolean {
    if (mergesSlices(s, this.wf.context)) return false;
    const t = this.templateOf(s);
    return (s.with_param !== undefined && s.with_param !== null) || (s.with_sequence !== undefined && s.with_sequence !== null) || (t instanceof TsOPTemplate && t.slices !== undefined);
  }

  /**
   * The tasks a task waits for: those it takes inputs from and its explicit dependencies. One
   * `any` waits for whatever it ended with: the task of a success-ratio check, which runs after
   * its task whatever its items did (dflow writes `(x.Succeeded)` there, which on Argo leaves the
   * check out once an item failed; `dflow run` runs it). A task with a success threshold is
   * waited for through its check, as dflow's Task.convert_to_argo does (`(<check>.Succeeded)`):
   * its dependents run once the threshold is met.
   */
  private dependencies(task: Step, byName: ReadonlyMap<string, Step>): Edge[] {
    const deps = new Set<string>();
    // The tasks whose values this one reads where a fan-out over no items has none: artifacts (a
    // sliced one is read from the init-artifact step, not the loop), references typed in text, a
    // sequence's bounds. An output parameter reaches a parameter or withParam through outputRef,
    // and an item count counts it: the empty list, as `dflow run` gives it.
    const reads = new Set<string>();
    const collect = (v: unknown, seen = new Set<unknown>(), throughOutputRef = false): void => {
      if (v === null || v === undefined || seen.has(v)) return;
      if (v instanceof StepOutputParameter || v instanceof StepOutputArtifact || v instanceof StepItemCount) {
        deps.add(v.step.name);
        const guarded = v instanceof StepItemCount || (v instanceof StepOutputParameter && throughOutputRef) || (v instanceof StepOutputArtifact && slicedInit(v));
        if (!guarded) reads.add(v.step.name);
        return;
      }
      if (typeof v === "string") {
        for (const m of v.matchAll(/\{\{\s*=?[^}]*?\btasks(?:\.([\w-]+)|\[['"]([\w-]+)['"]\])/g)) {
          deps.add((m[1] ?? m[2])!);
          reads.add((m[1] ?? m[2])!);
        }
        return;
      }
      if (typeof v !== "object") return;
      seen.add(v);
      if (Array.isArray(v)) v.forEach((x) => collect(x, seen, throughOutputRef));
      else if (Object.getPrototypeOf(v) === Object.prototype) Object.values(v).forEach((x) => collect(x, seen, throughOutputRef));
      else if (v instanceof ArgoVar) collect(String(v), seen);
    };
    for (const v of [task.parameters, task.with_param]) collect(v, new Set(), true);
    for (const v of [task.artifacts, task.key, task.when, task.with_sequence instanceof ArgoSequence ? task.with_sequence.opts : undefined]) collect(v);
    for (const d of task.dependencies) deps.add(typeof d === "string" ? d.split(".")[0]! : d.name);
    for (const d of task.after_any) deps.add(d);
    deps.delete(task.name);
    const out = new Map<string, Edge>();
    for (const d of deps) {
      const dep = byName.get(d);
      if (!dep) continue;
      if (task.after_any.includes(d)) out.set(d, { name: d, any: true, reads: reads.has(d) });
      else {
        const check = checkOf(dep) ?? undefined;
        const name = check?.name ?? d;
        // Through a check, the task waits for the check's success, whatever it reads of the step.
        if (name !== task.name && !out.has(name)) out.set(name, { name, any: false, reads: check ? true : reads.has(d) });
      }
    }
    return [...out.values()];
  }

  /** step.py Step.convert_to_argo / task.py Task.convert_to_argo. */
  private step(s: Step, ctx: ErrorContext): Obj {
    const sctx = { workflow: ctx.workflow, step: s.name };
    const template = this.templateOf(s);
    const sliced = template instanceof TsOPTemplate ? template.slices : undefined;
    // Shuffled groups of items known only when the workflow runs: each pod takes its group of them all.
    const allItems = sliced?.group_size && sliced.shuffle ? this.sliceItemsOf(s, sliced, sctx) : undefined;
    const shuffled = allItems !== undefined && !Array.isArray(allItems);
    const merged = mergesSlices(s, this.wf.context);
    const templateName = this.template(template, sctx, { key: s.key !== undefined, timeout: s._timeout, retry: s.retry_strategy, shuffled, merged });
    const parameters: Json[] = [];
    for (const [name, v] of Object.entries(s.parameters)) {
      if (v === undefined) continue;
      const value = v instanceof StepItemCount ? this.itemCount(v.step as Step, sctx) : this.paramValue(v, { ...sctx, parameter: name }, template instanceof TsOPTemplate);
      parameters.push({ name, value });
    }
    // A merged step has no items: {{item}} in its key is the first's, "0", as dflow renders it (Step.render_by_executor).
    if (s.key !== undefined) parameters.push({ name: "dflow_key", value: merged ? s.key.replace(/\{\{\s*item\s*\}\}/g, "0") : s.key });
    const slices = template instanceof TsOPTemplate ? template.slices : undefined;
    if (merged) {
      // Every item, for the pod to make a task of each (dflow's dflow_with_param).
      const items = s.with_sequence === undefined ? this.withParam(this.sliceItemsOf(s, slices!, sctx), sctx) : undefined;
      if (items === undefined) this.fail("a step with merge_sliced_step over with_sequence cannot be exported: give with_param (e.g. argo_range(n)) instead", sctx);
      parameters.push({ name: "dflow_with_param", value: items });
    } else if (slices) {
      // Each item's slice, by the Slices pattern; with group_size the item is a group, passed whole.
      parameters.push({ name: "dflow_slice", value: slices.group_size ? "{{item}}" : slices.slices });
    }
    if (shuffled) parameters.push({ name: "dflow_items", value: this.withParam(allItems, sctx)! });
    const artifacts: Json[] = [];
    for (const [name, src] of Object.entries(s.artifacts)) {
      if (src === undefined || src === null) {
        if (name in template.inputs.artifacts && template.inputs.artifacts[name]!.optional) continue;
        this.fail("the artifact has no source", { ...sctx, artifact: name });
      }
      const source = this.artifactSource(src, { ...sctx, artifact: name });
      // sub_path slices: each item downloads only its own part, named in its item (dflow's {{item.<name>}}).
      if (slices?.sub_path && slices.input_artifact.includes(name)) source.subPath = [source.subPath, `{{item.${name}}}`].filter(Boolean).join("/");
      artifacts.push(compact({ name, ...source }));
    }
    return compact({
      name: s.name,
      template: templateName,
      arguments: compact({ parameters, artifacts }),
      when: this.when(s.when, sctx),
      withParam: merged ? undefined : this.items(s, template, sctx),
      withSequence: s.with_sequence instanceof ArgoSequence && !slices?.group_size && !merged ? this.sequence(s.with_sequence, sctx) : undefined,
      continueOn: s.continue_on_failed || s.continue_on_error ? compact({ failed: s.continue_on_failed || undefined, error: s.continue_on_error || undefined }) : undefined,
    });
  }

  private when(w: unknown, ctx: ErrorContext): string | undefined {
    if (w === undefined || w === null) return undefined;
    if (w instanceof ArgoVar) return this.tag(w.expr, ctx);
    return String(w);
  }

  /** A step's withParam: its with_param, or the items (groups) of its Slices. */
  private items(s: Step, template: OPTemplate, ctx: ErrorContext): string | undefined {
    const slices = template instanceof TsOPTemplate ? template.slices : undefined;
    if (slices?.group_size) return this.groups(s, slices, ctx);
    return this.withParam(slices ? this.sliceItemsOf(s, slices, ctx) : s.with_param, ctx);
  }

  /** The items a sliced step fans out over: its with_param, else those sliceItems infers (none over with_sequence). */
  private sliceItemsOf(s: Step, slices: NonNullable<TsOPTemplate["slices"]>, ctx: ErrorContext): unknown {
    return s.with_param ?? (s.with_sequence === undefined ? this.sliceItems(s, slices, ctx) : undefined);
  }

  private withParam(v: unknown, ctx: ErrorContext): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (Array.isArray(v)) return this.paramValue(v, { ...ctx, parameter: undefined });
    if (v instanceof ArgoVar) return this.tag(v.expr, ctx);
    // Items of a sliced output: its values, as `dflow run` loops over them.
    if (v instanceof StepOutputParameter && this.isSliced(v)) return this.tag(this.slicedList(v), ctx);
    if (v instanceof StepOutputParameter) return this.outputRef(v, ctx);
    return String(v);
  }

  private sequence(seq: ArgoSequence, ctx: ErrorContext): Obj {
    const f = (x: unknown) => (x === undefined || x === null ? undefined : x instanceof ArgoVar ? this.tag(x.expr, ctx) : intOrString(x));
    return compact({ count: f(seq.opts.count), start: f(seq.opts.start), end: f(seq.opts.end), format: seq.opts.format });
  }

  /**
   * The items of a sliced step without with_param/with_sequence: one per
   * element of its first sliced input parameter (dflow's argo_range(argo_len(...)), step.py).
   */
  private sliceItems(s: Step, sl: NonNullable<TsOPTemplate["slices"]>, ctx: ErrorContext): unknown {
    const name = sl.input_parameter[0];
    if (!name) return this.fail("a step with Slices over input artifacts only needs with_param or with_sequence to be exported (the number of items is in the artifact's catalog)", ctx);
    const v = name in s.parameters ? s.parameters[name] : s.template.inputs.parameters[name]?.value;
    if (Array.isArray(v)) return v.map((_, i) => i);
    let list: unknown;
    try {
      list = typeof v === "string" && !v.includes("{{") ? JSON.parse(v) : undefined;
    } catch {
      list = undefined;
    }
    if (Array.isArray(list)) return list.map((_, i) => i);
    if (v instanceof StepOutputParameter && this.isSliced(v)) return new ArgoVar(`sprig.untilStep(0, len(${this.slicedList(v)}), 1)`);
    if (v instanceof ArgoVar || v instanceof StepOutputParameter || v instanceof InputParameter || typeof v === "string") {
      const term = typeof v === "string" ? `(${conditionText(v)})` : v instanceof StepOutputParameter ? this.outputTerm(v) : exprOf(v);
      return new ArgoVar(`sprig.untilStep(0, len(jsonpath(${term}, '$')), 1)`);
    }
    return this.fail(`the sliced input parameter ${name} is not a list`, { ...ctx, parameter: name });
  }

  /**
   * The items of a step with Slices' group_size: its items (with_param, or
   * those sliceItems infers) in consecutive groups of `size`, shuffled as
   * `dflow run` shuffles them (Slices.groups); a list made here, or an
   * expression Argo evaluates.
   */
  private groups(s: Step, slices: NonNullable<TsOPTemplate["slices"]>, ctx: ErrorContext): string {
    if (s.with_sequence !== undefined) return this.fail("Slices with group_size over with_sequence cannot be exported: give with_param (e.g. argo_range(n)) instead", ctx);
    const size = slices.group_size!;
    const items = this.sliceItemsOf(s, slices, ctx);
    if (Array.isArray(items)) return this.paramValue(slices.groups(items), { ...ctx, parameter: undefined });
    const list = items instanceof ArgoVar ? `(${items.expr})` : `jsonpath(${typeof items === "string" ? `(${conditionText(items)})` : exprOf(items)}, '$')`;
    // Shuffled: the groups' numbers; each pod shuffles all the items (dflow_items) and takes its group, as dflow's pods do.
    if (slices.shuffle) return this.tag(`sprig.untilStep(0, int((len(${list}) + ${size - 1}) / ${size}), 1)`, ctx);
    return this.tag(`map(sprig.untilStep(0, len(${list}), ${size}), {${list}[#:min(# + ${size}, len(${list}))]})`, ctx);
  }

  /** The `total` of a success-ratio check: the number of items of its step (step.py, continue_on_success_ratio). */
  private itemCount(s: Step, ctx: ErrorContext): string {
    // A reference or an expression as an expr-lang term; a `{{...}}` text as the variables it names.
    const term = (x: unknown) => (typeof x === "string" ? `(${conditionText(x)})` : exprOf(x));
    // A fan-out's output (none when it ran no items) is counted as the list its text is.
    const template = this.templateOf(s);
    if (s.with_param instanceof StepOutputParameter && this.mayRunNoItems(s.with_param.step as Step) && !this.isSliced(s.with_param) && !(template instanceof TsOPTemplate && template.slices?.group_size)) return this.tag(`len(jsonpath(${this.outputTerm(s.with_param)}, '$'))`, ctx);
    // As many as the step's withParam has: a list counted here, an expression or a reference counted by Argo.
    const items = this.items(s, template, ctx);
    if (items !== undefined) {
      const e = /^\{\{=([\s\S]*)\}\}$/.exec(items);
      if (e) return this.tag(`len(${e[1]})`, ctx);
      if (/^\{\{[^{}]*\}\}$/.test(items)) return this.tag(`len(jsonpath(${term(items)}, '$'))`, ctx);
      return String((JSON.parse(items) as unknown[]).length);
    }
    if (s.with_sequence instanceof ArgoSequence) {
      const { count, start, end } = s.with_sequence.opts;
      const int = (x: unknown) => (typeof x === "number" ? String(x) : `asInt(${term(x)})`);
      if (count !== undefined && count !== null) return typeof count === "number" ? String(count) : this.tag(int(count), ctx);
      const a = int(start ?? 0);
      const b = int(end);
      return this.tag(`${b} > ${a} ? ${b} + 1 - ${a} : ${a} + 1 - ${b}`, ctx);
    }
    return this.fail("internal: a success ratio on a step that does not fan out", ctx);
  }
}

/** Render a workflow as an Argo Workflow, with the Kubernetes objects it needs. Throws a DflowConfigError for what cannot be exported. */
export function exportWorkflow(wf: ExportableWorkflow, opts: ExportOptions = {}): ArgoExport {
  return new Renderer(wf, opts).render();
}
