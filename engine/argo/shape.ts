// The JSON kinds of a manifest's fields, checked as Argo's Go decoding
// (sigs.k8s.io/yaml, then encoding/json) checks them: Argo refuses
// `command: "echo hi"` before anything runs, where reading the manifest
// leniently would run something else. Only kinds are checked (array,
// object, scalar): unknown fields are another check's, and a scalar of
// another kind is accepted, as Argo's AnyString takes numbers and booleans
// (and IntOrString a number where a string is written), where Go would
// refuse a string in an int or bool field: what this runner reads as text
// either way. A list or map given as a parameter's value (an AnyString) is
// refused too, though Argo decodes it without a word, as an empty string.
import { GO_TYPES } from "./go-types.js";

/** Argo's AnyString fields (anystring.go): a list or a map decodes to "" there, silently. */
const ANY_STRING = new Set(["Parameter.default", "Parameter.value", "Parameter.enum", "Parameter.description", "ValueFrom.default"]);

export type ManifestKind = "Workflow" | "WorkflowTemplate" | "ClusterWorkflowTemplate" | "CronWorkflow";

const SCALARS = new Set(["string", "int", "int32", "int64", "float64", "bool", "[]byte"]);

type Kind = "array" | "object" | "scalar" | "any";

/** What JSON kind a Go type (as go-types.ts writes them) decodes from. */
function kindOf(type: string): Kind {
  if (type === "any") return "any";
  if (SCALARS.has(type)) return "scalar";
  if (type.startsWith("[]")) return "array";
  if (type.startsWith("map[string]")) return "object";
  const t = GO_TYPES[type];
  return typeof t === "string" ? kindOf(t) : "object";
}

/** encoding/json's word for what it was given. */
const given = (v: unknown): string => (Array.isArray(v) ? "array" : typeof v === "object" ? "object" : typeof v === "boolean" ? "bool" : typeof v);

// Go matches a JSON key to a field exactly, else case-insensitively: `withitems` fills withItems.
const folded = new Map<string, Map<string, string>>();
function fieldOf(type: string, fields: Readonly<Record<string, string>>, key: string): string | undefined {
  if (Object.hasOwn(fields, key)) return key;
  let byLower = folded.get(type);
  if (!byLower) folded.set(type, (byLower = new Map(Object.keys(fields).map((k) => [k.toLowerCase(), k]))));
  return byLower.get(key.toLowerCase());
}

/**
 * `at` is the value's path in the manifest; `field` is the Go struct field
 * it decodes into (`Container.command`), which Go's message names even
 * for an item of that field's list or map.
 */
function check(v: unknown, type: string, at: string, field: string | null, out: string[]): void {
  if (v === null || v === undefined) return; // Go leaves the zero value
  const named = GO_TYPES[type];
  // A named list (ParallelSteps) decodes itself with a fresh json.Unmarshal, so Go's message names no field.
  if (typeof named === "string" && kindOf(named) === "array") return check(v, named, at, null, out);
  const want = kindOf(type);
  const got = Array.isArray(v) ? "array" : typeof v === "object" ? "object" : "scalar";
  if (want !== "any" && want !== got) {
    if (field && ANY_STRING.has(field)) {
      out.push(`${at}: a ${Array.isArray(v) ? "list" : "map"} is no ${field.split(".")[1]} of a parameter: Argo reads it as an empty string; write it as text (quoted: '${JSON.stringify(v)}') to pass it as JSON`);
      return;
    }
    out.push(`${at ? `${at}: ` : ""}cannot unmarshal ${given(v)} into ${field ? `Go struct field ${field}` : "Go value"} of type ${type}`);
    return; // what is inside a value of the wrong kind is not decoded at all
  }
  if (want === "array") {
    (v as unknown[]).forEach((x, i) => check(x, type.slice(2), `${at}[${i}]`, field, out));
  } else if (type.startsWith("map[string]")) {
    for (const [k, x] of Object.entries(v as object)) check(x, type.slice("map[string]".length), `${at}.${k}`, field, out);
  } else if (typeof named === "object") {
    const struct = type.slice(type.lastIndexOf(".") + 1);
    for (const [k, x] of Object.entries(v as object)) {
      const f = fieldOf(type, named, k);
      if (f) check(x, named[f], at ? `${at}.${k}` : k, `${struct}.${f}`, out);
    }
  }
}

/**
 * Where a parsed manifest (plain JSON values) has a field of a JSON kind
 * Argo cannot decode into its Go type, one line each, in Go's words:
 * `spec.templates[0].container.command: cannot unmarshal string into Go
 * struct field Container.command of type []string`.
 */
export function shapeErrors(doc: unknown, kind: ManifestKind): string[] {
  const out: string[] = [];
  check(doc, `v1alpha1.${kind}`, "", null, out);
  return out;
}
