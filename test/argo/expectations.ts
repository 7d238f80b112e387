// Checks a run's Argo node view against an entry of the corpus's
// expectations.json (fixtures/argo/examples/README.md, "asserts").
import fs from "node:fs";
import path from "node:path";
import type { ArgoStatus } from "../../engine/argo/index.js";

export interface Expectation {
  phase: string;
  class?: string;
  features?: string[];
  requires?: string[];
  asserts?: Asserts;
  validation?: { rejected: boolean; errorContains: string };
  support?: string[];
  random?: boolean | string;
  durationSec?: number;
}

type Want = string | { oneOf: string[] } | { startsWith: string } | { trimmed: string };

interface NodeChecks {
  phase?: Want;
  type?: string;
  notType?: string;
  absent?: boolean;
  messageContains?: string;
  exitCode?: Want;
  inputs?: { parameters?: Record<string, Want> };
  outputs?: { parameters?: Record<string, Want>; result?: Want };
  inputsHaveParameter?: string;
  childCount?: number;
  logContains?: string;
}

interface Asserts {
  nodes?: Record<string, NodeChecks>;
  anyNode?: NodeChecks;
  workflow?: { message?: string; messageContains?: string; messageEmpty?: boolean; labels?: Record<string, string>; progress?: string; outputs?: { parameters?: Record<string, Want> } };
  nodeCount?: number;
  maxNodeCount?: number;
  podNodeCount?: number;
  maxConcurrentPods?: number;
  memoizationHit?: boolean;
  artifactStore?: Record<string, string>;
}

function matches(got: string | undefined, want: Want): boolean {
  if (got === undefined) return false;
  if (typeof want === "string") return got === want;
  if ("oneOf" in want) return want.oneOf.includes(got);
  if ("startsWith" in want) return got.startsWith(want.startsWith);
  return got.trim() === want.trimmed.trim();
}

type Node = ArgoStatus["nodes"][string];

function nodeProblems(n: Node, c: NodeChecks, log: (n: Node) => string): string[] {
  const p: string[] = [];
  const param = (list: Array<{ name: string; value?: string }> | undefined, name: string) => list?.find((x) => x.name === name)?.value;
  if (c.phase !== undefined && !matches(n.phase, c.phase)) p.push(`phase ${n.phase}, want ${JSON.stringify(c.phase)}`);
  if (c.type !== undefined && n.type !== c.type) p.push(`type ${n.type}, want ${c.type}`);
  if (c.notType !== undefined && n.type === c.notType) p.push(`type is ${n.type}`);
  if (c.messageContains !== undefined && !(n.message ?? "").includes(c.messageContains)) p.push(`message ${JSON.stringify(n.message)} lacks ${JSON.stringify(c.messageContains)}`);
  if (c.exitCode !== undefined && !matches(n.outputs?.exitCode, c.exitCode)) p.push(`exitCode ${n.outputs?.exitCode}, want ${JSON.stringify(c.exitCode)}`);
  for (const [k, w] of Object.entries(c.inputs?.parameters ?? {})) if (!matches(param(n.inputs?.parameters, k), w)) p.push(`inputs.parameters.${k} ${JSON.stringify(param(n.inputs?.parameters, k))}, want ${JSON.stringify(w)}`);
  for (const [k, w] of Object.entries(c.outputs?.parameters ?? {})) if (!matches(param(n.outputs?.parameters, k), w)) p.push(`outputs.parameters.${k} ${JSON.stringify(param(n.outputs?.parameters, k))}, want ${JSON.stringify(w)}`);
  if (c.outputs?.result !== undefined && !matches(n.outputs?.result, c.outputs.result)) p.push(`outputs.result ${JSON.stringify(n.outputs?.result)}, want ${JSON.stringify(c.outputs.result)}`);
  if (c.inputsHaveParameter !== undefined && !n.inputs?.parameters?.some((x) => x.name === c.inputsHaveParameter)) p.push(`no input parameter ${c.inputsHaveParameter}`);
  if (c.childCount !== undefined && n.children.length !== c.childCount) p.push(`${n.children.length} children, want ${c.childCount}`);
  if (c.logContains !== undefined && !log(n).includes(c.logContains)) p.push(`log lacks ${JSON.stringify(c.logContains)}`);
  return p;
}

/** What does not hold of `status` (the run of one case); [] when all holds. */
export function checkAsserts(status: ArgoStatus, wfdir: string, exp: Expectation, artifactRoot: string): string[] {
  const problems: string[] = [];
  if (status.phase !== exp.phase) problems.push(`workflow phase ${status.phase}, want ${exp.phase}${status.message ? ` (message: ${status.message})` : ""}`);
  const a = exp.asserts;
  if (!a) return problems;
  const nodes = Object.values(status.nodes);
  const log = (n: Node) => {
    try {
      return fs.readFileSync(path.join(wfdir, n.id, "log.txt"), "utf8");
    } catch {
      return "";
    }
  };
  for (const [key, c] of Object.entries(a.nodes ?? {})) {
    const name = key.replaceAll("$wf", status.name);
    const found = key.startsWith("~") ? nodes.filter((n) => n.name.includes(name.slice(1))) : nodes.filter((n) => n.displayName === name);
    if (c.absent) {
      if (found.length) problems.push(`node ${key}: present (${found[0].phase}), want absent`);
      continue;
    }
    if (!found.length) {
      problems.push(`node ${key}: not found`);
      continue;
    }
    const each = found.map((n) => nodeProblems(n, c, log));
    if (each.every((p) => p.length)) problems.push(`node ${key}: ${each[0].join("; ")}`);
  }
  if (a.anyNode && !nodes.some((n) => nodeProblems(n, a.anyNode!, log).length === 0)) problems.push(`no node matches ${JSON.stringify(a.anyNode)}`);
  const w = a.workflow;
  if (w) {
    if (w.message !== undefined && status.message !== w.message) problems.push(`workflow message ${JSON.stringify(status.message)}, want ${JSON.stringify(w.message)}`);
    if (w.messageContains !== undefined && !(status.message ?? "").includes(w.messageContains)) problems.push(`workflow message ${JSON.stringify(status.message)} lacks ${JSON.stringify(w.messageContains)}`);
    if (w.messageEmpty && status.message) problems.push(`workflow message ${JSON.stringify(status.message)}, want none`);
    for (const [k, v] of Object.entries(w.labels ?? {})) if (status.labels[k] !== v) problems.push(`label ${k} ${JSON.stringify(status.labels[k])}, want ${JSON.stringify(v)}`);
    if (w.progress !== undefined && status.progress !== w.progress) problems.push(`progress ${status.progress}, want ${w.progress}`);
    for (const [k, v] of Object.entries(w.outputs?.parameters ?? {})) {
      const got = status.outputs?.parameters?.find((p) => p.name === k)?.value;
      if (!matches(got, v)) problems.push(`workflow output ${k} ${JSON.stringify(got)}, want ${JSON.stringify(v)}`);
    }
  }
  const pods = nodes.filter((n) => n.type === "Pod");
  if (a.nodeCount !== undefined && nodes.length !== a.nodeCount) problems.push(`${nodes.length} nodes, want ${a.nodeCount}`);
  if (a.maxNodeCount !== undefined && nodes.length > a.maxNodeCount) problems.push(`${nodes.length} nodes, want at most ${a.maxNodeCount}`);
  if (a.podNodeCount !== undefined && pods.length !== a.podNodeCount) problems.push(`${pods.length} pod nodes, want ${a.podNodeCount}`);
  if (a.maxConcurrentPods !== undefined) {
    // Pods overlapping in time, from their recorded start and finish.
    const events = pods.flatMap((n) => [
      [Date.parse(n.startedAt), 1],
      [Date.parse(n.finishedAt ?? n.startedAt), -1],
    ]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    let cur = 0;
    let max = 0;
    for (const [, d] of events) max = Math.max(max, (cur += d));
    if (max > a.maxConcurrentPods) problems.push(`${max} pods ran at once, want at most ${a.maxConcurrentPods}`);
  }
  if (a.memoizationHit && !nodes.some((n) => n.memoizationStatus?.hit)) problems.push("no memoization hit");
  for (const [key, want] of Object.entries(a.artifactStore ?? {})) {
    const file = path.join(artifactRoot, key.replaceAll("{{workflow.name}}", status.name));
    let got: string | undefined;
    try {
      got = fs.readFileSync(file, "utf8");
    } catch {
      got = undefined;
    }
    if (got?.trim() !== want.trim()) problems.push(`artifact ${key}: ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  }
  return problems;
}
