// Keys under fan-outs (spec §7.1, §7.2), checked when the workflow is built.
// A key names its step's directory, and a step whose key directory already
// holds a succeeded step is not run again. So every run of a keyed step
// needs a key of its own: a key that cannot vary with the item of a fan-out
// it runs under — its own (with_param, with_sequence, Slices) or one around
// the Steps/DAG template it is in — makes the items share one directory, and
// all results but one are silently lost.
//
// Which items a key depends on is followed through `{{item…}}`, expressions
// using `item`, and `{{inputs.parameters.<p>}}` of the enclosing templates
// (set by the calling step from its own item or from an outer one). A key
// using a step's output is given the benefit of the doubt: it may vary.
import { DflowConfigError } from "./errors.js";
import { ArgoVar } from "./expr.js";
import { InputParameter, StepOutputParameter } from "./io.js";
import type { Step } from "./step.js";
import type { DAG, Steps } from "./steps.js";
import type { OPTemplate } from "./templates.js";

/** One fan-out on the way from the entrypoint to a step. */
interface Level {
  step: Step;
  /** The template containing the fan-out step. */
  in: OPTemplate;
}

/** The fan-out levels a value depends on; "any" when it may depend on anything (step outputs). */
type Deps = Set<Level> | "any";

interface Env {
  /** The level of the step being looked at, when it is a fan-out. */
  item?: Level;
  /** The enclosing template's input parameters and the levels each depends on. */
  inputs: Map<string, Deps>;
}

const REF = /\{\{\s*(.*?)\s*\}\}/g;

function union(a: Deps, b: Deps): Deps {
  if (a === "any" || b === "any") return "any";
  return new Set([...a, ...b]);
}

function exprDeps(text: string, env: Env): Deps {
  let d: Deps = new Set();
  if (/\bitem\b/.test(text) && env.item) d = union(d, new Set([env.item]));
  for (const m of text.matchAll(/\binputs\s*\.\s*parameters\s*(?:\.\s*([\w-]+)|\[\s*['"]([\w-]+)['"]\s*\])/g)) d = union(d, env.inputs.get(m[1] ?? m[2]) ?? new Set());
  if (/\b(steps|tasks)\b/.test(text)) d = "any";
  return d;
}

function refDeps(ref: string, env: Env): Deps {
  if (/^item\b/.test(ref)) return env.item ? new Set([env.item]) : new Set();
  if (ref.startsWith("=")) return exprDeps(ref.slice(1), env);
  const m = /^inputs\.parameters\.([\w-]+)$/.exec(ref);
  if (m) return env.inputs.get(m[1]) ?? new Set();
  if (ref === "workflow.name") return new Set();
  return "any";
}

function textDeps(s: string, env: Env): Deps {
  let d: Deps = new Set();
  for (const m of s.matchAll(REF)) d = union(d, refDeps(m[1], env));
  return d;
}

/** What a step's parameter value depends on, resolved as the engine does (engine/scope.ts resolveParam). */
function valueDeps(v: unknown, env: Env, top = true): Deps {
  if (typeof v === "string") return top ? textDeps(v, env) : new Set(); // strings nested in lists/dicts are not rendered
  if (v instanceof ArgoVar) return exprDeps(v.expr, env);
  if (v instanceof InputParameter) return env.inputs.get(v.name) ?? new Set();
  if (v instanceof StepOutputParameter) return "any";
  let d: Deps = new Set();
  if (Array.isArray(v)) for (const x of v) d = union(d, valueDeps(x, env, false));
  else if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) d = union(d, valueDeps(x, env, false));
  return d;
}

/** The step runs once per item (with_param, with_sequence, or a sliced TS OP). */
export function isFanout(step: Step): boolean {
  const t = step.template as { kind: string; slices?: unknown };
  return step.with_param !== undefined || step.with_sequence !== undefined || (t.kind === "ts-op" && !!t.slices);
}

function stepsOf(t: OPTemplate): Step[] {
  if (t.kind === "steps") return (t as Steps).steps.flatMap((e) => (Array.isArray(e) ? e : [e]));
  if (t.kind === "dag") return (t as DAG).tasks;
  return [];
}

function problem(step: Step, key: string, container: OPTemplate, root: OPTemplate, missing: Level[], env: Env, workflow: string): DflowConfigError {
  const where = { workflow, step: step.name };
  const inner = container === root ? "" : ` (in template ${container.name})`;
  if (missing.includes(env.item!)) {
    // {{inputs.parameters.p}} in a key is the enclosing template's input, not the step's own parameter p.
    const own = [...key.matchAll(REF)].map((m) => /^inputs\.parameters\.([\w-]+)$/.exec(m[1])?.[1]).find((p) => p !== undefined && p in step.parameters);
    const hint = own ? ` ({{inputs.parameters.${own}}} in a key is the enclosing template's input ${own}, not this step's parameter ${own})` : "";
    return new DflowConfigError(
      `key ${JSON.stringify(key)}${inner} is the same for every item of this fan-out${hint}, so the items would share one step directory and all results but one would be lost; put the item into the key, e.g. key: ${JSON.stringify(`${key}-{{item}}`)}`,
      where,
    );
  }
  const outer = missing[0];
  // An input of the enclosing template that carries the outer item, if there is one, is the fix.
  const carrier = [...env.inputs].find(([, d]) => d !== "any" && d.has(outer))?.[0];
  const fix = carrier
    ? `e.g. key: ${JSON.stringify(`${key}-{{inputs.parameters.${carrier}}}`)}`
    : `pass the item into template ${container.name} as an input parameter (parameters: { p: "{{item}}" } on step ${outer.step.name}) and use it in the key, e.g. key: ${JSON.stringify(`${key}-{{inputs.parameters.p}}`)}`;
  return new DflowConfigError(
    `key ${JSON.stringify(key)}${inner} is the same for every item of the fan-out step ${outer.step.name} that runs it, so those items would share this step's directory and all results but one would be lost; make the key depend on that item: ${fix}`,
    where,
  );
}

/**
 * Keys under fan-outs that cannot vary with an item they run under, one
 * DflowConfigError per step (naming workflow, step and key), in the order
 * the steps appear. Empty when every key is fine.
 */
export function fanoutKeyProblems(entrypoint: OPTemplate, workflow: string, merged: (s: Step) => boolean = () => false): DflowConfigError[] {
  const out = new Map<string, DflowConfigError>();
  const walk = (t: OPTemplate, inputs: Map<string, Deps>, levels: Level[], active: Set<OPTemplate>): void => {
    if (active.has(t)) return; // recursion: the first pass saw this template's keys
    active.add(t);
    for (const s of stepsOf(t)) {
      // A sliced step whose slices are merged (merge_sliced_step) is one step: no item of its own.
      const level: Level | undefined = isFanout(s) && !merged(s) ? { step: s, in: t } : undefined;
      const env: Env = { item: level, inputs };
      const under = level ? [...levels, level] : levels;
      if (s.key && under.length) {
        const d = textDeps(s.key, env);
        const missing = d === "any" ? [] : under.filter((l) => !d.has(l));
        // The innermost level is the most useful to report.
        if (missing.length) {
          missing.sort((a, b) => under.indexOf(b) - under.indexOf(a));
          const p = problem(s, s.key, t, entrypoint, missing, env, workflow);
          if (!out.has(p.message)) out.set(p.message, p);
        }
      }
      if (s.template.kind === "steps" || s.template.kind === "dag") {
        const inner = new Map<string, Deps>();
        for (const name of Object.keys(s.template.inputs.parameters)) inner.set(name, name in s.parameters ? valueDeps(s.parameters[name], env) : new Set());
        walk(s.template, inner, under, active);
      }
    }
    active.delete(t);
  };
  walk(entrypoint, new Map(), [], new Set());
  return [...out.values()];
}
