// DAG task dependencies (argo-semantics §7): `dependencies` and `depends`
// expressions over task results, and how a DAG's phase follows from its
// leaves. Task names are replaced by placeholders before evaluation, so
// hyphenated names and names such as `split` or `map` (expr-lang
// built-ins) need no special care.
import { evaluate } from "../expr/index.js";
import type { NodePhase } from "./store.js";

export interface TaskSpec {
  name: string;
  dependencies?: string[];
  depends?: string;
  continueOn?: { failed?: boolean; error?: boolean };
}

/** What `depends` sees of a finished task. */
export interface TaskState {
  phase: NodePhase;
  /** For loop tasks: the phases of the children. */
  childPhases?: NodePhase[];
  /** A daemon running and ready (phase Running). */
  daemoned?: boolean;
}

const NAME = /[A-Za-z0-9][-A-Za-z0-9_]*(?:\.[A-Za-z]+)?/g;

/** The `depends` expression of a task (`dependencies` are `A && B`). Throws on both or an unknown task. */
export function dependsOf(t: TaskSpec): string {
  if (t.dependencies?.length && t.depends) throw new Error(`task ${t.name}: dependencies and depends cannot both be set`);
  return t.depends ?? (t.dependencies ?? []).join(" && ");
}

/** The task names an expression depends on. */
export function dependencyNames(expr: string, known: Set<string>, where: string): string[] {
  const out = new Set<string>();
  for (const m of expr.matchAll(NAME)) {
    const [name, result] = m[0].split(".");
    if (["true", "false", "and", "or", "not"].includes(name)) continue;
    if (!known.has(name)) throw new Error(`${where}: depends on unknown task ${JSON.stringify(name)}`);
    // Argo's common.ValidateTaskResults, at submit.
    if (result !== undefined && !RESULTS.includes(result)) throw new Error(`${where} task result '${result}' for task '${name}' is invalid`);
    out.add(name);
  }
  return [...out];
}

/**
 * A DAG's tasks as specs, each one's `depends` expression (its
 * `dependencies` joined) and the tasks that expression names. Throws,
 * naming the task under `where` (`templates.<name>`), for a task with both
 * fields or one naming a task the DAG does not have.
 */
export function taskGraph(tasks: Array<Record<string, unknown>>, where: string): { specs: Map<string, TaskSpec>; exprs: Map<string, string>; deps: Map<string, string[]> } {
  const text = (v: unknown) => (typeof v === "string" ? v : v === undefined || v === null ? "" : String(v));
  const specs = new Map<string, TaskSpec>(
    tasks.map((x) => [text(x.name), { name: text(x.name), dependencies: Array.isArray(x.dependencies) ? x.dependencies.map(text) : undefined, depends: x.depends === undefined ? undefined : text(x.depends), continueOn: (x.continueOn ?? {}) as TaskSpec["continueOn"] }]),
  );
  const known = new Set(specs.keys());
  const exprs = new Map<string, string>();
  const deps = new Map<string, string[]>();
  for (const s of specs.values()) {
    const e = dependsOf(s);
    exprs.set(s.name, e);
    deps.set(s.name, dependencyNames(e, known, `${where}.tasks.${s.name}`));
  }
  return { specs, exprs, deps };
}

/** `roots` and every task they depend on, directly or not. */
export function upstream(deps: Map<string, string[]>, roots: Iterable<string>): Set<string> {
  const out = new Set<string>();
  const add = (n: string) => {
    if (out.has(n)) return;
    out.add(n);
    for (const d of deps.get(n) ?? []) add(d);
  };
  for (const r of roots) add(r);
  return out;
}

const RESULTS = ["Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed"];

/** Evaluate `depends` once every task it names is fulfilled. */
export function evaluateDepends(expr: string, tasks: Map<string, TaskSpec>, states: Map<string, TaskState>): boolean {
  if (!expr.trim()) return true;
  const env: Record<string, unknown> = {};
  const names: string[] = [];
  const placeholder = (name: string) => {
    let i = names.indexOf(name);
    if (i < 0) i = names.push(name) - 1;
    return `t${i}`;
  };
  const text = expr.replace(NAME, (tok) => {
    const [name, result] = tok.split(".");
    if (["true", "false", "and", "or", "not"].includes(name) || !tasks.has(name)) return tok;
    const p = placeholder(name);
    if (result) {
      if (!RESULTS.includes(result)) throw new Error(`depends ${JSON.stringify(expr)}: invalid task result ${JSON.stringify(tok)}`);
      return `${p}.${result}`;
    }
    const co = tasks.get(name)!.continueOn ?? {};
    return `(${p}.Succeeded || ${p}.Skipped || ${p}.Daemoned${co.failed ? ` || ${p}.Failed` : ""}${co.error ? ` || ${p}.Errored` : ""})`;
  });
  names.forEach((name, i) => {
    const s = states.get(name)!;
    const kids = s.childPhases ?? [];
    env[`t${i}`] = {
      Succeeded: s.phase === "Succeeded",
      Failed: s.phase === "Failed",
      Errored: s.phase === "Error",
      Skipped: s.phase === "Skipped",
      Omitted: s.phase === "Omitted",
      Daemoned: s.daemoned === true,
      AnySucceeded: kids.some((p) => p === "Succeeded"),
      AllFailed: kids.length > 0 && kids.every((p) => p === "Failed" || p === "Error"),
    };
  });
  try {
    return evaluate(text, env) === true;
  } catch (e) {
    // The user's task names in the message, not the placeholders (as Argo's dag.go words it).
    const theirs = (t: string) => t.replace(/\bt(\d+)\b/g, (m, i: string) => names[Number(i)] ?? m);
    throw new Error(`unable to evaluate expression '${theirs(text)}': ${theirs((e as Error).message)}`);
  }
}

/**
 * A DAG's phase from its leaves (or targets): a leaf that never ran inherits
 * the phase of its branch, Failed/Error preferred; the DAG fails when a
 * leaf's phase is Failed/Error without a matching continueOn.
 */
export function dagPhase(leaves: string[], deps: Map<string, string[]>, tasks: Map<string, TaskSpec>, states: Map<string, TaskState>): { phase: NodePhase; culprit?: string } {
  // A task's phase, and the task it comes from: its own, or an omitted task's parents' (Failed or Error first).
  const memo = new Map<string, { p: NodePhase; from: string }>();
  const effective = (name: string): { p: NodePhase; from: string } => {
    const known = memo.get(name);
    if (known) return known;
    const s = states.get(name);
    let e: { p: NodePhase; from: string };
    if (s && s.phase !== "Omitted" && s.phase !== "Pending") e = { p: s.phase, from: name };
    else {
      const ps = (deps.get(name) ?? []).map(effective);
      e = ps.find((x) => x.p === "Error") ?? ps.find((x) => x.p === "Failed") ?? { p: "Succeeded", from: name };
    }
    memo.set(name, e);
    return e;
  };
  let result: NodePhase = "Succeeded";
  let culprit: string | undefined;
  for (const leaf of leaves) {
    const { p, from } = effective(leaf);
    const co = tasks.get(leaf)?.continueOn ?? {};
    const ran = states.get(leaf);
    const excused = ran && ran.phase === p && ((p === "Failed" && co.failed) || (p === "Error" && co.error));
    if ((p === "Failed" || p === "Error") && !excused) {
      if (result !== "Error") {
        result = p;
        // The task that failed, not the omitted one after it that carries its phase.
        culprit = from;
      }
    }
  }
  return { phase: result, culprit };
}
