// `when` conditions (argo-semantics §6, dflow-debug-semantics §4.10), applied
// to an already-substituted string:
//  1. dflow compatibility: exactly three whitespace-separated tokens `A op B`
//     with op `==`/`!=` and plain (unquoted, unbracketed, no parentheses) A
//     and B compare as TEXT (`1.0 == 1` is false, `it == it` true); with op
//     `< <= > >=` and two numeric tokens, as numbers.
//  2. Otherwise govaluate (Knetic/govaluate as Argo uses it): bare
//     identifiers are string literals, numbers are float64, `==` compares type
//     and value, ordering needs two numbers or two strings, `&&`/`||`/`!` need
//     bools, the result must be a bool.
// Deviations from govaluate, all lenient: a quoted string ends at the same
// quote character it started with (govaluate ends it at either quote);
// operators are read by longest match (govaluate reads a whole run of
// symbol characters, so `1>-2` is an error there); dotted identifiers such
// as `v1.2` are strings (govaluate makes them field accessors, which fail);
// date-like strings are not turned into timestamps.
import { DflowConfigError } from "../../src/errors.js";
import { goRegex } from "./evaluate.js";

type Value = number | string | boolean | null | Value[];

type WTok = { kind: "num"; value: number; pos: number } | { kind: "str"; value: string; pos: number } | { kind: "bool"; value: boolean; pos: number } | { kind: "op"; value: string; pos: number } | { kind: "eof"; pos: number };

type WNode =
  | { kind: "value"; value: Value }
  | { kind: "list"; items: WNode[] }
  | { kind: "prefix"; op: string; operand: WNode }
  | { kind: "binary"; op: string; left: WNode; right: WNode }
  | { kind: "ternary"; cond: WNode; then: WNode; else: WNode | null };

class WhenError extends Error {}

const HINT = `quote values with spaces or hyphens: "{{...}}" == "x"`;

/**
 * Evaluate a rendered `when` string: dflow's three-token form first (1.),
 * unless `dflowTokens` is false (an Argo manifest's `when`), then govaluate.
 * Empty or blank → true. Throws
 * DflowConfigError("cannot evaluate when "<text>": <reason>; quote values ...").
 */
export function evaluateWhen(text: string, opts: { dflowTokens?: boolean } = {}): boolean {
  const src = text.trim();
  if (src === "") return true;
  try {
    // Argo's own `when` is govaluate alone: `5 == 5.0` is true there (two float64s).
    const simple = opts.dflowTokens === false ? undefined : threeTokens(src);
    if (simple !== undefined) return simple;
    const node = new WhenParser(lexWhen(src)).parseRoot();
    const result = evalWhen(node);
    if (typeof result !== "boolean") throw new WhenError(`the result must be true or false, got ${show(result)}`);
    return result;
  } catch (e) {
    if (e instanceof WhenError) throw new DflowConfigError(`cannot evaluate when ${JSON.stringify(text)}: ${e.message}; ${HINT}`);
    throw e;
  }
}

/**
 * Why `text` cannot be a `when` condition, or null when it parses (it is not
 * evaluated: its references are not known before the run). For submit-time
 * validation, with each `{{ref}}` already replaced by a stand-in word.
 */
export function checkWhenSyntax(text: string): string | null {
  const src = text.trim();
  if (src === "" || threeTokens(src) !== undefined) return null;
  try {
    new WhenParser(lexWhen(src)).parseRoot();
    return null;
  } catch (e) {
    if (e instanceof WhenError) return e.message;
    throw e;
  }
}

/**
 * Truthiness of a parameter value used directly as a condition (Q24): the
 * strings "", "false" and "0" (trimmed, any case) are false, other strings
 * true; bools as they are; numbers other than 0 (and NaN) true; nil false;
 * lists and maps true.
 */
export function isTruthy(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === "string") return !["", "false", "0"].includes(v.trim().toLowerCase());
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0 && !Number.isNaN(v);
  return true;
}

// ---------------------------------------------------------------- dflow's 3-token form

const NUMBER_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function threeTokens(src: string): boolean | undefined {
  const parts = src.split(/\s+/);
  if (parts.length !== 3) return undefined;
  const [a, op, b] = parts;
  const plain = (s: string): boolean => !/^['"[]/.test(s) && !/[()]/.test(s);
  if ((op === "==" || op === "!=") && plain(a) && plain(b)) return op === "==" ? a === b : a !== b;
  if ((op === "<" || op === "<=" || op === ">" || op === ">=") && NUMBER_TEXT.test(a) && NUMBER_TEXT.test(b)) {
    const [x, y] = [Number(a), Number(b)];
    return op === "<" ? x < y : op === "<=" ? x <= y : op === ">" ? x > y : x >= y;
  }
  return undefined;
}

// ---------------------------------------------------------------- lexer

const OPS = ["**", "==", "!=", ">=", "<=", "=~", "!~", "&&", "||", "??", "<<", ">>", ">", "<", "!", "-", "+", "*", "/", "%", "?", ":", "&", "|", "^", "~", "(", ")", ","];

function lexWhen(src: string): WTok[] {
  const out: WTok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9.]/.test(c) && /[0-9]/.test(c === "." ? (src[i + 1] ?? "") : c)) {
      const hex = /^0[xX][0-9a-fA-F]+/.exec(src.slice(i));
      if (hex) {
        out.push({ kind: "num", value: parseInt(hex[0].slice(2), 16), pos: start });
        i += hex[0].length;
        continue;
      }
      while (i < src.length && /[0-9.]/.test(src[i])) i++;
      const t = src.slice(start, i);
      if (!/^(\d+(\.\d*)?|\.\d+)$/.test(t)) throw new WhenError(`cannot parse number ${JSON.stringify(t)}`);
      out.push({ kind: "num", value: Number(t), pos: start });
      continue;
    }
    if (c === "'" || c === '"' || c === "[") {
      const close = c === "[" ? "]" : c;
      let s = "";
      i++;
      for (;;) {
        if (i >= src.length) throw new WhenError(c === "[" ? "unclosed [escaped name]" : "unclosed string literal");
        const d = src[i];
        if (d === "\\" && i + 1 < src.length) {
          s += src[i + 1];
          i += 2;
          continue;
        }
        i++;
        if (d === close) break;
        s += d;
      }
      out.push({ kind: "str", value: s, pos: start });
      continue;
    }
    if (/\p{L}/u.test(c)) {
      while (i < src.length && /[\p{L}\p{N}_.]/u.test(src[i])) i++;
      const word = src.slice(start, i);
      if (word === "true" || word === "false") out.push({ kind: "bool", value: word === "true", pos: start });
      else if (word === "in" || word === "IN") out.push({ kind: "op", value: "in", pos: start });
      else out.push({ kind: "str", value: word, pos: start }); // Argo turns variables into strings
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new WhenError(`invalid token ${JSON.stringify(c)} at position ${i + 1}`);
    out.push({ kind: "op", value: op, pos: start });
    i += op.length;
  }
  out.push({ kind: "eof", pos: src.length });
  return out;
}

// ---------------------------------------------------------------- parser

const LEVELS: string[][] = [["||"], ["&&"], ["==", "!=", ">", "<", ">=", "<=", "=~", "!~", "in"], ["&", "|", "^"], ["<<", ">>"], ["+", "-"], ["*", "/", "%"]];

function describeTok(t: WTok): string {
  if (t.kind === "eof") return "end of condition";
  if (t.kind === "str") return `string ${JSON.stringify(t.value)}`;
  return `${JSON.stringify(String(t.value))}`;
}

class WhenParser {
  private i = 0;
  constructor(private readonly toks: WTok[]) {}

  private get cur(): WTok {
    return this.toks[this.i];
  }

  private isOp(v: string): boolean {
    const t = this.cur;
    return t.kind === "op" && t.value === v;
  }

  parseRoot(): WNode {
    const n = this.parseTernary();
    if (this.cur.kind !== "eof") throw new WhenError(`unexpected ${describeTok(this.cur)} at position ${this.cur.pos + 1}${this.cur.kind === "op" ? "" : " (two values in a row)"}`);
    return n;
  }

  private parseTernary(): WNode {
    const cond = this.parseLevel(0);
    if (this.isOp("?")) {
      this.i++;
      const then = this.parseTernary();
      let otherwise: WNode | null = null;
      if (this.isOp(":")) {
        this.i++;
        otherwise = this.parseTernary();
      }
      return { kind: "ternary", cond, then, else: otherwise };
    }
    if (this.isOp("??")) {
      this.i++;
      return { kind: "binary", op: "??", left: cond, right: this.parseTernary() };
    }
    return cond;
  }

  private parseLevel(level: number): WNode {
    if (level === LEVELS.length) return this.parseExp();
    let left = this.parseLevel(level + 1);
    for (;;) {
      const t = this.cur;
      if (t.kind !== "op" || !LEVELS[level].includes(t.value)) return left;
      this.i++;
      left = { kind: "binary", op: t.value, left, right: this.parseLevel(level + 1) };
    }
  }

  private parseExp(): WNode {
    const left = this.parsePrefix();
    if (this.isOp("**")) {
      this.i++;
      return { kind: "binary", op: "**", left, right: this.parseExp() };
    }
    return left;
  }

  private parsePrefix(): WNode {
    const t = this.cur;
    if (t.kind === "op" && (t.value === "!" || t.value === "-" || t.value === "~")) {
      this.i++;
      return { kind: "prefix", op: t.value, operand: this.parsePrefix() };
    }
    return this.parseValue();
  }

  private parseValue(): WNode {
    const t = this.cur;
    this.i++;
    if (t.kind === "num" || t.kind === "str" || t.kind === "bool") return { kind: "value", value: t.value };
    if (t.kind === "op" && t.value === "(") {
      const items = [this.parseTernary()];
      while (this.isOp(",")) {
        this.i++;
        items.push(this.parseTernary());
      }
      if (!this.isOp(")")) throw new WhenError(`expected ")" at position ${this.cur.pos + 1}, found ${describeTok(this.cur)}`);
      this.i++;
      return items.length === 1 ? items[0] : { kind: "list", items };
    }
    this.i--;
    throw new WhenError(`expected a value at position ${t.pos + 1}, found ${describeTok(t)}`);
  }
}

// ---------------------------------------------------------------- evaluation

function show(v: Value): string {
  if (v === null) return "nil";
  if (Array.isArray(v)) return `(${v.map(show).join(", ")})`;
  return typeof v === "string" ? `string ${JSON.stringify(v)}` : `${typeof v === "number" ? "number" : "bool"} ${String(v)}`;
}

function same(a: Value, b: Value): boolean {
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  return a === b;
}

function toInt64(v: Value, op: string): bigint {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new WhenError(`${op} needs numbers, got ${show(v)}`);
  return BigInt.asIntN(64, BigInt(Math.trunc(v)));
}

function evalWhen(n: WNode): Value {
  switch (n.kind) {
    case "value":
      return n.value;
    case "list":
      return n.items.map(evalWhen);
    case "prefix": {
      const v = evalWhen(n.operand);
      if (n.op === "!") {
        if (typeof v !== "boolean") throw new WhenError(`! needs a bool, got ${show(v)}`);
        return !v;
      }
      if (n.op === "-") {
        if (typeof v !== "number") throw new WhenError(`- needs a number, got ${show(v)}`);
        return -v;
      }
      return Number(~toInt64(v, "~"));
    }
    case "ternary": {
      const c = evalWhen(n.cond);
      if (typeof c !== "boolean") throw new WhenError(`the condition of ? needs a bool, got ${show(c)}`);
      if (c) return evalWhen(n.then);
      return n.else ? evalWhen(n.else) : null;
    }
    case "binary":
      return evalBinary(n.op, n.left, n.right);
  }
}

function evalBinary(op: string, ln: WNode, rn: WNode): Value {
  const l = evalWhen(ln);
  if (op === "&&" || op === "||") {
    if (typeof l !== "boolean") throw new WhenError(`${op} needs bools, got ${show(l)}`);
    if (op === "&&" ? !l : l) return l;
    const r = evalWhen(rn);
    if (typeof r !== "boolean") throw new WhenError(`${op} needs bools, got ${show(r)}`);
    return r;
  }
  if (op === "??") return l !== null ? l : evalWhen(rn);
  const r = evalWhen(rn);
  switch (op) {
    case "==":
      return same(l, r);
    case "!=":
      return !same(l, r);
    case "<":
    case ">":
    case "<=":
    case ">=": {
      if (!((typeof l === "number" && typeof r === "number") || (typeof l === "string" && typeof r === "string"))) {
        throw new WhenError(`${op} needs two numbers or two strings, got ${show(l)} and ${show(r)}`);
      }
      return op === "<" ? l < r : op === ">" ? l > r : op === "<=" ? l <= r : l >= r;
    }
    case "=~":
    case "!~": {
      if (typeof l !== "string" || typeof r !== "string") throw new WhenError(`${op} needs two strings, got ${show(l)} and ${show(r)}`);
      let re: RegExp;
      try {
        re = goRegex(r);
      } catch (e) {
        throw new WhenError((e as Error).message);
      }
      return re.test(l) === (op === "=~");
    }
    case "in": {
      const items = Array.isArray(r) ? r : [r];
      return items.some((x) => same(l, x));
    }
    case "+":
      if (typeof l === "string" || typeof r === "string") {
        if (Array.isArray(l) || Array.isArray(r) || l === null || r === null) throw new WhenError(`+ cannot join ${show(l)} and ${show(r)}`);
        return String(l) + String(r);
      }
      if (typeof l === "number" && typeof r === "number") return l + r;
      throw new WhenError(`+ needs numbers or strings, got ${show(l)} and ${show(r)}`);
    case "-":
    case "*":
    case "/":
    case "%":
    case "**":
      if (typeof l !== "number" || typeof r !== "number") throw new WhenError(`${op} needs numbers, got ${show(l)} and ${show(r)}`);
      return op === "-" ? l - r : op === "*" ? l * r : op === "/" ? l / r : op === "%" ? l % r : l ** r;
    case "&":
    case "|":
    case "^":
    case "<<":
    case ">>": {
      const [x, y] = [toInt64(l, op), toInt64(r, op)];
      if ((op === "<<" || op === ">>") && y < 0n) throw new WhenError(`negative shift count ${String(y)}`);
      if (op === "<<" && y >= 64n) return 0;
      if (op === ">>" && y >= 64n) return x < 0n ? -1 : 0;
      const out = op === "&" ? x & y : op === "|" ? x | y : op === "^" ? x ^ y : op === "<<" ? x << y : x >> y;
      return Number(BigInt.asIntN(64, out));
    }
    default:
      throw new WhenError(`unknown operator ${op}`);
  }
}
