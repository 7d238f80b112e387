// Parameter value files (spec §2.7): strings verbatim, everything else JSON
// with Python's separators (", " and ": ") so files are byte-identical to
// dflow's for plain data; class instances tagged {"py/object": "mod.Class"}.
import { classForTypeName, isStringType, typeNameOfClass } from "../../src/types.js";

/** JSON.stringify with Python json.dumps spacing. */
export function pyJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? String(value) : value > 0 ? "Infinity" : value < 0 ? "-Infinity" : "NaN";
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return value.toString();
    case "object": {
      if (Array.isArray(value)) return `[${value.map(pyJson).join(", ")}]`;
      const proto = Object.getPrototypeOf(value);
      const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined && typeof v !== "function");
      const body = entries.map(([k, v]) => `${JSON.stringify(k)}: ${pyJson(v)}`);
      if (proto !== Object.prototype && proto !== null) {
        const ctor = (proto as { constructor: abstract new (...a: never[]) => unknown }).constructor;
        if (typeof (value as { toJSON?: unknown }).toJSON === "function") return pyJson((value as { toJSON(): unknown }).toJSON());
        const name = typeNameOfClass(ctor) ?? ctor.name;
        body.unshift(`"py/object": ${JSON.stringify(name)}`);
      }
      return `{${body.join(", ")}}`;
    }
    default:
      return JSON.stringify(String(value));
  }
}

/** Text of a parameter value file. */
export function encodeValue(value: unknown): string {
  return typeof value === "string" ? value : pyJson(value);
}

function revive(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(revive);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = revive(x);
    const tag = o["py/object"];
    if (typeof tag === "string") {
      const cls = classForTypeName(tag);
      if (cls) {
        delete out["py/object"];
        return Object.assign(Object.create(cls.prototype as object), out);
      }
    }
    if (Array.isArray(o["py/tuple"]) && Object.keys(o).length === 1) return out["py/tuple"];
    if (Array.isArray(o["py/set"]) && Object.keys(o).length === 1) return out["py/set"];
    return out;
  }
  return v;
}

/** JSON (and Python-literal-ish NaN/Infinity) parse that returns the raw text when it is not JSON, as dflow does. */
export function parseJsonLoose(text: string): unknown {
  try {
    return revive(JSON.parse(text));
  } catch {
    return text;
  }
}

/**
 * Decode a parameter file's text by its declared type: unset or "str" gives
 * the raw text, any other type JSON-decodes (raw text when that fails).
 */
export function decodeValue(text: string, typeString: string | null | undefined): unknown {
  if (!typeString || isStringType(typeString)) return text;
  return parseJsonLoose(text);
}

/** Rendering of a value inside a script or `{{...}}` reference: strings verbatim, others JSON. */
export function renderValue(value: unknown): string {
  return typeof value === "string" ? value : pyJson(value);
}
