// Expressions: dflow's ArgoVar. Where dflow overloads Python operators, TS
// users build expressions with helpers (if_expression, argo_len, argo_range,
// …) or the `expr` tag: expr`${p} > 3`. An expression holds expr-lang text
// (Argo's expression language, which is also what gets exported); in a
// string it renders as `{{=<text>}}`. The engine evaluates it with its own
// small evaluator (engine/expr), never with eval.
import { DflowConfigError } from "./errors.js";
import { InputArtifact, InputParameter, StepOutputArtifact, StepOutputParameter } from "./io.js";

export class ArgoVar {
  constructor(readonly expr: string) {}
  toString(): string {
    return `{{=${this.expr}}}`;
  }
}

/** A name as a member in expr-lang: `.name`, or `['name-with-dashes']`. */
export function quoteName(n: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(n) ? `.${n}` : `['${n}']`;
}

/** The expr-lang text of a value: references become variables, other values literals. */
export function exprOf(v: unknown): string {
  if (v instanceof ArgoVar) return `(${v.expr})`;
  if (v instanceof StepOutputParameter) return `${v.step.isTask ? "tasks" : "steps"}${quoteName(v.step.name)}.outputs.parameters${quoteName(v.name)}`;
  if (v instanceof StepOutputArtifact) {
    if (v.subPath) throw new DflowConfigError("an artifact sub_path cannot be used inside an expression");
    return `${v.step.isTask ? "tasks" : "steps"}${quoteName(v.step.name)}.outputs.artifacts${quoteName(v.name)}`;
  }
  if (v instanceof InputParameter) return `inputs.parameters${quoteName(v.name)}`;
  if (v instanceof InputArtifact) return `inputs.artifacts${quoteName(v.name)}`;
  if (v === undefined || v === null) return "nil";
  if (typeof v === "string") return `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(exprOf).join(", ")}]`;
  if (typeof v === "object") return `{${Object.entries(v).map(([k, x]) => `'${k}': ${exprOf(x)}`).join(", ")}}`;
  throw new DflowConfigError(`cannot use a ${typeof v} in an expression`);
}

/** expr`${a} > ${b} && ${c} == 'x'` — references and values are inserted as expression terms. */
export function expr(strings: TemplateStringsArray, ...values: unknown[]): ArgoVar {
  let text = strings[0];
  values.forEach((v, i) => {
    text += exprOf(v) + strings[i + 1];
  });
  return new ArgoVar(text);
}

/**
 * Condition text as expr-lang: each `{{ref}}` becomes the variable it names
 * (`{{steps.a.outputs.parameters.x}}` -> `steps.a.outputs.parameters.x`,
 * `{{=e}}` -> `(e)`), so `${p} > 3` and `${p} == 'heads'` compare the
 * parameter's value; a quoted `'{{ref}}'` becomes `string(ref)`. Text
 * without references is expr-lang already (dflow's `_if` string).
 */
export function conditionText(text: string): string {
  const variable = (ref: string): string => {
    if (ref.startsWith("=")) return `(${ref.slice(1).trim()})`;
    const [root, ...rest] = ref.split(".");
    return root + rest.map(quoteName).join("");
  };
  return text.replace(/(['"]?)\{\{\s*(.*?)\s*\}\}\1/g, (_m, quote: string, ref: string) => (quote ? `string(${variable(ref)})` : variable(ref)));
}

/**
 * `if_expression({ _if, _then, _else })`. A parameter as condition is true
 * when its text is "true" (so a boolean true output counts, unlike dflow,
 * Q6); a string is condition text, as in dflow (see conditionText); the
 * ternary is a real one (dflow's `a and b or c` picks `c` when `b` is
 * falsy, Q7). `_then`/`_else` may be parameters, artifacts, expressions or
 * literal values. Malformed condition text is reported by Workflow.validate().
 */
export function if_expression(args: { _if: unknown; _then: unknown; _else: unknown }): ArgoVar {
  const c = args._if;
  const cond = c instanceof ArgoVar ? `(${c.expr})` : typeof c === "boolean" ? String(c) : typeof c === "string" ? `(${conditionText(c)})` : `(string(${exprOf(c)}) == 'true')`;
  return new ArgoVar(`${cond} ? ${exprOf(args._then)} : ${exprOf(args._else)}`);
}

const asInt = (v: unknown): string => (typeof v === "number" ? String(v) : `asInt(${exprOf(v)})`);

/** Length of a list parameter (a JSON string is parsed first). */
export function argo_len(param: unknown): ArgoVar {
  return new ArgoVar(`len(jsonpath(${exprOf(param)}, '$'))`);
}

/** argo_range(end) or argo_range(start, end[, step]): the list start, start+step, … < end. */
export function argo_range(...args: unknown[]): ArgoVar {
  if (args.length < 1 || args.length > 3) throw new DflowConfigError(`argo_range takes 1 to 3 arguments, got ${args.length}`);
  const [start, end, step] = args.length === 1 ? [0, args[0], 1] : [args[0], args[1], args[2] ?? 1];
  return new ArgoVar(`sprig.untilStep(${asInt(start)}, ${asInt(end)}, ${asInt(step)})`);
}

/** Sum of a list parameter's numbers. */
export function argo_sum(param: unknown): ArgoVar {
  return new ArgoVar(`sum(jsonpath(${exprOf(param)}, '$'))`);
}

/** Concatenation of a list parameter's lists (of scalars: expr-lang's flatten). */
export function argo_concat(param: unknown): ArgoVar {
  return new ArgoVar(`flatten(jsonpath(${exprOf(param)}, '$'))`);
}

/**
 * argo_enumerate({a: listA, b: listB}): [{order: 0, a: listA[0], b: listB[0]}, …],
 * as long as the first list.
 */
export function argo_enumerate(lists: Record<string, unknown>): ArgoVar {
  const entries = Object.entries(lists);
  if (!entries.length) throw new DflowConfigError("argo_enumerate needs at least one list");
  const fields = entries.map(([k, v]) => `'${k}': jsonpath(${exprOf(v)}, '$')[#]`).join(", ");
  // "{ {" and "} }": Argo ends a {{=...}} tag at the first "}}".
  return new ArgoVar(`map(sprig.untilStep(0, len(jsonpath(${exprOf(entries[0][1])}, '$')), 1), { {'order': #, ${fields}} })`);
}

/**
 * A literal sequence bound is a whole number (or its text); references and
 * expressions are checked when the step runs.
 */
function sequenceProblem(field: string, v: unknown, min?: number): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === "string" && (v.includes("{{") || v.trim() === "")) return v.trim() === "" ? `${field} = "": must be a whole number` : null;
  if (typeof v !== "number" && typeof v !== "string") return null; // a parameter reference or an expression
  const n = typeof v === "number" ? v : /^\s*-?\d+\s*$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isInteger(n)) return `${field} = ${JSON.stringify(v)}: must be a whole number${min !== undefined ? ` ≥ ${min}` : ""}, a parameter or an expression`;
  if (min !== undefined && n < min) return `${field} = ${JSON.stringify(v)}: must be a whole number ≥ ${min}`;
  return null;
}

/** Argo's sequence: `count` items from `start`, or `start`…`end` inclusive; `format` is printf-style. */
export class ArgoSequence {
  constructor(readonly opts: { count?: unknown; start?: unknown; end?: unknown; format?: string }) {
    const problems = sequenceProblems(opts);
    if (problems.length) throw new DflowConfigError(`argo_sequence: ${problems.join("; ")}`);
  }
}

/** What is wrong with a sequence's bounds (also checked at submit, for values assigned later). */
export function sequenceProblems(opts: { count?: unknown; start?: unknown; end?: unknown; format?: unknown }): string[] {
  const out: string[] = [];
  const known = ["count", "start", "end", "format"];
  for (const k of Object.keys(opts)) if (!known.includes(k)) out.push(`unknown option ${k}; known options: ${known.join(", ")}`);
  if ((opts.count ?? null) === null && (opts.end ?? null) === null) out.push("needs count or end");
  if ((opts.count ?? null) !== null && (opts.end ?? null) !== null) out.push("takes count or end, not both");
  for (const p of [sequenceProblem("count", opts.count, 0), sequenceProblem("start", opts.start), sequenceProblem("end", opts.end)]) if (p) out.push(p);
  if (opts.format !== undefined && opts.format !== null && typeof opts.format !== "string") out.push(`format = ${String(opts.format)}: must be a printf-style string such as "%02d"`);
  return out;
}

export function argo_sequence(opts: { count?: unknown; start?: unknown; end?: unknown; format?: string } | unknown, start?: unknown, end?: unknown, format?: string): ArgoSequence {
  if (opts && typeof opts === "object" && !(opts instanceof ArgoVar) && !(opts instanceof StepOutputParameter) && !(opts instanceof InputParameter) && ("count" in opts || "end" in opts || "start" in opts)) {
    return new ArgoSequence(opts as { count?: unknown; start?: unknown; end?: unknown; format?: string });
  }
  const o: { count?: unknown; start?: unknown; end?: unknown; format?: string } = { count: opts };
  if (start !== undefined) o.start = start;
  if (end !== undefined) o.end = end;
  if (format !== undefined) o.format = format;
  return new ArgoSequence(o);
}

/**
 * Whether a step's value stands for the loop item: a text that mentions `{{item…}}` (or an
 * expression tag using `item`), or an expression using it. Strings nested in lists and objects
 * are not rendered, so they never do.
 */
export function usesItem(v: unknown): boolean {
  return typeof v === "string" ? /\{\{\s*(=.*\bitem\b|item\b)/.test(v) : v instanceof ArgoVar && /\bitem\b/.test(v.expr);
}
