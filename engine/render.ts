// `{{...}}` references in strings (spec §4.6, §5.1) and the re-rooting of
// `/tmp` under a step's workdir.
import { DflowConfigError } from "../src/errors.js";
import { renderValue } from "./store/values.js";

const REF = /\{\{\s*(.*?)\s*\}\}/g;

export function hasRefs(s: string): boolean {
  return /\{\{.*?\}\}/.test(s);
}

/**
 * Replace every `{{ref}}` via `lookup`. `lookup` returns the value, or
 * `undefined` to leave the reference untouched (e.g. `{{item}}` before the
 * fan-out binds it). Substituted values are strings verbatim, others JSON,
 * then trimmed, as dflow does.
 */
export function renderRefs(s: string, lookup: (ref: string) => { value: unknown } | undefined): string {
  return s.replace(REF, (whole, ref: string) => {
    const hit = lookup(ref);
    if (!hit) return whole;
    return renderValue(hit.value).trim();
  });
}

/** All references in a string, without braces. */
export function refsIn(s: string): string[] {
  return [...s.matchAll(REF)].map((m) => m[1]);
}

/**
 * Replace `/tmp` by `<workdir>/tmp` where it starts a path component: not in
 * `/var/tmp`, `/tmpfoo` or `/tmp.x` (dflow's plain substring replacement
 * mangles those, Q22).
 */
export function rerootTmp(script: string, workdir: string): string {
  return script.replace(/(?<![\w.~$/-])\/tmp(?![\w.-])/g, () => `${workdir}/tmp`);
}

/** Render a script (§5.1 step 3): workflow/pod names and input parameters. */
export function renderScript(script: string, ctx: { workflowName: string; podName: string; parameters: Map<string, { value: unknown }>; where: { workflow: string; step: string } }): string {
  return script.replace(REF, (whole, ref: string) => {
    if (ref === "workflow.name") return ctx.workflowName;
    if (ref === "pod.name") return ctx.podName;
    const m = /^=?\s*inputs\.parameters\.([\w-]+)$/.exec(ref) ?? /^=?\s*inputs\.parameters\[['"]([\w-]+)['"]\]$/.exec(ref);
    if (m) {
      const p = ctx.parameters.get(m[1]);
      return p ? renderValue(p.value) : whole;
    }
    throw new DflowConfigError(`the script uses {{${ref}}}, which scripts cannot reference (only {{inputs.parameters.<name>}}, {{workflow.name}} and {{pod.name}}); pass the value as an input parameter`, ctx.where);
  });
}
