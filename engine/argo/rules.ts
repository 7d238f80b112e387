// Rules of Argo's validation (workflow/validate/validate.go) that a local run
// would otherwise not notice, as it runs the workflow anyway: names (of
// templates, steps, tasks, parameters, artifacts, the workflow), what each
// kind of template may hold (an image for a container, no `parallelism` on
// one, no `timeout` on steps or a DAG, no artifact path outside a pod, no
// `from` among inputs), mounts that collide, reserved container names, and
// the DAG rules (no task named from a digit when dependencies are used,
// `continueOn` and `depends` not together, `.AnySucceeded`/`.AllFailed` on a
// loop only). A workflow that passes here and is rejected by Argo would be a
// test that passed for nothing. Every problem is named at once, in Argo's
// words.
import { type ArgoTemplate, type ArgoWorkflow, type Obj, ArgoSpecError, asList, asObj, isLeafTemplate, stepGroups, templateKind } from "./manifest.js";

const FIELD_NAME = /^[a-zA-Z0-9][-a-zA-Z0-9]*$/;
const PARAM_NAME = /^[-a-zA-Z0-9_]+$/;
const FIELD_NAME_MSG = "name must consist of alpha-numeric characters or '-', and must start with an alpha-numeric character (e.g. My-name1-2, 123-NAME)";
const PARAM_NAME_MSG = "Parameter/Artifact name must consist of alpha-numeric characters, '_' or '-' e.g. my_param_1, MY-PARAM-1";
/** Prometheus' metric (and label) names, without the colon Argo does not take either. */
const METRIC_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const POD_GC = ["", "OnPodCompletion", "OnPodSuccess", "OnWorkflowCompletion", "OnWorkflowSuccess"];
/** Containers of Argo's own in every pod (IsArgoSidecar). */
const RESERVED = (n: string) => n === "wait" || n === "supervisor" || n.startsWith("artifact-plugin-");
/** Argo's name of the kinds of template that are no leaf, as its messages say them. */
const KIND_NAMES: Record<string, string> = { steps: "Steps", dag: "DAG", suspend: "Suspend" };

/** Argo's validateWorkflowFieldNames: each named, validly, once. */
function names(list: Obj[], prefix: string, params: boolean, out: string[]): void {
  const seen = new Set<string>();
  list.forEach((x, i) => {
    const n = x.name === undefined || x.name === null ? "" : String(x.name);
    if (!n) return void out.push(`${prefix}[${i}].name is required`);
    // A name made by a tag is known only when the workflow runs.
    if (n.includes("{{")) return;
    const bad = params ? (PARAM_NAME.test(n) ? "" : PARAM_NAME_MSG) : [n.length > 128 ? "must be no more than 128 characters" : "", FIELD_NAME.test(n) ? "" : FIELD_NAME_MSG].filter(Boolean).join(";");
    if (bad) out.push(`${prefix}[${i}].name: '${n}' is invalid: ${bad}`);
    else if (seen.has(n)) out.push(`${prefix}[${i}].name '${n}' is not unique`);
    seen.add(n);
  });
}

function ioNames(io: Obj, prefix: string, out: string[]): void {
  names(asList(io.parameters), `${prefix}.parameters`, true, out);
  names(asList(io.artifacts), `${prefix}.artifacts`, true, out);
}

/** A field a template has of its own, not one templateDefaults gave every template (merged at load, manifest.ts). */
function own(t: Obj, k: string, defaults: Obj): boolean {
  return t[k] !== undefined && JSON.stringify(t[k]) !== JSON.stringify(defaults[k]);
}

function template(t: ArgoTemplate, where: string, defaults: Obj, out: string[]): void {
  const leaf = isLeafTemplate(t);
  const inputs = asObj(t.inputs);
  const outputs = asObj(t.outputs);
  ioNames(inputs, `${where}.inputs`, out);
  ioNames(outputs, `${where}.outputs`, out);
  for (const a of asList(inputs.artifacts)) {
    if (a.from !== undefined) out.push(`${where}.inputs.artifacts.${String(a.name)}.from not valid in inputs`);
    if (!leaf && a.path !== undefined) out.push(`${where}.inputs.artifacts.${String(a.name)}.path only valid in container/script templates`);
  }
  for (const a of asList(outputs.artifacts)) {
    if (!leaf && a.path !== undefined) out.push(`${where}.outputs.artifacts.${String(a.name)}.path only valid in container/script templates`);
  }
  for (const [kind, list] of [["artifacts", asList(outputs.artifacts)], ["parameters", asList(outputs.parameters)]] as const) {
    for (const x of list) {
      const g = x.globalName;
      if (typeof g === "string" && g && !g.includes("{{") && !PARAM_NAME.test(g)) out.push(`${where}.outputs.${kind}.${String(x.name)}.globalName: ${PARAM_NAME_MSG}`);
    }
  }
  if (leaf && own(t, "parallelism", defaults)) out.push(`${where}.parallelism is only valid for steps and dag templates`);
  const kind = KIND_NAMES[templateKind(t)];
  if (kind) {
    if (own(t, "timeout", defaults)) out.push(`${where}: ${kind} template doesn't support timeout field`);
    if (own(t, "pendingTimeout", defaults)) out.push(`${where}: ${kind} template doesn't support pendingTimeout field`);
  }
  for (const k of ["container", "script"]) {
    if (t[k] === undefined) continue;
    const c = asObj(t[k]);
    if (!c.image) out.push(`${where}.${k}.image may not be empty`);
    // No two mounts at one path, nor an input artifact where a volume is mounted (validateLeaf).
    const mounted = new Map<string, string>();
    asList(c.volumeMounts).forEach((m, i) => {
      const p = String(m.mountPath);
      const prev = mounted.get(p);
      if (prev) out.push(`${where}.${k}.volumeMounts[${i}].mountPath '${p}' already mounted in ${prev}`);
      else mounted.set(p, `${k}.volumeMounts.${String(m.name)}`);
    });
    if (k === "container") {
      asList(inputs.artifacts).forEach((a, i) => {
        const prev = mounted.get(String(a.path));
        if (a.path !== undefined && prev) out.push(`${where}.inputs.artifacts[${i}].path '${String(a.path)}' already mounted in ${prev}`);
      });
    }
  }
  for (const s of asList(t.sidecars)) if (RESERVED(String(s.name))) out.push(`${where}.sidecars: "${String(s.name)}" is a reserved Argo container name`);
  // Prometheus metrics are Kubernetes-side (not emitted here), but Argo checks them at submit.
  for (const m of asList(asObj(t.metrics).prometheus)) {
    const n = String(m.name ?? "");
    if (!METRIC_NAME.test(n)) out.push(`${where} metric name '${n}' is invalid. Metric names must contain alphanumeric characters or '_'`);
    else if (!m.help) out.push(`${where} metric '${n}' must contain a help string under 'help: ' field`);
    for (const l of asList(m.labels)) if (!METRIC_NAME.test(String(l.key ?? ""))) out.push(`metric label '${String(l.key)}' is invalid: keys may only contain alphanumeric characters or '_'`);
    for (const kind of ["gauge", "counter", "histogram"]) if (m[kind] !== undefined && !asObj(m[kind]).value) out.push(`${where} metric '${n}' error: missing ${kind}.value`);
  }
  const set = asObj(t.containerSet);
  for (const c of asList(set.containers)) if (RESERVED(String(c.name))) out.push(`${where}.containerSet.containers: "${String(c.name)}" is a reserved Argo container name`);
  // Step names as Argo's validateSteps takes them: given, once in the template, valid.
  const seen = new Set<string>();
  stepGroups(t).forEach((g, i) => {
    for (const s of g) {
      const n = s.name === undefined || s.name === null ? "" : String(s.name);
      if (!n) out.push(`${where}.steps[${i}].name is required`);
      else if (seen.has(n)) out.push(`${where}.steps[${i}].name '${n}' is not unique`);
      else if (!n.includes("{{") && !FIELD_NAME.test(n)) out.push(`${where}.steps[${i}].name '${n}' is invalid: ${FIELD_NAME_MSG}`);
      seen.add(n);
      call(s, `${where}.steps[${i}].${n}`, defaults, out);
    }
  });
  if (t.dag !== undefined) dag(t, where, defaults, out);
}

/** A step's or task's arguments, and the template it may hold inline (validated as a template of its own). */
function call(s: Obj, where: string, defaults: Obj, out: string[]): void {
  const args = asObj(s.arguments);
  names(asList(args.parameters), `${where}.arguments.parameters`, true, out);
  names(asList(args.artifacts), `${where}.arguments.artifacts`, true, out);
  if (s.inline !== undefined) template({ name: "", ...asObj(s.inline) } as ArgoTemplate, `${where}.inline`, defaults, out);
}

function dag(t: ArgoTemplate, where: string, defaults: Obj, out: string[]): void {
  const tasks = asList(asObj(t.dag).tasks);
  if (!tasks.length) return void out.push(`${where} must have at least one task`);
  names(tasks, `${where}.tasks`, false, out);
  const usingDepends = tasks.some((x) => x.depends !== undefined && x.depends !== "");
  const looped = new Map(tasks.map((x) => [String(x.name), x.withItems !== undefined || (x.withParam !== undefined && x.withParam !== "") || x.withSequence !== undefined]));
  for (const x of tasks) {
    const n = String(x.name);
    call(x, `${where}.tasks.${n}`, defaults, out);
    if ((usingDepends || (Array.isArray(x.dependencies) && x.dependencies.length > 0)) && /^[0-9]/.test(n)) {
      out.push(`${where}.tasks.${n} name cannot begin with a digit when using either 'depends' or 'dependencies'`);
    }
    if (usingDepends && x.continueOn !== undefined) out.push(`${where} cannot use 'continueOn' when using 'depends'. Instead use 'dep-task.Failed'/'dep-task.Errored'`);
    if (typeof x.depends === "string") {
      for (const m of x.depends.matchAll(/([A-Za-z0-9_-]+)\.(AnySucceeded|AllFailed)\b/g)) {
        if (looped.get(m[1]!) === false) out.push(`${where}.tasks.${n} dependency '${m[1]}' uses an items-based condition such as .AnySucceeded or .AllFailed but does not contain any items`);
      }
    }
  }
}

/**
 * Throws ArgoSpecError naming every rule of Argo's validation the workflow breaks, in its own
 * templates and in the stored ones it calls (`templates`, as check.ts finds them, with the
 * templateDefaults of the spec each comes from).
 */
export function checkArgoRules(wf: ArgoWorkflow, templates: Array<{ t: ArgoTemplate; where: string; defaults: Obj }>): void {
  const out: string[] = [];
  const name = typeof wf.metadata.name === "string" ? wf.metadata.name : "";
  if (name.length > 63) out.push(`workflow name "${name}" must not be more than 63 characters long (currently ${name.length})`);
  const args = asObj(wf.spec.arguments);
  names(asList(args.parameters), "spec.arguments.parameters", true, out);
  names(asList(args.artifacts), "spec.arguments.artifacts", true, out);
  names(wf.spec.templates, "spec.templates", false, out);
  const gc = asObj(wf.spec.podGC).strategy;
  if (gc !== undefined && !POD_GC.includes(String(gc))) out.push(`podGC.strategy unknown strategy '${String(gc)}'`);
  for (const { t, where, defaults } of templates) template(t, where, defaults, out);
  const unique = [...new Set(out)];
  if (unique.length === 1) throw new ArgoSpecError(`invalid spec: ${unique[0]}`);
  if (unique.length) throw new ArgoSpecError(`invalid spec: ${unique.length} problems Argo's validation rejects:\n${unique.map((x) => `  ${x}`).join("\n")}`);
}
