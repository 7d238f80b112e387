/**
 * Python `str.format(**kwargs)` for customized script-header templates (spec §4.7.3):
 * `{name}`, `{name[key]}`, `{name[0]}`, `{{`/`}}`, conversions `!s`/`!r`, and the format-spec
 * mini-language for fill/align/sign/zero/width/grouping/precision with types s, d, f, F, %, x, X,
 * o, b. Anything else (attribute access, positional fields, nested specs, e/g types) is rejected
 * with an error instead of being rendered differently from Python.
 */
import { PyFloat, isPlainObject, pyRepr, pyStr } from "./pyjson.js";

export class TemplateFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateFormatError";
  }
}

function lookup(fieldName: string, kwargs: Record<string, unknown>): unknown {
  const m = /^([^.[]*)(.*)$/s.exec(fieldName)!;
  const arg = m[1]!;
  let rest = m[2]!;
  if (arg === "" || /^\d+$/.test(arg)) {
    throw new TemplateFormatError(`positional field {${fieldName}} is not supported (template is formatted with keyword arguments only)`);
  }
  if (!(arg in kwargs)) throw new TemplateFormatError(`KeyError: ${pyRepr(arg)} (template field {${fieldName}})`);
  let v: unknown = kwargs[arg];
  while (rest.length) {
    if (rest.startsWith(".")) throw new TemplateFormatError(`attribute access in {${fieldName}} is not supported`);
    const close = rest.indexOf("]");
    if (!rest.startsWith("[") || close < 0) throw new TemplateFormatError(`malformed field name {${fieldName}}`);
    const key = rest.slice(1, close);
    rest = rest.slice(close + 1);
    if (Array.isArray(v)) {
      if (!/^\d+$/.test(key)) throw new TemplateFormatError(`TypeError: list indices must be integers (field {${fieldName}})`);
      const i = Number(key);
      if (i >= v.length) throw new TemplateFormatError(`IndexError: list index out of range (field {${fieldName}})`);
      v = v[i];
    } else if (isPlainObject(v)) {
      // Python passes digit-only keys as int; JSON dict keys are strings, so that would be a KeyError
      if (/^\d+$/.test(key)) throw new TemplateFormatError(`KeyError: ${key} (field {${fieldName}})`);
      if (!(key in v)) throw new TemplateFormatError(`KeyError: ${pyRepr(key)} (field {${fieldName}})`);
      v = v[key];
    } else {
      throw new TemplateFormatError(`TypeError: value is not subscriptable (field {${fieldName}})`);
    }
  }
  return v;
}

const SPEC_RE = /^(?:(.)?([<>=^]))?([-+ ])?(0)?(\d+)?([,_])?(?:\.(\d+))?([sdfF%xXob])?$/s;

function group(intPart: string, sep: string | undefined): string {
  if (!sep) return intPart;
  return intPart.replace(/\B(?=(\d{3})+(?!\d))/g, sep);
}

function formatValue(v: unknown, spec: string, field: string): string {
  if (spec === "") return pyStr(v);
  const m = SPEC_RE.exec(spec);
  if (!m) throw new TemplateFormatError(`unsupported format spec ${JSON.stringify(spec)} in {${field}}`);
  let [, fill, align, sign, zero, width, sep, prec, type] = m;
  const isNum = typeof v === "number" || typeof v === "boolean" || v instanceof PyFloat;
  const isFloat = v instanceof PyFloat || (typeof v === "number" && !Number.isInteger(v));
  let body: string;
  let neg = false;
  if (!isNum) {
    if (typeof v !== "string") {
      throw new TemplateFormatError(`TypeError: unsupported format string passed to ${v === null ? "NoneType" : Array.isArray(v) ? "list" : "dict"}.__format__ ({${field}})`);
    }
    if (type && type !== "s") throw new TemplateFormatError(`ValueError: Unknown format code '${type}' for object of type 'str' ({${field}})`);
    if (sign || sep) throw new TemplateFormatError(`ValueError: sign/grouping not allowed in string format specifier ({${field}})`);
    if (align === "=") throw new TemplateFormatError(`ValueError: '=' alignment not allowed in string format specifier ({${field}})`);
    body = prec !== undefined ? [...v].slice(0, Number(prec)).join("") : v;
    if (zero && !align) {
      fill = "0";
      align = "<";
    }
    align ??= "<";
  } else {
    const x = typeof v === "boolean" ? (v ? 1 : 0) : Number(v);
    neg = x < 0 || Object.is(x, -0);
    const ax = Math.abs(x);
    if (type === "s") throw new TemplateFormatError(`ValueError: Unknown format code 's' for a number ({${field}})`);
    if (isFloat && type && "dxXob".includes(type)) {
      throw new TemplateFormatError(`ValueError: Unknown format code '${type}' for object of type 'float' ({${field}})`);
    }
    if (type === "d" || (!type && !isFloat && prec === undefined)) {
      body = group(String(ax), sep);
    } else if (type === "x" || type === "X" || type === "o" || type === "b") {
      body = ax.toString(type === "o" ? 8 : type === "b" ? 2 : 16);
      if (type === "X") body = body.toUpperCase();
    } else if (type === "f" || type === "F" || type === "%") {
      const p = prec === undefined ? 6 : Number(prec);
      const s = (type === "%" ? ax * 100 : ax).toFixed(p);
      const [ip, fp] = s.split(".");
      body = group(ip!, sep) + (fp !== undefined ? "." + fp : "") + (type === "%" ? "%" : "");
    } else if (!type && prec === undefined) {
      body = pyStr(new PyFloat(ax));
    } else {
      throw new TemplateFormatError(`unsupported format spec ${JSON.stringify(spec)} for a number in {${field}}`);
    }
    if (zero && !align) {
      fill = "0";
      align = "=";
    }
    align ??= ">";
  }
  const signStr = isNum ? (neg ? "-" : sign === "+" ? "+" : sign === " " ? " " : "") : "";
  const w = width ? Number(width) : 0;
  const f = fill ?? " ";
  const len = [...body].length + signStr.length;
  const padN = Math.max(0, w - len);
  switch (align) {
    case "<":
      return signStr + body + f.repeat(padN);
    case ">":
      return f.repeat(padN) + signStr + body;
    case "^":
      return f.repeat(Math.floor(padN / 2)) + signStr + body + f.repeat(padN - Math.floor(padN / 2));
    default: // "="
      return signStr + f.repeat(padN) + body;
  }
}

/** Python `template.format(**kwargs)`. */
export function pyFormat(template: string, kwargs: Record<string, unknown>): string {
  let out = "";
  let i = 0;
  while (i < template.length) {
    const c = template[i]!;
    if (c === "{") {
      if (template[i + 1] === "{") {
        out += "{";
        i += 2;
        continue;
      }
      // find the matching '}' (Python allows brackets in field names; nested '{' only in specs)
      let j = i + 1;
      let depth = 1;
      let inBracket = false;
      for (; j < template.length; j++) {
        const d = template[j]!;
        if (inBracket) {
          if (d === "]") inBracket = false;
          continue;
        }
        if (d === "[") inBracket = true;
        else if (d === "{") depth++;
        else if (d === "}" && --depth === 0) break;
      }
      if (j >= template.length) throw new TemplateFormatError("ValueError: expected '}' before end of string");
      const inner = template.slice(i + 1, j);
      i = j + 1;
      if (inner.includes("{")) throw new TemplateFormatError(`nested replacement fields are not supported: {${inner}}`);
      // split field name / conversion / spec, skipping over [...] in the field name
      let k = 0;
      let br = false;
      for (; k < inner.length; k++) {
        const d = inner[k]!;
        if (br) {
          if (d === "]") br = false;
        } else if (d === "[") br = true;
        else if (d === "!" || d === ":") break;
      }
      const field = inner.slice(0, k);
      let conv: string | undefined;
      let spec = "";
      let rest = inner.slice(k);
      if (rest.startsWith("!")) {
        conv = rest[1];
        rest = rest.slice(2);
        if (rest !== "" && !rest.startsWith(":")) throw new TemplateFormatError("ValueError: expected ':' after conversion specifier");
      }
      if (rest.startsWith(":")) spec = rest.slice(1);
      let v = lookup(field, kwargs);
      if (conv !== undefined) {
        if (conv === "s") v = pyStr(v);
        else if (conv === "r") v = pyRepr(v);
        else throw new TemplateFormatError(`unsupported conversion !${conv ?? ""} in {${inner}}`);
      }
      out += formatValue(v, spec, field);
      continue;
    }
    if (c === "}") {
      if (template[i + 1] === "}") {
        out += "}";
        i += 2;
        continue;
      }
      throw new TemplateFormatError("ValueError: Single '}' encountered in format string");
    }
    out += c;
    i++;
  }
  return out;
}
