// The engine side of Slices (spec §4.9): which items a sliced step has,
// what each item's OP process must slice, and how their outputs are
// gathered back in slice order.
import { DflowConfigError } from "../src/errors.js";
import type { SliceRunnerFields, Slices } from "../src/slices.js";
import type { Step } from "../src/step.js";
import type { TsOPTemplate } from "../src/templates.js";
import { readCatalog } from "./artifacts/catalog.js";
import type { PV, RunContext, Scope } from "./context.js";
import { renderRefs } from "./render.js";
import { lookupRef, resolveArtifact, resolveParam } from "./scope.js";
import { parseJsonLoose, renderValue } from "./store/values.js";

/** What one item's OP process slices (passed to the OP runner). */
export interface SliceSpec extends SliceRunnerFields {
  /** The slice indices this item runs: one, or a group's. */
  indices: number[];
  group: boolean;
  /** merge_sliced_step: each index is a task of one DPDispatcher submission (executors/dispatcher.ts). */
  merged?: boolean;
  /** sub_path mode: input artifact -> the item's path inside it. */
  sub_paths?: Record<string, string>;
}

export function slicesOf(step: Step): Slices | undefined {
  const t = step.template as TsOPTemplate;
  return t.kind === "ts-op" ? t.slices : undefined;
}

/** Items of a sliced step without with_param/with_sequence: one per element of the first sliced input. */
export async function inferSliceItems(step: Step, s: Slices, scope: Scope, ctx: RunContext): Promise<unknown[]> {
  if (s.input_parameter.length) {
    const name = s.input_parameter[0];
    let v = name in step.parameters ? resolveParam(step.parameters[name], scope, ctx).value : step.template.inputs.parameters[name]?.value;
    if (typeof v === "string") v = parseJsonLoose(v);
    if (!Array.isArray(v)) throw new DflowConfigError(`sliced input parameter ${name} must be a list, got ${JSON.stringify(v)}`, { step: step.name, parameter: name });
    return v.map((_, i) => i);
  }
  if (s.input_artifact.length) {
    const name = s.input_artifact[0];
    const src = resolveArtifact(step.artifacts[name], scope, ctx);
    if (!src || !("path" in src)) throw new DflowConfigError(`sliced input artifact ${name} has no source`, { step: step.name, artifact: name });
    return (await readCatalog(src.path)).map((_, i) => i);
  }
  throw new DflowConfigError("a sliced step needs with_param, with_sequence, or a sliced input parameter or artifact to count its items", { step: step.name });
}

/** The slice index an item selects: the Slices pattern ("{{item}}", "{{item.order}}") rendered with it. */
export function sliceIndex(s: Slices, item: unknown, scope: Scope, ctx: RunContext): number {
  const text = renderRefs(s.slices, (r) => lookupRef(r, { ...scope, item: { value: item } }, ctx));
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new DflowConfigError(`the slice ${JSON.stringify(text)} of item ${renderValue(item)} is not a list index`);
  return n;
}

export function sliceSpec(s: Slices, indices: number[], group: boolean, item: unknown): SliceSpec {
  const spec: SliceSpec = { indices, group, ...s.runnerFields() };
  if (s.sub_path) {
    spec.sub_paths = {};
    for (const a of s.input_artifact) {
      const rel = (item as Record<string, unknown> | null)?.[a];
      if (typeof rel !== "string") throw new DflowConfigError(`sub_path slices: item ${renderValue(item)} has no path for artifact ${a}`);
      spec.sub_paths[a] = rel;
    }
  }
  return spec;
}

/**
 * A sliced output parameter of one item holds [{"dflow_list_item": v,
 * "order": i}, ...]; the group's value is the plain list of every item's
 * values in slice order (dflow stacks the raw texts and lets consumers merge).
 */
export function stackSliced(values: PV[]): PV {
  const marks: Array<{ dflow_list_item: unknown; order: number }> = [];
  for (const pv of values) {
    const v = typeof pv.value === "string" ? parseJsonLoose(pv.value) : pv.value;
    if (Array.isArray(v)) for (const m of v) if (m && typeof m === "object" && "dflow_list_item" in m) marks.push(m as { dflow_list_item: unknown; order: number });
  }
  marks.sort((a, b) => a.order - b.order);
  return { value: marks.map((m) => m.dflow_list_item), type: null };
}
