// What is checked before an Argo workflow runs: the spec is valid (what
// `argo lint` rejects: unknown templates, required inputs not supplied, a
// malformed entrypoint) and every field is one this engine honours, or one
// that only configures Kubernetes and has no effect on a local run. Anything
// else is refused in one line naming the field — never silently ignored.
import { type ArgoTemplate, type ArgoWorkflow, type Obj, ArgoSpecError, ArgoUnsupported, asList, asObj, stepGroups } from "./manifest.js";
import { checkConfigMapRef, checkVolumes, checkWorkflowVolumes, volumeSpec } from "./volumes.js";
import { syncLocks } from "./sync.js";
import { PROBE_FIELDS, PROBE_KINDS } from "./probe.js";
import { machine, podRequest } from "./capacity.js";
import { durationSeconds, parseGoDuration } from "../../src/options.js";
import { parseRequirements } from "./selector.js";
import { parseExpr } from "../expr/index.js";
import { taskGraph } from "./depends.js";
import { checkVariables } from "./variables.js";
import { checkArgoRules } from "./rules.js";
import { ARTIFACTORY_FIELDS, GIT_FIELDS, HTTP_FIELDS, S3_FIELDS } from "./remote.js";
import { hostDirs } from "./rootfs.js";
import { didYouMean } from "../../src/options.js";


/** Fields that configure Kubernetes only (scheduling, pod metadata, GC, archiving): no effect locally. */
const K8S_SPEC = ["podResources", "resourceClaims", "serviceAccountName", "podGC", "ttlStrategy", "podDisruptionBudget", "podMetadata", "podPriorityClassName", "podPriority", "dnsConfig", "dnsPolicy", "imagePullSecrets", "artifactRepositoryRef", "artifactGC", "archiveLogs", "podSpecPatch", "nodeSelector", "tolerations", "affinity", "securityContext", "priority", "metrics", "executor", "hostNetwork", "schedulerName", "automountServiceAccountToken", "volumeClaimGC"];
const HANDLED_SPEC = ["entrypoint", "templates", "arguments", "onExit", "hooks", "parallelism", "activeDeadlineSeconds", "templateDefaults", "workflowTemplateRef", "synchronization", "workflowMetadata", "retryStrategy", "volumes", "volumeClaimTemplates"];

const K8S_TEMPLATE = ["metadata", "nodeSelector", "tolerations", "affinity", "podSpecPatch", "securityContext", "serviceAccountName", "automountServiceAccountToken", "priorityClassName", "priority", "schedulerName", "archiveLocation", "archiveLogs", "metrics", "artifactGC", "podDisruptionBudget", "executor", "resources", "podResources", "resourceClaims", "annotations", "labels"];
const HANDLED_TEMPLATE = ["volumes", "hooks", "name", "inputs", "outputs", "container", "script", "containerSet", "http", "steps", "dag", "suspend", "retryStrategy", "activeDeadlineSeconds", "timeout", "pendingTimeout", "parallelism", "failFast", "memoize", "synchronization", "daemon", "sidecars", "initContainers", "resource", "data"];
const CONTAINER = ["volumeMounts", "name", "image", "imagePullPolicy", "command", "args", "env", "envFrom", "workingDir", "resources", "source", "securityContext", "dependencies", "ports", "terminationMessagePath", "terminationMessagePolicy", "livenessProbe", "readinessProbe"];
const ARTIFACT = ["name", "path", "from", "fromExpression", "raw", "s3", "optional", "subPath", "globalName", "mode", "archive", "recurseMode", "description", "artifactGC", "deleted", "archiveLogs"];
const PARAMETER = ["name", "value", "default", "valueFrom", "globalName", "enum", "description"];
const VALUE_FROM = ["path", "default", "expression", "parameter", "supplied", "configMapKeyRef"];
const RETRY = ["limit", "retryPolicy", "expression", "backoff", "affinity"];
const STEP = ["name", "template", "templateRef", "inline", "arguments", "when", "withItems", "withParam", "withSequence", "continueOn", "hooks", "onExit"];
const TASK = [...STEP, "dependencies", "depends"];

function unsupported(where: string, field: string, why: string): never {
  throw new ArgoUnsupported(`${where}.${field} is not supported when running Argo workflows locally: ${why}`);
}

/** An empty value (`volumeClaimTemplates: []`, as dflow's Python client sends) asks for nothing, so it refuses nothing. */
function given(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (Array.isArray(v)) return v.length > 0;
  return typeof v !== "object" || Object.keys(v).length > 0;
}

function only(o: Obj, handled: string[], ignorable: string[], where: string, why: (k: string) => string): void {
  for (const [k, v] of Object.entries(o)) {
    if (!given(v) || handled.includes(k) || ignorable.includes(k)) continue;
    const reason = why(k);
    // A field Argo has not either (a typo, most often) is the manifest's mistake, not a limit of this runner.
    if (/^unknown (?!or )/.test(reason)) throw new ArgoSpecError(`invalid spec: ${where}.${k}: ${reason}${didYouMean(k, [...handled, ...ignorable])}`);
    unsupported(where, k, reason);
  }
}

/** Refuse what cannot run; throw ArgoSpecError for what Argo itself would reject. */
export function checkWorkflow(wf: ArgoWorkflow): void {
  const spec = wf.spec;
  // The machine's size (DFLOW_ARGO_CAPACITY) is read now: a mistake in it is said before anything runs.
  machine();
  hostDirs();
  if (typeof spec.entrypoint !== "string" || !spec.entrypoint) throw new ArgoSpecError(`invalid spec: spec.entrypoint must be a template name (got ${JSON.stringify(spec.entrypoint ?? null)})`);
  only(spec, HANDLED_SPEC, K8S_SPEC, "spec", () => "unknown or Kubernetes-only field");
  checkWorkflowVolumes(spec, wf.configMaps);
  // A workflow-level lock is taken before any tag is resolved: its limit is looked up now.
  syncLocks(spec.synchronization, wf, "spec.synchronization");
  only(asObj(spec.workflowMetadata), ["labels", "annotations", "labelsFrom"], [], "spec.workflowMetadata", () => "not implemented");
  for (const [hname, h] of Object.entries(asObj(spec.hooks))) only(asObj(h), ["template", "templateRef", "arguments", "expression"], [], `spec.hooks.${hname}`, () => "unknown hook field");
  for (const p of asList(asObj(spec.arguments).parameters)) {
    checkParameter(p, `spec.arguments.parameters.${String(p.name)}`, wf);
    checkEnum(p, "spec.arguments.");
    // Argo's validateArguments at submit: a workflow's argument needs a value (`-p name=value` gives one).
    if ((p.value === undefined || p.value === null) && (p.valueFrom === undefined || p.valueFrom === null)) throw new ArgoSpecError(`invalid spec: spec.arguments.${String(p.name)}.value or spec.arguments.${String(p.name)}.valueFrom is required: give it in the manifest, or on the command line with -p ${String(p.name)}=VALUE`);
  }
  for (const a of asList(asObj(spec.arguments).artifacts)) checkArtifact(a, `spec.arguments.artifacts.${String(a.name)}`, wf, true);
  if (spec.retryStrategy !== undefined) only(asObj(spec.retryStrategy), RETRY, [], "spec.retryStrategy", () => "unknown retryStrategy field");
  checkAmounts(spec, "spec", { activeDeadlineSeconds: "count", parallelism: "count" });
  checkRetryAmounts(spec.retryStrategy, "spec.retryStrategy");
  checkRetryPolicy(spec.retryStrategy, "spec.retryStrategy");
  const templates = spec.templates ?? [];
  const names = new Set(templates.map((t) => t.name));
  if (!names.has(spec.entrypoint)) throw new ArgoSpecError(`invalid spec: spec.entrypoint template name '${spec.entrypoint}' undefined`);
  // The exit handler and the workflow's hooks are checked at submit as Argo's validation does: not when the run ends.
  if (typeof spec.onExit === "string" && spec.onExit && !names.has(spec.onExit)) throw new ArgoSpecError(`invalid spec: spec.onExit template name '${spec.onExit}' undefined`);
  for (const [hname, h] of Object.entries(asObj(spec.hooks))) {
    const t = asObj(h).template;
    if (t !== undefined && !names.has(String(t))) throw new ArgoSpecError(`invalid spec: spec.hooks.${hname} template name '${String(t)}' undefined`);
  }
  const all: Array<{ t: ArgoTemplate; where: string; scope: ArgoTemplate[]; volumes: Obj; defaults: Obj }> = templates.map((t) => ({ t, where: `templates.${t.name}`, scope: templates, volumes: spec, defaults: asObj(spec.templateDefaults) }));
  // Stored templates: those of the (Cluster)WorkflowTemplates the workflow reaches by templateRef, each
  // whole, with its own volumes; one it does not use cannot refuse it.
  const used = new Set<string>();
  const queue = templateRefs([...templates, asObj(spec.hooks)]);
  while (queue.length) {
    const key = queue.shift()!;
    const stored = wf.library.get(key);
    if (used.has(key) || !stored) continue;
    used.add(key);
    queue.push(...templateRefs(stored.spec.templates));
    for (const t of stored.spec.templates) all.push({ t, where: `${stored.cluster ? "ClusterWorkflowTemplate" : "WorkflowTemplate"} ${stored.name}: templates.${t.name}`, scope: stored.spec.templates, volumes: volumeSpec(spec, stored.spec), defaults: asObj(stored.spec.templateDefaults) });
  }
  // What Argo's validation rejects that nothing here would notice (a run would go ahead): all at once.
  checkArgoRules(wf, all);
  for (const { t, where, scope, volumes } of all) checkTemplate(t, where, scope, wf, volumes);
  // Last: the tags of a workflow whose structure holds (its templates and tasks are there to name).
  checkVariables(wf);
}

/** The library keys of the templateRefs anywhere in `v` (steps, tasks, hooks). */
function templateRefs(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) for (const x of v) templateRefs(x, out);
  else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      if (k === "templateRef" && x && typeof x === "object") out.push(`${asObj(x).clusterScope ? "cluster:" : ""}${String(asObj(x).name)}`);
      else templateRefs(x, out);
    }
  }
  return out;
}

/** Fields Go reads as booleans: another value is refused at submit (it was read here as false). */
function checkBooleans(o: unknown, where: string, fields: string[]): void {
  for (const k of fields) {
    const v = asObj(o)[k];
    if (v !== undefined && v !== null && typeof v !== "boolean") throw new ArgoSpecError(`invalid spec: ${where}.${k}: ${JSON.stringify(v)} is not true or false`);
  }
}

/** A loop as Argo's validation and expandSequence take it: one kind of loop; a sequence of whole numbers, a count or an end. */
function checkLoop(s: Obj, where: string): void {
  if (["withItems", "withParam", "withSequence"].filter((k) => s[k] !== undefined).length > 1) throw new ArgoSpecError(`invalid spec: ${where}: only one of withItems, withParam, withSequence can be specified`);
  if (s.withSequence === undefined) return;
  const seq = asObj(s.withSequence);
  if (seq.count !== undefined && seq.end !== undefined) throw new ArgoSpecError(`invalid spec: ${where}.withSequence: only one of count or end can be defined in withSequence`);
  for (const k of ["count", "start", "end"]) {
    const v = seq[k];
    if (v === undefined || v === null || String(v).includes("{{")) continue;
    if (!/^[-+]?\d+$/.test(String(v).trim())) throw new ArgoSpecError(`invalid spec: ${where}.withSequence.${k}: ${JSON.stringify(v)} is not a whole number`);
  }
}

/** A DAG has no cycle (Argo's verifyNoCycles); its names are checked with the other rules (rules.ts). */
function checkCycles(t: ArgoTemplate, where: string): void {
  const tasks = asList(asObj(t.dag).tasks);
  if (!tasks.length) return;
  let deps: Map<string, string[]>;
  try {
    deps = taskGraph(tasks, where).deps;
  } catch (e) {
    throw new ArgoSpecError(`invalid spec: ${(e as Error).message}`);
  }
  // A cycle, named as Argo's verifyNoCycles names it.
  const done = new Set<string>();
  const visit = (name: string, path: string[]): void => {
    if (done.has(name)) return;
    for (const d of deps.get(name) ?? []) {
      if (path.includes(d)) throw new ArgoSpecError(`invalid spec: templates.${t.name}.tasks dependency cycle detected: ${path.join("->")}->${d}`);
      visit(d, [...path, d]);
    }
    done.add(name);
  };
  for (const name of deps.keys()) visit(name, [name]);
}

type Amount = "count" | "number" | "seconds";
const AMOUNT_WHAT: Record<Amount, string> = { count: "a whole number", number: "a number", seconds: "a duration (seconds, or Go's form: 30s, 2m, 1h)" };

/**
 * Numbers and durations written as values, checked now: a typo was read as
 * none (no deadline, no retry, no wait); Argo refuses it at submit or fails
 * the node. Values a parameter gives (`{{...}}`) are read when they are used.
 */
function checkAmounts(o: unknown, where: string, fields: Record<string, Amount>): void {
  for (const [k, kind] of Object.entries(fields)) {
    const v = asObj(o)[k];
    if (v === undefined || v === null || v === "" || String(v).includes("{{")) continue;
    const text = String(v).trim();
    const ok = kind === "count" ? /^\d+$/.test(text) : kind === "number" ? /^\d+(\.\d+)?$/.test(text) : durationSeconds(text) >= 0;
    if (!ok) throw new ArgoSpecError(`invalid spec: ${where}.${k}: ${JSON.stringify(v)} is not ${AMOUNT_WHAT[kind]}`);
  }
}

/** Where each kind of template takes its output parameters from, and Argo's name for the kind (validateOutputs). */
const OUTPUT_SOURCES: Array<[string, string, string[], string]> = [
  ["container", "Container", ["path"], "path must be specified"],
  ["script", "Script", ["path"], "path must be specified"],
  ["containerSet", "ContainerSet", ["path"], "path must be specified"],
  ["resource", "Resource", ["jqFilter", "jsonPath"], " .jqFilter or jsonPath must be specified"],
  ["steps", "Steps", ["parameter", "expression"], "parameter or expression must be specified"],
  ["dag", "DAG", ["parameter", "expression"], "parameter or expression must be specified"],
];

/** Output parameters as Argo's validateOutputs takes them: a value or a valueFrom, and the source the template's kind has. */
function checkOutputParameters(t: ArgoTemplate): void {
  for (const p of asList(asObj(t.outputs).parameters)) {
    const ref = `templates.${t.name}.outputs.parameters.${String(p.name)}`;
    if (p.valueFrom !== undefined && p.value !== undefined) throw new ArgoSpecError(`invalid spec: ${ref} has both valueFrom and value specified, choose one`);
    if (p.value !== undefined) continue;
    if (p.valueFrom === undefined) throw new ArgoSpecError(`invalid spec: ${ref} does not have valueFrom or value specified`);
    const vf = asObj(p.valueFrom);
    const kind = OUTPUT_SOURCES.find(([k]) => t[k] !== undefined);
    if (kind && !kind[2].some((k) => vf[k] !== undefined && vf[k] !== "")) throw new ArgoSpecError(`invalid spec: ${ref}${kind[3].startsWith(" ") ? "" : "."}${kind[3]} for ${kind[1]} templates`);
    if ((t.steps !== undefined || t.dag !== undefined) && vf.parameter && vf.expression) throw new ArgoSpecError(`invalid spec: ${ref} shouldn't have both \`from\` and \`expression\` specified in \`ValueFrom\` for ${t.steps !== undefined ? "Steps" : "DAG"} templates`);
  }
}

/** A workflow argument's enum, as Argo's validateArgumentsValues checks it (its value, `-p` included, must be one). */
function checkEnum(p: Obj, prefix: string): void {
  if (!Array.isArray(p.enum)) return;
  const name = String(p.name);
  if (!p.enum.length) throw new ArgoSpecError(`invalid spec: ${prefix}${name}.enum should contain at least one value`);
  if (p.value === undefined || p.value === null || String(p.value).includes("{{")) return;
  if (!p.enum.map(String).includes(String(p.value))) throw new ArgoSpecError(`invalid spec: ${prefix}${name}.value should be present in ${prefix}${name}.enum list`);
}

/** Argo's four retry policies (validate.go); another was read here as none. */
function checkRetryPolicy(r: unknown, where: string): void {
  const p = asObj(r).retryPolicy;
  if (p === undefined || p === null || p === "" || String(p).includes("{{")) return;
  if (!["Always", "OnError", "OnFailure", "OnTransientError"].includes(String(p))) throw new ArgoSpecError(`invalid spec: ${where}.retryPolicy: ${String(p)} is not a valid RetryPolicy (Always, OnError, OnFailure or OnTransientError)`);
}

/** A retryStrategy's limit and backoff, as checkAmounts checks them. */
function checkRetryAmounts(r: unknown, where: string): void {
  if (r === undefined) return;
  checkAmounts(r, where, { limit: "count" });
  checkAmounts(asObj(r).backoff, `${where}.backoff`, { duration: "seconds", maxDuration: "seconds", cap: "seconds", factor: "number" });
}

/**
 * A template's timeout and pendingTimeout, when written as values: Go
 * durations (a bare number is refused for timeout, as Argo's validation
 * does; it would otherwise be read as seconds here, and not at all there).
 */
function checkTimeouts(t: ArgoTemplate, where: string): void {
  for (const k of ["timeout", "pendingTimeout"]) {
    const v = t[k];
    if (v === undefined || v === null || v === "" || String(v).includes("{{")) continue;
    if (k === "timeout" && /^-?\d+$/.test(String(v))) throw new ArgoSpecError(`invalid spec: ${t.name} has invalid duration format in timeout`);
    try {
      parseGoDuration(String(v));
    } catch (e) {
      throw new ArgoSpecError(`invalid spec: ${where}.${k}: ${(e as Error).message}`);
    }
  }
}

/** A pod's requests, when written as values: a quantity Kubernetes would not take is refused now (parameters are read when the pod starts). */
function checkRequests(t: ArgoTemplate, where: string, wf: ArgoWorkflow): void {
  if (t.container === undefined && t.script === undefined && t.containerSet === undefined) return;
  const parts = [t.podResources, wf.spec.podResources, t.container, t.script, t.containerSet, t.sidecars, t.initContainers];
  if (JSON.stringify(parts).includes("{{")) return;
  try {
    podRequest(t, wf.spec.podResources, where);
  } catch (e) {
    throw new ArgoSpecError(`invalid spec: ${(e as Error).message}`);
  }
}

/** What a template does: exactly one of these (Argo's validateTemplateType). */
const TEMPLATE_TYPES = ["container", "containerSet", "steps", "script", "resource", "dag", "suspend", "data", "http", "plugin"];

function checkTemplate(t: ArgoTemplate, where: string, scope: ArgoTemplate[], wf: ArgoWorkflow, volumes: Obj): void {
  // null, as an empty YAML key gives it, is no type: Go leaves the pointer nil.
  const types = TEMPLATE_TYPES.filter((k) => t[k] !== undefined && t[k] !== null);
  if (types.length === 0) throw new ArgoSpecError(`invalid spec: ${where} template type unspecified. choose one of: container, containerSet, steps, script, resource, dag, suspend, template, template ref`);
  if (types.length > 1) throw new ArgoSpecError(`invalid spec: ${where} multiple template types specified (${types.join(", ")}): choose one`);
  if (given(t.plugin)) unsupported(where, "plugin", "plugin templates need Argo's agent and its executor plugins");
  if (t.data !== undefined) checkData(asObj(t.data), `${where}.data`, wf);
  if (t.resource !== undefined) checkResource(asObj(t.resource), `${where}.resource`);
  if (t.http !== undefined) checkHttp(asObj(t.http), `${where}.http`, wf);
  checkPodContainers(t, where, wf);
  checkRequests(t, where, wf);
  checkTimeouts(t, where);
  checkAmounts(t, where, { activeDeadlineSeconds: "count", parallelism: "count" });
  checkAmounts(t.suspend, `${where}.suspend`, { duration: "seconds" });
  checkAmounts(t.memoize, `${where}.memoize`, { maxAge: "seconds" });
  checkRetryAmounts(t.retryStrategy, `${where}.retryStrategy`);
  checkRetryPolicy(t.retryStrategy, `${where}.retryStrategy`);
  checkBooleans(t, where, ["failFast", "daemon"]);
  checkBooleans(t.dag, `${where}.dag`, ["failFast"]);
  checkCycles(t, where);
  checkOutputParameters(t);
  checkVolumes(t, where, { spec: volumes, configMaps: wf.configMaps });
  only(t, HANDLED_TEMPLATE, K8S_TEMPLATE, where, () => "unknown or Kubernetes-only template field");
  for (const h of Object.keys(asObj(t.hooks))) if (h !== "exit") unsupported(`${where}.hooks`, h, "template-level hooks other than exit are not implemented; put the hook on the step or task that calls the template");
  syncLocks(t.synchronization, wf, `${where}.synchronization`, true);
  if (t.memoize !== undefined) only(asObj(t.memoize), ["key", "maxAge", "cache"], [], `${where}.memoize`, () => "unknown memoize field");
  for (const k of ["container", "script"]) {
    if (t[k] === undefined) continue;
    const c = asObj(t[k]);
    only(c, CONTAINER, [], `${where}.${k}`, () => "unknown or Kubernetes-only container field");
    checkEnv(c, `${where}.${k}`, wf);
  }
  for (const c of asList(asObj(t.containerSet).containers)) {
    only(c, CONTAINER.filter((k) => k !== "volumeMounts"), [], `${where}.containerSet.containers.${String(c.name)}`, () => "unknown or Kubernetes-only container field");
    checkEnv(c, `${where}.containerSet.containers.${String(c.name)}`, wf);
  }
  for (const io of ["inputs", "outputs"]) {
    for (const a of asList(asObj(t[io]).artifacts)) checkArtifact(a, `${where}.${io}.artifacts.${String(a.name)}`, wf, io === "inputs");
    for (const p of asList(asObj(t[io]).parameters)) checkParameter(p, `${where}.${io}.parameters.${String(p.name)}`, wf, io === "outputs" && t.resource !== undefined);
  }
  if (t.retryStrategy !== undefined) only(asObj(t.retryStrategy), RETRY, [], `${where}.retryStrategy`, () => "unknown retryStrategy field");
  if (t.containerSet !== undefined) only(asObj(t.containerSet), ["containers", "volumeMounts", "retryStrategy"], [], `${where}.containerSet`, () => "unknown containerSet field");
  // `timeout` is a pod deadline: Argo gives it no effect on steps/DAG templates (templateDefaults put it on every template).
  if ((t.steps !== undefined || t.dag !== undefined) && t.activeDeadlineSeconds !== undefined) {
    unsupported(where, "activeDeadlineSeconds", "a deadline on a steps or DAG template is not implemented; put it on the container/script templates it runs, or on spec.activeDeadlineSeconds");
  }
  stepGroups(t).forEach((g, i) => {
    for (const s of g) checkCall(s, `${where}.steps[${i}].${String(s.name)}`, STEP, scope, wf, volumes);
  });
  for (const task of asList(asObj(t.dag).tasks)) checkCall(task, `${where}.tasks.${String(task.name)}`, TASK, scope, wf, volumes);
  if (t.dag !== undefined) {
    const dag = asObj(t.dag);
    only(dag, ["tasks", "target", "failFast"], [], `${where}.dag`, () => "unknown DAG field");
    if (asList(dag.tasks).some((x) => x.depends !== undefined) && asList(dag.tasks).some((x) => x.dependencies !== undefined)) throw new ArgoSpecError(`invalid spec: ${where}: cannot use both 'depends' and 'dependencies' in the same DAG template`);
  }
}

/**
 * Daemons, sidecars and init containers: processes of a container or script
 * template's pod (run.ts). A daemon's readiness is probed by HTTP, TCP or a
 * command; one that is never ready fails its step.
 */
function checkPodContainers(t: ArgoTemplate, where: string, wf: ArgoWorkflow): void {
  const pod = t.container !== undefined || t.script !== undefined;
  for (const k of ["sidecars", "initContainers"]) {
    if (!given(t[k])) continue;
    if (!pod) unsupported(where, k, "only container and script templates have them locally");
    for (const c of asList(t[k])) {
      const at = `${where}.${k}.${String(c.name)}`;
      if (typeof c.name !== "string" || !c.name || c.name === "main") throw new ArgoSpecError(`invalid spec: ${where}.${k}: each needs a name other than "main"`);
      only(c, [...CONTAINER, "mirrorVolumeMounts"], ["startupProbe", "stdin", "stdinOnce", "tty"], at, () => "unknown or Kubernetes-only container field");
      checkEnv(c, at, wf);
      checkProbe(c.readinessProbe, `${at}.readinessProbe`);
    }
  }
  if (t.daemon === true) {
    if (!pod) unsupported(where, "daemon", "only container and script templates run as daemons locally");
    if (asObj(t.hooks).exit !== undefined) unsupported(`${where}.hooks`, "exit", "a daemon template's exit hook is not implemented; put it on the step or task that calls the template");
  }
  for (const k of ["container", "script"]) if (t[k] !== undefined) checkProbe(asObj(t[k]).readinessProbe, `${where}.${k}.readinessProbe`);
}

function checkProbe(probe: unknown, where: string): void {
  if (probe === undefined || probe === null) return;
  const p = asObj(probe);
  only(p, PROBE_FIELDS, [], where, (k) => (k === "grpc" ? "gRPC probes are not implemented; use httpGet, tcpSocket or exec" : "unknown probe field"));
  if (PROBE_KINDS.filter((k) => p[k] !== undefined).length !== 1) throw new ArgoSpecError(`invalid spec: ${where} must give exactly one of ${PROBE_KINDS.join(", ")}`);
}

/**
 * A data template: the keys under an s3 location (the local repository's, or
 * a bucket's with an endpoint), then expr-lang transformations of `data`.
 */
function checkData(d: Obj, where: string, wf: ArgoWorkflow): void {
  only(d, ["source", "transformation"], [], where, () => "unknown data template field");
  const source = asObj(d.source);
  only(source, ["artifactPaths"], [], `${where}.source`, () => "not a data source of Argo's (artifactPaths is)");
  if (d.source === undefined || source.artifactPaths === undefined) throw new ArgoSpecError(`invalid spec: ${where}.source.artifactPaths is required`);
  const paths = asObj(source.artifactPaths);
  checkArtifact(paths, `${where}.source.artifactPaths`, wf, false, true);
  if (paths.s3 === undefined) unsupported(`${where}.source.artifactPaths`, Object.keys(paths).find((k) => k !== "name") ?? "s3", "a data template lists an s3 location here: the local repository's keys (key-only s3) or a bucket with an endpoint");
  asList(d.transformation).forEach((x, i) => {
    only(x, ["expression"], [], `${where}.transformation[${i}]`, () => "not a transformation of Argo's (expression is)");
    const e = String(x.expression ?? "");
    if (e.includes("{{")) return; // a tag, resolved when the node runs
    try {
      parseExpr(e);
    } catch (err) {
      throw new ArgoSpecError(`invalid spec: ${where}.transformation[${i}].expression: ${(err as Error).message}`);
    }
  });
}

/**
 * A resource template: create, apply, get or delete of an Argo Workflow (run
 * by this engine), its success and failure conditions (Kubernetes selector
 * requirements over the workflow's JSON); other kinds, patches and kubectl
 * flags need Kubernetes.
 */
function checkResource(r: Obj, where: string): void {
  only(r, ["action", "manifest", "successCondition", "failureCondition", "setOwnerReference"], [], where, (k) => (k === "flags" ? "kubectl flags need Kubernetes" : k === "manifestFrom" ? "a manifest from an artifact is not implemented; give manifest" : k === "mergeStrategy" ? "a patch needs Kubernetes" : "unknown resource field"));
  const action = String(r.action ?? "");
  if (!["create", "apply", "get", "delete"].includes(action)) unsupported(where, "action", `${JSON.stringify(action)} is not one of create, apply, get, delete (a patch or replace needs Kubernetes)`);
  if (typeof r.manifest !== "string" || !r.manifest.trim()) throw new ArgoSpecError(`invalid spec: ${where}.manifest is required`);
  // The kind as written (a tag in it is resolved when the node runs, and checked then).
  const kind = /^kind:\s*["']?([^"'\s]+)/m.exec(r.manifest)?.[1];
  const apiVersion = /^apiVersion:\s*["']?([^"'\s]+)/m.exec(r.manifest)?.[1];
  const refused = kind && !kind.includes("{{") ? resourceRefusal(kind, apiVersion) : undefined;
  if (refused) unsupported(where, "manifest", refused);
  for (const k of ["successCondition", "failureCondition"]) {
    if (r[k] === undefined || String(r[k]).includes("{{")) continue;
    try {
      parseRequirements(String(r[k]));
    } catch (e) {
      throw new ArgoSpecError(`invalid spec: ${where}.${k}: ${(e as Error).message}`);
    }
  }
}

/** Why a resource template's manifest cannot be acted on locally, or undefined: Workflows only (the workflow of workflows). */
export function resourceRefusal(kind: unknown, apiVersion: unknown): string | undefined {
  if (kind === "Workflow" && (apiVersion === undefined || String(apiVersion).startsWith("argoproj.io/"))) return undefined;
  return `a resource template acts here on Argo Workflows only (a workflow of workflows); kind ${JSON.stringify(kind ?? null)} needs Kubernetes`;
}

/** Environment from ConfigMaps and Secrets given locally (env valueFrom, envFrom); field references refused. */
function checkEnv(c: Obj, where: string, wf: ArgoWorkflow): void {
  for (const e of asList(c.env)) {
    for (const k of Object.keys(asObj(e.valueFrom))) {
      if (k !== "configMapKeyRef" && k !== "secretKeyRef") unsupported(`${where}.env.${String(e.name)}.valueFrom`, k, "field references need Kubernetes; give the value, or a ConfigMap's or Secret's key");
      checkConfigMapRef(wf.configMaps, asObj(asObj(e.valueFrom)[k]), `${where}.env.${String(e.name)}.valueFrom.${k}`, { key: true, secret: k === "secretKeyRef" });
    }
  }
  for (const [i, f] of asList(c.envFrom).entries()) {
    for (const k of Object.keys(f)) {
      if (k === "prefix") continue;
      if (k !== "configMapRef" && k !== "secretRef") unsupported(`${where}.envFrom[${i}]`, k, "unknown envFrom field");
      checkConfigMapRef(wf.configMaps, asObj(f[k]), `${where}.envFrom[${i}].${k}`, { key: false, secret: k === "secretRef" });
    }
  }
}

/** An HTTP template: what this process can send (headers from Secrets given locally; no skipped TLS checks). */
function checkHttp(h: Obj, where: string, wf: ArgoWorkflow): void {
  only(h, ["url", "method", "headers", "body", "bodyFrom", "timeoutSeconds", "successCondition", "insecureSkipVerify"], [], where, () => "unknown HTTP template field");
  if (h.insecureSkipVerify === true) unsupported(where, "insecureSkipVerify", "TLS checks are not skipped here; trust the server's certificate instead (NODE_EXTRA_CA_CERTS)");
  if (typeof h.url !== "string" || !h.url) throw new ArgoSpecError(`invalid spec: ${where}.url is required`);
  for (const x of asList(h.headers)) {
    for (const k of Object.keys(asObj(x.valueFrom))) {
      if (k !== "secretKeyRef") unsupported(`${where}.headers.${String(x.name)}.valueFrom`, k, "unknown header valueFrom field");
      checkConfigMapRef(wf.configMaps, asObj(asObj(x.valueFrom).secretKeyRef), `${where}.headers.${String(x.name)}.valueFrom.secretKeyRef`, { key: true, secret: true });
    }
  }
}

/** `resource`: an output of a resource template, which may read the resource's JSON (jsonPath, or a jqFilter that is a path). */
function checkParameter(p: Obj, where: string, wf: ArgoWorkflow, resource = false): void {
  only(p, PARAMETER, [], where, () => "unknown parameter field");
  const vf = asObj(p.valueFrom);
  for (const k of Object.keys(vf)) {
    if (resource && (k === "jsonPath" || k === "jqFilter")) continue;
    if (!VALUE_FROM.includes(k)) unsupported(`${where}.valueFrom`, k, k === "jsonPath" || k === "jqFilter" ? "only resource templates set it" : "unknown or Kubernetes-only valueFrom field");
  }
  if (vf.jqFilter !== undefined && !/^\.[\w-]+(\.[\w-]+)*$/.test(String(vf.jqFilter))) unsupported(`${where}.valueFrom`, "jqFilter", "a jq program other than a path (.metadata.name) needs jq; give the path, or jsonPath");
  if (vf.jsonPath !== undefined && !/^\{?\.?[\w-]+(\.[\w-]+)*\}?$/.test(String(vf.jsonPath))) unsupported(`${where}.valueFrom`, "jsonPath", "only a plain path ({.metadata.name}) is read locally");
  // A ConfigMap's key: given locally, unless a value or a default stands in for it.
  if (vf.configMapKeyRef !== undefined) checkConfigMapRef(wf.configMaps, asObj(vf.configMapKeyRef), `${where}.valueFrom.configMapKeyRef`, { key: true, fallback: p.value !== undefined || vf.default !== undefined || p.default !== undefined });
}

/** Artifact locations Argo knows besides s3, raw and from. */
const LOCATIONS = ["http", "artifactory", "git", "gcs", "oss", "azure", "hdfs", "plugin"];

/**
 * `input`: an input or an argument, which may also come from an http URL, Artifactory or a git
 * repository; an output may go to an http URL or Artifactory (remote.ts); `listed`: a data
 * template's location, whose key is a prefix, none for the whole bucket.
 */
function checkArtifact(a: Obj, where: string, wf: ArgoWorkflow, input = false, listed = false): void {
  only(a, ARTIFACT, LOCATIONS, where, () => "unknown artifact field");
  const honoured = listed ? [] : input ? ["http", "artifactory", "git"] : ["http", "artifactory"];
  for (const loc of LOCATIONS) {
    if (a[loc] === undefined || honoured.includes(loc)) continue;
    if (loc === "git") unsupported(where, loc, "git artifacts are inputs only, as on Argo (its git driver saves nothing)");
    unsupported(where, loc, listed ? "a data template lists the local default repository and s3 buckets with an endpoint" : "only the local default repository (key-only s3), s3 buckets with an endpoint, http and Artifactory locations, raw and from: artifacts, and git inputs, are available locally");
  }
  const archive = asObj(a.archive);
  only(archive, ["none", "tar", "zip"], [], `${where}.archive`, () => "unknown archive strategy");
  only(asObj(archive.tar), ["compressionLevel"], [], `${where}.archive.tar`, () => "unknown tar archive field");
  const level = asObj(archive.tar).compressionLevel;
  if (level !== undefined && !(Number.isInteger(level) && Number(level) >= -2 && Number(level) <= 9)) throw new ArgoSpecError(`invalid spec: ${where}.archive.tar.compressionLevel must be a gzip level, -2 to 9 (got ${JSON.stringify(level)})`);
  if (a.http !== undefined) {
    only(asObj(a.http), HTTP_FIELDS, [], `${where}.http`, () => "unknown http artifact field");
    if (!asObj(a.http).url) throw new ArgoSpecError(`invalid spec: ${where}.http.url is required`);
    // Credentials from Secrets given locally: basicAuth, oauth2's client credentials, a client certificate.
    const auth = asObj(asObj(a.http).auth);
    only(auth, ["basicAuth", "oauth2", "clientCert"], [], `${where}.http.auth`, () => "unknown http auth field");
    const secrets: Record<string, string[]> = { basicAuth: ["usernameSecret", "passwordSecret"], oauth2: ["clientIDSecret", "clientSecretSecret", "tokenURLSecret"], clientCert: ["clientCertSecret", "clientKeySecret"] };
    for (const [kind, keys] of Object.entries(secrets)) {
      if (auth[kind] === undefined) continue;
      // The Secrets named must be given; Argo uses each kind only when all of its are named (remote.ts sending).
      for (const k of keys) if (given(asObj(auth[kind])[k])) checkConfigMapRef(wf.configMaps, asObj(asObj(auth[kind])[k]), `${where}.http.auth.${kind}.${k}`, { key: true, secret: true });
    }
  }
  if (a.artifactory !== undefined) {
    const art = asObj(a.artifactory);
    only(art, ARTIFACTORY_FIELDS, [], `${where}.artifactory`, () => "unknown artifactory artifact field");
    for (const k of ["url", "usernameSecret", "passwordSecret"]) if (!art[k]) throw new ArgoSpecError(`invalid spec: ${where}.artifactory.${k} is required`);
    for (const k of ["usernameSecret", "passwordSecret"]) checkConfigMapRef(wf.configMaps, asObj(art[k]), `${where}.artifactory.${k}`, { key: true, secret: true });
  }
  if (a.git !== undefined) {
    only(asObj(a.git), GIT_FIELDS, [], `${where}.git`, (k) => (/Secret$/.test(k) ? "credentials from Secrets are not used locally: the clone uses this machine's git configuration (credential helpers, ssh keys); drop it" : "unknown git artifact field"));
    if (!asObj(a.git).repo) throw new ArgoSpecError(`invalid spec: ${where}.git.repo is required`);
  }
  const s3 = asObj(a.s3);
  if (a.s3 !== undefined && s3.endpoint === undefined) {
    for (const k of Object.keys(s3)) if (k !== "key") unsupported(`${where}.s3`, k, "the local default repository has only keys; give the bucket's endpoint (and its keys' Secrets) to use another store");
  } else if (a.s3 !== undefined) {
    only(s3, S3_FIELDS, [], `${where}.s3`, (k) => (k === "useSDKCreds" || k === "roleARN" || k === "sessionTokenSecret" ? "give accessKeySecret and secretKeySecret (Secrets given locally)" : "not implemented for s3 locations locally"));
    for (const k of listed ? ["bucket"] : ["bucket", "key"]) if (!s3[k]) throw new ArgoSpecError(`invalid spec: ${where}.s3.${k} is required with an endpoint`);
    for (const k of ["accessKeySecret", "secretKeySecret"]) checkConfigMapRef(wf.configMaps, asObj(s3[k]), `${where}.s3.${k}`, { key: true, secret: true });
  }
}

function checkCall(s: Obj, where: string, fields: string[], scope: ArgoTemplate[], wf: ArgoWorkflow, volumes: Obj): void {
  only(s, fields, [], where, () => "unknown step/task field");
  checkLoop(s, where);
  checkBooleans(s.continueOn, `${where}.continueOn`, ["failed", "error"]);
  for (const p of asList(asObj(s.arguments).parameters)) checkParameter(p, `${where}.arguments.parameters.${String(p.name)}`, wf);
  for (const a of asList(asObj(s.arguments).artifacts)) checkArtifact(a, `${where}.arguments.artifacts.${String(a.name)}`, wf, true);
  let callee: ArgoTemplate | undefined;
  if (s.template !== undefined) {
    callee = scope.find((x) => x.name === s.template);
    if (!callee) throw new ArgoSpecError(`invalid spec: ${where} template name '${String(s.template)}' undefined`);
  } else if (s.templateRef !== undefined) {
    const ref = asObj(s.templateRef);
    const stored = wf.library.get(`${ref.clusterScope ? "cluster:" : ""}${String(ref.name)}`);
    if (!stored) throw new ArgoSpecError(`invalid spec: ${where}: templateRef ${JSON.stringify(ref.name)} not found: pass the file that defines it (dflow run -t FILE, or Workflow.from_yaml(text, { template_files }))`);
    callee = stored.spec.templates.find((x) => x.name === ref.template);
    if (!callee) throw new ArgoSpecError(`invalid spec: ${where}: template ${JSON.stringify(ref.template)} not found in ${String(ref.name)}`);
  } else if (s.inline !== undefined) {
    callee = { name: "", ...asObj(s.inline) } as ArgoTemplate;
    checkTemplate(callee, `${where}.inline`, scope, wf, volumes);
  }
  for (const [hname, h] of Object.entries(asObj(s.hooks))) {
    const ho = asObj(h);
    only(ho, ["template", "templateRef", "arguments", "expression"], [], `${where}.hooks.${hname}`, () => "unknown hook field");
    if (ho.template !== undefined && !scope.some((x) => x.name === ho.template)) throw new ArgoSpecError(`invalid spec: ${where}.hooks.${hname} template name '${String(ho.template)}' undefined`);
  }
  // Run in the callee's scope (run.ts), named in the caller's by most: either is found.
  const calleeScope = s.templateRef !== undefined ? (wf.library.get(`${asObj(s.templateRef).clusterScope ? "cluster:" : ""}${String(asObj(s.templateRef).name)}`)?.spec.templates ?? []) : [];
  if (s.onExit !== undefined && ![...scope, ...calleeScope].some((x) => x.name === s.onExit)) throw new ArgoSpecError(`invalid spec: ${where}.onExit template name '${String(s.onExit)}' undefined`);
  if (!callee) return;
  const given = new Set(asList(asObj(s.arguments).parameters).map((p) => String(p.name)));
  for (const p of asList(asObj(callee.inputs).parameters)) {
    const has = p.value !== undefined || p.default !== undefined || asObj(p.valueFrom).default !== undefined || asObj(p.valueFrom).configMapKeyRef !== undefined;
    if (!has && !given.has(String(p.name))) throw new ArgoSpecError(`invalid spec: ${where} templates.${callee.name} inputs.parameters.${String(p.name)} was not supplied`);
  }
}
