// The shape of a workflow's Steps and DAG templates, kept in
// <wfdir>/.engine/graph.json when it starts: which steps each group of a
// Steps template holds, and which tasks each DAG task waits for. dflow's
// step directories record what ran, not the edges between steps (a DAG's
// order keys say nothing of its dependencies), and the UI and reports draw
// the graph as Argo draws it, so the edges are written down here.
import fs from "node:fs";
import path from "node:path";
import type { OPTemplate } from "../../src/templates.js";
import type { Step } from "../../src/step.js";
import { DAG, Steps } from "../../src/steps.js";
import { isFanout } from "../../src/fanout-check.js";
import { taskDependencies } from "../dag-deps.js";
import { engineDir } from "./engine-dir.js";
import { writeAtomicSync } from "./fsx.js";
import type { GraphStep, GraphTemplate, WorkflowGraph } from "../api/json.js";

export type { GraphStep, GraphTemplate, WorkflowGraph } from "../api/json.js";

function kindOf(t: OPTemplate): GraphStep["type"] {
  return t instanceof Steps ? "Steps" : t instanceof DAG ? "DAG" : "Pod";
}

function stepOf(s: Step): GraphStep {
  return { name: s.name, template: s.template.name, type: kindOf(s.template), fanout: isFanout(s) };
}

export function workflowGraph(entry: Steps | DAG): WorkflowGraph {
  const templates: Record<string, GraphTemplate> = {};
  const visit = (t: OPTemplate): void => {
    if (templates[t.name] || !(t instanceof Steps || t instanceof DAG)) return;
    if (t instanceof Steps) {
      const groups = t.steps.map((g) => (Array.isArray(g) ? g : [g]));
      templates[t.name] = { type: "Steps", groups: groups.map((g) => g.map(stepOf)) };
      for (const g of groups) for (const s of g) visit(s.template);
    } else {
      let deps: Map<Step, Set<string>>;
      try {
        deps = taskDependencies(t);
      } catch {
        deps = new Map(); // refused at submit already; no edges rather than no run
      }
      templates[t.name] = { type: "DAG", tasks: t.tasks.map((k) => ({ ...stepOf(k), dependencies: [...(deps.get(k) ?? [])] })) };
      for (const k of t.tasks) visit(k.template);
    }
  };
  visit(entry);
  return { entrypoint: entry.name, templates };
}

/** Written once per engine start; a failure to write it costs the UI its edges, never the run. */
export function writeGraph(wfdir: string, entry: Steps | DAG): void {
  try {
    writeAtomicSync(path.join(engineDir(wfdir), "graph.json"), JSON.stringify(workflowGraph(entry)));
  } catch {
    // the UI falls back to the order keys
  }
}

/** The graph a workflow's engine wrote, or null (an older engine, or a run that wrote none). */
export function readGraph(wfdir: string): WorkflowGraph | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(engineDir(wfdir), "graph.json"), "utf8")) as WorkflowGraph;
  } catch {
    return null;
  }
}
