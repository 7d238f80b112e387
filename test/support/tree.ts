/**
 * Test support: compare a debug-mode directory tree written by dflow-ts with
 * the reference trees captured from Python dflow 1.8.129
 * (test/reference/dflow-debug-trees/*.txt).
 *
 * Both sides are brought to the reference's normalised form:
 *   - paths relative to <WORKDIR>, directories without a trailing slash;
 *   - absolute paths (in symlink targets and file contents) replaced by
 *     `<WORKDIR>` (`<WORKDIR:rel>` for the same path without its leading '/');
 *   - workflow suffixes `{wN}`, step suffixes `{sNN}`, uuids `{uuidNN}`,
 *     mkdtemp names `{tmpNN}`, and `<pid>` for the number in `pid` files.
 * The numbering of placeholders cannot be reproduced (it follows start order),
 * so comparisons go through `canonicalize`, which drops the numbers, and treat
 * entries and contents as multisets.
 */
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";

export type TreeEntry = {
  type: "d" | "f" | "l";
  /** relative to <WORKDIR>, '/'-separated, no trailing slash for dirs */
  path: string;
  /** symlinks only: the (normalised) link text */
  target?: string;
  /** symlinks only: what the target is: "dir", "file", "dangling" (or "other") */
  targetKind?: string;
};

export type Tree = {
  entries: TreeEntry[];
  /** regular files only; null = truncated (> 2 KiB) or binary, i.e. not comparable */
  contents: Map<string, string | null>;
};

export type CompareOptions = {
  /** called with the canonical path; true = leave the entry (and its content) out */
  ignore?: (path: string) => boolean;
  /** called with the canonical path; true = compare the entry but not its content */
  ignoreContent?: (path: string) => boolean;
};

// ---------------------------------------------------------------------------
// Reference parsing

const TREE_HEADING = "## Tree (normalised, sorted)";
const CONTENTS_HEADING_PREFIX = "## File contents";

/** Parse one reference file (path on disk). */
export function parseReference(file: string): Tree {
  return parseReferenceText(fs.readFileSync(file, "utf8"));
}

/** Parse the text of one reference file. */
export function parseReferenceText(text: string): Tree {
  const lines = text.split("\n");
  const entries = parseTreeSection(lines);
  const contents = parseContentsSection(lines);
  return { entries, contents };
}

function parseTreeSection(lines: string[]): TreeEntry[] {
  const start = lines.indexOf(TREE_HEADING);
  if (start < 0) throw new Error(`reference: no "${TREE_HEADING}" section`);
  let i = start + 1;
  while (i < lines.length && lines[i] !== "```") i++;
  if (i >= lines.length) throw new Error("reference: tree section has no fenced block");
  i++;
  const entries: TreeEntry[] = [];
  for (; i < lines.length && lines[i] !== "```"; i++) {
    const line = lines[i]!;
    if (line.trim() === "") continue;
    entries.push(parseTreeLine(line));
  }
  if (i >= lines.length) throw new Error("reference: unterminated tree block");
  return entries;
}

/** `TYPE SIZE PATH [-> TARGET (kind)]`, SIZE right-aligned in 8 columns (blank for d and l). */
export function parseTreeLine(line: string): TreeEntry {
  const m = /^([dfl]) ([ \d]{8}) (.*)$/.exec(line) ?? /^([dfl])\s+(\d*)\s*(.*)$/.exec(line);
  if (!m) throw new Error(`reference: bad tree line: ${JSON.stringify(line)}`);
  const type = m[1] as TreeEntry["type"];
  let rest = m[3]!;
  if (type === "l") {
    const arrow = rest.indexOf(" -> ");
    if (arrow < 0) throw new Error(`reference: symlink without target: ${JSON.stringify(line)}`);
    const p = rest.slice(0, arrow);
    let target = rest.slice(arrow + 4);
    let targetKind: string | undefined;
    const k = /\s\(([^()]*)\)$/.exec(target);
    if (k) {
      targetKind = k[1]!.trim().split(/\s+/)[0];
      target = target.slice(0, k.index);
    }
    const e: TreeEntry = { type, path: stripSlash(p), target };
    if (targetKind !== undefined) e.targetKind = targetKind;
    return e;
  }
  return { type, path: stripSlash(rest) };
}

function stripSlash(p: string): string {
  return p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
}

const FILE_HEADING = /^### (.*) \((\d+) B\)$/;

function isNoteLine(l: string | undefined): boolean {
  return l !== undefined && (l === "(no trailing newline)" || /^\[\.\.\. truncated/.test(l) || /^\(binary/.test(l));
}

function isSectionBoundary(lines: string[], j: number): boolean {
  // after a closing fence: optional note, blank lines, then a heading or EOF
  let k = j + 1;
  if (isNoteLine(lines[k])) k++;
  while (k < lines.length && lines[k]!.trim() === "") k++;
  return k >= lines.length || lines[k]!.startsWith("### ") || lines[k]!.startsWith("## ");
}

function parseContentsSection(lines: string[]): Map<string, string | null> {
  const contents = new Map<string, string | null>();
  const start = lines.findIndex((l) => l.startsWith(CONTENTS_HEADING_PREFIX));
  if (start < 0) return contents;
  let i = start + 1;
  while (i < lines.length) {
    const h = FILE_HEADING.exec(lines[i]!);
    if (!h) {
      i++;
      continue;
    }
    const p = h[1]!;
    const next = lines[i + 1];
    if (next === "(empty)") {
      contents.set(p, "");
      i += 2;
      continue;
    }
    if (next !== undefined && /^\(binary/.test(next)) {
      contents.set(p, null);
      i += 2;
      continue;
    }
    if (next !== "```") throw new Error(`reference: content of ${p} is neither fenced nor (empty): ${JSON.stringify(next)}`);
    let j = i + 2;
    while (j < lines.length && !(lines[j] === "```" && isSectionBoundary(lines, j))) j++;
    if (j >= lines.length) throw new Error(`reference: unterminated content block for ${p}`);
    const body = lines.slice(i + 2, j).join("\n");
    const note = lines[j + 1];
    if (note === "(no trailing newline)") contents.set(p, body);
    else if (isNoteLine(note)) contents.set(p, null); // truncated or binary
    else contents.set(p, body + "\n");
    i = j + 1;
  }
  return contents;
}

// ---------------------------------------------------------------------------
// Listing a real directory

export type ListTreeOptions = {
  /** the <WORKDIR> root: paths are made relative to it and its absolute path is replaced */
  workdir: string;
  /** files larger than this many bytes get null content, as the reference truncates them (default 2048) */
  maxContentBytes?: number;
  /** extra workflow ids (`<name>-<rand5>`) to recognise, e.g. when listing below the workflow dir */
  workflowIds?: string[];
};

type RawEntry = {
  abs: string;
  rel: string;
  type: TreeEntry["type"];
  time: number;
  target?: string;
  targetKind?: string;
  content?: string | null;
};

const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const WF_ID_RE = /^(.+)-([0-9a-z]{5})$/;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function startTime(st: fs.Stats): number {
  return st.birthtimeMs > 0 ? st.birthtimeMs : st.mtimeMs;
}

function decodeText(buf: Buffer): string | null {
  if (buf.includes(0)) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(buf);
  } catch {
    return null;
  }
}

async function symlinkKind(abs: string): Promise<string> {
  try {
    const st = await fsp.stat(abs);
    if (st.isDirectory()) return "dir";
    if (st.isFile()) return "file";
    return "other";
  } catch {
    return "dangling";
  }
}

async function walk(root: string, workdir: string, includeRoot: boolean, maxBytes: number): Promise<RawEntry[]> {
  const out: RawEntry[] = [];
  const toRel = (abs: string) => path.relative(workdir, abs).split(path.sep).join("/");
  async function visit(abs: string, include: boolean): Promise<void> {
    const st = await fsp.lstat(abs);
    const rel = toRel(abs);
    if (st.isSymbolicLink()) {
      if (include) {
        out.push({ abs, rel, type: "l", time: st.mtimeMs, target: await fsp.readlink(abs), targetKind: await symlinkKind(abs) });
      }
      return;
    }
    if (st.isDirectory()) {
      if (include) out.push({ abs, rel, type: "d", time: startTime(st) });
      const names = (await fsp.readdir(abs)).sort();
      for (const n of names) await visit(path.join(abs, n), true);
      return;
    }
    if (!include) return;
    let content: string | null = null;
    if (st.isFile() && st.size <= maxBytes) content = decodeText(await fsp.readFile(abs));
    out.push({ abs, rel, type: "f", time: st.mtimeMs, content });
  }
  await visit(root, includeRoot);
  return out;
}

/**
 * Walk `root` (without following symlinks) and return it in the reference's
 * normalised form. `root` is usually `workdir` itself; it may also be a
 * directory below it (then `root` itself is listed too).
 */
export async function listTree(root: string, opts: ListTreeOptions): Promise<Tree> {
  const workdir = path.resolve(opts.workdir);
  const absRoot = path.resolve(root);
  const maxBytes = opts.maxContentBytes ?? 2048;
  const raw = await walk(absRoot, workdir, absRoot !== workdir, maxBytes);
  const byRel = new Map(raw.map((e) => [e.rel, e]));

  // --- workflow dirs: top-level dirs (relative to workdir) holding a `status` file
  const wfIds = new Set<string>(opts.workflowIds ?? []);
  for (const e of raw) {
    if (e.type === "d" && !e.rel.includes("/") && e.rel !== "" && !e.rel.startsWith("..") && WF_ID_RE.test(e.rel)) {
      if (byRel.get(`${e.rel}/status`)?.type === "f") wfIds.add(e.rel);
    }
  }
  if (absRoot !== workdir) {
    // listing below a workflow dir: its id is the first component of the root's path
    const first = path.relative(workdir, absRoot).split(path.sep)[0]!;
    if (first && first !== ".." && WF_ID_RE.test(first) && fs.existsSync(path.join(workdir, first, "status"))) wfIds.add(first);
  }
  const wfTime = (id: string): number => {
    const times: number[] = [];
    const d = byRel.get(id);
    if (d) times.push(d.time);
    for (const f of ["pid", "type", "status"]) {
      const e = byRel.get(`${id}/${f}`);
      if (e) times.push(e.time);
    }
    if (times.length === 0) {
      try {
        times.push(startTime(fs.lstatSync(path.join(workdir, id))));
      } catch {
        /* not on disk */
      }
    }
    return times.length ? Math.min(...times) : Number.POSITIVE_INFINITY;
  };
  const wfs = [...wfIds].sort((a, b) => wfTime(a) - wfTime(b) || (a < b ? -1 : a > b ? 1 : 0));

  const literal = new Map<string, string>(); // random literal -> placeholder
  wfs.forEach((id, i) => literal.set(id, `${WF_ID_RE.exec(id)![1]}-{w${i + 1}}`));

  // --- step dirs: dirs inside a workflow dir holding a `name` file, named `<wfid>-<name>-<rand5>`
  type Step = { base: string; wf: string; middle: string; time: number; rel: string };
  const steps: Step[] = [];
  for (const e of raw) {
    if (e.type !== "d") continue;
    const wf = wfs.find((id) => e.rel.startsWith(`${id}/`));
    if (!wf) continue;
    const nameFile = byRel.get(`${e.rel}/name`);
    if (nameFile?.type !== "f") continue;
    const base = e.rel.slice(e.rel.lastIndexOf("/") + 1);
    const m = new RegExp(`^${escapeRe(wf)}-(.+)-[0-9a-z]{5}$`).exec(base);
    if (!m) continue; // keyed step: keeps its name
    steps.push({ base, wf, middle: m[1]!, time: nameFile.time, rel: e.rel });
  }
  steps.sort((a, b) => a.time - b.time || (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  let sn = 0;
  for (const s of steps) {
    if (literal.has(s.base)) continue;
    sn++;
    literal.set(s.base, `${literal.get(s.wf)}-${s.middle}-{s${String(sn).padStart(2, "0")}}`);
  }

  // --- uuids and mkdtemp names, numbered in (approximate) creation order
  const uuids = new Map<string, string>();
  const addUuid = (u: string) => {
    if (!uuids.has(u)) uuids.set(u, `{uuid${String(uuids.size + 1).padStart(2, "0")}}`);
  };
  const tmps = new Map<string, string>();
  const addTmp = (t: string) => {
    // Python's mkdtemp(): "tmp" + 8 of [a-z0-9_]; Node's mkdtemp("tmp"): "tmp" + 6 of [A-Za-z0-9]
    if (!/^tmp[A-Za-z0-9_]{6,10}$/.test(t)) return;
    if (!tmps.has(t) && !literal.has(t)) tmps.set(t, `{tmp${String(tmps.size + 1).padStart(2, "0")}}`);
  };
  const chrono = [...raw].sort((a, b) => a.time - b.time || (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  const uploadTmpRe = new RegExp(`(?:^|/)upload/(${UUID_RE.source})/([^/\\s'"\\\\]+)`, "g");
  for (const e of chrono) {
    for (const u of e.rel.match(UUID_RE) ?? []) addUuid(u);
    for (const m of e.rel.matchAll(uploadTmpRe)) if (m.index === 0) addTmp(m[2]!);
  }
  for (const e of chrono) {
    for (const s of [e.target, e.content]) {
      if (!s) continue;
      for (const u of s.match(UUID_RE) ?? []) addUuid(u);
      for (const m of s.matchAll(uploadTmpRe)) addTmp(m[2]!);
    }
  }
  for (const [t, ph] of tmps) literal.set(t, ph);

  // --- the normaliser
  const workdirs = [...new Set([workdir, safeRealpath(workdir)])].sort((a, b) => b.length - a.length);
  const absRes = workdirs.map((w) => new RegExp(`(?<![A-Za-z0-9_.\\-])${escapeRe(w)}(?![A-Za-z0-9_.\\-])`, "g"));
  const relRes = workdirs
    .filter((w) => w.length > 1)
    .map((w) => new RegExp(`(?<![A-Za-z0-9_.\\-])${escapeRe(w.slice(1))}(?![A-Za-z0-9_.\\-])`, "g"));
  const keys = [...literal.keys()].sort((a, b) => b.length - a.length);
  const litRe = keys.length ? new RegExp(`(?<![A-Za-z0-9])(?:${keys.map(escapeRe).join("|")})(?![A-Za-z0-9])`, "g") : null;
  const norm = (s: string): string => {
    for (const re of absRes) s = s.replace(re, "<WORKDIR>");
    for (const re of relRes) s = s.replace(re, "<WORKDIR:rel>");
    if (litRe) s = s.replace(litRe, (k) => literal.get(k)!);
    s = s.replace(UUID_RE, (u) => {
      addUuid(u);
      return uuids.get(u)!;
    });
    return s;
  };

  const entries: TreeEntry[] = [];
  const contents = new Map<string, string | null>();
  for (const e of raw) {
    const p = norm(e.rel);
    if (e.type === "l") entries.push({ type: "l", path: p, target: norm(e.target!), targetKind: e.targetKind! });
    else entries.push({ type: e.type, path: p });
    if (e.type === "f") {
      let c = e.content ?? null;
      if (c !== null) {
        c = norm(c);
        if (path.basename(e.rel) === "pid") c = c.replace(/^\d+/, "<pid>");
      }
      contents.set(p, c);
    }
  }
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { entries, contents };
}

function safeRealpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

// ---------------------------------------------------------------------------
// Canonical form and comparison

/** Drop the numbers of the placeholders: `{wN}`→`{w}`, `{sNN}`→`{s}`, `{uuidNN}`→`{uuid}`, `{tmpNN}`→`{tmp}`. */
export function canonicalize(x: string): string;
export function canonicalize(x: TreeEntry): TreeEntry;
export function canonicalize(x: TreeEntry[]): TreeEntry[];
export function canonicalize(x: Tree): Tree;
export function canonicalize(x: string | TreeEntry | TreeEntry[] | Tree): string | TreeEntry | TreeEntry[] | Tree {
  if (typeof x === "string") {
    return x.replace(/\{w\d+\}/g, "{w}").replace(/\{s\d+\}/g, "{s}").replace(/\{uuid\d+\}/g, "{uuid}").replace(/\{tmp\d+\}/g, "{tmp}");
  }
  if (Array.isArray(x)) return x.map((e) => canonicalize(e));
  if ("entries" in x) {
    const contents = new Map<string, string | null>();
    for (const [p, c] of x.contents) contents.set(canonicalize(p), c === null ? null : canonicalize(c));
    return { entries: canonicalize(x.entries), contents };
  }
  const e: TreeEntry = { type: x.type, path: canonicalize(x.path) };
  if (x.target !== undefined) e.target = canonicalize(x.target);
  if (x.targetKind !== undefined) e.targetKind = x.targetKind;
  return e;
}

/**
 * The ignore rule most layout tests want: the `dflow_python_packages` artifact
 * (only Python OPs have it) and everything under the top-level `upload/` dir.
 */
export function defaultIgnore(p: string): boolean {
  return p === "upload" || p.startsWith("upload/") || /(^|\/)dflow_python_packages(\/|$)/.test(p);
}

export function formatEntry(e: TreeEntry): string {
  if (e.type === "d") return `d ${e.path}/`;
  if (e.type === "l") return `l ${e.path} -> ${e.target ?? "?"}${e.targetKind ? ` (${e.targetKind})` : ""}`;
  return `f ${e.path}`;
}

function kindWord(k: string | undefined): string | undefined {
  return k === "missing" ? "dangling" : k;
}

function sameEntry(a: TreeEntry, b: TreeEntry): boolean {
  if (a.type !== b.type || a.path !== b.path) return false;
  if (a.type !== "l") return true;
  if (a.target !== b.target) return false;
  const ka = kindWord(a.targetKind);
  const kb = kindWord(b.targetKind);
  return ka === undefined || kb === undefined || ka === kb;
}

function groupBy<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const l = m.get(k);
    if (l) l.push(x);
    else m.set(k, [x]);
  }
  return m;
}

function describeContentDiff(expected: string, actual: string): string {
  let i = 0;
  while (i < expected.length && i < actual.length && expected[i] === actual[i]) i++;
  const line = expected.slice(0, i).split("\n").length;
  const from = Math.max(0, i - 40);
  const show = (s: string) => JSON.stringify((from > 0 ? "…" : "") + s.slice(from, i + 60) + (s.length > i + 60 ? "…" : ""));
  return `first difference at offset ${i} (line ${line})\n    expected: ${show(expected)}\n    actual:   ${show(actual)}`;
}

/**
 * Compare two trees in canonical form (entries and contents as multisets).
 * Returns human-readable differences; [] when the trees match.
 */
export function compareTrees(actual: Tree, expected: Tree, opts: CompareOptions = {}): string[] {
  const ignore = opts.ignore ?? (() => false);
  const ignoreContent = opts.ignoreContent ?? (() => false);
  const act = canonicalize(actual);
  const exp = canonicalize(expected);
  const diffs: string[] = [];

  const aByPath = groupBy(act.entries.filter((e) => !ignore(e.path)), (e) => e.path);
  const eByPath = groupBy(exp.entries.filter((e) => !ignore(e.path)), (e) => e.path);
  const paths = [...new Set([...eByPath.keys(), ...aByPath.keys()])].sort();
  const bothFiles = new Set<string>();
  for (const p of paths) {
    const es = [...(eByPath.get(p) ?? [])];
    const as = [...(aByPath.get(p) ?? [])];
    // exact matches first
    for (let i = es.length - 1; i >= 0; i--) {
      const j = as.findIndex((a) => sameEntry(a, es[i]!));
      if (j >= 0) {
        if (es[i]!.type === "f") bothFiles.add(p);
        es.splice(i, 1);
        as.splice(j, 1);
      }
    }
    const n = Math.min(es.length, as.length);
    for (let i = 0; i < n; i++) {
      diffs.push(`wrong entry: ${p}\n    expected: ${formatEntry(es[i]!)}\n    actual:   ${formatEntry(as[i]!)}`);
    }
    for (const e of es.slice(n)) diffs.push(`missing: ${formatEntry(e)}`);
    for (const a of as.slice(n)) diffs.push(`extra: ${formatEntry(a)}`);
  }

  // contents, for files present on both sides
  const aC = groupBy([...actual.contents].map(([p, c]) => [canonicalize(p), c === null ? null : canonicalize(c)] as const), (x) => x[0]);
  const eC = groupBy([...expected.contents].map(([p, c]) => [canonicalize(p), c === null ? null : canonicalize(c)] as const), (x) => x[0]);
  for (const p of [...bothFiles].sort()) {
    if (ignoreContent(p)) continue;
    const es = (eC.get(p) ?? []).map((x) => x[1]);
    const as = (aC.get(p) ?? []).map((x) => x[1]);
    if (es.length === 0 || as.length === 0) continue; // no content recorded on one side
    // remove exact matches
    for (let i = es.length - 1; i >= 0; i--) {
      if (es[i] === null) continue;
      const j = as.indexOf(es[i]!);
      if (j >= 0) {
        es.splice(i, 1);
        as.splice(j, 1);
      }
    }
    // an expected null (truncated in the reference) matches anything
    for (let i = es.length - 1; i >= 0; i--) {
      if (es[i] === null && as.length > 0) {
        es.splice(i, 1);
        as.pop();
      }
    }
    const n = Math.min(es.length, as.length);
    for (let i = 0; i < n; i++) {
      const e = es[i]!;
      const a = as[i];
      if (a === null || a === undefined) {
        diffs.push(`content differs: ${p}\n    expected: ${JSON.stringify(e.length > 200 ? e.slice(0, 200) + "…" : e)}\n    actual:   (binary or larger than the 2 KiB limit)`);
      } else {
        diffs.push(`content differs: ${p}: ${describeContentDiff(e, a)}`);
      }
    }
  }
  return diffs;
}
