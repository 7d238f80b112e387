// Which tasks a DAG task waits for: every reference to another task's
// outputs — parameter and artifact objects, `{{tasks.<t>...}}` in strings
// (parameters, artifacts, keys, when, with_param) — united with the explicit
// `dependencies` (dflow replaces the inferred list and ignores string refs,
// Q12/Q13). Cycles and unknown names are refused before anything runs.
import { DflowConfigError } from "../src/errors.js";
import { InputParameter, StepOutputArtifact, StepOutputParameter } from "../src/io.js";
import type { Step } from "../src/step.js";
import type { DAG } from "../src/steps.js";

function collect(v: unknown, names: Set<string>, seen = new Set<unknown>()): void {
  if (v === null || v === undefined || seen.has(v)) return;
  if (v instanceof StepOutputParameter || v instanceof StepOutputArtifact) {
    names.add(v.step.name);
    return;
  }
  if (v instanceof InputParameter) return;
  if (typeof v === "string") {
    for (const m of v.matchAll(/\{\{\s*=?[^}]*?\btasks(?:\.([\w-]+)|\[['"]([\w-]+)['"]\])/g)) names.add(m[1] ?? m[2]);
    return;
  }
  if (typeof v !== "object") return;
  seen.add(v);
  if (Array.isArray(v)) v.forEach((x) => collect(x, names, seen));
  else if (Object.getPrototypeOf(v) === Object.prototype) Object.values(v).forEach((x) => collect(x, names, seen));
  else if ("toString" in v && typeof (v as { toString(): string }).toString === "function" && (v as object).toString !== Object.prototype.toString) {
    collect(String(v), names, seen); // expression objects render their references
  }
}

/** Map each task to the names of the tasks it waits for. */
export function taskDependencies(dag: DAG): Map<Step, Set<string>> {
  const byName = new Map(dag.tasks.map((t) => [t.name, t] as const));
  const out = new Map<Step, Set<string>>();
  for (const t of dag.tasks) {
    const names = new Set<string>();
    for (const v of [t.parameters, t.artifacts, t.key, t.when, t.with_param, t.with_sequence]) collect(v, names);
    for (const d of t.dependencies) names.add(typeof d === "string" ? d.split(".")[0] : d.name);
    for (const d of t.after_any) names.add(d);
    names.delete(t.name);
    for (const n of names) {
      if (!byName.has(n)) {
        throw new DflowConfigError(`task ${t.name} depends on task ${n}, which is not in DAG ${dag.name} (tasks: ${[...byName.keys()].join(", ")})`, { step: t.name });
      }
    }
    out.set(t, names);
  }
  // Cycle check (depth-first).
  const state = new Map<string, 1 | 2>();
  const visit = (name: string, trail: string[]): void => {
    const s = state.get(name);
    if (s === 2) return;
    if (s === 1) throw new DflowConfigError(`DAG ${dag.name} has a dependency cycle: ${[...trail, name].join(" -> ")}`);
    state.set(name, 1);
    for (const d of out.get(byName.get(name)!)!) visit(d, [...trail, name]);
    state.set(name, 2);
  };
  for (const t of dag.tasks) visit(t.name, []);
  return out;
}
