// Submit-time validation: every mistake that can be seen in the workflow
// object is found before any step runs, and all of them are reported at
// once, each naming workflow, step and field, with how to fix it (like a
// compiler). A mistake found only at run time costs the steps that ran
// before it — hours on a cluster.
//
// The walk visits each Steps/DAG template once (recursion stays finite) and
// runs every registered check on each template and each of its steps. A
// check is a function that appends problems; more can be pushed onto
// `stepChecks` / `templateChecks`. Templates are often completed by
// assignment after construction, so everything is read as it is now, never
// as the constructors saw it. Nothing is run here: expressions are parsed,
// not evaluated.
import fs from "node:fs";
import { checkWhenSyntax, parseExpr, type Node } from "../engine/expr/index.js";
import { dispatcherInput } from "../engine/executors/dispatcher-input.js";
import { parseListText } from "../engine/items.js";
import { encodeValue, parseJsonLoose } from "../engine/store/values.js";
import { DispatcherExecutor, type DispatcherExecutorOptions, mergesSlices } from "./dispatcher.js";
import { DflowConfigError } from "./errors.js";
import { ArgoSequence, ArgoVar, usesItem } from "./expr.js";
import { InputArtifact, InputParameter, StepItemCount, StepOutputArtifact, StepOutputParameter } from "./io.js";
import { ParameterSign } from "./op.js";
import { fanoutKeyProblems } from "./fanout-check.js";
import { OptionError } from "./options.js";
import { type Executor, Step } from "./step.js";
import { DAG, Steps } from "./steps.js";
import { type OPTemplate, ScriptOPTemplate, TsOPTemplate } from "./templates.js";
import { isStringType } from "./types.js";

/** One mistake: where it is and what to do about it. */
export interface Problem {
  workflow: string;
  /** Path of step names from the entrypoint, "outer/inner"; absent for the entrypoint itself. */
  step?: string;
  /** Set for problems of a template rather than of one step's arguments. */
  template?: string;
  /** "parameter msg", "artifact foo", "when", "with_param", "output parameter y", … */
  field?: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  const where = [`workflow ${p.workflow}`];
  if (p.step) where.push(`step ${p.step}`);
  if (p.template) where.push(`template ${p.template}`);
  if (p.field) where.push(p.field);
  return `${where.join(", ")}: ${p.message}`;
}

/** The workflow is invalid; `problems` lists every mistake found, `message` one per line. */
export class WorkflowValidationError extends DflowConfigError {
  readonly problems: Problem[];
  constructor(workflow: string, problems: Problem[]) {
    const lines = problems.map(formatProblem);
    super(lines.length === 1 ? lines[0] : `workflow ${workflow} has ${lines.length} problems (nothing was run):\n${lines.join("\n")}`);
    this.problems = problems;
    // Callers (CLI, tests) treat it as the config error it is.
    this.name = "DflowConfigError";
  }
}

/** Adds one problem at the current site. */
export type Report = (field: string | undefined, message: string) => void;

/** A Steps or DAG template as its steps see it. */
export interface Parent {
  template: Steps | DAG;
  /** Path of the step that runs this template ("" for the entrypoint). */
  path: string;
  isEntry: boolean;
  byName: Map<string, Step>;
  /** Steps: the group each step is in. */
  groupOf: Map<string, number>;
  /** DAG: the tasks each task waits for (after validation of the names). */
  deps?: Map<string, Set<string>>;
}

export interface StepSite {
  workflow: string;
  /** "outer/inner" */
  path: string;
  step: Step;
  parent: Parent;
}

export interface TemplateSite {
  workflow: string;
  /** Path of the first step found running this template ("" for the entrypoint). */
  path: string;
  template: OPTemplate;
  /** Set for Steps/DAG templates. */
  self?: Parent;
}

export type StepCheck = (site: StepSite, report: Report) => void;
export type TemplateCheck = (site: TemplateSite, report: Report) => void;

// ------------------------------------------------------------ references

/** A reference found in a step's field. */
type Ref =
  | { kind: "step"; prefix: "steps" | "tasks" | null; step: string; io?: "parameters" | "artifacts"; name?: string; fromExpr: boolean }
  | { kind: "input"; io?: "parameters" | "artifacts"; name?: string }
  | { kind: "bad"; message: string };

const REF = /\{\{\s*(.*?)\s*\}\}/g;
const EXPR_ROOTS = new Set(["inputs", "steps", "tasks", "workflow", "item"]);

/** The parser's message without the lines that echo the source and point at the column. */
const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split("\n")[0];

/** Syntax problem of expression text, or null. */
function exprProblem(text: string): string | null {
  try {
    parseExpr(text);
    return null;
  } catch (e) {
    return firstLine(e);
  }
}

/** [root, prop, prop…] of a chain of member accesses with literal names, or null. */
function chainOf(n: Node): string[] | null {
  if (n.kind === "ident") return [n.name];
  if (n.kind === "member" && n.property.kind === "literal" && typeof n.property.value === "string") {
    const base = chainOf(n.object);
    return base ? [...base, n.property.value] : null;
  }
  return null;
}

function refFromChain(c: string[], fromExpr: boolean): Ref | null {
  const [root, a, b, c3, d] = c;
  if (root === "steps" || root === "tasks") {
    if (a === undefined) return null;
    const io = c3 === "parameters" || c3 === "artifacts" ? c3 : undefined;
    if (b === "outputs" && c3 !== undefined && !io) return { kind: "bad", message: `${c.join(".")}: a step's outputs are outputs.parameters.<name> or outputs.artifacts.<name>` };
    return { kind: "step", prefix: root, step: a, io: b === "outputs" ? io : undefined, name: b === "outputs" ? d : undefined, fromExpr };
  }
  if (root === "inputs") {
    if (a === undefined) return null;
    if (a !== "parameters" && a !== "artifacts") return { kind: "bad", message: `${c.join(".")}: use inputs.parameters.<name> or inputs.artifacts.<name>` };
    return { kind: "input", io: a, name: b };
  }
  return null;
}

/** References in expression text; unparsable text is reported as a "bad" reference. */
function exprRefs(text: string, out: Ref[]): void {
  let node: Node;
  try {
    node = parseExpr(text);
  } catch (e) {
    out.push({ kind: "bad", message: `cannot parse the expression: ${firstLine(e)}` });
    return;
  }
  const walk = (n: Node | null): void => {
    if (!n) return;
    switch (n.kind) {
      case "ident":
        if (!EXPR_ROOTS.has(n.name)) out.push({ kind: "bad", message: `the expression ${JSON.stringify(text)} uses the unknown variable ${n.name} (known: ${[...EXPR_ROOTS].join(", ")}); quote text as 'text'` });
        return;
      case "member": {
        const c = chainOf(n);
        if (c) {
          if (!EXPR_ROOTS.has(c[0])) walk(n.object);
          else {
            const r = refFromChain(c, true);
            if (r) out.push(r);
          }
          return;
        }
        walk(n.object);
        walk(n.property);
        return;
      }
      case "slice":
        walk(n.object);
        walk(n.from);
        walk(n.to);
        return;
      case "unary":
        walk(n.operand);
        return;
      case "binary":
        walk(n.left);
        walk(n.right);
        return;
      case "conditional":
        walk(n.cond);
        walk(n.then);
        walk(n.else);
        return;
      case "call":
        n.args.forEach(walk);
        return;
      case "method":
        walk(n.object);
        n.args.forEach(walk);
        return;
      case "closure":
        walk(n.body);
        return;
      case "array":
        n.items.forEach(walk);
        return;
      case "map":
        for (const e of n.entries) {
          walk(e.key);
          walk(e.value);
        }
        return;
      default:
        return;
    }
  };
  walk(node);
}

/** References in `{{...}}` text. */
function textRefs(s: string, out: Ref[]): void {
  for (const m of s.matchAll(REF)) {
    const ref = m[1];
    if (ref.startsWith("=")) {
      exprRefs(ref.slice(1), out);
      continue;
    }
    const r = refFromChain(ref.split("."), false);
    if (r) out.push(r);
  }
}

/** Every reference in a value (objects, strings, expressions, lists and dicts). */
function refsIn(v: unknown, out: Ref[], seen = new Set<unknown>()): Ref[] {
  if (v === null || v === undefined) return out;
  if (v instanceof StepOutputParameter) out.push({ kind: "step", prefix: null, step: v.step.name, io: "parameters", name: v.name, fromExpr: false });
  else if (v instanceof StepOutputArtifact) out.push({ kind: "step", prefix: null, step: v.step.name, io: "artifacts", name: v.name, fromExpr: false });
  else if (v instanceof StepItemCount) out.push({ kind: "step", prefix: null, step: v.step.name, fromExpr: false });
  else if (v instanceof InputParameter) out.push({ kind: "input", io: "parameters", name: v.name });
  else if (v instanceof InputArtifact) out.push({ kind: "input", io: "artifacts", name: v.name });
  else if (v instanceof ArgoVar) exprRefs(v.expr, out);
  else if (typeof v === "string") textRefs(v, out);
  else if (v instanceof ArgoSequence) for (const x of Object.values(v.opts)) refsIn(x, out, seen);
  else if (typeof v === "object" && !seen.has(v)) {
    seen.add(v);
    if (Array.isArray(v) || v instanceof Set) for (const x of v) refsIn(x, out, seen);
    else if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) refsIn(x, out, seen);
  }
  return out;
}

const describeNames = (names: Iterable<string>): string => [...names].join(", ") || "none";

/**
 * Check references seen from a step of `parent` (or, with `step` absent, from
 * the template's own outputs, which see every step).
 */
function checkRefs(refs: Ref[], parent: Parent, step: Step | null, field: string, report: Report): void {
  const t = parent.template;
  const kind = t instanceof DAG ? "DAG" : "Steps";
  for (const r of refs) {
    if (r.kind === "bad") {
      report(field, r.message);
      continue;
    }
    if (r.kind === "input") {
      if (!r.io || !r.name) continue;
      const declared = r.io === "parameters" ? t.inputs.parameters : t.inputs.artifacts;
      const what = r.io === "parameters" ? "parameter" : "artifact";
      if (!(r.name in declared)) {
        report(field, `refers to input ${what} ${r.name} of ${kind} ${t.name}, which declares none by that name (declared: ${describeNames(Object.keys(declared))}): declare ${t.name}.inputs.${r.io}.${r.name} or fix the name`);
      } else if (parent.isEntry && r.io === "parameters" && !(declared[r.name] as InputParameter).has_value) {
        report(field, `refers to input parameter ${r.name} of the workflow's ${kind} ${t.name}, which has no value: give it one (new InputParameter({ value }))`);
      }
      continue;
    }
    const target = parent.byName.get(r.step);
    const sk = t instanceof DAG ? "task" : "step";
    if (!target) {
      report(field, `refers to ${sk} ${r.step}, which is not in ${kind} ${t.name} (${sk}s: ${describeNames(parent.byName.keys())}): a step can use only the outputs of steps of its own template; pass other values in as input parameters`);
      continue;
    }
    if (r.fromExpr && r.prefix && r.prefix !== (t instanceof DAG ? "tasks" : "steps")) {
      report(field, `the expression says ${r.prefix}.${r.step}, but ${r.step} is in a ${kind}: write ${t instanceof DAG ? "tasks" : "steps"}.${r.step}`);
    }
    if (step) {
      if (target === step || r.step === step.name) {
        report(field, `refers to the outputs of ${sk} ${step.name} itself, which do not exist before it runs`);
        continue;
      }
      if (t instanceof Steps) {
        const mine = parent.groupOf.get(step.name)!;
        const theirs = parent.groupOf.get(r.step)!;
        if (theirs === mine) {
          report(field, `refers to step ${r.step}, which runs in the same parallel group as ${step.name}, so its outputs do not exist yet: add ${r.step} in an earlier wf.add(...) / steps.add(...)`);
          continue;
        }
        if (theirs > mine) {
          report(field, `refers to step ${r.step}, which runs later (group ${theirs + 1}, this step is in group ${mine + 1}): add ${r.step} before ${step.name}`);
          continue;
        }
      }
    }
    if (r.io && r.name) {
      const declared = r.io === "parameters" ? target.template.outputs.parameters : target.template.outputs.artifacts;
      if (!(r.name in declared)) {
        const what = r.io === "parameters" ? "parameter" : "artifact";
        report(field, `refers to output ${what} ${r.name} of ${sk} ${r.step}, whose template ${target.template.name} declares no such output (declared: ${describeNames(Object.keys(declared))})`);
      }
    }
  }
}

// ------------------------------------------------------------ step checks

const isArtifactRef = (v: unknown): boolean => v instanceof StepOutputArtifact || v instanceof InputArtifact;
const isParamRef = (v: unknown): boolean => v instanceof StepOutputParameter || v instanceof InputParameter;

function containsArtifactRef(v: unknown, seen = new Set<unknown>()): boolean {
  if (isArtifactRef(v)) return true;
  if (typeof v === "string") return refsIn(v, []).some((r) => r.kind === "step" && r.io === "artifacts") || /\{\{\s*inputs\.artifacts\./.test(v) || /\{\{\s*workflow\.outputs\.artifacts\./.test(v);
  if (v && typeof v === "object" && !seen.has(v) && (Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype)) {
    seen.add(v);
    return Object.values(v).some((x) => containsArtifactRef(x, seen));
  }
  return false;
}

/** Inputs: every parameter has a value, every required artifact a source, each of the right kind. */
const checkArguments: StepCheck = ({ step }, report) => {
  const t = step.template;
  const pod = t.kind === "script" || t.kind === "ts-op";
  for (const [name, decl] of Object.entries(t.inputs.parameters)) {
    if (!(name in step.parameters) && !decl.has_value) {
      report(`parameter ${name}`, `no value: pass parameters: { ${name}: ... } to the step, or give the template's input parameter a default (new InputParameter({ value }))`);
    }
  }
  for (const name of Object.keys(step.parameters)) {
    if (!(name in t.inputs.parameters)) {
      report(`parameter ${name}`, `template ${t.name} declares no input parameter ${name} (declared: ${describeNames(Object.keys(t.inputs.parameters))})${name in t.inputs.artifacts ? `; ${name} is an input artifact: pass it in artifacts: { ${name}: ... }` : ""}`);
      continue;
    }
    if (step.parameters[name] === undefined) {
      // undefined is never a value a user means: it comes from a misspelt name (steps.inputs.parameters.typo).
      report(`parameter ${name}`, "is given undefined, usually a reference to an input or variable that does not exist (a misspelt name?): pass a value, a declared input (steps.inputs.parameters.<name>) or a step output");
      continue;
    }
    if (containsArtifactRef(step.parameters[name])) {
      report(`parameter ${name}`, `is given an artifact where a parameter is expected: pass artifacts in artifacts: { ... } to an input artifact of the template, or pass an output parameter here`);
    }
  }
  for (const [name, decl] of Object.entries(t.inputs.artifacts)) {
    const given = name in step.artifacts && step.artifacts[name] !== undefined && step.artifacts[name] !== null;
    if (pod && !given && !decl.optional && (decl.source === undefined || decl.source === null)) {
      report(`artifact ${name}`, `not passed: pass artifacts: { ${name}: ... } to the step (upload_artifact(...) or another step's output artifact), or declare the input artifact optional`);
    }
  }
  for (const [name, v] of Object.entries(step.artifacts)) {
    if (!(name in t.inputs.artifacts)) {
      report(`artifact ${name}`, `template ${t.name} declares no input artifact ${name} (declared: ${describeNames(Object.keys(t.inputs.artifacts))})${name in t.inputs.parameters ? `; ${name} is an input parameter: pass it in parameters: { ${name}: ... }` : ""}`);
      continue;
    }
    if (v === undefined && !t.inputs.artifacts[name].optional) continue; // reported above as not passed
    if (v === undefined) {
      report(`artifact ${name}`, "is given undefined, usually a reference to an artifact or variable that does not exist (a misspelt name?): pass an uploaded artifact or a step's output artifact, or leave the optional artifact out");
      continue;
    }
    const paramText = typeof v === "string" && refsIn(v, []).some((r) => (r.kind === "step" && r.io === "parameters") || (r.kind === "input" && r.io === "parameters"));
    if (isParamRef(v) || paramText) {
      report(`artifact ${name}`, `is given a parameter where an artifact is expected: pass parameters in parameters: { ... } to an input parameter of the template, or pass an output artifact here`);
    }
  }
};

/** A literal argument of a typed TS OP input is checked against the OP's sign now, as the OP would. */
const checkLiteralTypes: StepCheck = ({ step }, report) => {
  const t = step.template;
  if (!(t instanceof TsOPTemplate) || !t.input_sign) return;
  const sliced = new Set(t.slices?.input_parameter ?? []);
  for (const [name, v] of Object.entries(step.parameters)) {
    const sign = t.input_sign.entries[name];
    if (!(sign instanceof ParameterSign) || sliced.has(name) || step.with_param !== undefined || step.with_sequence !== undefined) continue;
    if (v === null || v === undefined || refsIn(v, []).length || v instanceof ArgoVar || isParamRef(v) || isArtifactRef(v) || v instanceof StepItemCount) continue;
    if (typeof v === "string" && /\{\{/.test(v)) continue;
    if (JSON.stringify(v, (_k, x: unknown) => (x instanceof ArgoVar || isParamRef(x) ? undefined : x))?.includes("{{")) continue;
    // What the OP's child process will see: strings verbatim for str, else JSON-decoded.
    const text = encodeValue(v);
    const seen = isStringType(sign.type) ? text : parseJsonLoose(text);
    const r = sign.schema.safeParse(seen);
    if (!r.success) {
      report(`parameter ${name}`, `OP ${t.opName} expects ${sign.type}, got ${JSON.stringify(v)} (${r.error.issues.map((i) => i.message).join("; ")}): pass a value of that type`);
    }
  }
};

/** `with_param` must give a list; a literal is checked now. */
const checkFanout: StepCheck = ({ step }, report) => {
  const wp = step.with_param;
  if (wp !== undefined && wp !== null) {
    if (typeof wp === "string" && !/\{\{/.test(wp)) {
      let v: unknown;
      try {
        v = parseListText(wp);
      } catch (e) {
        report("with_param", `${e instanceof Error ? e.message : String(e)}: pass a list, a JSON list text, or a parameter / expression that gives one`);
        return;
      }
      if (!Array.isArray(v)) report("with_param", `${JSON.stringify(wp)} is not a list: pass a list, a JSON list text, or a parameter / expression that gives one`);
    } else if (typeof wp === "number" || typeof wp === "boolean" || (typeof wp === "object" && !Array.isArray(wp) && !(wp instanceof Set) && Object.getPrototypeOf(wp) === Object.prototype)) {
      report("with_param", `${JSON.stringify(wp)} is not a list: pass a list, a JSON list text, or a parameter / expression that gives one`);
    } else if (isArtifactRef(wp)) {
      report("with_param", `is an artifact: with_param takes a list parameter or expression`);
    }
  }
  if (step.with_sequence !== undefined && step.with_sequence !== null && !(step.with_sequence instanceof ArgoSequence)) {
    report("with_sequence", `takes argo_sequence(...), got ${JSON.stringify(step.with_sequence)}`);
  }
};

/** `when` text must parse (with each reference standing for a value). */
const checkWhen: StepCheck = ({ step }, report) => {
  const w = step.when;
  if (w === undefined || w === null || typeof w === "boolean" || w instanceof ArgoVar || isParamRef(w)) return;
  if (typeof w !== "string") {
    report("when", `must be a condition text, an expression or a boolean, got ${typeof w}`);
    return;
  }
  // References are substituted as text at run time; a bare word of the same length stands for one here (positions stay right).
  const why = checkWhenSyntax(w.replace(REF, (m) => "x".repeat(m.length)));
  if (why) report("when", `cannot parse ${JSON.stringify(w)}: ${why}; write a condition such as "{{steps.a.outputs.parameters.x}} == heads" or use expr\`...\``);
};

/** Every reference in the step's fields names something that exists and is available when the step runs. */
const checkStepRefs: StepCheck = ({ step, parent }, report) => {
  const fields: Array<[string, unknown]> = [
    ...Object.entries(step.parameters).map(([k, v]) => [`parameter ${k}`, v] as [string, unknown]),
    ...Object.entries(step.artifacts).map(([k, v]) => [`artifact ${k}`, v] as [string, unknown]),
    ["when", step.when],
    ["with_param", step.with_param],
    ["with_sequence", step.with_sequence],
    ["key", step.key],
  ];
  for (const [field, v] of fields) checkRefs(refsIn(v, []), parent, step, field, report);
};

/** DAG `dependencies` name tasks of the same DAG. */
const checkDependencies: StepCheck = ({ step, parent }, report) => {
  if (!(parent.template instanceof DAG)) {
    if (step.dependencies.length) report("dependencies", `only tasks of a DAG have dependencies; in Steps the order of wf.add(...) decides`);
    return;
  }
  for (const d of step.dependencies) {
    const n = typeof d === "string" ? d.split(".")[0] : d.name;
    if (n === step.name) report("dependencies", `task ${n} cannot depend on itself`);
    else if (!parent.byName.has(n)) report("dependencies", `task ${n} is not in DAG ${parent.template.name} (tasks: ${describeNames(parent.byName.keys())})`);
  }
};

/**
 * A timeout or retry_strategy on a step that runs a Steps or DAG template: `dflow run` times and
 * retries pods only, and so does Argo (the export refuses it too), so it would do nothing.
 */
const checkCompositeLimits: StepCheck = ({ step }, report) => {
  if (!(step.template instanceof Steps || step.template instanceof DAG)) return;
  const kind = step.template instanceof Steps ? "Steps" : "DAG";
  if (step.timeout !== undefined && step.timeout !== null) report("timeout", `a timeout on a step that runs a ${kind} template is not applied (dflow-ts and Argo time pods only): set it on the OP templates its steps run, or on those steps`);
  if (step.retry_strategy) report("retry_strategy", `a retry_strategy on a step that runs a ${kind} template is not applied (dflow-ts and Argo retry pods only): set it on the OP templates its steps run, or on those steps`);
};

export const stepChecks: StepCheck[] = [checkArguments, checkLiteralTypes, checkFanout, checkWhen, checkStepRefs, checkDependencies, checkCompositeLimits];

// ------------------------------------------------------------ template checks

const checkTsModule: TemplateCheck = ({ template: t }, report) => {
  if (!(t instanceof TsOPTemplate)) return;
  if (!t.module || !fs.existsSync(t.module)) {
    report(undefined, `the module of OP ${t.opName}, ${t.module}, does not exist: pass { module: import.meta.url } to TsOPTemplate from the OP's file, or declare its signs there`);
  }
};

const checkScript: TemplateCheck = ({ template: t }, report) => {
  if (!(t instanceof ScriptOPTemplate) || t.kind !== "script") return;
  for (const m of t.script.matchAll(REF)) {
    const ref = m[1];
    if (ref === "workflow.name" || ref === "pod.name") continue;
    const p = /^=?\s*inputs\.parameters\.([\w-]+)$/.exec(ref) ?? /^=?\s*inputs\.parameters\[['"]([\w-]+)['"]\]$/.exec(ref);
    if (p) {
      if (!(p[1] in t.inputs.parameters)) report("script", `uses {{${ref}}}, but the template declares no input parameter ${p[1]} (declared: ${describeNames(Object.keys(t.inputs.parameters))})`);
      continue;
    }
    report("script", `uses {{${ref}}}, which scripts cannot reference (only {{inputs.parameters.<name>}}, {{workflow.name}} and {{pod.name}}): pass the value as an input parameter`);
  }
};

/** A Steps/DAG template's outputs come from its own steps, with the right kind. */
const checkTemplateOutputs: TemplateCheck = ({ self }, report) => {
  if (!self) return;
  const t = self.template;
  for (const [name, op] of Object.entries(t.outputs.parameters)) {
    const field = `output parameter ${name}`;
    if (op.has_default) {
      // A value that cannot be had falls back to the default (Q5): only text that can never parse is a mistake.
      const e = op.value_from_expression;
      const why = e === undefined ? null : exprProblem(e instanceof ArgoVar ? e.expr : /^\s*\{\{=(.*)\}\}\s*$/s.exec(String(e))?.[1] ?? String(e));
      if (why) report(`${field} (value_from_expression)`, `cannot parse the expression: ${why}`);
      continue;
    }
    if (op.value_from_parameter !== undefined) {
      if (containsArtifactRef(op.value_from_parameter)) report(field, `value_from_parameter is an artifact: use an output artifact with _from, or pass an output parameter`);
      checkRefs(refsIn(op.value_from_parameter, []), self, null, field, report);
    }
    if (op.value_from_expression !== undefined) {
      const e = op.value_from_expression;
      const text = e instanceof ArgoVar ? e.expr : /^\s*\{\{=(.*)\}\}\s*$/s.exec(String(e))?.[1] ?? String(e);
      const refs: Ref[] = [];
      exprRefs(text, refs);
      checkRefs(refs, self, null, `${field} (value_from_expression)`, report);
    }
  }
  for (const [name, oa] of Object.entries(t.outputs.artifacts)) {
    const field = `output artifact ${name}`;
    if (oa._from !== undefined) {
      if (isParamRef(oa._from)) report(field, `_from is a parameter: use an output parameter with value_from_parameter, or pass an output artifact`);
      checkRefs(refsIn(oa._from, []), self, null, field, report);
    }
    if (oa.from_expression !== undefined) {
      const e = oa.from_expression;
      const text = e instanceof ArgoVar ? e.expr : /^\s*\{\{=(.*)\}\}\s*$/s.exec(String(e))?.[1] ?? String(e);
      const refs: Ref[] = [];
      exprRefs(text, refs);
      checkRefs(refs, self, null, `${field} (from_expression)`, report);
    }
  }
};

/** DAG: dependencies name tasks of the DAG and form no cycle. */
const checkDagDeps: TemplateCheck = ({ self }, report) => {
  if (!self || !self.deps) return;
  const dag = self.template as DAG;
  // Each cycle once, as a -> b -> a.
  const state = new Map<string, 1 | 2>();
  const reported = new Set<string>();
  const visit = (name: string, trail: string[]): void => {
    const s = state.get(name);
    if (s === 2) return;
    if (s === 1) {
      const cycle = [...trail.slice(trail.indexOf(name)), name];
      const id = [...new Set(cycle)].sort().join(",");
      if (!reported.has(id)) {
        reported.add(id);
        report(undefined, `DAG ${dag.name} has a dependency cycle: ${cycle.join(" -> ")} (a task waits for every task whose outputs it uses, and for its dependencies): break the cycle`);
      }
      return;
    }
    state.set(name, 1);
    for (const d of self.deps!.get(name) ?? []) if (self.byName.has(d)) visit(d, [...trail, name]);
    state.set(name, 2);
  };
  for (const t of dag.tasks) visit(t.name, []);
};

export const templateChecks: TemplateCheck[] = [checkTsModule, checkScript, checkTemplateOutputs, checkDagDeps];

// ------------------------------------------------------------ the walk

function parentOf(template: Steps | DAG, path: string, isEntry: boolean): Parent {
  const byName = new Map<string, Step>();
  const groupOf = new Map<string, number>();
  if (template instanceof Steps) {
    template.steps.forEach((e, i) => {
      for (const s of Array.isArray(e) ? e : [e]) {
        byName.set(s.name, s);
        groupOf.set(s.name, i);
      }
    });
    return { template, path, isEntry, byName, groupOf };
  }
  for (const t of template.tasks) byName.set(t.name, t);
  const deps = new Map<string, Set<string>>();
  for (const t of template.tasks) {
    const names = new Set<string>();
    for (const v of [t.parameters, t.artifacts, t.key, t.when, t.with_param, t.with_sequence]) {
      for (const r of refsIn(v, [])) if (r.kind === "step") names.add(r.step);
    }
    for (const d of t.dependencies) names.add(typeof d === "string" ? d.split(".")[0] : d.name);
    for (const d of t.after_any) names.add(d);
    names.delete(t.name);
    deps.set(t.name, names);
  }
  return { template, path, isEntry, byName, groupOf, deps };
}

/** One problem, one line (parser messages point at the column on a second line). */
const oneLine = (m: string): string => m.replace(/\s*\n\s*/g, " ");

/**
 * What a DispatcherExecutor will send for a template (its dicts and json_file
 * merged and normalised, as when its steps start), or the mistake in it: a
 * wrong batch_type found now, not when the first remote step starts, maybe
 * hours into the workflow. Other executors are the user's own: not called here.
 */
function executorProblem(executor: Executor, template: OPTemplate): string | null {
  if (!(executor instanceof DispatcherExecutor)) return null;
  const t = executor.render(template);
  if (!(t instanceof ScriptOPTemplate) || t.remote?.kind !== "dispatcher") return null;
  try {
    const nowhere = "/nonexistent-dflow-ts-check";
    dispatcherInput({ stepName: "", dirName: "", dir: nowhere, workdir: nowhere, template: t, wfid: "" }, t.remote.options as DispatcherExecutorOptions, []);
    return null;
  } catch (e) {
    return e instanceof DflowConfigError ? e.detail : String(e);
  }
}

/**
 * merge_sliced_step (dflow's DispatcherExecutor.render asserts the first three): every slice
 * runs in one job directory, as one step, so what needs an item of its own or a slice's own
 * files cannot be.
 */
function checkMerged(step: Step, field: string, report: Report): void {
  const t = step.template as TsOPTemplate;
  const sl = t.slices!;
  const why = "merge_sliced_step runs every slice as a task of one submission, in one job directory";
  if (sl.sub_path) report(field, `${why}: Slices' sub_path is not supported with it (nor in dflow); drop one of them`);
  if (sl.group_size) report(field, `${why}: Slices' group_size is not supported with it (nor in dflow); to pack slices into fewer jobs, set resources_dict: { group_size } on the executor instead`);
  if (sl.pool_size) report(field, `${why}: Slices' pool_size is not supported with it (nor in dflow); drop it`);
  for (const name of Object.keys(t.outputs.parameters)) {
    if (!sl.output_parameter.includes(name) && name !== "dflow_success_tag") report(`output parameter ${name}`, `${why}, and every slice would write ${name}: add it to Slices' output_parameter (the step's value is then the list of the slices'), or drop merge_sliced_step`);
  }
  for (const name of Object.keys(t.outputs.artifacts)) {
    if (!sl.output_artifact.includes(name)) report(`output artifact ${name}`, `${why}, and every slice would write ${name}: add it to Slices' output_artifact, or drop merge_sliced_step`);
  }
  for (const [name, v] of Object.entries(step.parameters)) {
    if (usesItem(v)) report(`parameter ${name}`, `uses the item, and a step whose slices are merged has none (${why}): slice the parameter with Slices' input_parameter instead`);
  }
  if (usesItem(step.when)) report("when", `uses the item, and a step whose slices are merged has none (${why})`);
  if (step.continue_on_num_success != null || step.continue_on_success_ratio != null) {
    report(step.continue_on_num_success != null ? "continue_on_num_success" : "continue_on_success_ratio", `counts the items that succeeded, and a step whose slices are merged is one step that succeeds or fails whole (${why})`);
  }
}

/** Every problem of the workflow, in walk order; `context` is the workflow's executor, if any. */
export function findProblems(workflow: string, entry: Steps | DAG, context?: Executor): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<OPTemplate>();
  // An executor's mistake is reported at the first step it shows in: one bad dict is one problem, not one per step.
  const executors = new Set<Executor>();
  const checkExecutor = (executor: Executor, template: OPTemplate, report: Report): void => {
    if (executors.has(executor)) return;
    const problem = executorProblem(executor, template);
    if (problem === null) return;
    executors.add(executor);
    report(executor === context ? "context" : "executor", problem);
  };
  const visit = (t: OPTemplate, path: string, isEntry: boolean): void => {
    if (seen.has(t)) return;
    seen.add(t);
    const templateReport: Report = (field, message) => problems.push({ workflow, ...(path ? { step: path } : {}), template: t.name, ...(field ? { field } : {}), message: oneLine(message) });
    try {
      t.normalise();
    } catch (e) {
      templateReport(undefined, e instanceof DflowConfigError ? e.detail : String(e));
      return;
    }
    const self = t instanceof Steps || t instanceof DAG ? parentOf(t, path, isEntry) : undefined;
    for (const check of templateChecks) check({ workflow, path, template: t, self }, templateReport);
    if (!self) return;
    const steps = t instanceof Steps ? t.steps.flatMap((e) => (Array.isArray(e) ? e : [e])) : (t as DAG).tasks;
    for (const s of steps) {
      const stepPath = path ? `${path}/${s.name}` : s.name;
      if (!(s instanceof Step) || !s.template) {
        problems.push({ workflow, step: stepPath, message: "is not a Step with a template" });
        continue;
      }
      const report: Report = (field, message) => problems.push({ workflow, step: stepPath, ...(field ? { field } : {}), message: oneLine(message) });
      for (const check of stepChecks) {
        try {
          check({ workflow, path: stepPath, step: s, parent: self }, report);
        } catch (e) {
          // A check that trips over a malformed object reports it instead of hiding the other problems.
          report(undefined, e instanceof DflowConfigError ? e.detail : `cannot be checked: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      const executor = s.executor ?? context;
      if (executor) checkExecutor(executor, s.template, report);
      if (mergesSlices(s, context)) checkMerged(s, s.executor ? "executor" : "context", report);
      visit(s.template, stepPath, false);
    }
  };
  visit(entry, "", true);
  return problems;
}

/** Problems from errors that other checks throw (options, keys): one per listed item. */
export function problemsOf(workflow: string, errors: DflowConfigError[]): Problem[] {
  return errors.flatMap((e) => {
    const c = e.context;
    const field = c.parameter ? `parameter ${c.parameter}` : c.artifact ? `artifact ${c.artifact}` : undefined;
    const where = { workflow, ...(c.step ? { step: c.step } : {}), ...(c.template && !c.step ? { template: c.template } : {}), ...(field ? { field } : {}) };
    const items = e instanceof OptionError && e.items.length > 1 ? e.items : [e.detail];
    return items.map((message) => ({ ...where, message: oneLine(message) }));
  });
}

/** Throws one WorkflowValidationError listing every problem (`first`, then the workflow's own), or returns. */
export function validateWorkflow(workflow: string, entry: Steps | DAG, first: Problem[] = [], context?: Executor): void {
  const problems = [...first, ...findProblems(workflow, entry, context)];
  // Keys under fan-outs need the whole path of enclosing fan-outs, so they are walked on their own.
  problems.push(...problemsOf(workflow, fanoutKeyProblems(entry, workflow, (s) => mergesSlices(s, context))));
  if (problems.length) throw new WorkflowValidationError(workflow, problems);
}
