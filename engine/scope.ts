// Resolving a step's arguments in its scope (spec §4.1, §4.6, §2.8.3):
// parameter references, `{{...}}` strings, artifact sources.
import path from "node:path";
import { DflowConfigError } from "../src/errors.js";
import { InputArtifact, InputParameter, StepItemCount, StepOutputArtifact, StepOutputParameter } from "../src/io.js";
import { ArgoVar } from "../src/expr.js";
import { isLocalArtifact } from "./artifacts/upload.js";
import { evaluate } from "./expr/index.js";
import type { PV, RunContext, Scope } from "./context.js";
import { renderRefs } from "./render.js";

/** Look up one `{{ref}}`; undefined leaves it for later (`{{item}}`). Throws for unknown refs. */
export function lookupRef(ref: string, scope: Scope, ctx: RunContext): { value: unknown } | undefined {
  if (ref === "workflow.name") return { value: ctx.wfid };
  if (ref === "item" || ref.startsWith("item.") || ref.startsWith("item[")) {
    // Left for the fan-out to fill in, item by item.
    if (!scope.item) return undefined;
    let v: unknown = scope.item.value;
    for (const part of ref.slice(4).split(/[.[\]'"]+/).filter(Boolean)) {
      if (v === null || typeof v !== "object" || !(part in (v as object))) throw new DflowConfigError(`{{${ref}}}: the item ${JSON.stringify(scope.item.value)} has no field ${part}`);
      v = (v as Record<string, unknown>)[part];
    }
    return { value: v };
  }
  if (ref.startsWith("=")) {
    // An expression that uses the item waits for it (Q30).
    if (!scope.item && /\bitem\b/.test(ref)) return undefined;
    return { value: evaluate(ref.slice(1), exprEnv(scope, ctx)) };
  }
  let m = /^inputs\.parameters\.([\w-]+)$/.exec(ref);
  if (m) {
    const pv = scope.inputs.parameters.get(m[1]);
    if (!pv) throw new DflowConfigError(`{{${ref}}}: the enclosing template has no input parameter ${m[1]} (declared: ${[...scope.inputs.parameters.keys()].join(", ") || "none"})`);
    return { value: pv.value };
  }
  m = /^(steps|tasks)\.([\w-]+)\.outputs\.parameters\.([\w-]+)$/.exec(ref);
  if (m) return { value: stepOutput(m[2], m[3], scope, m[1] === "tasks").value };
  throw new DflowConfigError(`{{${ref}}} is not supported here (use {{inputs.parameters.<p>}}, {{steps.<s>.outputs.parameters.<p>}}, {{tasks.<t>.outputs.parameters.<p>}}, {{workflow.name}} or {{item}})`);
}

function stepOutput(stepName: string, param: string, scope: Scope, isTask: boolean): PV {
  const kind = isTask ? "task" : "step";
  const r = scope.results.get(stepName);
  if (!r) throw new DflowConfigError(`${kind} ${stepName} has not run (it was skipped, failed before producing outputs, or is not in this ${scope.kind === "dag" ? "DAG" : "Steps"}): no value for its output parameter ${param}`, { parameter: param });
  const pv = r.parameters.get(param);
  if (!pv) {
    const have = [...r.parameters.keys()];
    throw new DflowConfigError(`${kind} ${stepName} (${r.phase}) has no value for output parameter ${param} (it has: ${have.join(", ") || "none"})`, { parameter: param });
  }
  return pv;
}

/** The variables an expression sees: Argo's names for the scope's values. */
export function exprEnv(scope: Scope, ctx: RunContext): Record<string, unknown> {
  const results: Record<string, unknown> = {};
  for (const [name, r] of scope.results) {
    results[name] = {
      outputs: { parameters: Object.fromEntries([...r.parameters].map(([k, pv]) => [k, pv.value])), artifacts: Object.fromEntries(r.artifacts) },
      status: r.phase,
      phase: r.phase,
    };
  }
  return {
    inputs: { parameters: Object.fromEntries([...scope.inputs.parameters].map(([k, pv]) => [k, pv.value])), artifacts: Object.fromEntries(scope.inputs.artifacts) },
    steps: scope.kind === "steps" ? results : {},
    tasks: scope.kind === "dag" ? results : {},
    workflow: { name: ctx.wfid },
    ...(scope.item ? { item: scope.item.value } : {}),
  };
}

/** Resolve a parameter argument to its value (keeps types of referenced parameters). */
export function resolveParam(value: unknown, scope: Scope, ctx: RunContext): PV {
  if (value instanceof ArgoVar) return { value: evaluate(value.expr, exprEnv(scope, ctx)), type: null };
  if (value instanceof InputParameter) {
    const pv = scope.inputs.parameters.get(value.name);
    if (!pv) throw new DflowConfigError(`the enclosing template has no value for input parameter ${value.name}`, { parameter: value.name });
    return pv;
  }
  if (value instanceof StepOutputParameter) return stepOutput(value.step.name, value.name, scope, value.step.isTask);
  // An artifact object would otherwise be serialised with its whole step graph (a cycle).
  if (value instanceof StepOutputArtifact || value instanceof InputArtifact) throw artifactAsParameter(value);
  if (value instanceof StepItemCount) return { value: scope.results.get(value.step.name)?.itemCount ?? 1, type: null };
  if (typeof value === "string") return { value: renderRefs(value, (r) => lookupRef(r, scope, ctx)), type: null };
  if (Array.isArray(value)) return { value: value.map((v) => nested(v, scope, ctx)), type: null };
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return { value: Object.fromEntries(Object.entries(value).map(([k, v]) => [k, nested(v, scope, ctx)])), type: null };
  }
  return { value, type: null };
}

function artifactAsParameter(v: StepOutputArtifact | InputArtifact): DflowConfigError {
  return new DflowConfigError(`${String(v)} is an artifact, given where a parameter is expected: pass it in the step's artifacts: { ... }, or pass an output parameter`);
}

// Inside lists and dicts only parameter objects are replaced; strings are not rendered (dflow §4.1).
function nested(v: unknown, scope: Scope, ctx: RunContext): unknown {
  if (v instanceof StepOutputArtifact || v instanceof InputArtifact) throw artifactAsParameter(v);
  if (v instanceof InputParameter || v instanceof StepOutputParameter || v instanceof ArgoVar) return resolveParam(v, scope, ctx).value;
  if (Array.isArray(v)) return v.map((x) => nested(x, scope, ctx));
  if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, nested(x, scope, ctx)]));
  }
  return v;
}

/** Where an input artifact comes from: a path, or (a plain string) the content of a file. */
export type ArtifactSource = { path: string } | { content: string };

function stepArtifact(stepName: string, art: string, scope: Scope, isTask: boolean): string {
  const kind = isTask ? "task" : "step";
  const r = scope.results.get(stepName);
  if (!r) throw new DflowConfigError(`${kind} ${stepName} has not run (skipped or not in this template): no output artifact ${art}`, { artifact: art });
  const p = r.artifacts.get(art);
  if (p === undefined && r.itemCount !== undefined && r.itemCount > 0) {
    // As in dflow (spec §4.8): the items' artifacts are not gathered unless the OP slices them or saves them to one key.
    throw new DflowConfigError(`${kind} ${stepName} is a fan-out of ${r.itemCount} items whose output artifact ${art} has no value for the whole fan-out: gather it with Slices({ output_artifact: ["${art}"] }) on a TsOPTemplate, or save it to a shared S3Artifact key`, { artifact: art });
  }
  if (p === undefined) throw new DflowConfigError(`${kind} ${stepName} (${r.phase}) has no output artifact ${art} (it has: ${[...r.artifacts.keys()].join(", ") || "none"})`, { artifact: art });
  return p;
}

function withSub(p: string, sub?: string, scope?: Scope, ctx?: RunContext): string {
  if (!sub) return p;
  // Sub-paths may hold {{item}} and other references.
  const rendered = scope && ctx ? renderRefs(sub, (r) => lookupRef(r, scope, ctx)) : sub;
  return `${p}/${rendered}`;
}

/** Resolve an artifact argument; null when absent (the caller decides whether that is allowed). */
export function resolveArtifact(value: unknown, scope: Scope, ctx: RunContext): ArtifactSource | null {
  if (value === null || value === undefined) return null;
  if (value instanceof ArgoVar) {
    const v = evaluate(value.expr, exprEnv(scope, ctx));
    if (v === null || v === undefined) return null;
    if (typeof v !== "string") throw new DflowConfigError(`the artifact expression ${value.expr} gave ${JSON.stringify(v)}, not a path`);
    return { path: v };
  }
  if (value instanceof StepOutputArtifact) return { path: withSub(stepArtifact(value.step.name, value.name, scope, value.step.isTask), value.subPath, scope, ctx) };
  if (value instanceof InputArtifact) {
    const p = scope.inputs.artifacts.get(value.name);
    return p === undefined ? null : { path: p };
  }
  if (isLocalArtifact(value)) return { path: withSub(value.local_path, value.subPath, scope, ctx) };
  if (typeof value === "object" && value && "key" in value && typeof (value as { key: unknown }).key === "string") {
    // S3Artifact(key=...) in local mode is a path; relative keys live under the artifact root (Q29).
    return { path: path.resolve(ctx.artroot, (value as { key: string }).key) };
  }
  if (typeof value === "string") {
    const m = /^\{\{\s*(.*?)\s*\}\}(?:\/(.*))?$/.exec(value);
    if (m) {
      const [, ref, sub] = m;
      let r = /^(steps|tasks)\.([\w-]+)\.outputs\.artifacts\.([\w-]+)$/.exec(ref);
      if (r) return { path: withSub(stepArtifact(r[2], r[3], scope, r[1] === "tasks"), sub, scope, ctx) };
      r = /^inputs\.artifacts\.([\w-]+)$/.exec(ref);
      if (r) {
        const p = scope.inputs.artifacts.get(r[1]);
        return p === undefined ? null : { path: withSub(p, sub, scope, ctx) };
      }
      r = /^workflow\.outputs\.artifacts\.([\w-]+)$/.exec(ref);
      if (r) return { path: withSub(path.join(ctx.wfdir, "outputs", "artifacts", r[1]), sub, scope, ctx) };
      throw new DflowConfigError(`{{${ref}}} is not an artifact reference (use {{steps.<s>.outputs.artifacts.<a>}}, {{inputs.artifacts.<a>}} or {{workflow.outputs.artifacts.<a>}})`);
    }
    return { content: value };
  }
  throw new DflowConfigError(`cannot use a ${typeof value} as an artifact: pass upload_artifact(...), a step's output artifact, or a template's input artifact`);
}
