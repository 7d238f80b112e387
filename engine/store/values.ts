// Parameter value files (spec §2.7): strings verbatim, everything else JSON
// with Python's separators (", " and ": ") so files are byte-identical to
// dflow's for plain data; class instances tagged {"py/object": "mod.Class"}.
import { classForTypeName, isStringType, pyJson } from "../../src/types.js";

// pyJson is the model's (src/types.ts): the Argo export writes parameter values as the engine's files hold them.
export { pyJson };

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
