// Loading Argo manifests (argo-semantics §1): YAML decoded as Go would
// (scalars in string fields become strings, field names matched
// case-insensitively for the fields we know), templateDefaults merged,
// workflowTemplateRef / templateRef resolved from WorkflowTemplates loaded
// from local files, and the spec checked before anything runs: a field we
// cannot honour is refused here, in one line naming it.
import fs from "node:fs";
import { createRequire } from "node:module";
import { DflowConfigError } from "../../src/errors.js";
import { type ConfigMapFiles, configMapsOf } from "./volumes.js";
import { type ManifestKind, shapeErrors } from "./shape.js";

// Loaded when a manifest is read, not with the module: src/workflow.ts imports this module for
// Workflow.from_yaml, and every TS OP's bundle carries what dflow-ts imports statically (the same
// reason as to_yaml's); a require() esbuild cannot follow stays out of the bundle.
let yamlLib: typeof import("yaml") | undefined;
const yaml = (): typeof import("yaml") => (yamlLib ??= createRequire(import.meta.url)("yaml") as typeof import("yaml"));

export type Obj = Record<string, unknown>;

export interface ArgoTemplate extends Obj {
  name: string;
}

/** A Workflow ready to run: its spec with templates resolved, and the stored templates it may call. */
export interface ArgoWorkflow {
  kind: string;
  metadata: Obj;
  spec: Obj & { entrypoint: string; templates: ArgoTemplate[] };
  /** Stored (Cluster)WorkflowTemplates by name, for templateRef. */
  library: Map<string, ArgoWorkflowTemplate>;
  /** Where the manifest came from, for messages. */
  source: string;
  /** ConfigMaps given with the manifest (its own documents, -t files), by name: configMap volumes mount them. */
  configMaps: Map<string, ConfigMapFiles>;
  /**
   * Argo's sync_limit table, `<namespace>/<key>` -> limit: the sizes of the database semaphores
   * (`dflow run --sync-limit`, or `argo sync create --type database` on dflow server).
   */
  syncLimits: Map<string, number>;
}

/** The workflow's namespace: its metadata's, else `argo` (what `{{workflow.namespace}}` and its locks' names say). */
export function workflowNamespace(wf: Pick<ArgoWorkflow, "metadata">): string {
  const ns = wf.metadata.namespace;
  return typeof ns === "string" && ns ? ns : "argo";
}

/** Every template a workflow may run: its own, then those of the stored (Cluster)WorkflowTemplates it was given. */
export function allTemplates(wf: ArgoWorkflow): ArgoTemplate[] {
  return [...wf.spec.templates, ...[...wf.library.values()].flatMap((w) => w.spec.templates)];
}

export interface ArgoWorkflowTemplate {
  name: string;
  cluster: boolean;
  spec: Obj & { templates: ArgoTemplate[] };
}

/** The manifest is invalid (what `argo lint` rejects): the workflow ends Failed with `invalid spec: ...`. */
export class ArgoSpecError extends DflowConfigError {}

/** The manifest uses something this engine cannot run locally: refused before anything runs. */
export class ArgoUnsupported extends DflowConfigError {}

// Go field names that YAML writers spell with other capitals (Go's JSON decoder matches case-insensitively).
const KNOWN_FIELDS = [
  "apiVersion", "kind", "metadata", "spec", "generateName", "name", "labels", "annotations", "entrypoint", "templates", "arguments",
  "parameters", "artifacts", "value", "valueFrom", "default", "path", "parameter", "expression", "supplied", "globalName", "inputs", "outputs",
  "container", "script", "steps", "dag", "tasks", "template", "templateRef", "when", "withItems", "withParam", "withSequence", "continueOn",
  "retryStrategy", "limit", "retryPolicy", "backoff", "duration", "factor", "maxDuration", "cap", "dependencies", "depends", "command", "args",
  "source", "image", "env", "workingDir", "activeDeadlineSeconds", "timeout", "pendingTimeout", "onExit", "hooks", "memoize", "key", "maxAge", "cache",
  "configMap", "synchronization", "mutex", "mutexes", "semaphore", "semaphores", "parallelism", "failFast", "target", "suspend", "from",
  "fromExpression", "raw", "data", "s3", "optional", "subPath", "archive", "none", "containerSet", "containers", "volumeMounts",
  "templateDefaults", "workflowTemplateRef", "clusterScope", "inline", "enum", "description", "count", "start", "end", "format",
  "volumes", "mountPath", "readOnly", "binaryData",
];
const BY_LOWER = new Map(KNOWN_FIELDS.map((k) => [k.toLowerCase(), k]));

/** Field names as Go would match them: `valueFrom.Parameter` is `valueFrom.parameter`. */
function canonicalKeys(v: unknown, inData = false): unknown {
  if (Array.isArray(v)) return v.map((x) => canonicalKeys(x, inData));
  if (!v || typeof v !== "object") return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v as Obj)) {
    // Free-form maps (labels, annotations, withItems' items, raw data, a ConfigMap's files) keep their keys.
    const key = inData ? k : (BY_LOWER.get(k.toLowerCase()) ?? k);
    const data = inData || ["labels", "annotations", "withItems", "nodeSelector", "resources", "metadata", "data", "binaryData"].includes(key);
    out[key] = canonicalKeys(x, data && key !== "metadata" ? true : inData);
  }
  return out;
}

/**
 * Go's yaml accepts a multi-line flow sequence whose closing `]`, `"]` or
 * `']` is indented less than its items (Argo's secrets.yaml); eemeli/yaml
 * does not. Such lines are re-indented to the items' level before parsing.
 */
function lenient(text: string): string {
  const lines = text.split("\n");
  for (let i = 1; i < lines.length; i++) {
    const m = /^(\s*)["']?\]\s*$/.exec(lines[i]);
    if (!m) continue;
    const prev = /^(\s*)/.exec(lines[i - 1])![1];
    if (m[1].length < prev.length) lines[i] = prev + lines[i].trimStart();
  }
  return lines.join("\n");
}

// Go's float syntax (yaml.v2's yamlStyleFloat, its exponent too): digits on one side of the point at least; "." and "e5" are strings.
const GO_FLOAT = /^[-+]?(?:\.[0-9][0-9_]*|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?$/;

type Tags = Array<{ tag: string; format?: string; test?: RegExp }>;

/**
 * YAML as Argo reads it: sigs.k8s.io/yaml over yaml.v2, i.e. YAML 1.1's
 * scalars: unquoted yes/no/on/off/y/n are booleans (a string field gets
 * "true"/"false"), 0755 is octal (an artifact's `mode`); but, as yaml.v2
 * into interface{}, timestamps and 1:30 stay strings, and "." is no float.
 */
const GO_YAML = {
  version: "1.1" as const,
  customTags: (tags: Tags): Tags =>
    tags
      .filter((t) => t.tag !== "tag:yaml.org,2002:timestamp" && t.format !== "TIME" && !(t.tag === "tag:yaml.org,2002:float" && t.format === "EXP"))
      .map((t) => (t.tag === "tag:yaml.org,2002:float" && !t.format && t.test?.source.endsWith("\\.[0-9_]*$") ? { ...t, test: GO_FLOAT, resolve: (s: string) => Number.parseFloat(s.replace(/_/g, "")) } : t)),
};

/**
 * A `name:` written y, n, yes, no, on or off without quotes is a boolean to
 * Argo (yaml.v2), so the parameter, step or template is named "true" or
 * "false" there and what refers to it by its name fails: said now, with
 * the fix, rather than run here under a name Argo would not give it.
 */
function namesReadAsBooleans(doc: import("yaml").Document, text: string, source: string): void {
  const Y = yaml();
  Y.visit(doc, {
    Pair(_, pair) {
      const k = pair.key;
      const v = pair.value;
      if (!Y.isScalar(k) || k.value !== "name" || !Y.isScalar(v) || typeof v.value !== "boolean" || !v.source || /^(true|false)$/i.test(v.source)) return;
      const line = v.range ? text.slice(0, v.range[0]).split("\n").length : undefined;
      throw new ArgoSpecError(`${source}${line ? `: line ${line}` : ""}: name: ${v.source} is the boolean ${String(v.value)} to Argo (YAML 1.1, as its yaml.v2 reads it), so the name would be "${String(v.value)}" there; quote it: name: "${v.source}"`);
    },
  });
}

/**
 * Every document of a YAML text, as plain data with canonical field names;
 * `shapes: false` leaves the kinds of the fields unchecked (shape.ts).
 */
export function parseManifests(text: string, source: string, opts: { shapes?: boolean } = {}): Obj[] {
  let docs = yaml().parseAllDocuments(text, GO_YAML as never);
  if (!Array.isArray(docs) || docs.some((d) => d.errors.length)) docs = yaml().parseAllDocuments(lenient(text), GO_YAML as never);
  if (!Array.isArray(docs)) throw new ArgoSpecError(`${source}: not a YAML stream`);
  const out: Obj[] = [];
  for (const d of docs) {
    if (d.errors.length) {
      // yaml's message ends "at line L, column C:" before a snippet of several lines: the line itself instead.
      const e = d.errors[0];
      const line = e.linePos?.[0].line;
      const text1 = line === undefined ? undefined : lenient(text).split("\n")[line - 1]?.trim();
      throw new ArgoSpecError(`${source}: invalid YAML: ${e.message.split("\n")[0].replace(/:$/, "")}${text1 ? ` (${JSON.stringify(text1)})` : ""}`);
    }
    namesReadAsBooleans(d, text, source);
    const v = d.toJS({ maxAliasCount: 1000 }) as unknown;
    if (v === null || v === undefined) continue;
    if (typeof v !== "object" || Array.isArray(v)) throw new ArgoSpecError(`${source}: a document is not a mapping`);
    const doc = canonicalKeys(v) as Obj;
    // A field of the wrong kind is refused as Argo's decoding refuses it, every one at once: read
    // leniently, a command given as a string or parameters as a mapping would be dropped unsaid.
    if (opts.shapes !== false && MANIFEST_KINDS.includes(doc.kind as ManifestKind)) {
      const wrong = shapeErrors(doc, doc.kind as ManifestKind);
      const what = `${String(doc.kind)} ${String(asObj(doc.metadata).name ?? asObj(doc.metadata).generateName ?? "")}`.trim();
      if (wrong.length === 1) throw new ArgoSpecError(`${source}: ${what}: ${wrong[0]}`);
      if (wrong.length) throw new ArgoSpecError(`${source}: ${what}: ${wrong.length} fields of the wrong kind:\n${wrong.map((w) => `  ${w}`).join("\n")}`);
    }
    out.push(doc);
  }
  return out;
}

const MANIFEST_KINDS: ManifestKind[] = ["Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"];

/** A manifest's mapping, or {} for anything else (a field left out or of the wrong kind). */
export const asObj = (v: unknown): Obj => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
/** A manifest's list of mappings, or [] for anything else. */
export const asList = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

/** A template's kind: the field that holds its body ("none" without one), as Argo's GetType tells it. */
export function templateKind(t: Obj): string {
  for (const k of ["container", "script", "containerSet", "steps", "dag", "suspend", "resource", "http", "data", "plugin"]) if (t[k] !== undefined) return k;
  return "none";
}

/** Argo's IsLeaf: a template that runs something itself, not other templates. */
export const isLeafTemplate = (t: Obj): boolean => ["container", "containerSet", "script", "resource", "data", "http", "plugin"].includes(templateKind(t));

/** Argo's IsPodType: a leaf that runs as a pod (not on Argo's agent). */
export const isPodTemplate = (t: Obj): boolean => ["container", "containerSet", "script", "resource", "data"].includes(templateKind(t));

/** A steps template's groups, each a list of steps (a step written alone is a group of one, as the run takes it). */
export function stepGroups(t: Obj): Obj[][] {
  return Array.isArray(t.steps) ? (t.steps as unknown[]).map((g) => (Array.isArray(g) ? g : [g]) as Obj[]) : [];
}

/** (Cluster)WorkflowTemplates of support files, by name. */
export function templateLibrary(docs: Obj[]): Map<string, ArgoWorkflowTemplate> {
  const lib = new Map<string, ArgoWorkflowTemplate>();
  for (const d of docs) {
    if (d.kind !== "WorkflowTemplate" && d.kind !== "ClusterWorkflowTemplate") continue;
    const name = String(asObj(d.metadata).name ?? "");
    const spec = asObj(d.spec) as ArgoWorkflowTemplate["spec"];
    spec.templates = applyDefaults((spec.templates ?? []) as ArgoTemplate[], asObj(spec.templateDefaults));
    lib.set(`${d.kind === "ClusterWorkflowTemplate" ? "cluster:" : ""}${name}`, { name, cluster: d.kind === "ClusterWorkflowTemplate", spec });
  }
  return lib;
}

function merge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (base && over && typeof base === "object" && typeof over === "object" && !Array.isArray(base) && !Array.isArray(over)) {
    const out: Obj = { ...(base as Obj) };
    for (const [k, v] of Object.entries(over as Obj)) out[k] = merge((base as Obj)[k], v);
    return out;
  }
  return over;
}

/** templateDefaults first, the template's own fields win (a kind's defaults only for templates of that kind). */
function applyDefaults(templates: ArgoTemplate[], defaults: Obj): ArgoTemplate[] {
  if (!Object.keys(defaults).length) return templates;
  return templates.map((t) => {
    const d: Obj = {};
    for (const [k, v] of Object.entries(defaults)) {
      if (["container", "script", "containerSet", "steps", "dag", "suspend", "resource"].includes(k) && !(k in t)) continue;
      d[k] = v;
    }
    return merge(d, t) as ArgoTemplate;
  });
}

/** Kinds a manifest file may hold beside its Workflows: what they use (templates, ConfigMaps, Secrets). */
const SUPPORT_KINDS = new Set(["Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "ConfigMap", "Secret"]);

/** Documents that neither run nor serve a Workflow of the file (a CronWorkflow, a Service): `argo submit` ignores them too. */
export function ignoredDocuments(docs: Obj[]): Array<{ kind: string; name: string }> {
  return docs.filter((d) => !SUPPORT_KINDS.has(String(d.kind))).map((d) => ({ kind: String(d.kind ?? "(no kind)"), name: String(asObj(d.metadata).name ?? asObj(d.metadata).generateName ?? "") }));
}

/** The one Workflow of a manifest text, resolved against the stored templates (support documents). */
export function loadWorkflow(docs: Obj[], library: Map<string, ArgoWorkflowTemplate>, source: string, configMaps: Map<string, ConfigMapFiles> = new Map()): ArgoWorkflow {
  const wfs = docs.filter((d) => d.kind === "Workflow");
  if (wfs.length > 1) {
    const kinds = docs.map((d) => String(d.kind)).join(", ");
    throw new ArgoUnsupported(`${source}: expected one document of kind Workflow, found ${kinds} (one run is one Workflow: \`dflow run FILE\` runs each Workflow of a file, as \`argo submit\` does)`);
  }
  return loadWorkflows(docs, library, source, configMaps)[0];
}

/**
 * Every Workflow of a manifest text (`argo submit` submits each), resolved
 * against the stored templates; refused when there is none.
 */
export function loadWorkflows(docs: Obj[], library: Map<string, ArgoWorkflowTemplate>, source: string, configMaps: Map<string, ConfigMapFiles> = new Map()): ArgoWorkflow[] {
  const wfs = docs.filter((d) => d.kind === "Workflow");
  if (!wfs.length) {
    const kinds = docs.map((d) => String(d.kind)).join(", ") || "nothing";
    const cron = docs.some((d) => d.kind === "CronWorkflow") ? "; a CronWorkflow runs on its schedule in `dflow server`: create it there with `argo cron create`" : "";
    throw new ArgoUnsupported(`${source}: expected one document of kind Workflow, found ${kinds} (templates are not run: submit a Workflow that references them${cron})`);
  }
  // Several: each one's messages name it.
  const named = (wf: Obj) => (wfs.length > 1 ? `${source} (Workflow ${String(asObj(wf.metadata).name ?? asObj(wf.metadata).generateName ?? "")})` : source);
  return wfs.map((wf) => resolveWorkflow(wf, library, named(wf), configMaps));
}

function resolveWorkflow(wf: Obj, library: Map<string, ArgoWorkflowTemplate>, source: string, configMaps: Map<string, ConfigMapFiles>): ArgoWorkflow {
  let spec = asObj(wf.spec);
  const ref = asObj(spec.workflowTemplateRef);
  if (spec.workflowTemplateRef !== undefined) {
    const stored = library.get(`${ref.clusterScope ? "cluster:" : ""}${String(ref.name)}`);
    if (!stored) throw new ArgoSpecError(`${source}: spec.workflowTemplateRef: ${ref.clusterScope ? "ClusterWorkflowTemplate" : "WorkflowTemplate"} ${JSON.stringify(ref.name)} not found: pass the file that defines it (dflow run -t FILE, or Workflow.from_yaml(text, { template_files }))`);
    const { workflowTemplateRef: _, ...own } = spec;
    const base = stored.spec;
    const args = mergeArguments(asObj(base.arguments), asObj(own.arguments));
    spec = { ...base, ...own, arguments: args, templates: [...(base.templates ?? []), ...((own.templates as ArgoTemplate[]) ?? [])] };
  }
  spec.templates = applyDefaults(((spec.templates as ArgoTemplate[]) ?? []).map((t) => ({ ...t })), asObj(spec.templateDefaults));
  const out: ArgoWorkflow = { kind: "Workflow", metadata: asObj(wf.metadata), spec: spec as ArgoWorkflow["spec"], library, source, configMaps, syncLimits: new Map() };
  return out;
}

/** The Workflow's arguments override the template's, parameter by parameter. */
function mergeArguments(base: Obj, own: Obj): Obj {
  const byName = (l: unknown) => new Map(((l as Obj[]) ?? []).map((p) => [String(p.name), p] as const));
  const params = byName(base.parameters);
  for (const [n, p] of byName(own.parameters)) params.set(n, { ...(params.get(n) ?? {}), ...p });
  const arts = byName(base.artifacts);
  for (const [n, a] of byName(own.artifacts)) arts.set(n, a);
  return { parameters: [...params.values()], artifacts: [...arts.values()] };
}

/**
 * The Workflow of a manifest text, with the (Cluster)WorkflowTemplates of
 * `support` texts (and of the manifest itself) available to
 * workflowTemplateRef / templateRef, and their ConfigMaps to configMap volumes.
 */
export function loadArgo(text: string, source: string, support: Array<{ text: string; source: string }> = []): ArgoWorkflow {
  const docs = parseManifests(text, source);
  const all = [...support.flatMap((s) => parseManifests(s.text, s.source)), ...docs];
  return loadWorkflow(docs, templateLibrary(all), source, configMapsOf(all));
}

/**
 * Every Workflow of a manifest text (as `argo submit` takes a file), with
 * what the others serve as for loadArgo, and the documents nothing uses.
 */
export function loadArgoAll(text: string, source: string, support: Array<{ text: string; source: string }> = []): { workflows: ArgoWorkflow[]; ignored: Array<{ kind: string; name: string }> } {
  const docs = parseManifests(text, source);
  const all = [...support.flatMap((s) => parseManifests(s.text, s.source)), ...docs];
  return { workflows: loadWorkflows(docs, templateLibrary(all), source, configMapsOf(all)), ignored: ignoredDocuments(docs) };
}

export function loadArgoFile(file: string, supportFiles: string[] = []): ArgoWorkflow {
  return loadArgo(
    fs.readFileSync(file, "utf8"),
    file,
    supportFiles.map((f) => ({ text: fs.readFileSync(f, "utf8"), source: f })),
  );
}

/**
 * The loaded workflow as JSON, and back: `dflow retry` and the API's retry
 * run a workflow again as it ran (Argo retries the stored workflow), with
 * the templates and ConfigMaps it was given, not the files as they are now.
 */
export function toSaved(wf: ArgoWorkflow): Obj {
  return {
    kind: wf.kind,
    metadata: wf.metadata,
    spec: wf.spec,
    library: [...wf.library.values()],
    source: wf.source,
    configMaps: [...wf.configMaps].map(([name, files]) => ({ name, files: [...files].map(([k, v]) => (typeof v === "string" ? { key: k, text: v } : { key: k, base64: v.toString("base64") })) })),
    syncLimits: Object.fromEntries(wf.syncLimits),
  };
}

export function fromSaved(o: Obj): ArgoWorkflow {
  const library = new Map<string, ArgoWorkflowTemplate>();
  for (const t of (o.library ?? []) as ArgoWorkflowTemplate[]) library.set(`${t.cluster ? "cluster:" : ""}${t.name}`, t);
  const configMaps = new Map<string, ConfigMapFiles>();
  for (const c of (o.configMaps ?? []) as Array<{ name: string; files: Array<{ key: string; text?: string; base64?: string }> }>) {
    configMaps.set(c.name, new Map(c.files.map((f) => [f.key, f.text ?? Buffer.from(f.base64 ?? "", "base64")])));
  }
  const syncLimits = new Map(Object.entries(asObj(o.syncLimits)).map(([k, v]) => [k, Number(v)]));
  return { kind: String(o.kind), metadata: o.metadata as Obj, spec: o.spec as ArgoWorkflow["spec"], library, source: String(o.source), configMaps, syncLimits };
}

