// The workflows list's logic: newest first, filters, counts per status. Pure.
import { ms } from "./format";
import type { WorkflowJson } from "./types";

/** Newest first; not started yet (no start time) before all. */
export function newestFirst(a: WorkflowJson, b: WorkflowJson): number {
  const ta = ms(a.started) ?? Infinity;
  const tb = ms(b.started) ?? Infinity;
  if (ta !== tb) return tb > ta ? 1 : -1;
  return a.id.localeCompare(b.id);
}

export function filterWorkflows(all: WorkflowJson[], status: string, name: string): WorkflowJson[] {
  const needle = name.trim().toLowerCase();
  return all.filter((w) => (!status || w.status === status) && (!needle || w.id.toLowerCase().includes(needle)));
}

export function statusCounts(all: WorkflowJson[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const w of all) c[w.status] = (c[w.status] ?? 0) + 1;
  return c;
}
