// OPs: the TypeScript counterpart of dflow's Python OPs. A class OP declares
// its input and output signs and an `execute`; a function OP is a function
// with declared inputs and outputs. Either runs in a child process (never in
// the engine), with its step's workdir as cwd, and is type-checked before and
// after `execute` against its signs.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { z } from "./vendor/zod.js";
import { DflowConfigError } from "./errors.js";
import { isOptionalSchema, pythonTypeName, schemaDefault, typeStringOf } from "./types.js";

export type ArtifactKind = "path" | "list" | "dict" | "nested_dict";

export interface ArtifactOptions {
  optional?: boolean;
  global_name?: string;
  archive?: unknown;
  save?: unknown[];
  /** dflow's `sub_path`: a single-item catalog resolves to the item itself (default true). */
  sub_path?: boolean;
  description?: string;
}

/** An artifact in a sign: a path, a list of paths or a dict of paths. */
export class ArtifactSign {
  readonly kind: ArtifactKind;
  readonly optional: boolean;
  readonly global_name?: string;
  readonly sub_path: boolean;
  readonly description?: string;
  constructor(kind: ArtifactKind = "path", opts: ArtifactOptions = {}) {
    if (!["path", "list", "dict", "nested_dict"].includes(kind)) {
      throw new DflowConfigError(`Artifact type ${JSON.stringify(kind)} is not supported: use "path", "list", "dict" or "nested_dict"`);
    }
    this.kind = kind;
    this.optional = opts.optional ?? false;
    this.global_name = opts.global_name;
    this.sub_path = opts.sub_path ?? true;
    this.description = opts.description;
  }
}

/**
 * `Artifact("path")` (dflow `Artifact(Path)`), `Artifact("list")` (`List[Path]`),
 * `Artifact("dict")` (`Dict[str, Path]`), `Artifact("nested_dict")`.
 */
export function Artifact(kind: ArtifactKind = "path", opts: ArtifactOptions = {}): ArtifactSign {
  return new ArtifactSign(kind, opts);
}

export interface ParameterOptions {
  default?: unknown;
  global_name?: string;
  description?: string;
}

/** A parameter in a sign with a default or a global name (dflow `Parameter(type, default=...)`). */
export class ParameterSign {
  readonly schema: z.ZodType;
  readonly has_default: boolean;
  readonly default?: unknown;
  readonly global_name?: string;
  readonly big: boolean;
  readonly description?: string;
  constructor(schema: z.ZodType, opts: ParameterOptions = {}, big = false) {
    this.schema = schema;
    const d = schemaDefault(schema);
    this.has_default = "default" in opts || d.has;
    this.default = "default" in opts ? opts.default : d.value;
    this.global_name = opts.global_name;
    this.big = big;
    this.description = opts.description;
  }
  get type(): string {
    return typeStringOf(this.schema);
  }
}

export function Parameter(schema: z.ZodType, opts: ParameterOptions = {}): ParameterSign {
  return new ParameterSign(schema, opts);
}

/** Same as Parameter locally (dflow passes big parameters through artifacts only on Argo). */
export function BigParameter(schema: z.ZodType, opts: ParameterOptions = {}): ParameterSign {
  return new ParameterSign(schema, opts, true);
}

export type SignEntry = z.ZodType | ParameterSign | ArtifactSign;
export type SignInput = Record<string, SignEntry>;

/** A normalised sign: every parameter is a ParameterSign. */
export class OPIOSign {
  readonly entries: Record<string, ParameterSign | ArtifactSign>;
  /** File of the module that declared the sign (used to import the OP in its child process). */
  readonly module?: string;
  /** `new OPIOSign({...})` written in an OP's file remembers that file; pass `null` to skip. */
  constructor(entries: SignInput, module?: string | null) {
    this.entries = {};
    for (const [k, v] of Object.entries(entries)) {
      this.entries[k] = v instanceof ArtifactSign || v instanceof ParameterSign ? v : new ParameterSign(v as z.ZodType);
    }
    this.module = module === undefined ? callerModule() : (module ?? undefined);
  }
  get parameters(): Array<[string, ParameterSign]> {
    return Object.entries(this.entries).filter((e): e is [string, ParameterSign] => e[1] instanceof ParameterSign);
  }
  get artifacts(): Array<[string, ArtifactSign]> {
    return Object.entries(this.entries).filter((e): e is [string, ArtifactSign] => e[1] instanceof ArtifactSign);
  }
}

// --- where was an OP defined? --------------------------------------------
// The OP child process imports the OP's module. We learn the module from the
// stack of the call that declared the sign (OPIOSign(...) inside the OP's
// file, or OP.function(...)): its first frame outside dflow-ts itself.
const PKG_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const OWN_DIRS = [path.join(PKG_ROOT, "dist") + path.sep, path.join(PKG_ROOT, "src") + path.sep];

export function callerModule(): string | undefined {
  const stack = new Error().stack ?? "";
  for (const line of stack.split("\n").slice(1)) {
    const m = /\(?((?:file:\/\/)?\/[^():]+\.(?:[cm]?[jt]sx?))(?::\d+)?(?::\d+)?\)?\s*$/.exec(line.trim());
    if (!m) continue;
    const file = m[1].startsWith("file://") ? fileURLToPath(m[1]) : m[1];
    if (OWN_DIRS.some((d) => file.startsWith(d)) || file.includes(`${path.sep}node_modules${path.sep}`)) continue;
    return file;
  }
  return undefined;
}

/** The values passed to and returned by `execute`. */
export type OPIO = Record<string, unknown>;

export interface OPClass {
  new (): OP;
  readonly name: string;
  get_input_sign(): OPIOSign | SignInput;
  get_output_sign(): OPIOSign | SignInput;
  /** Set by OP.function and by explicit `static module = import.meta.url`. */
  module?: string;
}

/** Base class of class-style OPs. */
export abstract class OP {
  static module?: string;
  static input_sign?: OPIOSign | SignInput;
  static output_sign?: OPIOSign | SignInput;

  static get_input_sign(): OPIOSign | SignInput {
    if (!this.input_sign) throw new DflowConfigError(`OP ${this.name} declares no input sign (static get_input_sign() or static input_sign)`);
    return this.input_sign;
  }
  static get_output_sign(): OPIOSign | SignInput {
    if (!this.output_sign) throw new DflowConfigError(`OP ${this.name} declares no output sign (static get_output_sign() or static output_sign)`);
    return this.output_sign;
  }

  /** The rendered key of the running step, or null. */
  key: string | null = null;

  // Progress, as dflow's OP.progress_total / progress_current: assigning
  // progress_current writes "<current>/<total>" to $ARGO_PROGRESS_FILE (the
  // engine points it at <stepdir>/progress), else ./ARGO_PROGRESS_FILE.
  // progress_total may be a static or an instance field (default 1).
  static progress_total?: number;
  private _progress_current = 0;
  get progress_current(): number {
    return this._progress_current;
  }
  set progress_current(v: number) {
    this._progress_current = v;
    const total = (this as { progress_total?: number }).progress_total ?? (this.constructor as typeof OP).progress_total ?? 1;
    const file = process.env.ARGO_PROGRESS_FILE || path.join(process.cwd(), "ARGO_PROGRESS_FILE");
    const tmp = `${file}.tmp-${process.pid}`;
    try {
      fs.writeFileSync(tmp, `${v}/${total}`);
      fs.renameSync(tmp, file);
    } catch {
      // progress is best effort: never fail the OP for it
    }
  }
  /** The id of the workflow the OP runs in. */
  workflow_name: string | null = null;

  abstract execute(op_in: OPIO): OPIO | Promise<OPIO>;

  /**
   * Function OP: `export const Duplicate = OP.function({ name, inputs, outputs }, async (op_in) => ({...}))`.
   * The function receives the inputs as one object and returns the outputs.
   */
  static function<I extends SignInput, O extends SignInput>(
    spec: { name?: string; inputs: I; outputs: O; module?: string },
    fn: (op_in: OPIO) => OPIO | Promise<OPIO>,
  ): OPClass {
    const name = spec.name ?? fn.name;
    if (!name) throw new DflowConfigError("OP.function needs a name: pass { name } or a named function");
    const module = spec.module ? toPath(spec.module) : callerModule();
    const input = new OPIOSign(spec.inputs, module ?? null);
    const output = new OPIOSign(spec.outputs, module ?? null);
    const cls = class extends OP {
      static override module = module;
      static override get_input_sign(): OPIOSign {
        return input;
      }
      static override get_output_sign(): OPIOSign {
        return output;
      }
      execute(op_in: OPIO): OPIO | Promise<OPIO> {
        return fn(op_in);
      }
    };
    Object.defineProperty(cls, "name", { value: name });
    return cls as unknown as OPClass;
  }
}

function toPath(m: string): string {
  return m.startsWith("file:") ? fileURLToPath(m) : path.resolve(m);
}

/**
 * Throws a DflowConfigError unless `op` is an OP class (a subclass of OP, or
 * what OP.function returns), naming what was given instead.
 */
export function checkOPClass(op: unknown, where: string): asserts op is OPClass {
  if (typeof op === "function" && typeof (op as Partial<OPClass>).get_input_sign === "function" && typeof (op as Partial<OPClass>).get_output_sign === "function") return;
  let given: string;
  if (op === null || op === undefined) given = String(op);
  else if (op instanceof OP) given = `an instance of OP ${op.constructor.name} (pass the class itself: ${op.constructor.name}, not new ${op.constructor.name}())`;
  else if (typeof op === "function") given = `the function ${op.name || "(anonymous)"}, which is not an OP class (define it with OP.function({ name, inputs, outputs }, fn) or extend OP)`;
  else if (typeof op === "object") given = `an object of class ${(op as object).constructor?.name ?? "Object"}`;
  else given = `a ${typeof op} (${JSON.stringify(op)})`;
  throw new DflowConfigError(`${where} takes an OP class (a subclass of OP with input and output signs, or OP.function(...)); got ${given}`);
}

export function normaliseSign(sign: OPIOSign | SignInput): OPIOSign {
  return sign instanceof OPIOSign ? sign : new OPIOSign(sign, null);
}

/** The module file an OP class must be imported from in its child process. */
export function opModule(cls: OPClass): string | undefined {
  if (cls.module) return toPath(cls.module);
  const sign = cls.get_input_sign();
  if (sign instanceof OPIOSign && sign.module) return sign.module;
  const out = cls.get_output_sign();
  if (out instanceof OPIOSign && out.module) return out.module;
  return undefined;
}

export function opModuleUrl(cls: OPClass): string | undefined {
  const m = opModule(cls);
  return m ? pathToFileURL(m).href : undefined;
}

// --- sign checking ---------------------------------------------------------

function describeValue(v: unknown): string {
  const t = pythonTypeName(v);
  let shown: string;
  try {
    shown = typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  } catch {
    shown = String(v);
  }
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`;
  return `${t} (${shown})`;
}

/**
 * Check values against a sign, dflow's exec_sign_check: declared keys absent
 * get their defaults (or null for optional artifacts), extra keys and type
 * mismatches are errors naming the OP, the field, what was expected and what
 * came. Returns the completed values.
 */
export function checkSign(opName: string, sign: OPIOSign, values: OPIO, direction: "input" | "output"): OPIO {
  const out: OPIO = {};
  for (const key of Object.keys(values)) {
    if (!(key in sign.entries)) {
      throw new TypeError(`OP ${opName}: key ${key} in the ${direction} passed to the OP is not declared in its ${direction} sign (declared: ${Object.keys(sign.entries).join(", ") || "none"})`);
    }
  }
  for (const [key, entry] of Object.entries(sign.entries)) {
    let v = values[key];
    if (v === undefined) {
      if (entry instanceof ParameterSign && entry.has_default) v = entry.default;
      else if (entry instanceof ArtifactSign && entry.optional) v = null;
      else if (entry instanceof ParameterSign && isOptionalSchema(entry.schema)) v = undefined;
      else throw new TypeError(`OP ${opName}: key ${key} declared in the ${direction} sign is not present in the ${direction} ${direction === "input" ? "passed to" : "returned by"} the OP`);
    }
    if (entry instanceof ParameterSign) {
      if (v === null && !entry.big) {
        out[key] = v;
        continue;
      }
      const r = entry.schema.safeParse(v);
      if (!r.success) {
        throw new TypeError(`OP ${opName}: type of ${direction} parameter ${key} must be ${entry.type}; got ${describeValue(v)} instead (${r.error.issues.map((i) => i.message).join("; ")})`);
      }
      out[key] = r.data;
    } else {
      out[key] = v;
      if (v === null || v === undefined) continue;
      const ok =
        entry.kind === "path" ? typeof v === "string" :
        entry.kind === "list" ? Array.isArray(v) && v.every((x) => x === null || typeof x === "string") :
        typeof v === "object" && !Array.isArray(v);
      if (!ok) {
        const expected = entry.kind === "path" ? "a path (string)" : entry.kind === "list" ? "a list of paths" : "a dict of paths";
        throw new TypeError(`OP ${opName}: ${direction} artifact ${key} must be ${expected}; got ${describeValue(v)} instead`);
      }
    }
  }
  return out;
}
