// Parameter types are zod schemas. This module maps a schema to the type
// string dflow writes in `.dflow/<name>` sidecars (spec §2.7) and registers
// classes so that typed objects survive the trip through parameter files
// ({"py/object": "<module>.<Class>", ...fields}).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "./vendor/zod.js";

type AnyClass = abstract new (...args: never[]) => unknown;

const classesByName = new Map<string, AnyClass>();
const namesByClass = new Map<AnyClass, string>();
const schemaClass = new WeakMap<object, string>();

/** The module part of a type name: the basename of the file that declared it. */
export function moduleNameOf(file: string): string {
  const p = file.startsWith("file:") ? fileURLToPath(file) : file;
  return path.basename(p).replace(/\.(m|c)?[jt]sx?$/, "");
}

/**
 * Register a class so its instances can be passed as parameters. `typeName`
 * defaults to `<module>.<Class>` where module is the basename of `module`
 * (pass `import.meta.url`), matching dflow's `module.Class` type strings.
 */
export function registerType(cls: AnyClass, typeName: string): string {
  classesByName.set(typeName, cls);
  namesByClass.set(cls, typeName);
  return typeName;
}

export function classForTypeName(name: string): AnyClass | undefined {
  return classesByName.get(name);
}

export function typeNameOfClass(cls: AnyClass): string | undefined {
  return namesByClass.get(cls);
}

/**
 * A parameter holding instances of `cls`: `instanceOf(Hello, import.meta.url)`.
 * The instance is stored as {"py/object": "<module>.Hello", ...own fields}.
 */
export function instanceOf<C extends AnyClass>(cls: C, module: string): z.ZodType<InstanceType<C>> {
  const name = registerType(cls, `${moduleNameOf(module)}.${cls.name}`);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const schema = z.instanceof(cls as unknown as new (...a: any[]) => object);
  schemaClass.set(schema, name);
  return schema as unknown as z.ZodType<InstanceType<C>>;
}

interface Def {
  type: string;
  format?: string;
  checks?: Array<{ _zod: { def: { check?: string; format?: string } } }>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  values?: unknown[];
  in?: z.ZodType;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

function isIntSchema(def: Def): boolean {
  if (def.format && /int/.test(def.format)) return true;
  return (def.checks ?? []).some((c) => c._zod.def.check === "number_format" && /int/.test(c._zod.def.format ?? ""));
}

/** The dflow type string of a schema ("str", "int", "typing.List", …). */
export function typeStringOf(schema: z.ZodType): string {
  const cls = schemaClass.get(schema);
  if (cls) return cls;
  const def = defOf(schema);
  switch (def.type) {
    case "string":
    case "enum":
    case "template_literal":
      return "str";
    case "number":
      return isIntSchema(def) ? "int" : "float";
    case "int":
    case "bigint":
      return "int";
    case "boolean":
      return "bool";
    case "array": {
      const el = def.element ? defOf(def.element).type : "any";
      return el === "any" || el === "unknown" ? "list" : "typing.List";
    }
    case "tuple":
      return "typing.Tuple";
    case "record":
      return "typing.Dict";
    case "object":
      return "dict";
    case "optional":
    case "nullable":
      return "typing.Optional";
    case "union":
      return "typing.Union";
    case "any":
    case "unknown":
      return "typing.Any";
    case "null":
      return "NoneType";
    case "literal": {
      const v = def.values?.[0];
      return typeof v === "string" ? "str" : typeof v === "number" ? (Number.isInteger(v) ? "int" : "float") : typeof v === "boolean" ? "bool" : "typing.Any";
    }
    case "default":
    case "prefault":
    case "catch":
    case "readonly":
    case "nonoptional":
      return def.innerType ? typeStringOf(def.innerType) : "typing.Any";
    case "pipe":
      return def.in ? typeStringOf(def.in) : "typing.Any";
    default:
      return "typing.Any";
  }
}

/** Whether a schema declares a string: its values are stored verbatim, not as JSON. */
export function isStringType(typeString: string | null | undefined): boolean {
  return typeString === "str" || typeString === "<class 'str'>";
}

/** The default value a schema declares (z.number().default(3)), if any. */
export function schemaDefault(schema: z.ZodType): { has: boolean; value?: unknown } {
  const def = defOf(schema) as Def & { defaultValue?: unknown };
  if (def.type === "default" || def.type === "prefault") {
    const v = def.defaultValue;
    return { has: true, value: typeof v === "function" ? (v as () => unknown)() : v };
  }
  return { has: false };
}

export function isOptionalSchema(schema: z.ZodType): boolean {
  const t = defOf(schema).type;
  return t === "optional" || t === "default" || t === "prefault";
}

/** Python's name for the runtime type of a value, for "got <type> instead" messages. */
export function pythonTypeName(v: unknown): string {
  if (v === null || v === undefined) return "NoneType";
  if (typeof v === "string") return "str";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (Array.isArray(v)) return "list";
  if (typeof v === "object") {
    const proto = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) return "dict";
    const ctor = (proto as { constructor?: AnyClass }).constructor;
    return (ctor && namesByClass.get(ctor)) ?? ctor?.name ?? "object";
  }
  return typeof v;
}

/**
 * JSON.stringify with Python json.dumps spacing: a parameter value file
 * (engine/store/values.ts) and an exported value (src/argo/export.ts);
 * class instances tagged {"py/object": "mod.Class"}.
 */
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
