// Tree-walking evaluator for the expr-lang subset (argo-semantics §5), with
// expr-lang's built-ins, Argo's additions (asInt, asFloat, toJson, jsonpath)
// and a Sprig subset. No eval, no Function: member access reads only own data
// properties of plain data (objects, arrays, strings), never prototypes.
//
// Values: nil is `null` (an `undefined` in the environment counts as nil);
// numbers are JS numbers (expr-lang's int/float distinction is not kept:
// `/` and `**` give floats as in expr-lang, integral results print as
// integers); lists are arrays; maps are plain objects.
//
// dflow-ts leniencies (parameter values are usually strings):
//  - `== != < > <= >=` and `in` compare a number with a numeric string
//    numerically (`'5' == 5`, `'10' > 9`); two strings still compare as text.
//  - a member of nil or a missing map key is nil (`a.b.c ?? 'x'` works even
//    when `a.b` is missing); expr-lang errors on a member of nil without `?.`.
import { createRequire } from "node:module";
import { DflowConfigError } from "../../src/errors.js";
import { ExprError, exprConfigError } from "./lexer.js";
import { parseExpr, sourceOf, PREDICATE_BUILTINS, type BuiltinName, type Node, type PredicateName, type SprigName } from "./parser.js";
import { GoDuration, GoTime, TimeError, callMethod, durationString, formatTime, parseDate, parseDuration, timeArithmetic, timeOrder, timeString } from "./time.js";

type Env = Record<string, unknown>;

interface Frame {
  item: unknown;
  index: number;
}

interface Ctx {
  env: Env;
  frames: Frame[];
}

/** Thrown by built-ins; the call site adds the function name and position. */
class BuiltinError extends Error {}

/**
 * Evaluate an expr-lang expression (source text or a parsed Node) against
 * `env` (nested plain objects). Throws DflowConfigError quoting the expression
 * for syntax errors, unknown variables/functions and type errors.
 */
export function evaluate(src: string | Node, env: Record<string, unknown>): unknown {
  const node = typeof src === "string" ? parseExpr(src) : src;
  try {
    return evalNode(node, { env, frames: [] });
  } catch (e) {
    if (e instanceof ExprError) {
      const text = typeof src === "string" ? src : sourceOf(node);
      if (text !== undefined) throw exprConfigError("cannot evaluate expression", text, e);
      throw new DflowConfigError(`cannot evaluate expression: ${e.message}`);
    }
    throw e;
  }
}

// ---------------------------------------------------------------- values

const isNil = (v: unknown): v is null | undefined => v === null || v === undefined;

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof GoTime) && !(v instanceof GoDuration);
}

export function typeName(v: unknown): string {
  if (isNil(v)) return "nil";
  if (Array.isArray(v)) return "list";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "string") return "string";
  if (isMap(v)) return "map";
  if (v instanceof GoTime) return "time.Time";
  if (v instanceof GoDuration) return "time.Duration";
  return typeof v;
}

/** Own data property of a map, nil when missing. */
function ownValue(obj: object, key: string): unknown {
  const d = Object.getOwnPropertyDescriptor(obj, key);
  if (!d || !("value" in d)) return null;
  return d.value ?? null;
}

function hasOwn(obj: object, key: string): boolean {
  const d = Object.getOwnPropertyDescriptor(obj, key);
  return !!d && "value" in d;
}

/** A plain object built safely (a "__proto__" key is an ordinary key). */
function makeMap(entries: Iterable<[string, unknown]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

const NUMERIC = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;

function numericString(v: unknown): number | undefined {
  return typeof v === "string" && NUMERIC.test(v) ? Number(v) : undefined;
}

/** Go's %v formatting, as expr-lang's string() and Sprig's toString use it. */
export function goString(v: unknown): string {
  if (isNil(v)) return "<nil>";
  if (typeof v === "string") return v;
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(goString).join(" ")}]`;
  if (v instanceof GoTime) return timeString(v);
  if (v instanceof GoDuration) return durationString(v);
  if (isMap(v)) {
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${goString(ownValue(v, k))}`)
      .join(" ")}]`;
  }
  return String(v);
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

/** Equality: type and value, deep for lists and maps; a number equals a numeric string with the same value. */
export function equal(a: unknown, b: unknown): boolean {
  if (isNil(a) || isNil(b)) return isNil(a) && isNil(b);
  if (typeof a === "number" && typeof b === "number") return a === b;
  if (typeof a === "number" && typeof b === "string") return numericString(b) === a;
  const ta = timeOrder(a);
  const tb = timeOrder(b);
  if (ta || tb) return !!ta && !!tb && ta.kind === tb.kind && ta.n === tb.n;
  if (typeof a === "string" && typeof b === "number") return numericString(a) === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => equal(x, b[i]));
  }
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => hasOwn(b, k) && equal(ownValue(a, k), ownValue(b, k)));
  }
  return a === b;
}

function compare(op: string, a: unknown, b: unknown, pos: number): boolean {
  let x: number | string;
  let y: number | string;
  const ta = timeOrder(a);
  const tb = timeOrder(b);
  if (ta || tb) {
    if (!ta || !tb || ta.kind !== tb.kind) throw new ExprError(`invalid operation: ${describeValue(a)} ${op} ${describeValue(b)} (a time orders with a time, a duration with a duration)`, pos);
    x = ta.n;
    y = tb.n;
  } else if (typeof a === "string" && typeof b === "string") {
    x = a;
    y = b;
  } else {
    const na = typeof a === "number" ? a : numericString(a);
    const nb = typeof b === "number" ? b : numericString(b);
    if (na === undefined || nb === undefined || (typeof a !== "number" && typeof b !== "number")) {
      throw new ExprError(`invalid operation: ${describeValue(a)} ${op} ${describeValue(b)} (ordering needs two numbers or two strings; convert with asInt()/asFloat())`, pos);
    }
    x = na;
    y = nb;
  }
  switch (op) {
    case "<":
      return x < y;
    case ">":
      return x > y;
    case "<=":
      return x <= y;
    default:
      return x >= y;
  }
}

function describeValue(v: unknown): string {
  const t = typeName(v);
  if (t === "nil") return "nil";
  if (t === "list" || t === "map") return t;
  return `${t} ${JSON.stringify(v)}`;
}

// ---------------------------------------------------------------- regex

const regexCache = new Map<string, RegExp>();

/** A Go RE2 pattern as a JS RegExp: leading (?imsU) flags, (?P<name>...), \A and \z. */
export function goRegex(pattern: string): RegExp {
  const cached = regexCache.get(pattern);
  if (cached) return cached;
  let p = pattern;
  let flags = "";
  const lead = /^\(\?([imsU]+)\)/.exec(p);
  if (lead) {
    if (lead[1].includes("U")) throw new BuiltinError(`regular expression ${JSON.stringify(pattern)}: the U flag is not supported`);
    flags = [...new Set(lead[1])].join("");
    p = p.slice(lead[0].length);
  }
  p = p.replace(/\(\?P</g, "(?<").replace(/\\A/g, "^").replace(/\\z/g, "$");
  let re: RegExp;
  try {
    re = new RegExp(p, flags);
  } catch (e) {
    throw new BuiltinError(`invalid regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
  if (regexCache.size > 200) regexCache.clear();
  regexCache.set(pattern, re);
  return re;
}

// ---------------------------------------------------------------- evaluation

function evalNode(node: Node, ctx: Ctx): unknown {
  switch (node.kind) {
    case "literal":
      return node.value;
    case "ident":
      if (!hasOwn(ctx.env, node.name)) throw new ExprError(`unknown variable ${node.name}`, node.pos);
      return ownValue(ctx.env, node.name);
    case "pointer": {
      const frame = ctx.frames[ctx.frames.length - 1];
      if (!frame) throw new ExprError(`#${node.name} used outside a closure`, node.pos);
      return node.name === "index" ? frame.index : frame.item;
    }
    case "member": {
      const obj = evalNode(node.object, ctx);
      const key = evalNode(node.property, ctx);
      return member(obj, key, node.pos);
    }
    case "slice": {
      const obj = evalNode(node.object, ctx);
      const from = node.from ? evalNode(node.from, ctx) : null;
      const to = node.to ? evalNode(node.to, ctx) : null;
      return slice(obj, from, to, node.pos);
    }
    case "unary": {
      const v = evalNode(node.operand, ctx);
      if (node.op === "!") {
        if (typeof v !== "boolean") throw new ExprError(`invalid operation: !${describeValue(v)} (not needs a bool)`, node.pos);
        return !v;
      }
      if (typeof v !== "number") throw new ExprError(`invalid operation: ${node.op}${describeValue(v)} (needs a number)`, node.pos);
      return node.op === "-" ? -v : v;
    }
    case "binary":
      return evalBinary(node, ctx);
    case "conditional": {
      const c = evalNode(node.cond, ctx);
      if (typeof c !== "boolean") throw new ExprError(`the condition of ?: must be a bool, got ${describeValue(c)}`, node.pos);
      return c ? evalNode(node.then, ctx) : evalNode(node.else, ctx);
    }
    case "array":
      return node.items.map((n) => evalNode(n, ctx));
    case "map":
      return makeMap(
        node.entries.map(({ key, value }) => {
          const k = evalNode(key, ctx);
          if (typeof k !== "string" && typeof k !== "number") throw new ExprError(`a map key must be a string, got ${describeValue(k)}`, key.pos);
          return [String(k), evalNode(value, ctx)];
        }),
      );
    case "closure":
      throw new ExprError("a closure can only be an argument of filter, map, all, any, ...", node.pos);
    case "call":
      return evalCall(node, ctx);
    case "method": {
      const target = evalNode(node.object, ctx);
      const args = node.args.map((a) => evalNode(a, ctx));
      try {
        return callMethod(target, node.name, args);
      } catch (e) {
        if (e instanceof TimeError) throw new ExprError(e.message, node.pos);
        throw e;
      }
    }
  }
}

function toIndex(key: unknown, len: number, what: string, pos: number): number {
  if (typeof key !== "number" || !Number.isInteger(key)) throw new ExprError(`a ${what} index must be an integer, got ${describeValue(key)}`, pos);
  const i = key < 0 ? len + key : key;
  if (i < 0 || i >= len) throw new ExprError(`index out of range: ${key} (${what} length is ${len})`, pos);
  return i;
}

function member(obj: unknown, key: unknown, pos: number): unknown {
  if (isNil(obj)) return null;
  if (Array.isArray(obj)) {
    if (typeof key === "string") throw new ExprError(`cannot get field ${JSON.stringify(key)} of a list`, pos);
    return obj[toIndex(key, obj.length, "list", pos)] ?? null;
  }
  if (typeof obj === "string") {
    if (typeof key === "string") throw new ExprError(`cannot get field ${JSON.stringify(key)} of a string`, pos);
    const chars = Array.from(obj);
    return chars[toIndex(key, chars.length, "string", pos)];
  }
  if (isMap(obj)) {
    if (typeof key !== "string" && typeof key !== "number") throw new ExprError(`a map key must be a string, got ${describeValue(key)}`, pos);
    return ownValue(obj, String(key));
  }
  throw new ExprError(`cannot get ${typeof key === "string" ? `field ${JSON.stringify(key)}` : `index ${goString(key)}`} of ${describeValue(obj)}`, pos);
}

function slice(obj: unknown, from: unknown, to: unknown, pos: number): unknown {
  if (isNil(obj)) return null;
  const seq = typeof obj === "string" ? Array.from(obj) : obj;
  if (!Array.isArray(seq)) throw new ExprError(`cannot slice ${describeValue(obj)}`, pos);
  const len = seq.length;
  const bound = (v: unknown, dflt: number): number => {
    if (isNil(v)) return dflt;
    if (typeof v !== "number" || !Number.isInteger(v)) throw new ExprError(`a slice bound must be an integer, got ${describeValue(v)}`, pos);
    let i = v < 0 ? len + v : v;
    if (i < 0) i = 0;
    if (i > len) i = len;
    return i;
  };
  const b = bound(to, len);
  const a = Math.min(bound(from, 0), b);
  const out = seq.slice(a, b);
  return typeof obj === "string" ? out.join("") : out;
}

function evalBinary(node: Extract<Node, { kind: "binary" }>, ctx: Ctx): unknown {
  const { op, pos } = node;
  if (op === "&&" || op === "||") {
    const l = evalNode(node.left, ctx);
    if (typeof l !== "boolean") throw new ExprError(`invalid operation: ${describeValue(l)} ${op} ... (${op} needs bools)`, pos);
    if (op === "&&" ? !l : l) return l;
    const r = evalNode(node.right, ctx);
    if (typeof r !== "boolean") throw new ExprError(`invalid operation: ... ${op} ${describeValue(r)} (${op} needs bools)`, pos);
    return r;
  }
  if (op === "??") {
    const l = evalNode(node.left, ctx);
    return isNil(l) ? evalNode(node.right, ctx) : l;
  }
  const l = evalNode(node.left, ctx);
  const r = evalNode(node.right, ctx);
  const bad = (why: string): never => {
    throw new ExprError(`invalid operation: ${describeValue(l)} ${op} ${describeValue(r)}${why ? ` (${why})` : ""}`, pos);
  };
  if (timeOrder(l) || timeOrder(r)) {
    if (["+", "-", "*", "/"].includes(op)) {
      const v = timeArithmetic(op, l, r);
      return v === undefined ? bad("a time minus a time is a duration; a time plus or minus a duration is a time; a duration adds to a duration and multiplies by a number") : v;
    }
  }
  switch (op) {
    case "==":
      return equal(l, r);
    case "!=":
      return !equal(l, r);
    case "<":
    case ">":
    case "<=":
    case ">=":
      return compare(op, l, r, pos);
    case "+":
      if (typeof l === "number" && typeof r === "number") return l + r;
      if (typeof l === "string" && typeof r === "string") return l + r;
      if (Array.isArray(l) && Array.isArray(r)) return [...l, ...r];
      return bad("+ adds two numbers or joins two strings or two lists; convert with string() or asInt()");
    case "-":
    case "*":
    case "/":
    case "%":
    case "**": {
      if (typeof l !== "number" || typeof r !== "number") return bad(`${op} needs numbers; convert with asInt()/asFloat()`);
      if (op === "-") return l - r;
      if (op === "*") return l * r;
      if (op === "/") return l / r;
      if (op === "**") return l ** r;
      if (r === 0) return bad("integer divide by zero");
      return l % r;
    }
    case "..": {
      if (typeof l !== "number" || typeof r !== "number" || !Number.isInteger(l) || !Number.isInteger(r)) return bad(".. needs two integers");
      if (r - l > 1e7) return bad("range too large");
      const out: number[] = [];
      for (let i = l; i <= r; i++) out.push(i);
      return out;
    }
    case "in":
      if (isNil(r)) return false;
      if (Array.isArray(r)) return r.some((x) => equal(l, x));
      if (isMap(r)) {
        if (typeof l !== "string" && typeof l !== "number") return bad("a map key must be a string");
        return hasOwn(r, String(l));
      }
      return bad("in needs a list or a map on the right");
    case "matches":
      if (typeof l !== "string" || typeof r !== "string") return bad("matches needs two strings");
      try {
        return goRegex(r).test(l);
      } catch (e) {
        if (e instanceof BuiltinError) throw new ExprError(e.message, pos);
        throw e;
      }
    case "contains":
    case "startsWith":
    case "endsWith":
      if (typeof l !== "string" || typeof r !== "string") return bad(`${op} needs two strings`);
      return op === "contains" ? l.includes(r) : op === "startsWith" ? l.startsWith(r) : l.endsWith(r);
    default:
      throw new ExprError(`unknown operator ${op}`, pos);
  }
}

// ---------------------------------------------------------------- calls

function evalCall(node: Extract<Node, { kind: "call" }>, ctx: Ctx): unknown {
  const { name, args, pos } = node;
  try {
    if (name.startsWith("sprig.")) {
      const fn = SPRIG[name.slice(6) as SprigName];
      return fn(args.map((a) => evalNode(a, ctx)));
    }
    if (PREDICATE_SET.has(name)) {
      const pred = PREDICATES[name as PredicateName];
      if (args.length < 1 || args.length > 2 || (args.length === 1 && name !== "sum" && name !== "count")) {
        throw new BuiltinError(`takes a list and a closure, e.g. ${name}(list, {# > 1}), got ${args.length} argument(s)`);
      }
      const coll = evalNode(args[0], ctx);
      const items: unknown[] = isNil(coll) ? [] : Array.isArray(coll) ? coll : isMap(coll) ? Object.keys(coll).map((k) => ownValue(coll, k)) : notList(coll);
      const closure = args[1];
      const call = closure
        ? (item: unknown, index: number): unknown => {
            if (closure.kind !== "closure") throw new BuiltinError("the second argument must be a closure");
            ctx.frames.push({ item, index });
            try {
              return evalNode(closure.body, ctx);
            } finally {
              ctx.frames.pop();
            }
          }
        : (item: unknown): unknown => item;
      return pred(items, call, !!closure);
    }
    const fn = FUNCS[name as Exclude<BuiltinName, PredicateName>];
    return fn(args.map((a) => evalNode(a, ctx)));
  } catch (e) {
    if (e instanceof BuiltinError) throw new ExprError(`${name}: ${e.message}`, pos);
    throw e;
  }
}

function notList(v: unknown): never {
  throw new BuiltinError(`needs a list, got ${describeValue(v)}`);
}

type Call = (item: unknown, index: number) => unknown;

function predicate(call: Call, item: unknown, index: number): boolean {
  const r = call(item, index);
  if (typeof r !== "boolean") throw new BuiltinError(`the closure must return a bool, got ${describeValue(r)}`);
  return r;
}

const PREDICATES: Record<PredicateName, (items: unknown[], call: Call, hasClosure: boolean) => unknown> = {
  all: (xs, f) => xs.every((x, i) => predicate(f, x, i)),
  none: (xs, f) => !xs.some((x, i) => predicate(f, x, i)),
  any: (xs, f) => xs.some((x, i) => predicate(f, x, i)),
  one: (xs, f) => xs.filter((x, i) => predicate(f, x, i)).length === 1,
  filter: (xs, f) => xs.filter((x, i) => predicate(f, x, i)),
  map: (xs, f) => xs.map((x, i) => f(x, i)),
  count: (xs, f) => xs.filter((x, i) => predicate(f, x, i)).length,
  find: (xs, f) => xs.find((x, i) => predicate(f, x, i)) ?? null,
  findIndex: (xs, f) => xs.findIndex((x, i) => predicate(f, x, i)),
  findLast: (xs, f) => {
    for (let i = xs.length - 1; i >= 0; i--) if (predicate(f, xs[i], i)) return xs[i];
    return null;
  },
  findLastIndex: (xs, f) => {
    for (let i = xs.length - 1; i >= 0; i--) if (predicate(f, xs[i], i)) return i;
    return -1;
  },
  sum: (xs, f) =>
    xs.reduce<number>((acc, x, i) => {
      const v = f(x, i);
      if (typeof v !== "number") throw new BuiltinError(`needs numbers, got ${describeValue(v)}`);
      return acc + v;
    }, 0),
};
const PREDICATE_SET = new Set<string>(PREDICATE_BUILTINS);

// ---- argument helpers

/** A time function's result; its error a BuiltinError (named with the function by the caller). */
function timeCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TimeError) throw new BuiltinError(e.message);
    throw e;
  }
}

function arity(args: unknown[], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    throw new BuiltinError(`takes ${want} argument(s), got ${args.length}`);
  }
}

function str(v: unknown, what = "argument"): string {
  if (typeof v !== "string") throw new BuiltinError(`${what} must be a string, got ${describeValue(v)}`);
  return v;
}

function num(v: unknown, what = "argument"): number {
  if (typeof v !== "number") throw new BuiltinError(`${what} must be a number, got ${describeValue(v)}`);
  return v;
}

function int(v: unknown, what = "argument"): number {
  if (typeof v !== "number" || !Number.isInteger(v)) throw new BuiltinError(`${what} must be an integer, got ${describeValue(v)}`);
  return v;
}

function list(v: unknown, what = "argument"): unknown[] {
  if (!Array.isArray(v)) throw new BuiltinError(`${what} must be a list, got ${describeValue(v)}`);
  return v;
}

function map(v: unknown, what = "argument"): Record<string, unknown> {
  if (!isMap(v)) throw new BuiltinError(`${what} must be a map, got ${describeValue(v)}`);
  return v;
}

function toInt(v: unknown): number {
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new BuiltinError(`cannot convert ${formatNumber(v)} to an integer`);
    return Math.trunc(v);
  }
  if (typeof v === "string") {
    if (/^\s*[+-]?\d+\s*$/.test(v)) return Number(v);
    throw new BuiltinError(`cannot convert ${JSON.stringify(v)} to an integer${NUMERIC.test(v) ? " (use int(float(x)) for decimals)" : ""}`);
  }
  throw new BuiltinError(`cannot convert ${describeValue(v)} to an integer`);
}

function toFloat(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    if (NUMERIC.test(v)) return Number(v);
    const t = v.trim().toLowerCase().replace(/^\+/, "");
    if (t === "inf" || t === "infinity") return Infinity;
    if (t === "-inf" || t === "-infinity") return -Infinity;
    if (t === "nan") return NaN;
  }
  throw new BuiltinError(`cannot convert ${describeValue(v)} to a float`);
}

function numbersOf(args: unknown[]): number[] {
  const xs = args.length === 1 && Array.isArray(args[0]) ? args[0] : args;
  return xs.map((x) => num(x, "each value"));
}

/** JSON text; Go's encoder rejects NaN and infinities, so do we. */
export function toJsonText(v: unknown, indent?: number): string {
  return (
    JSON.stringify(
      v === undefined ? null : v,
      (_k, x: unknown) => {
        if (typeof x === "number" && !Number.isFinite(x)) throw new BuiltinError(`cannot encode ${formatNumber(x)} as JSON`);
        // As Go's json.Marshal: a time as RFC 3339 text, a duration as its nanoseconds.
        if (x instanceof GoTime) return formatTime(x, "2006-01-02T15:04:05.999999999Z07:00");
        if (x instanceof GoDuration) return x.ns;
        return x === undefined ? null : x;
      },
      indent,
    ) ?? "null"
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new BuiltinError(`invalid JSON ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text)}: ${(e as Error).message}`);
  }
}

function goTrim(s: string, cutset: string): string {
  const set = new Set(Array.from(cutset));
  const chars = Array.from(s);
  let a = 0;
  let b = chars.length;
  while (a < b && set.has(chars[a])) a++;
  while (b > a && set.has(chars[b - 1])) b--;
  return chars.slice(a, b).join("");
}

function goSplit(s: string, sep: string, n = -1): string[] {
  if (n === 0) return [];
  const parts = sep === "" ? Array.from(s) : s.split(sep);
  if (n < 0 || parts.length <= n) return parts;
  return [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}

// jsonpath-plus is 86 kB that a start-up would parse for the few workflows
// whose expressions use jsonpath() with a filter: loaded (its CommonJS build,
// synchronously) the first time one does.
let jsonpathLib: typeof import("jsonpath-plus") | undefined;
const jsonpathPlus = (): typeof import("jsonpath-plus") => (jsonpathLib ??= createRequire(import.meta.url)("jsonpath-plus") as typeof import("jsonpath-plus"));

/** Argo's jsonpath(): a definite path (`$`, `$.a.b`, `$[0]`, `$['k']`, `$[0].value`) gives the value, any other a list. */
export function jsonpath(input: unknown, path: string): unknown {
  let v = typeof input === "string" ? parseJson(input) : input;
  const p = path.trim();
  if (!p.startsWith("$")) throw new BuiltinError(`path ${JSON.stringify(path)} must start with $`);
  let i = 1;
  const unsupported = (): never => {
    throw new BuiltinError(`path ${JSON.stringify(path)}: cannot be applied to ${describeValue(v)}`);
  };
  while (i < p.length) {
    let key: string | number;
    const rest = p.slice(i);
    let m: RegExpExecArray | null;
    if ((m = /^\.([^.[\]\s*?@()'"]+)/.exec(rest))) {
      key = m[1];
    } else if ((m = /^\[\s*(-?\d+)\s*\]/.exec(rest))) {
      key = Number(m[1]);
    } else if ((m = /^\[\s*'((?:[^'\\]|\\.)*)'\s*\]/.exec(rest)) || (m = /^\[\s*"((?:[^"\\]|\\.)*)"\s*\]/.exec(rest))) {
      key = m[1].replace(/\\(.)/g, "$1");
    } else {
      // Filters, wildcards, slices, recursive descent: a list, as Argo's jsonpath gives (jsonpath-plus, whose filters run in its safe evaluator).
      if (v === null || typeof v !== "object") return unsupported();
      return jsonpathPlus().JSONPath({ path: `$${rest}`, json: v, wrap: true, eval: "safe" }) as unknown;
    }
    i += m[0].length;
    if (typeof key === "number") {
      if (!Array.isArray(v)) throw new BuiltinError(`path ${JSON.stringify(path)}: [${key}] needs a list, got ${describeValue(v)}`);
      const idx = key < 0 ? v.length + key : key;
      if (idx < 0 || idx >= v.length) throw new BuiltinError(`path ${JSON.stringify(path)}: index ${key} out of range (list length is ${v.length})`);
      v = v[idx];
    } else {
      if (!isMap(v)) throw new BuiltinError(`path ${JSON.stringify(path)}: key ${JSON.stringify(key)} needs a map, got ${describeValue(v)}`);
      if (!hasOwn(v, key)) throw new BuiltinError(`path ${JSON.stringify(path)}: unknown key ${JSON.stringify(key)}`);
      v = ownValue(v, key);
    }
  }
  return v;
}

function sortValues(xs: unknown[], desc: boolean): unknown[] {
  const allNums = xs.every((x) => typeof x === "number");
  const allStrs = xs.every((x) => typeof x === "string");
  if (!allNums && !allStrs) throw new BuiltinError("can only sort a list of numbers or a list of strings");
  const out = [...xs].sort((a, b) => ((a as number | string) < (b as number | string) ? -1 : (a as number | string) > (b as number | string) ? 1 : 0));
  return desc ? out.reverse() : out;
}

function flatten(xs: unknown[]): unknown[] {
  return xs.flatMap((x) => (Array.isArray(x) ? flatten(x) : [x]));
}

function length(v: unknown): number {
  if (typeof v === "string") return Array.from(v).length;
  if (Array.isArray(v)) return v.length;
  if (isMap(v)) return Object.keys(v).length;
  throw new BuiltinError(`needs a string, list or map, got ${describeValue(v)}`);
}

const FUNCS: Record<Exclude<BuiltinName, PredicateName>, (args: unknown[]) => unknown> = {
  int: (a) => (arity(a, 1), toInt(a[0])),
  float: (a) => (arity(a, 1), toFloat(a[0])),
  now: (a) => (arity(a, 0), new GoTime(Date.now())),
  date: (a) => {
    arity(a, 1, 2);
    if (typeof a[0] !== "string" || (a.length > 1 && typeof a[1] !== "string")) throw new BuiltinError("takes a date text and, optionally, a Go layout (time zones are not supported here)");
    return timeCall(() => parseDate(a[0] as string, a[1] as string | undefined));
  },
  duration: (a) => {
    arity(a, 1);
    if (typeof a[0] !== "string") throw new BuiltinError(`needs a text such as "1h30m", got ${describeValue(a[0])}`);
    return timeCall(() => parseDuration(a[0] as string));
  },
  asInt: (a) => (arity(a, 1), toInt(a[0])),
  asFloat: (a) => (arity(a, 1), toFloat(a[0])),
  string: (a) => (arity(a, 1), goString(a[0])),
  len: (a) => (arity(a, 1), length(a[0])),
  join: (a) => {
    arity(a, 1, 2);
    return list(a[0]).map(goString).join(a.length > 1 ? str(a[1], "the separator") : "");
  },
  split: (a) => {
    arity(a, 2, 3);
    return goSplit(str(a[0]), str(a[1], "the separator"), a.length > 2 ? int(a[2], "the count") : -1);
  },
  concat: (a) => a.flatMap((x) => list(x, "each argument")),
  get: (a) => {
    arity(a, 2);
    const [v, k] = a;
    if (Array.isArray(v)) {
      if (typeof k !== "number" || !Number.isInteger(k)) return null;
      const i = k < 0 ? v.length + k : k;
      return i >= 0 && i < v.length ? (v[i] ?? null) : null;
    }
    if (isMap(v) && (typeof k === "string" || typeof k === "number")) return ownValue(v, String(k));
    return null;
  },
  toJSON: (a) => (arity(a, 1), toJsonText(a[0], 2)),
  toJson: (a) => (arity(a, 1), toJsonText(a[0])),
  fromJSON: (a) => (arity(a, 1), parseJson(str(a[0]))),
  jsonpath: (a) => (arity(a, 2), jsonpath(a[0], str(a[1], "the path"))),
  lower: (a) => (arity(a, 1), str(a[0]).toLowerCase()),
  upper: (a) => (arity(a, 1), str(a[0]).toUpperCase()),
  trim: (a) => (arity(a, 1, 2), a.length > 1 ? goTrim(str(a[0]), str(a[1], "the cutset")) : str(a[0]).trim()),
  trimPrefix: (a) => {
    arity(a, 2);
    const [s, p] = [str(a[0]), str(a[1], "the prefix")];
    return s.startsWith(p) ? s.slice(p.length) : s;
  },
  trimSuffix: (a) => {
    arity(a, 2);
    const [s, p] = [str(a[0]), str(a[1], "the suffix")];
    return p && s.endsWith(p) ? s.slice(0, s.length - p.length) : s;
  },
  replace: (a) => (arity(a, 3), str(a[0]).split(str(a[1], "the old text")).join(str(a[2], "the new text"))),
  repeat: (a) => {
    arity(a, 2);
    const n = int(a[1], "the count");
    if (n < 0) throw new BuiltinError("negative repeat count");
    return str(a[0]).repeat(n);
  },
  indexOf: (a) => (arity(a, 2), str(a[0]).indexOf(str(a[1]))),
  lastIndexOf: (a) => (arity(a, 2), str(a[0]).lastIndexOf(str(a[1]))),
  hasPrefix: (a) => (arity(a, 2), str(a[0]).startsWith(str(a[1]))),
  hasSuffix: (a) => (arity(a, 2), str(a[0]).endsWith(str(a[1]))),
  keys: (a) => (arity(a, 1), Object.keys(map(a[0]))),
  values: (a) => {
    arity(a, 1);
    const m = map(a[0]);
    return Object.keys(m).map((k) => ownValue(m, k));
  },
  min: (a) => {
    const xs = numbersOf(a);
    if (!xs.length) throw new BuiltinError("needs at least one number");
    return xs.reduce((m, x) => Math.min(m, x));
  },
  max: (a) => {
    const xs = numbersOf(a);
    if (!xs.length) throw new BuiltinError("needs at least one number");
    return xs.reduce((m, x) => Math.max(m, x));
  },
  abs: (a) => (arity(a, 1), Math.abs(num(a[0]))),
  ceil: (a) => (arity(a, 1), Math.ceil(num(a[0]))),
  floor: (a) => (arity(a, 1), Math.floor(num(a[0]))),
  round: (a) => {
    arity(a, 1);
    const x = num(a[0]);
    return Math.sign(x) * Math.round(Math.abs(x));
  },
  first: (a) => (arity(a, 1), isNil(a[0]) ? null : (list(a[0])[0] ?? null)),
  last: (a) => {
    arity(a, 1);
    if (isNil(a[0])) return null;
    const xs = list(a[0]);
    return xs.length ? (xs[xs.length - 1] ?? null) : null;
  },
  reverse: (a) => (arity(a, 1), [...list(a[0])].reverse()),
  sort: (a) => {
    arity(a, 1, 2);
    const order = a.length > 1 ? str(a[1], "the order") : "asc";
    if (order !== "asc" && order !== "desc") throw new BuiltinError(`the order must be "asc" or "desc", got ${JSON.stringify(order)}`);
    return sortValues(list(a[0]), order === "desc");
  },
  uniq: (a) => {
    arity(a, 1);
    const out: unknown[] = [];
    for (const x of list(a[0])) if (!out.some((y) => equal(x, y) && typeName(x) === typeName(y))) out.push(x);
    return out;
  },
  flatten: (a) => (arity(a, 1), flatten(list(a[0]))),
  toBase64: (a) => (arity(a, 1), Buffer.from(str(a[0]), "utf8").toString("base64")),
  fromBase64: (a) => {
    arity(a, 1);
    const s = str(a[0]);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) throw new BuiltinError(`illegal base64 data ${JSON.stringify(s)}`);
    return Buffer.from(s, "base64").toString("utf8");
  },
};

// ---------------------------------------------------------------- Sprig

/** Sprig's toInt64 (spf13/cast): lenient, 0 when it cannot convert. */
function sprigInt(v: unknown): number {
  if (typeof v === "number") return Number.isFinite(v) ? Math.trunc(v) : 0;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v !== "string") return 0;
  let s = v.trim().replace(/\.0+$/, "");
  let sign = 1;
  if (/^[+-]/.test(s)) {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  let m: RegExpExecArray | null;
  if ((m = /^0[xX]([0-9a-fA-F]+)$/.exec(s))) return sign * parseInt(m[1], 16);
  if ((m = /^0[bB]([01]+)$/.exec(s))) return sign * parseInt(m[1], 2);
  if ((m = /^0[oO]?([0-7]+)$/.exec(s))) return sign * parseInt(m[1], 8);
  if (/^\d+$/.test(s)) return sign * Number(s);
  return 0;
}

function sprigFloat(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string" && NUMERIC.test(v)) return Number(v);
  return 0;
}

function sprigEmpty(v: unknown): boolean {
  if (isNil(v) || v === "" || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isMap(v)) return Object.keys(v).length === 0;
  return false;
}

function untilStep(start: number, stop: number, step: number): number[] {
  const out: number[] = [];
  if (stop < start) {
    if (step >= 0) return out;
    for (let i = start; i > stop; i += step) out.push(i);
    return out;
  }
  if (step <= 0) return out;
  if ((stop - start) / step > 1e7) throw new BuiltinError("range too large");
  for (let i = start; i < stop; i += step) out.push(i);
  return out;
}

function sprigDiv(a: unknown[], op: "div" | "mod"): number {
  arity(a, 2);
  const [x, y] = [sprigInt(a[0]), sprigInt(a[1])];
  if (y === 0) throw new BuiltinError("integer divide by zero");
  return op === "div" ? Math.trunc(x / y) : x % y;
}

const SPRIG: Record<SprigName, (args: unknown[]) => unknown> = {
  untilStep: (a) => (arity(a, 3), untilStep(sprigInt(a[0]), sprigInt(a[1]), sprigInt(a[2]))),
  until: (a) => {
    arity(a, 1);
    const n = sprigInt(a[0]);
    return untilStep(0, n, n < 0 ? -1 : 1);
  },
  atoi: (a) => {
    arity(a, 1);
    const s = typeof a[0] === "string" ? a[0] : "";
    return /^[+-]?\d+$/.test(s) ? Number(s) : 0;
  },
  int: (a) => (arity(a, 1), sprigInt(a[0])),
  int64: (a) => (arity(a, 1), sprigInt(a[0])),
  float64: (a) => (arity(a, 1), sprigFloat(a[0])),
  add: (a) => a.reduce<number>((s, x) => s + sprigInt(x), 0),
  add1: (a) => (arity(a, 1), sprigInt(a[0]) + 1),
  sub: (a) => (arity(a, 2), sprigInt(a[0]) - sprigInt(a[1])),
  mul: (a) => a.reduce<number>((s, x) => s * sprigInt(x), 1),
  div: (a) => sprigDiv(a, "div"),
  mod: (a) => sprigDiv(a, "mod"),
  max: (a) => (arity(a, 1, Infinity), a.map(sprigInt).reduce((m, x) => Math.max(m, x))),
  min: (a) => (arity(a, 1, Infinity), a.map(sprigInt).reduce((m, x) => Math.min(m, x))),
  upper: (a) => (arity(a, 1), goString(a[0]).toUpperCase()),
  lower: (a) => (arity(a, 1), goString(a[0]).toLowerCase()),
  trim: (a) => (arity(a, 1), goString(a[0]).trim()),
  trimAll: (a) => (arity(a, 2), goTrim(goString(a[1]), goString(a[0]))),
  trimPrefix: (a) => {
    arity(a, 2);
    const [p, s] = [goString(a[0]), goString(a[1])];
    return s.startsWith(p) ? s.slice(p.length) : s;
  },
  trimSuffix: (a) => {
    arity(a, 2);
    const [p, s] = [goString(a[0]), goString(a[1])];
    return p && s.endsWith(p) ? s.slice(0, s.length - p.length) : s;
  },
  replace: (a) => (arity(a, 3), goString(a[2]).split(goString(a[0])).join(goString(a[1]))),
  contains: (a) => (arity(a, 2), goString(a[1]).includes(goString(a[0]))),
  hasPrefix: (a) => (arity(a, 2), goString(a[1]).startsWith(goString(a[0]))),
  hasSuffix: (a) => (arity(a, 2), goString(a[1]).endsWith(goString(a[0]))),
  repeat: (a) => (arity(a, 2), goString(a[1]).repeat(Math.max(0, sprigInt(a[0])))),
  quote: (a) => a.filter((x) => !isNil(x)).map((x) => JSON.stringify(goString(x))).join(" "),
  squote: (a) => a.filter((x) => !isNil(x)).map((x) => `'${goString(x)}'`).join(" "),
  toString: (a) => (arity(a, 1), goString(a[0])),
  fromJson: (a) => {
    arity(a, 1);
    try {
      return JSON.parse(goString(a[0])) as unknown;
    } catch {
      return null;
    }
  },
  toJson: (a) => {
    arity(a, 1);
    try {
      return toJsonText(a[0]);
    } catch {
      return "";
    }
  },
  toPrettyJson: (a) => {
    arity(a, 1);
    try {
      return toJsonText(a[0], 2);
    } catch {
      return "";
    }
  },
  list: (a) => [...a],
  has: (a) => (arity(a, 2), Array.isArray(a[1]) ? a[1].some((x) => equal(a[0], x) && typeName(a[0]) === typeName(x)) : false),
  len: (a) => (arity(a, 1), isNil(a[0]) ? 0 : length(a[0])),
  length: (a) => (arity(a, 1), isNil(a[0]) ? 0 : length(a[0])),
  first: (a) => (arity(a, 1), Array.isArray(a[0]) ? (a[0][0] ?? null) : null),
  last: (a) => (arity(a, 1), Array.isArray(a[0]) && a[0].length ? (a[0][a[0].length - 1] ?? null) : null),
  join: (a) => (arity(a, 2), (Array.isArray(a[1]) ? a[1] : [a[1]]).filter((x) => !isNil(x)).map(goString).join(goString(a[0]))),
  splitList: (a) => (arity(a, 2), goSplit(goString(a[1]), goString(a[0]))),
  default: (a) => (arity(a, 1, 2), a.length < 2 || sprigEmpty(a[1]) ? a[0] : a[1]),
  empty: (a) => (arity(a, 1), sprigEmpty(a[0])),
  coalesce: (a) => a.find((x) => !sprigEmpty(x)) ?? null,
  ternary: (a) => (arity(a, 3), a[2] === true ? a[0] : a[1]),
  // Sprig's date(layout, t): t a time or Unix seconds; anything else means now (Sprig's own fallback).
  date: (a) => {
    arity(a, 2);
    const v = a[1];
    const ms = v instanceof GoTime ? v.ms : typeof v === "number" ? v * 1000 : typeof v === "string" && !Number.isNaN(Date.parse(v)) ? Date.parse(v) : Date.now();
    return formatTime(new GoTime(ms), goString(a[0]));
  },
  b64enc: (a) => (arity(a, 1), Buffer.from(goString(a[0]), "utf8").toString("base64")),
  b64dec: (a) => {
    arity(a, 1);
    const s = goString(a[0]);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return "illegal base64 data";
    return Buffer.from(s, "base64").toString("utf8");
  },
};
