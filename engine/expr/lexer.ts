// Tokenizer for the expr-lang subset (argo-semantics §5). Also home of the
// small error type shared by the parser and the evaluator: an error at a
// source position, turned into a DflowConfigError (quoting the expression,
// with line:column and a caret) at the API boundary.
import { DflowConfigError } from "../../src/errors.js";

export type TokenKind = "number" | "string" | "ident" | "pointer" | "op" | "eof";

export interface Token {
  kind: TokenKind;
  /** number: the numeric value; string: the unescaped text; ident/op: the text; pointer: "" for `#`, "index" for `#index`. */
  value: string | number;
  /** Offset of the token's first character in the source. */
  pos: number;
}

/** An error at a position of the source; the API turns it into a DflowConfigError. */
export class ExprError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
    this.name = "ExprError";
  }
}

/** ` (line:col)` and the source line with a caret under `pos`, expr-lang style. */
export function locate(src: string, pos: number): string {
  const at = Math.max(0, Math.min(pos, src.length));
  const lineStart = src.lastIndexOf("\n", at - 1) + 1;
  let lineEnd = src.indexOf("\n", at);
  if (lineEnd < 0) lineEnd = src.length;
  const line = src.slice(0, lineStart).split("\n").length;
  const col = at - lineStart;
  return ` (${line}:${col + 1})\n | ${src.slice(lineStart, lineEnd)}\n | ${".".repeat(col)}^`;
}

/** The DflowConfigError for an error in expression `src`. */
export function exprConfigError(what: "invalid expression" | "cannot evaluate expression", src: string, err: ExprError): DflowConfigError {
  return new DflowConfigError(`${what} ${JSON.stringify(src)}: ${err.message}${locate(src, err.pos)}`);
}

// Longest first.
const OPERATORS = ["**", "??", "?.", "==", "!=", "<=", ">=", "&&", "||", "..", "+", "-", "*", "/", "%", "^", "!", "<", ">", "?", ":", ".", ",", "(", ")", "[", "]", "{", "}", "|"];

const IDENT_START = /[\p{L}_$]/u;
const IDENT_PART = /[\p{L}\p{N}_$]/u;
const DIGIT = /[0-9]/;

const ESCAPES: Record<string, string> = { a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\", "'": "'", '"': '"', "`": "`" };

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    // Comments: // to end of line, /* ... */
    if (c === "/" && src[i + 1] === "/") {
      while (i < n && src[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      if (end < 0) throw new ExprError("unclosed comment", i);
      i = end + 2;
      continue;
    }
    const start = i;
    if (DIGIT.test(c)) {
      i = readNumber(src, i, tokens);
      continue;
    }
    if (c === "'" || c === '"') {
      const [text, end] = readString(src, i);
      tokens.push({ kind: "string", value: text, pos: start });
      i = end;
      continue;
    }
    if (c === "`") {
      const end = src.indexOf("`", i + 1);
      if (end < 0) throw new ExprError("unclosed string literal", i);
      tokens.push({ kind: "string", value: src.slice(i + 1, end), pos: start });
      i = end + 1;
      continue;
    }
    if (IDENT_START.test(c)) {
      while (i < n && IDENT_PART.test(src[i])) i++;
      tokens.push({ kind: "ident", value: src.slice(start, i), pos: start });
      continue;
    }
    if (c === "#") {
      i++;
      while (i < n && IDENT_PART.test(src[i])) i++;
      const name = src.slice(start + 1, i);
      if (name !== "" && name !== "index") throw new ExprError(`unknown pointer #${name} (use # for the element, #index for its index)`, start);
      tokens.push({ kind: "pointer", value: name, pos: start });
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op) throw new ExprError(`unexpected character ${JSON.stringify(c)}`, i);
    // `c ?.5 : 1` is a ternary, not optional chaining.
    if (op === "?." && DIGIT.test(src[i + 2] ?? "")) {
      tokens.push({ kind: "op", value: "?", pos: start });
      i += 1;
      continue;
    }
    tokens.push({ kind: "op", value: op, pos: start });
    i += op.length;
  }
  tokens.push({ kind: "eof", value: "", pos: n });
  return tokens;
}

function readNumber(src: string, i: number, tokens: Token[]): number {
  const start = i;
  const prefixed = /^0[xXoObB]/.exec(src.slice(i, i + 2));
  if (prefixed) {
    const base = { x: 16, o: 8, b: 2 }[src[i + 1].toLowerCase() as "x" | "o" | "b"];
    const digits = base === 16 ? /[0-9a-fA-F_]/ : base === 8 ? /[0-7_]/ : /[01_]/;
    i += 2;
    while (i < src.length && digits.test(src[i])) i++;
    const body = src.slice(start + 2, i).replace(/_/g, "");
    if (!body) throw new ExprError(`invalid number ${JSON.stringify(src.slice(start, i + 1))}`, start);
    tokens.push({ kind: "number", value: parseInt(body, base), pos: start });
    return checkNumberEnd(src, i, start);
  }
  while (i < src.length && /[0-9_]/.test(src[i])) i++;
  // A fraction needs a digit after the dot: `1..3` is a range, `a[1].b` an index.
  if (src[i] === "." && DIGIT.test(src[i + 1] ?? "")) {
    i++;
    while (i < src.length && /[0-9_]/.test(src[i])) i++;
  }
  if (/[eE]/.test(src[i] ?? "") && /^[eE][+-]?[0-9]/.test(src.slice(i, i + 3))) {
    i++;
    if (src[i] === "+" || src[i] === "-") i++;
    while (i < src.length && DIGIT.test(src[i])) i++;
  }
  const text = src.slice(start, i).replace(/_/g, "");
  tokens.push({ kind: "number", value: Number(text), pos: start });
  return checkNumberEnd(src, i, start);
}

function checkNumberEnd(src: string, i: number, start: number): number {
  if (i < src.length && IDENT_PART.test(src[i])) {
    let j = i;
    while (j < src.length && IDENT_PART.test(src[j])) j++;
    throw new ExprError(`invalid number ${JSON.stringify(src.slice(start, j))}`, start);
  }
  return i;
}

function readString(src: string, i: number): [string, number] {
  const quote = src[i];
  const start = i;
  i++;
  let out = "";
  while (i < src.length) {
    const c = src[i];
    if (c === quote) return [out, i + 1];
    if (c === "\n") break;
    if (c !== "\\") {
      out += c;
      i++;
      continue;
    }
    const e = src[i + 1];
    if (e === undefined) break;
    if (e in ESCAPES) {
      out += ESCAPES[e];
      i += 2;
    } else if (e === "x" || e === "u" || e === "U") {
      const len = e === "x" ? 2 : e === "u" ? 4 : 8;
      const hex = src.slice(i + 2, i + 2 + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) throw new ExprError(`invalid escape \\${e}${hex} in string literal`, i);
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) throw new ExprError(`invalid escape \\${e}${hex} in string literal`, i);
      out += String.fromCodePoint(cp);
      i += 2 + len;
    } else if (/[0-7]/.test(e)) {
      const oct = src.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(oct)) throw new ExprError(`invalid escape \\${oct} in string literal (octal escapes take three digits)`, i);
      out += String.fromCharCode(parseInt(oct, 8));
      i += 4;
    } else {
      throw new ExprError(`invalid escape \\${e} in string literal`, i);
    }
  }
  throw new ExprError("unclosed string literal", start);
}
