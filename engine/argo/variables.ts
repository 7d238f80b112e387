// Argo's check that every `{{...}}` of a workflow names something that will
// exist (workflow/validate/validate.go: resolveAllVariables, validateSteps,
// validateDAG, addOutputsToScope): `{{steps.a.outputs.parameters.x}}` where
// step a has no output x, `{{inputs.parameters.y}}` in a template without
// input y, `{{tasks.b.outputs.result}}` of a task that is not in the DAG.
// Argo refuses such a workflow at submit; without this check it ran here until
// the node that reads the tag, and failed there. The scopes are Argo's: what
// each kind of template sees, steps in the order they are written (a later
// step reads an earlier one), every task of a DAG (its ancestors' status too).
// Only the tags Argo checks are checked (those starting with item., steps.,
// tasks., inputs., outputs., pod., workflow.), not expressions (`{{=...}}`).
// Where this engine knows less than Argo's would (a templateRef whose name is
// a tag), the tags it cannot judge are let through, never refused.
import { type ArgoTemplate, type ArgoWorkflow, type Obj, ArgoSpecError, asList, asObj, isPodTemplate, stepGroups, templateKind } from "./manifest.js";
import { taskGraph, upstream } from "./depends.js";
import { tagsIn } from "./tags.js";

const CHECKED = ["item.", "steps.", "inputs.", "outputs.", "pod.", "workflow.", "tasks."];
/** Resolved only when the workflow runs; Argo lets them through (resolveAllVariables). */
const RUNTIME = ["outputs.", "workflow.creationTimestamp", "workflow.scheduledTime", "workflow.duration", "tasks.name", "steps.name", "node.name"];
/** `{{name.a.b}}`: a globalName that is itself a tag, named only when the workflow runs (isParameter). */
const PARAMETER = /{{[-a-zA-Z0-9]+(\.[-a-zA-Z0-9_]+)*}}/;

type Kind = "steps" | "dag" | "leaf";
const kindOf = (t: Obj): Kind => (templateKind(t) === "steps" ? "steps" : templateKind(t) === "dag" ? "dag" : "leaf");
const hasOutput = (t: Obj) => ["container", "script", "data", "http", "plugin"].includes(templateKind(t)) || asList(asObj(t.containerSet).containers).some((c) => c.name === "main");

/** A scope: the names a text may use, and the prefixes under which any name goes (a loop's `item.*`, a template we cannot see). */
class Scope {
  constructor(
    readonly names = new Set<string>(),
    readonly anyUnder = new Set<string>(),
  ) {}
  copy(): Scope {
    return new Scope(new Set(this.names), new Set(this.anyUnder));
  }
  add(n: string): void {
    this.names.add(n);
  }
  has(tag: string): boolean {
    if (this.names.has(tag)) return true;
    for (const p of this.anyUnder) if (tag === p.slice(0, -1) || tag.startsWith(p)) return true;
    return false;
  }
}

/** The templates a template's steps name (its own file's, or a stored template's), and where a message names it. */
interface Place {
  templates: ArgoTemplate[];
  where: string;
}

class VariableCheck {
  /** Argo's global parameters: always there, and the workflow outputs of the producers seen so far. */
  private readonly globals = new Scope();
  private readonly done = new Set<object>();
  /** Tags written in templateDefaults: merged into every template here (manifest.ts), not checked by Argo. */
  private readonly defaults: Set<string>;

  constructor(private readonly wf: ArgoWorkflow) {
    const spec = wf.spec;
    const g = (n: string) => this.globals.add(n);
    for (const n of ["name", "namespace", "mainEntrypoint", "serviceAccountName", "uid", "status", "annotations", "annotations.json", "labels", "labels.json"]) g(`workflow.${n}`);
    const params = asList(asObj(spec.arguments).parameters);
    if (params.length) ["workflow.parameters", "workflow.parameters.json"].forEach(g);
    for (const p of params) if (p.name) g(`workflow.parameters.${String(p.name)}`);
    const meta = asObj(spec.workflowMetadata);
    for (const k of [...Object.keys(asObj(wf.metadata.annotations)), ...Object.keys(asObj(meta.annotations))]) g(`workflow.annotations.${k}`);
    for (const k of [...Object.keys(asObj(wf.metadata.labels)), ...Object.keys(asObj(meta.labels)), ...Object.keys(asObj(meta.labelsFrom))]) g(`workflow.labels.${k}`);
    if (spec.priority !== undefined) g("workflow.priority");
    if (spec.onExit) g("workflow.failures");
    this.defaults = new Set(tagsIn(JSON.stringify(spec.templateDefaults ?? {})).map((t) => t.trim()));
  }

  run(): void {
    const spec = this.wf.spec;
    const own: Place = { templates: spec.templates, where: "" };
    this.holder({ template: spec.entrypoint }, own);
    if (spec.onExit) this.holder({ template: spec.onExit }, own);
    for (const t of spec.templates) this.template(t, own);
  }

  /** Every tag that names nothing, with Argo's words for where it is and what there is instead. */
  readonly problems: string[] = [];

  /** `steps.a.outputs.parameters.y` is not there: say what its nearest known parent has (`steps.a.outputs.parameters` has x, or there is no steps.b but steps.a). */
  private hint(tag: string, scope: Scope): string {
    const known = [...scope.names, ...this.globals.names];
    const parts = tag.split(".");
    for (let n = parts.length - 1; n >= 1; n--) {
      const parent = parts.slice(0, n).join(".");
      const children = [...new Set(known.filter((k) => k.startsWith(`${parent}.`)).map((k) => k.slice(parent.length + 1).split(".")[0]!))].filter((c) => c !== "json").sort();
      if (!children.length) continue;
      const missing = parts.slice(0, n + 1).join(".");
      return `there is no ${missing} there (${parent} has ${children.join(", ")})`;
    }
    return `nothing named ${parts[0]}.… is there`;
  }

  /** Argo's resolveAllVariables: every checked tag of `text` is in `scope` or global. */
  private resolve(scope: Scope, text: string, where: string): void {
    for (const tag of tagsIn(text)) {
      const t = tag.trim();
      if (t.startsWith("=") || !CHECKED.some((p) => t.startsWith(p))) continue;
      if (scope.has(t) || this.globals.has(t) || this.defaults.has(t) || RUNTIME.some((p) => t.startsWith(p))) continue;
      const line = `${where} failed to resolve {{${tag}}}: ${this.hint(t, scope)}`;
      if (!this.problems.includes(line)) this.problems.push(line);
    }
  }

  /** The template a step, task or entry names, checked (once); undefined when it cannot be known here. */
  private holder(h: Obj, place: Place): { t: ArgoTemplate; place: Place } | undefined {
    let found: { t: ArgoTemplate; place: Place } | undefined;
    if (typeof h.template === "string") {
      const t = place.templates.find((x) => x.name === h.template);
      if (t) found = { t, place };
    } else if (h.templateRef !== undefined) {
      const ref = asObj(h.templateRef);
      const stored = this.wf.library.get(`${ref.clusterScope ? "cluster:" : ""}${String(ref.name)}`);
      const t = stored?.spec.templates.find((x) => x.name === ref.template);
      if (stored && t) found = { t, place: { templates: stored.spec.templates, where: `${stored.cluster ? "ClusterWorkflowTemplate" : "WorkflowTemplate"} ${stored.name}: ` } };
    } else if (h.inline !== undefined) {
      found = { t: { name: "", ...asObj(h.inline) } as ArgoTemplate, place };
    }
    if (found) this.template(found.t, found.place);
    return found;
  }

  private template(t: ArgoTemplate, place: Place): void {
    if (this.done.has(t)) return;
    this.done.add(t);
    const where = `${place.where}templates.${t.name}`;
    const kind = kindOf(t);
    const scope = new Scope();
    const inputs = asObj(t.inputs);
    for (const p of asList(inputs.parameters)) scope.add(`inputs.parameters.${String(p.name)}`);
    // All of them as JSON: Argo substitutes it in every template, with or without parameters (SubstituteParams).
    scope.add("inputs.parameters");
    for (const a of asList(inputs.artifacts)) {
      scope.add(`inputs.artifacts.${String(a.name)}`);
      if (kind === "leaf") scope.add(`inputs.artifacts.${String(a.name)}.path`);
    }
    if (isPodTemplate(t)) scope.add("pod.name");
    if (kind === "steps") this.steps(t, scope, place, where);
    else if (kind === "dag") this.dag(t, scope, place, where);
    else this.resolve(scope, JSON.stringify(t), `${where}:`);
    this.resolve(scope, JSON.stringify(t.outputs ?? {}), `${where}.outputs`);
  }

  /** Argo's addOutputsToScope: what `<steps|tasks>.<name>.…` may name of a node that ran template `t`. */
  private outputs(t: ArgoTemplate | undefined, prefix: string, name: string, scope: Scope, aggregate: boolean, ancestor: boolean): void {
    const ref = `${prefix}.${name}`;
    for (const f of ["id", "startedAt", "finishedAt", "hostNodeName"]) scope.add(`${ref}.${f}`);
    if (ancestor) scope.add(`${ref}.status`);
    // A template this engine cannot see (a templateRef named by a tag): anything of it goes.
    if (!t) return void scope.anyUnder.add(`${ref}.`);
    if (t.daemon === true || t.daemon === "true") scope.add(`${ref}.ip`);
    if (hasOutput(t)) ["outputs.result", "exitCode"].forEach((f) => scope.add(`${ref}.${f}`));
    const outs = asObj(t.outputs);
    for (const [kind, list] of [["parameters", asList(outs.parameters)], ["artifacts", asList(outs.artifacts)]] as const) {
      for (const p of list) {
        scope.add(`${ref}.outputs.${kind}.${String(p.name)}`);
        if (typeof p.globalName !== "string" || !p.globalName) continue;
        if (PARAMETER.test(p.globalName)) this.globals.anyUnder.add(`workflow.outputs.${kind}.`);
        else this.globals.add(`workflow.outputs.${kind}.${p.globalName}`);
      }
    }
    if (aggregate) {
      scope.add(`${ref}.outputs.parameters`);
      if (t.script !== undefined || t.containerSet !== undefined) ["outputs.result", "exitCode"].forEach((f) => scope.add(`${ref}.${f}`));
    }
  }

  /** Argo's addItemsToScope: `{{item}}`, and `{{item.<key>}}` of listed maps (any key for withParam). */
  private items(s: Obj, scope: Scope): void {
    const items = Array.isArray(s.withItems) ? (s.withItems as unknown[]) : [];
    if (items.length) {
      for (const v of items) {
        if (Array.isArray(v)) v.forEach((_, i) => scope.add(`item.[${i}]`));
        else if (v && typeof v === "object") Object.keys(v).forEach((k) => scope.add(`item.${k}`));
        else scope.add("item");
      }
    } else if (s.withParam !== undefined && s.withParam !== "") {
      scope.add("item");
      scope.anyUnder.add("item.");
    } else if (s.withSequence !== undefined) scope.add("item");
  }

  /** A step or task as Argo marshals it for the check, its inline template's own text apart (checked as a template). */
  private callText(s: Obj): string {
    const { inline: _, ...rest } = s;
    return JSON.stringify(rest);
  }

  private steps(t: ArgoTemplate, scope: Scope, place: Place, where: string): void {
    stepGroups(t).forEach((group) => {
      for (const s of group) {
        const name = String(s.name);
        scope.add(`steps.${name}.status`);
        this.items(s, scope);
        const callee = this.holder(s, place);
        if (asObj(s.hooks).exit !== undefined || s.onExit !== undefined) this.outputs(callee?.t, "steps", name, scope, false, false);
        this.resolve(scope, this.callText(s), `${where}.steps`);
        this.outputs(callee?.t, "steps", name, scope, s.withItems !== undefined || (s.withParam !== undefined && s.withParam !== ""), false);
      }
    });
  }

  private dag(t: ArgoTemplate, scope: Scope, place: Place, where: string): void {
    const dag = asObj(t.dag);
    const tasks = asList(dag.tasks);
    const callees = new Map<string, ArgoTemplate | undefined>();
    const looped = (x: Obj) => x.withItems !== undefined || (x.withParam !== undefined && x.withParam !== "");
    for (const task of tasks) {
      const callee = this.holder(task, place)?.t;
      callees.set(String(task.name), callee);
      this.outputs(callee, "tasks", String(task.name), scope, looped(task), false);
    }
    if (typeof dag.target === "string") this.resolve(scope, dag.target, `${where}.targets`);
    const { deps } = taskGraph(tasks, where);
    // Argo's GetTaskAncestry: what a task depends on, directly or not (not the task itself).
    const ancestry = (name: string): string[] => [...upstream(deps, deps.get(name) ?? [])].filter((n) => n !== name);
    const byName = new Map(tasks.map((x) => [String(x.name), x]));
    for (const task of tasks) {
      const name = String(task.name);
      if (task.hooks !== undefined) scope.add(`tasks.${name}.status`);
      this.outputs(callees.get(name), "tasks", name, scope, false, false);
      const own = scope.copy();
      const ancestors = ancestry(name);
      for (const a of ancestors) this.outputs(callees.get(a), "tasks", a, own, looped(byName.get(a) ?? {}), true);
      this.items(task, own);
      this.resolve(own, this.callText(task), `${where}.tasks.${name}`);
      // Argo's validateDAGTaskArgumentDependency: an argument that is a task's output needs that task as an ancestor.
      const args = asObj(task.arguments);
      for (const [kind, list, field] of [["parameter", asList(args.parameters), "value"], ["artifact", asList(args.artifacts), "from"]] as const) {
        for (const x of list) {
          const v = x[field];
          if (typeof v !== "string" || !v.startsWith("{{tasks.")) continue;
          const ref = v.split(".")[1]!;
          if (!ancestors.includes(ref)) this.problems.push(`${where}.tasks.${name} missing dependency '${ref}' for ${kind} '${String(x.name)}': add it to the task's dependencies (or depends)`);
        }
      }
    }
  }
}

/** Throws ArgoSpecError naming every tag of the workflow that Argo's validation could not resolve, and every task output read without the dependency (Argo names the first). */
export function checkVariables(wf: ArgoWorkflow): void {
  const check = new VariableCheck(wf);
  check.run();
  const p = check.problems;
  if (p.length === 1) throw new ArgoSpecError(`invalid spec: ${p[0]}`);
  if (p.length) throw new ArgoSpecError(`invalid spec: ${p.length} problems with the workflow's tags:\n${p.map((x) => `  ${x}`).join("\n")}`);
}
