// Parser for the expr-lang subset (argo-semantics §5): precedence climbing
// with expr-lang's operator table, closures `{# ...}` for the predicate
// built-ins, pipes `x | f(y)` (= f(x, y)), member/index/slice access.
import { ExprError, exprConfigError, tokenize, type Token } from "./lexer.js";

export type Node =
  | { kind: "literal"; value: unknown; pos: number }
  | { kind: "ident"; name: string; pos: number }
  /** `#` (name "") or `#index` inside a closure. */
  | { kind: "pointer"; name: string; pos: number }
  /** `a.b` / `a?.b` (property is a string literal) and `a[x]` / `a?.[x]`. */
  | { kind: "member"; object: Node; property: Node; optional: boolean; pos: number }
  | { kind: "slice"; object: Node; from: Node | null; to: Node | null; pos: number }
  | { kind: "unary"; op: "!" | "-" | "+"; operand: Node; pos: number }
  | { kind: "binary"; op: string; left: Node; right: Node; pos: number }
  | { kind: "conditional"; cond: Node; then: Node; else: Node; pos: number }
  /** A built-in call; `name` is e.g. "len" or "sprig.untilStep". */
  | { kind: "call"; name: string; args: Node[]; pos: number }
  /** `x.Name(args)`: a method of a time or duration value (engine/expr/time.ts). */
  | { kind: "method"; object: Node; name: string; args: Node[]; pos: number }
  | { kind: "closure"; body: Node; pos: number }
  | { kind: "array"; items: Node[]; pos: number }
  | { kind: "map"; entries: { key: Node; value: Node }[]; pos: number };

/** Built-ins whose second argument is a closure (predicate). */
export const PREDICATE_BUILTINS = ["all", "none", "any", "one", "filter", "map", "count", "find", "findIndex", "findLast", "findLastIndex", "sum"] as const;

export const BUILTINS = [
  ...PREDICATE_BUILTINS,
  "int", "float", "string", "len", "join", "split", "concat", "get", "toJSON", "fromJSON", "lower", "upper", "trim",
  "trimPrefix", "trimSuffix", "replace", "repeat", "indexOf", "lastIndexOf", "hasPrefix", "hasSuffix", "keys", "values",
  "min", "max", "abs", "ceil", "floor", "round", "first", "last", "reverse", "sort", "uniq", "flatten", "toBase64", "fromBase64",
  "now", "date", "duration",
  // Argo's additions
  "asInt", "asFloat", "toJson", "jsonpath",
] as const;

export const SPRIG_BUILTINS = [
  "untilStep", "until", "atoi", "int", "int64", "float64", "add", "add1", "sub", "mul", "div", "mod", "max", "min",
  "upper", "lower", "trim", "trimAll", "trimPrefix", "trimSuffix", "replace", "contains", "hasPrefix", "hasSuffix", "repeat",
  "quote", "squote", "toString", "fromJson", "toJson", "toPrettyJson", "list", "has", "len", "length", "first", "last",
  "join", "splitList", "default", "empty", "coalesce", "ternary", "b64enc", "b64dec", "date",
] as const;

export type BuiltinName = (typeof BUILTINS)[number];
export type PredicateName = (typeof PREDICATE_BUILTINS)[number];
export type SprigName = (typeof SPRIG_BUILTINS)[number];

const BUILTIN_SET = new Set<string>(BUILTINS);
const SPRIG_SET = new Set<string>(SPRIG_BUILTINS);
const PREDICATE_SET = new Set<string>(PREDICATE_BUILTINS);

interface BinaryOp {
  prec: number;
  right?: boolean;
}

// expr-lang's operator table (parser/operator).
const BINARY: Record<string, BinaryOp> = {
  "|": { prec: 0 },
  or: { prec: 10 },
  "||": { prec: 10 },
  and: { prec: 15 },
  "&&": { prec: 15 },
  "==": { prec: 20 },
  "!=": { prec: 20 },
  "<": { prec: 20 },
  ">": { prec: 20 },
  "<=": { prec: 20 },
  ">=": { prec: 20 },
  in: { prec: 20 },
  matches: { prec: 20 },
  contains: { prec: 20 },
  startsWith: { prec: 20 },
  endsWith: { prec: 20 },
  "..": { prec: 25 },
  "+": { prec: 30 },
  "-": { prec: 30 },
  "*": { prec: 60 },
  "/": { prec: 60 },
  "%": { prec: 60 },
  "**": { prec: 100, right: true },
  "^": { prec: 100, right: true },
  "??": { prec: 500 },
};

const NEGATABLE = new Set(["in", "matches", "contains", "startsWith", "endsWith"]);
const WORD_OPERATORS = new Set(["or", "and", "in", "matches", "contains", "startsWith", "endsWith", "not"]);
const CANONICAL: Record<string, string> = { or: "||", and: "&&", "^": "**" };

const sources = new WeakMap<Node, string>();

/** The source text a root node was parsed from (for error messages). */
export function sourceOf(node: Node): string | undefined {
  return sources.get(node);
}

/** Parse an expr-lang expression. Throws DflowConfigError with position and caret on syntax errors. */
export function parseExpr(src: string): Node {
  try {
    const node = new Parser(tokenize(src)).parseRoot();
    sources.set(node, src);
    return node;
  } catch (e) {
    if (e instanceof ExprError) throw exprConfigError("invalid expression", src, e);
    throw e;
  }
}

function describe(t: Token): string {
  if (t.kind === "eof") return "end of expression";
  if (t.kind === "string") return `string ${JSON.stringify(t.value)}`;
  if (t.kind === "pointer") return `#${t.value}`;
  return `${t.kind === "number" ? "number" : t.kind === "ident" ? "identifier" : "token"} ${JSON.stringify(String(t.value))}`;
}

class Parser {
  private i = 0;
  private closureDepth = 0;

  constructor(private readonly tokens: Token[]) {}

  private get cur(): Token {
    return this.tokens[this.i];
  }

  private peek(k = 1): Token {
    return this.tokens[Math.min(this.i + k, this.tokens.length - 1)];
  }

  private next(): Token {
    const t = this.tokens[this.i];
    if (t.kind !== "eof") this.i++;
    return t;
  }

  private isOp(value: string, t: Token = this.cur): boolean {
    return t.kind === "op" && t.value === value;
  }

  private expectOp(value: string): Token {
    if (!this.isOp(value)) throw new ExprError(`expected ${JSON.stringify(value)}, found ${describe(this.cur)}`, this.cur.pos);
    return this.next();
  }

  parseRoot(): Node {
    if (this.cur.kind === "eof") throw new ExprError("empty expression", 0);
    const node = this.parseExpression(0);
    const end: Token = this.tokens[this.i];
    if (end.kind !== "eof") throw new ExprError(`unexpected ${describe(this.cur)}`, this.cur.pos);
    return node;
  }

  /** The binary operator at the current token (ops and word operators), if any. */
  private binaryAt(t: Token): string | undefined {
    if (t.kind === "op" && typeof t.value === "string" && t.value in BINARY) return t.value;
    if (t.kind === "ident" && typeof t.value === "string" && WORD_OPERATORS.has(t.value) && t.value !== "not") return t.value;
    return undefined;
  }

  private parseExpression(minPrec: number): Node {
    let left = this.parsePrimary();
    for (;;) {
      const t = this.cur;
      // `not in`, `not matches`, ...
      if (t.kind === "ident" && t.value === "not") {
        const after = this.peek();
        const name = this.binaryAt(after);
        if (!name || !NEGATABLE.has(name)) throw new ExprError(`unexpected ${describe(after)} after "not" (expected in, matches, contains, startsWith or endsWith)`, after.pos);
        if (BINARY[name].prec < minPrec) break;
        this.next();
        this.next();
        const right = this.parseExpression(BINARY[name].prec + 1);
        left = { kind: "unary", op: "!", operand: { kind: "binary", op: name, left, right, pos: after.pos }, pos: t.pos };
        continue;
      }
      const name = this.binaryAt(t);
      if (!name) break;
      const op = BINARY[name];
      if (op.prec < minPrec) break;
      this.next();
      if (name === "|") {
        const fn = this.cur;
        if (fn.kind !== "ident") throw new ExprError(`expected a function name after "|", found ${describe(fn)}`, fn.pos);
        this.next();
        left = this.parseCallAfterName(fn, [left]);
        continue;
      }
      const right = this.parseExpression(op.right ? op.prec : op.prec + 1);
      left = { kind: "binary", op: CANONICAL[name] ?? name, left, right, pos: t.pos };
    }
    if (minPrec === 0) left = this.parseConditional(left);
    return left;
  }

  private parseConditional(cond: Node): Node {
    while (this.isOp("?")) {
      const q = this.next();
      if (this.isOp(":")) {
        // Elvis: `a ?: b`
        this.next();
        const otherwise = this.parseExpression(0);
        cond = { kind: "conditional", cond: { kind: "binary", op: "!=", left: cond, right: { kind: "literal", value: null, pos: q.pos }, pos: q.pos }, then: cond, else: otherwise, pos: q.pos };
        continue;
      }
      const then = this.parseExpression(0);
      this.expectOp(":");
      const otherwise = this.parseExpression(0);
      cond = { kind: "conditional", cond, then, else: otherwise, pos: q.pos };
    }
    return cond;
  }

  private parsePrimary(): Node {
    const t = this.cur;
    if (this.isOp("!") || (t.kind === "ident" && t.value === "not")) {
      this.next();
      const operand = this.parseExpression(50);
      return this.parsePostfix({ kind: "unary", op: "!", operand, pos: t.pos });
    }
    if (this.isOp("-") || this.isOp("+")) {
      this.next();
      const operand = this.parseExpression(90);
      return this.parsePostfix({ kind: "unary", op: t.value as "-" | "+", operand, pos: t.pos });
    }
    if (this.isOp("(")) {
      this.next();
      const inner = this.parseExpression(0);
      this.expectOp(")");
      return this.parsePostfix(inner);
    }
    return this.parsePostfix(this.parseOperand());
  }

  private parseOperand(): Node {
    const t = this.next();
    switch (t.kind) {
      case "number":
      case "string":
        return { kind: "literal", value: t.value, pos: t.pos };
      case "pointer":
        if (this.closureDepth === 0) throw new ExprError(`#${t.value} can only be used inside a closure (e.g. filter(list, {# > 1}))`, t.pos);
        return { kind: "pointer", name: String(t.value), pos: t.pos };
      case "ident": {
        const name = String(t.value);
        if (name === "true" || name === "false") return { kind: "literal", value: name === "true", pos: t.pos };
        if (name === "nil" || name === "null") return { kind: "literal", value: null, pos: t.pos };
        if (WORD_OPERATORS.has(name)) throw new ExprError(`unexpected operator ${JSON.stringify(name)}`, t.pos);
        if (this.isOp("(")) return this.parseCallAfterName(t, []);
        if (name === "sprig" && this.isOp(".") && this.peek().kind === "ident" && this.isOp("(", this.peek(2))) {
          this.next();
          const fn = this.next();
          return this.parseCallAfterName({ ...fn, value: `sprig.${String(fn.value)}` }, []);
        }
        return { kind: "ident", name, pos: t.pos };
      }
      case "op":
        if (t.value === "[") return this.parseArray(t);
        if (t.value === "{") return this.parseMap(t);
        if (t.value === "." && this.cur.kind === "ident") {
          // `.name` inside a closure is `#.name`.
          if (this.closureDepth === 0) throw new ExprError(`.${String(this.cur.value)} can only be used inside a closure (e.g. filter(list, .age > 18))`, t.pos);
          const prop = this.next();
          return { kind: "member", object: { kind: "pointer", name: "", pos: t.pos }, property: { kind: "literal", value: prop.value, pos: prop.pos }, optional: false, pos: t.pos };
        }
        throw new ExprError(`unexpected ${describe(t)}`, t.pos);
      case "eof":
        throw new ExprError("unexpected end of expression", t.pos);
    }
  }

  private parseArray(open: Token): Node {
    return { kind: "array", items: this.parseItems("]"), pos: open.pos };
  }

  /** Comma-separated items up to `close` (consumed); `item(i)` parses the i-th (an expression by default). */
  private parseItems(close: string, item: (i: number) => Node = () => this.parseExpression(0)): Node[] {
    const items: Node[] = [];
    while (!this.isOp(close)) {
      items.push(item(items.length));
      if (!this.isOp(",")) break;
      this.next();
    }
    this.expectOp(close);
    return items;
  }

  private parseMap(open: Token): Node {
    const entries: { key: Node; value: Node }[] = [];
    while (!this.isOp("}")) {
      const k = this.cur;
      let key: Node;
      if (k.kind === "ident" || k.kind === "string") {
        this.next();
        key = { kind: "literal", value: String(k.value), pos: k.pos };
      } else if (k.kind === "number") {
        this.next();
        key = { kind: "literal", value: String(k.value), pos: k.pos };
      } else if (this.isOp("(")) {
        this.next();
        key = this.parseExpression(0);
        this.expectOp(")");
      } else {
        throw new ExprError(`a map key must be a name, a string, a number or a parenthesised expression, found ${describe(k)}`, k.pos);
      }
      this.expectOp(":");
      entries.push({ key, value: this.parseExpression(0) });
      if (!this.isOp(",")) break;
      this.next();
    }
    this.expectOp("}");
    return { kind: "map", entries, pos: open.pos };
  }

  private parseCallAfterName(nameTok: Token, piped: Node[]): Node {
    const name = String(nameTok.value);
    const isSprig = name.startsWith("sprig.");
    if (isSprig ? !SPRIG_SET.has(name.slice(6)) : !BUILTIN_SET.has(name)) {
      throw new ExprError(`unknown function ${name}${isSprig ? " (not in dflow-ts's Sprig subset)" : ""}`, nameTok.pos);
    }
    this.expectOp("(");
    const predicate = !isSprig && PREDICATE_SET.has(name);
    const args = [...piped, ...this.parseItems(")", (i) => (predicate && piped.length + i === 1 ? this.parseClosure() : this.parseExpression(0)))];
    return this.parsePostfix({ kind: "call", name, args, pos: nameTok.pos });
  }

  /** `{ body }` or a bare body; a body may itself be a map literal: `{ {'a': #} }`. */
  private parseClosure(): Node {
    const start = this.cur;
    const braced = this.isOp("{");
    if (braced) this.next();
    this.closureDepth++;
    const body = this.parseExpression(0);
    this.closureDepth--;
    if (braced) this.expectOp("}");
    return { kind: "closure", body, pos: start.pos };
  }

  private parsePostfix(node: Node): Node {
    for (;;) {
      const t = this.cur;
      if (this.isOp(".") || this.isOp("?.")) {
        const optional = t.value === "?.";
        this.next();
        if (optional && this.isOp("[")) {
          node = this.parseIndex(node, true);
          continue;
        }
        const prop = this.cur;
        if (prop.kind !== "ident") throw new ExprError(`expected a field name after ${JSON.stringify(t.value)}, found ${describe(prop)}`, prop.pos);
        this.next();
        if (this.isOp("(")) {
          this.next();
          node = { kind: "method", object: node, name: String(prop.value), args: this.parseItems(")"), pos: prop.pos };
          continue;
        }
        node = { kind: "member", object: node, property: { kind: "literal", value: prop.value, pos: prop.pos }, optional, pos: t.pos };
        continue;
      }
      if (this.isOp("[")) {
        node = this.parseIndex(node, false);
        continue;
      }
      return node;
    }
  }

  private parseIndex(object: Node, optional: boolean): Node {
    const open = this.expectOp("[");
    if (this.isOp(":")) {
      this.next();
      const to = this.isOp("]") ? null : this.parseExpression(0);
      this.expectOp("]");
      return { kind: "slice", object, from: null, to, pos: open.pos };
    }
    const index = this.parseExpression(0);
    if (this.isOp(":")) {
      this.next();
      const to = this.isOp("]") ? null : this.parseExpression(0);
      this.expectOp("]");
      return { kind: "slice", object, from: index, to, pos: open.pos };
    }
    this.expectOp("]");
    return { kind: "member", object, property: index, optional, pos: open.pos };
  }
}
