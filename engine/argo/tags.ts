// Argo's `{{...}}` tags (argo-semantics §4): simple tags looked up in a flat
// map of variables, `{{=expr}}` evaluated by our expr-lang evaluator over the
// same variables turned into nested maps. Substitution happens in stages: a
// tag whose variable is not known yet is left as it is for a later stage;
// at the last stage (`final`) an unknown or absent value is an error.
import { evaluate, parseExpr, type Node } from "../expr/index.js";
import { toJsonText } from "../expr/evaluate.js";
import { GoDuration, GoTime, durationString, timeString } from "../expr/time.js";

/**
 * Variables in scope: name -> value. `undefined` means *absent* (the output of
 * a Skipped/Omitted producer without default, §4.3), different from "".
 * Values other than strings are the raw data of `item` and of artifacts.
 */
export type Vars = Map<string, unknown>;

/**
 * An artifact in the local repository. Tags that name one
 * (`{{steps.x.outputs.artifacts.y}}`) are only meaningful where an artifact
 * is expected (`from:`), so substitution into text leaves them for that stage.
 */
export class ArtifactValue {
  constructor(
    readonly key: string,
    /** File or directory in the repository (not `path`: expressions read `inputs.artifacts.<name>.path`, the pod's path). */
    readonly file: string,
  ) {}
}

/**
 * A reference could not be resolved at the last stage: the node ends Error. `waits`: it names a
 * step's or task's variable that is not there, for which Argo's controller would requeue the step or
 * task, never to resolve it (steps.go, dag.go: ReplaceStrictAny).
 */
export class TagError extends Error {
  constructor(
    message: string,
    readonly waits = false,
  ) {
    super(message);
  }
}

/** How a value is written into text: strings as they are, the rest as compact JSON (sorted keys for items). */
export function tagText(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v === null || v === undefined) return "";
  // A time or duration (cronworkflow.lastScheduledTime) as Go prints it.
  if (v instanceof GoTime) return timeString(v);
  if (v instanceof GoDuration) return durationString(v);
  return JSON.stringify(sortKeys(v));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

/** `a.b.c` keys turned into nested maps for expressions; parameter values stay strings. */
export function exprEnv(vars: Vars): Record<string, unknown> {
  const env: Record<string, unknown> = {};
  for (const [k, v] of vars) {
    const parts = k.split(".");
    let at = env;
    for (let i = 0; i < parts.length - 1; i++) {
      const cur = at[parts[i]];
      if (!cur || typeof cur !== "object" || Array.isArray(cur)) at[parts[i]] = {};
      // `inputs.artifacts.a.path` goes on a copy of the artifact: the run's own value stays as it is.
      else if (cur instanceof ArtifactValue) at[parts[i]] = Object.assign(Object.create(ArtifactValue.prototype) as ArtifactValue, cur);
      at = at[parts[i]] as Record<string, unknown>;
    }
    const last = parts[parts.length - 1];
    // `inputs.parameters` is both a JSON list and the map of its members: the map wins in expressions.
    if (at[last] && typeof at[last] === "object" && typeof v === "string") continue;
    at[last] = v;
  }
  return env;
}

const ARGO_NAMESPACES = /^(inputs|outputs|steps|tasks|workflow|item|pod|node|retries|lastRetry|cronworkflow)(\.|$)/;

const TAG = /\{\{(.*?)\}\}/gs;

/** The tags of `text`, each what is between its `{{` and the `}}` that ends it (as substitute and Argo's fasttemplate find them). */
export function tagsIn(text: string): string[] {
  return [...text.matchAll(TAG)].map((m) => m[1]!);
}

/** Does `text` still contain a tag? */
export function hasTags(text: string): boolean {
  return /\{\{.*?\}\}/s.test(text);
}

/**
 * The variables an expression names that Argo's strict resolution of a step or task requires and
 * `env` lacks: member paths and names under `steps` and `tasks`, but those left of a `??` or behind a
 * `?.` (util/template/expression_template.go getIdentifiers, missingVarsInEnv). A name present with
 * an absent value (a skipped producer's output) counts as present. With `guards` false, guarded
 * paths count too: what a stage before the step's own resolution must leave for it.
 */
export function missingStrict(root: Node, env: Record<string, unknown>, guards = true): string[] {
  const guarded = new Set<Node>();
  const markMembers = (n: Node) => walk(n, (m) => void (m.kind === "member" && guarded.add(m)));
  if (guards) {
    walk(root, (n) => {
      if (n.kind === "binary" && n.op === "??") markMembers(n.left);
      if (n.kind === "member" && n.optional && n.object.kind === "member") guarded.add(n.object);
    });
  }
  const ids = new Set<string>();
  walk(root, (n) => {
    if (n.kind === "ident") ids.add(n.name);
    if (n.kind === "member" && !guarded.has(n)) {
      const p = memberPath(n, !guards);
      if (p) ids.add(p);
    }
  });
  const present = (id: string) => {
    let at: unknown = env;
    for (const part of id.split(".")) {
      if (at === null || typeof at !== "object" || !Object.prototype.hasOwnProperty.call(at, part)) return false;
      at = (at as Record<string, unknown>)[part];
    }
    return true;
  };
  return [...ids].filter((id) => /^(steps|tasks)(\.|$)/.test(id) && !present(id));
}

/** `a.b['c']` as "a.b.c": a chain of string properties, none optional (unless `optional`), from a name. */
function memberPath(n: Node, optional = false): string | undefined {
  const parts: string[] = [];
  let at: Node = n;
  while (at.kind === "member") {
    if ((at.optional && !optional) || at.property.kind !== "literal" || typeof at.property.value !== "string") return undefined;
    parts.unshift(at.property.value);
    at = at.object;
  }
  return at.kind === "ident" ? [at.name, ...parts].join(".") : undefined;
}

/** Every node of an expression, each visited after its children. */
function walk(n: Node, visit: (n: Node) => void): void {
  const isNode = (x: unknown): x is Node => x !== null && typeof x === "object" && "kind" in x;
  for (const v of Object.values(n)) {
    for (const x of Array.isArray(v) ? v : [v]) {
      if (isNode(x)) walk(x, visit);
      // A map literal's entries: { key, value }.
      else if (x !== null && typeof x === "object") for (const y of Object.values(x as object)) if (isNode(y)) walk(y, visit);
    }
  }
  visit(n);
}

/**
 * Replace the tags of `text` that `vars` can resolve. With `final`, an
 * unresolvable tag throws TagError; otherwise it is left for a later stage.
 * `"pod"` is final for `{{name}}` tags but leaves an expression that fails or
 * is nil as it is, as Argo does when it fills in a pod's template
 * (SubstituteParams allows unresolved): dflow's scripts rely on it, with
 * `'{{=inputs.parameters.dflow_key}}'` kept when the step has no key.
 * `"strict"` is final as a step or task is resolved: an expression that names a step's or task's
 * variable that is not there fails, as Argo's ReplaceStrictAny fails it (missingStrict).
 */
export function substitute(text: string, vars: Vars, final: boolean | "pod" | "strict" = false): string {
  if (!text.includes("{{")) return text;
  let env: Record<string, unknown> | undefined;
  const last = final === true || final === "strict";
  return text.replace(TAG, (whole, inner: string) => {
    if (inner.startsWith("=")) {
      const src = inner.slice(1).replace(/\\"/g, '"');
      const failed = (e: unknown) => {
        if (last) throw new TagError(`failed to evaluate expression ${JSON.stringify(src.trim())}: ${(e as Error).message}`);
        return whole;
      };
      let node: Node;
      try {
        node = parseExpr(src);
      } catch (e) {
        return failed(e);
      }
      env ??= exprEnv(vars);
      if (final === "strict") {
        const missing = missingStrict(node, env);
        if (missing.length) throw new TagError(`failed to evaluate expression: ${missing[0]} is missing`, true);
      }
      // Before its step is resolved, an expression over steps or tasks that are not there yet waits for
      // that stage, as it does in Argo (an unknown name leaves it unresolved): evaluated now, `??` or
      // `?.` would resolve it to its fallback.
      if (!last && missingStrict(node, env, false).length) return whole;
      let v: unknown;
      try {
        v = evaluate(node, env);
      } catch (e) {
        return failed(e);
      }
      if (v === null || v === undefined) {
        if (last) throw new TagError(`expression ${JSON.stringify(src.trim())} evaluated to nil (absent optional value?)`);
        return whole;
      }
      return typeof v === "string" ? v : toJsonText(v);
    }
    const name = inner.trim();
    if (!vars.has(name)) {
      // Only Argo's own namespaces are errors; any other tag is text to Argo too ({{custom.variable}}).
      if (final && ARGO_NAMESPACES.test(name)) throw new TagError(`unable to resolve: {{${name}}}`, /^(steps|tasks)\./.test(name));
      return whole;
    }
    const v = vars.get(name);
    if (v instanceof ArtifactValue) return final ? v.key : whole;
    if (v === undefined) {
      if (final) throw new TagError(`{{${name}}} refers to an absent optional value (its producer was skipped or omitted and has no default)`);
      return whole;
    }
    return tagText(v);
  });
}

/** Substitute every string in a JSON-like value; subtrees under `skip` keys are left alone. */
export function substituteDeep<T>(v: T, vars: Vars, skip: readonly string[] = [], final: boolean | "pod" | "strict" = false): T {
  if (typeof v === "string") return substitute(v, vars, final) as T;
  if (Array.isArray(v)) return v.map((x) => substituteDeep(x, vars, skip, final)) as T;
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = skip.includes(k) ? x : substituteDeep(x, vars, skip, final);
    return out as T;
  }
  return v;
}

/** The single reference a text consists of (`{{steps.a.outputs.result}}`), or null. */
export function soleReference(text: string): string | null {
  const m = /^\{\{\s*([^=][^{}]*?)\s*\}\}$/.exec(text.trim());
  return m ? m[1] : null;
}
