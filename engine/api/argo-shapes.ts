// Argo's shapes for the Argo Server API: its error ({code, message} with a
// gRPC code), names, timestamps, Kubernetes label selectors, the `fields`
// filter of its list/get answers, and manifest linting with the local
// interpreter's own loader and check (what would run is what lints).
import fs from "node:fs";
import { DflowConfigError } from "../../src/errors.js";
import { type ArgoWorkflow, checkWorkflow, loadArgo } from "../argo/index.js";
import { type Obj, asObj } from "../argo/manifest.js";
import { type Requirement, meets, parseRequirements } from "../argo/selector.js";

export { type Obj, asObj };

/** A manifest's or request's value as text ("" when absent). */
export const str = (v: unknown): string => (typeof v === "string" ? v : v === undefined || v === null ? "" : String(v));

/** gRPC codes the Argo Server answers with, and the HTTP status grpc-gateway gives each. */
export const GRPC_HTTP = { 3: 400, 5: 404, 6: 409, 7: 403, 9: 400, 12: 501, 13: 500, 16: 401 } as const;
export type GrpcCode = keyof typeof GRPC_HTTP;

/** A request the Argo Server API refuses, in Argo's terms. */
export class ArgoApiError extends Error {
  constructor(
    readonly code: GrpcCode,
    message: string,
  ) {
    super(message);
    this.name = "ArgoApiError";
  }
}

const DNS_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** A Kubernetes object name (DNS subdomain): refused otherwise, as Kubernetes does. */
export function checkName(name: string, what: string): string {
  if (name.length > 253 || !DNS_NAME.test(name)) throw new ArgoApiError(3, `${what} ${JSON.stringify(name)} is invalid: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`);
  return name;
}

/** The namespaces that have a folder in `dir` (the stores keep one per namespace), sorted. */
export function namespacesIn(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && DNS_NAME.test(e.name))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/** Kubernetes' timestamp: RFC 3339 in seconds. */
export function k8sTime(d: Date | string): string {
  return new Date(d).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * The manifest loaded and checked as the interpreter will run it, given the
 * namespace's templates and objects (`support`) and the database's limit
 * table; an invalid or unsupported one is InvalidArgument.
 */
export function lintManifest(workflow: Obj, support: Array<{ text: string; source: string }>, syncLimits: Map<string, number>): ArgoWorkflow {
  try {
    const wf = loadArgo(JSON.stringify(workflow), `Workflow ${String(asObj(workflow.metadata).name ?? asObj(workflow.metadata).generateName ?? "")}`, support);
    wf.syncLimits = syncLimits;
    checkWorkflow(wf);
    return wf;
  } catch (e) {
    if (e instanceof DflowConfigError) throw new ArgoApiError(3, e.message);
    throw e;
  }
}

// ------------------------------------------------------------ label selectors

/** A Kubernetes label selector (`a=b,c!=d,e in (f,g),h,!i`); refused when it does not parse. */
export function parseLabelSelector(sel: string): Requirement[] {
  try {
    return parseRequirements(sel);
  } catch (e) {
    throw new ArgoApiError(3, `listOptions.labelSelector: ${(e as Error).message}`);
  }
}

export function matchesLabels(reqs: Requirement[], labels: Record<string, string>): boolean {
  return reqs.every((r) => meets(r, labels[r.key]));
}

// ------------------------------------------------------------ field selectors

/** What a workflow list (or watch) selects, as Argo Server's ListWorkflows reads its request. */
export interface WorkflowSelection {
  /** By name (tested first: no file read). */
  name(name: string): boolean;
  /** By namespace (tested before a workflow's status is read). */
  namespace(namespace: string): boolean;
  /** By the times of the Workflow object (metadata.creationTimestamp, status.startedAt/finishedAt). */
  timed(wf: Obj): boolean;
  labels: Requirement[];
  limit: number;
  offset: number;
}

/** How a metadata.name field selector matches a workflow's name, by Argo's `nameFilter`. */
const NAME_FILTERS: Record<string, (name: string, value: string) => boolean> = {
  Exact: (n, v) => n === v,
  Contains: (n, v) => n.includes(v),
  Prefix: (n, v) => n.startsWith(v),
  NotEquals: (n, v) => n !== v,
};

/**
 * Argo's list options (server/utils/list_options.go BuildListOptions): the
 * field selector's metadata.namespace (=, ==, !=), metadata.name (matched as
 * `nameFilter` says: Exact, Contains, Prefix; != is NotEquals) and
 * spec.startedAt (> and <), `createdAfter`, `finishedBefore`, the label
 * selector, `limit` and `continue` (an offset, as Argo's). `namespace` is the
 * request's ("" for every namespace). InvalidArgument for what does not parse.
 */
export function workflowSelection(namespace: string, q: { fieldSelector?: string; labelSelector?: string; nameFilter?: string; createdAfter?: string; finishedBefore?: string; limit?: string; continue?: string }): WorkflowSelection {
  const time = (v: string, what: string) => {
    const t = Date.parse(v);
    if (Number.isNaN(t)) throw new ArgoApiError(3, `${what} ${JSON.stringify(v)} is not an RFC 3339 time`);
    return t;
  };
  let ns = namespace;
  let nsNot = false;
  let name: string | undefined;
  let nameFilter = q.nameFilter || "Exact";
  if (!(nameFilter in NAME_FILTERS)) throw new ArgoApiError(3, `nameFilter ${JSON.stringify(q.nameFilter)} is not one of ${Object.keys(NAME_FILTERS).join(", ")}`);
  let startedAfter = -Infinity;
  let startedBefore = Infinity;
  for (const term of (q.fieldSelector ?? "").split(",")) {
    if (!term) continue;
    const [, key, op = "", value = ""] = /^([\w.]+)(!=|==|=|>|<)(.*)$/.exec(term) ?? [];
    const equality = op === "=" || op === "==" || op === "!=";
    if (key === "metadata.namespace" && equality) {
      if (op === "!=") [ns, nsNot] = [value, true];
      else if (ns && ns !== value) throw new ArgoApiError(3, `'namespace' query param (${JSON.stringify(ns)}) and fieldselector 'metadata.namespace' (${JSON.stringify(value)}) are both specified and contradict each other`);
      else ns = value;
    } else if (key === "metadata.name" && equality) {
      name = value;
      if (op === "!=") nameFilter = "NotEquals";
    } else if (key === "spec.startedAt" && op === ">") startedAfter = time(value, "spec.startedAt");
    else if (key === "spec.startedAt" && op === "<") startedBefore = time(value, "spec.startedAt");
    else if (key !== "ext.showRemainingItemCount") throw new ArgoApiError(3, `listOptions.fieldSelector: unsupported requirement ${term}`);
  }
  const createdAfter = q.createdAfter ? time(q.createdAfter, "createdAfter") : -Infinity;
  const finishedBefore = q.finishedBefore ? time(q.finishedBefore, "finishedBefore") : undefined;
  const labels = parseLabelSelector(q.labelSelector ?? "");
  const limit = q.limit ? Number(q.limit) : 0;
  if (!Number.isInteger(limit) || limit < 0) throw new ArgoApiError(3, `listOptions.limit must be a non-negative integer, got ${JSON.stringify(q.limit)}`);
  const offset = q.continue ? Number(q.continue) : 0;
  if (!Number.isInteger(offset)) throw new ArgoApiError(3, "listOptions.continue must be int");
  if (offset < 0) throw new ArgoApiError(3, "listOptions.continue must >= 0");
  const matches = NAME_FILTERS[nameFilter]!;
  const at = (v: unknown) => (typeof v === "string" && v ? Date.parse(v) : NaN);
  return {
    name: (n) => name === undefined || matches(n, name),
    namespace: (space) => !ns || (space === ns) !== nsNot,
    timed: (wf) => {
      const created = at(asObj(wf.metadata).creationTimestamp);
      const started = at(asObj(wf.status).startedAt);
      const finished = at(asObj(wf.status).finishedAt);
      // A bound on a time the workflow has not got (not finished yet) leaves it out, as Argo's SQL does.
      if (createdAfter !== -Infinity && !(created >= createdAfter)) return false;
      if ((startedAfter !== -Infinity || startedBefore !== Infinity) && !(started > startedAfter && started < startedBefore)) return false;
      return finishedBefore === undefined || finished <= finishedBefore;
    },
    labels,
    limit,
    offset,
  };
}

/**
 * A Kubernetes field selector (`displayName=approve,phase!=Failed`: terms
 * key=value, key==value or key!=value, a comma or an equals sign in a value
 * escaped by a backslash) as a test of an object's fields; refused, naming
 * `where`, when it does not parse or names a field not among `known`.
 */
export function parseFieldSelector(sel: string, where: string, known: (key: string) => boolean): (fields: Record<string, string>) => boolean {
  const terms: Array<{ key: string; not: boolean; value: string }> = [];
  for (const raw of sel.split(/(?<!\\),/)) {
    if (!raw.trim()) continue;
    const m = /^\s*([^!=\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(raw);
    if (!m) throw new ArgoApiError(3, `${where}: cannot parse ${JSON.stringify(raw.trim())} (expected key=value or key!=value)`);
    if (!known(m[1]!)) throw new ArgoApiError(3, `${where}: field ${JSON.stringify(m[1])} is not one that can be selected on`);
    terms.push({ key: m[1]!, not: m[2] === "!=", value: m[3]!.replace(/\\([,=\\])/g, "$1") });
  }
  return (fields) => terms.every((t) => (fields[t.key] === t.value) !== t.not);
}

// ------------------------------------------------------------ fields

/**
 * Argo's `fields` parameter: a comma-separated list of dotted paths to keep
 * (`metadata,items.metadata.name,items.status.phase`), or, starting with
 * `-`, paths to drop (`-status.nodes`). Arrays apply the rest of the path to
 * each element.
 */
export function filterFields(v: unknown, fields: string | undefined): unknown {
  if (!fields) return v;
  const exclude = fields.startsWith("-");
  const paths = (exclude ? fields.slice(1) : fields)
    .split(",")
    .map((f) => f.trim())
    .filter(Boolean)
    .map((f) => f.split("."));
  return exclude ? drop(v, paths) : keep(v, paths);
}

function keep(v: unknown, paths: string[][]): unknown {
  if (paths.some((p) => p.length === 0)) return v;
  if (Array.isArray(v)) return v.map((x) => keep(x, paths));
  if (!v || typeof v !== "object") return undefined;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v as Obj)) {
    const sub = paths.filter((p) => p[0] === k).map((p) => p.slice(1));
    if (!sub.length) continue;
    const kept = keep(x, sub);
    if (kept !== undefined) out[k] = kept;
  }
  return out;
}

function drop(v: unknown, paths: string[][]): unknown {
  if (Array.isArray(v)) return v.map((x) => drop(x, paths));
  if (!v || typeof v !== "object") return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v as Obj)) {
    const sub = paths.filter((p) => p[0] === k).map((p) => p.slice(1));
    if (sub.some((p) => p.length === 0)) continue;
    out[k] = sub.length ? drop(x, sub) : x;
  }
  return out;
}
