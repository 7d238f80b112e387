/**
 * Python-compatible JSON values: a JSON parser that keeps the int/float identity of numbers
 * (`4` vs `4.0`), and serializers reproducing Python's `json.dumps(obj)` (the hashing pre-image,
 * spec §4.2) and `json.dumps(obj, indent=N)` (the state file, spec §4.14), plus Python `str()` of
 * values (used by `export K=V` lines and header templates).
 */

/** A number that Python holds as a `float` (JSON literal with `.`/`e`, or a float default). */
export class PyFloat {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
  toString(): string {
    return pyFloatRepr(this.value);
  }
}

export const pyFloat = (v: number): PyFloat => new PyFloat(v);

/** Python-JSON value: plain JS numbers are ints when integral, floats otherwise. */
export type PyValue =
  | null
  | boolean
  | number
  | string
  | PyFloat
  | PyValue[]
  | { [key: string]: PyValue };

export type PyObject = { [key: string]: PyValue };

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof PyFloat);
}

/** Numeric value of an int or a PyFloat. */
export function num(v: unknown): number {
  if (v instanceof PyFloat) return v.value;
  return v as number;
}

export function isPyFloat(v: unknown): boolean {
  return v instanceof PyFloat || (typeof v === "number" && !Number.isInteger(v));
}

/** Python `repr(float)`. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const sign = x < 0 ? "-" : "";
  const e = Math.abs(x).toExponential(); // shortest round-trip digits, e.g. "1.5e+16"
  const [mant, expStr] = e.split("e") as [string, string];
  const exp = Number(expStr);
  const digits = mant.replace(".", "");
  if (exp >= -5 + 1 && exp < 16) {
    // fixed notation (Python 'r' uses fixed when -4 <= exp < 16)
    let s: string;
    if (exp >= 0) {
      if (digits.length <= exp + 1) s = digits + "0".repeat(exp + 1 - digits.length) + ".0";
      else s = digits.slice(0, exp + 1) + "." + digits.slice(exp + 1);
    } else {
      s = "0." + "0".repeat(-exp - 1) + digits;
    }
    return sign + s;
  }
  const m = digits.length > 1 ? digits[0] + "." + digits.slice(1) : digits;
  const es = exp < 0 ? "-" + String(-exp).padStart(2, "0") : "+" + String(exp).padStart(2, "0");
  return sign + m + "e" + es;
}

function numberRepr(v: number | PyFloat): string {
  if (v instanceof PyFloat) return pyFloatRepr(v.value);
  if (Number.isInteger(v)) return Number.isSafeInteger(v) ? String(v) : BigInt(v).toString();
  return pyFloatRepr(v);
}

/** JSON string literal with Python's `ensure_ascii=True`. */
export function pyJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (c < 0x20 || c > 0x7e) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += ch;
  }
  return out + '"';
}

/** Python `json.dumps(v)` (default separators, insertion-ordered keys, ensure_ascii). */
export function pyJsonDumps(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (v === true) return "true";
  if (v === false) return "false";
  if (typeof v === "number" || v instanceof PyFloat) return numberRepr(v);
  if (typeof v === "string") return pyJsonString(v);
  if (Array.isArray(v)) return "[" + v.map(pyJsonDumps).join(", ") + "]";
  if (isPlainObject(v)) {
    return (
      "{" +
      Object.entries(v)
        .map(([k, x]) => pyJsonString(k) + ": " + pyJsonDumps(x))
        .join(", ") +
      "}"
    );
  }
  // Python's default=str fallback used by upstream for non-JSON values
  return pyJsonString(String(v));
}

/** Python `json.dumps(v, indent=n)` (no trailing newline). */
export function pyJsonDumpsIndent(v: unknown, indent = 4, level = 0): string {
  const pad = (l: number) => " ".repeat(indent * l);
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    return (
      "[\n" +
      v.map((x) => pad(level + 1) + pyJsonDumpsIndent(x, indent, level + 1)).join(",\n") +
      "\n" +
      pad(level) +
      "]"
    );
  }
  if (isPlainObject(v)) {
    const ents = Object.entries(v);
    if (ents.length === 0) return "{}";
    return (
      "{\n" +
      ents
        .map(([k, x]) => pad(level + 1) + pyJsonString(k) + ": " + pyJsonDumpsIndent(x, indent, level + 1))
        .join(",\n") +
      "\n" +
      pad(level) +
      "}"
    );
  }
  return pyJsonDumps(v);
}

/** Python `str(v)` for JSON-ish values (used in `export` lines and templates). */
export function pyStr(v: unknown): string {
  if (v === true) return "True";
  if (v === false) return "False";
  if (v === null || v === undefined) return "None";
  if (typeof v === "number" || v instanceof PyFloat) return numberRepr(v);
  if (typeof v === "string") return v;
  return pyRepr(v);
}

/** Python `repr(v)` for JSON-ish values. */
export function pyRepr(v: unknown): string {
  if (typeof v === "string") {
    // Python prefers single quotes unless the string contains ' and no "
    const useDouble = v.includes("'") && !v.includes('"');
    const q = useDouble ? '"' : "'";
    let s = "";
    for (const ch of v) {
      const c = ch.codePointAt(0)!;
      if (ch === "\\") s += "\\\\";
      else if (ch === q) s += "\\" + q;
      else if (ch === "\n") s += "\\n";
      else if (ch === "\r") s += "\\r";
      else if (ch === "\t") s += "\\t";
      else if (c < 0x20 || c === 0x7f) s += "\\x" + c.toString(16).padStart(2, "0");
      else s += ch;
    }
    return q + s + q;
  }
  if (Array.isArray(v)) return "[" + v.map(pyRepr).join(", ") + "]";
  if (isPlainObject(v)) {
    return "{" + Object.entries(v).map(([k, x]) => pyRepr(k) + ": " + pyRepr(x)).join(", ") + "}";
  }
  return pyStr(v);
}

/** Parse JSON text, keeping float literals as {@link PyFloat}. */
export function parsePyJson(text: string): PyValue {
  let i = 0;
  const err = (msg: string): never => {
    throw new SyntaxError(`JSON: ${msg} at offset ${i}`);
  };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const o: PyObject = {};
      ws();
      if (text[i] === "}") {
        i++;
        return o;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') err("expected string key");
        const k = str();
        ws();
        if (text[i] !== ":") err("expected ':'");
        i++;
        const v = value();
        Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return o;
        }
        err("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const a: PyValue[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return a;
      }
      for (;;) {
        a.push(value());
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return a;
        }
        err("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (text.startsWith("true", i)) return (i += 4), true;
    if (text.startsWith("false", i)) return (i += 5), false;
    if (text.startsWith("null", i)) return (i += 4), null;
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) return err("unexpected token");
    i += m[0].length;
    const n = Number(m[0]);
    return m[2] || m[3] ? new PyFloat(n) : n;
  };
  const str = (): string => {
    const start = i;
    i++;
    let out = "";
    for (;;) {
      if (i >= text.length) err("unterminated string");
      const ch = text[i]!;
      if (ch === '"') {
        i++;
        return out;
      }
      if (ch === "\\") {
        const e = text[i + 1];
        const map: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
        if (e === "u") {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else if (e !== undefined && e in map) {
          out += map[e];
          i += 2;
        } else err(`bad escape in string starting at ${start}`);
      } else {
        out += ch;
        i++;
      }
    }
  };
  const v = value();
  ws();
  if (i !== text.length) err("trailing data");
  return v;
}

/** Deep copy of a Python-JSON value (PyFloat instances are immutable and shared). */
export function deepCopy<T>(v: T): T {
  if (Array.isArray(v)) return v.map(deepCopy) as T;
  if (isPlainObject(v)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = deepCopy(x);
    return o as T;
  }
  return v;
}
