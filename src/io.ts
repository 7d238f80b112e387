// Parameters and artifacts of templates (Inputs/Outputs), and the references
// a Step exposes to its siblings (`step.outputs.parameters.msg`). A reference
// renders as dflow's `{{steps.<s>.outputs.parameters.<p>}}` text when used in
// a string, so `${p1} < ${p2}` works like dflow's `"%s < %s" % (p1, p2)`.
import { z } from "./vendor/zod.js";
import { DflowConfigError } from "./errors.js";
import { anyField, boolField, field, parseOptions, spec, stringField } from "./options.js";
import { typeStringOf } from "./types.js";

/** A declared type: a zod schema, or a dflow type string such as "str" or "int". */
export type ParamType = z.ZodType | string;

export function typeString(t: ParamType | undefined | null): string | null {
  if (t === undefined || t === null) return null;
  return typeof t === "string" ? t : typeStringOf(t);
}

const typeField = field(z.union([z.string(), z.custom<z.ZodType>((v) => v instanceof z.ZodType)]).nullish(), 'a zod schema or a dflow type string such as "str"');
const saveField = field(z.array(z.unknown()).nullish(), "a list of storage targets");

// dflow options that only configure Argo (big parameters saved as artifacts,
// back references set by dflow itself): accepted, no effect here.
export const inputParameterSpec = spec(
  { name: stringField, value: anyField, type: typeField, description: stringField, global_name: stringField },
  ["step", "template", "save_as_artifact", "path", "source"],
);
export const inputArtifactSpec = spec(
  { name: stringField, path: stringField, optional: boolField, source: anyField, sub_path: stringField, description: stringField },
  ["step", "template", "type", "mode", "archive", "save_as_parameter"],
);
export const outputParameterSpec = spec(
  {
    name: stringField,
    value_from_path: stringField,
    value_from_parameter: anyField,
    value_from_expression: anyField,
    value: anyField,
    default: anyField,
    type: typeField,
    global_name: stringField,
    description: stringField,
  },
  ["step", "template", "save_as_artifact", "save_both"],
);
export const outputArtifactSpec = spec(
  { name: stringField, path: stringField, _from: anyField, from_expression: anyField, optional: boolField, global_name: stringField, save: saveField, archive: anyField, description: stringField },
  ["step", "template", "type"],
);

export interface InputParameterOptions {
  name?: string;
  value?: unknown;
  type?: ParamType;
  description?: string;
  global_name?: string;
}

export class InputParameter {
  name = "";
  /** The default value; `undefined` means none (null is a value, as dflow's None). */
  value: unknown;
  type?: ParamType;
  description?: string;
  global_name?: string;
  constructor(opts: InputParameterOptions = {}) {
    parseOptions(inputParameterSpec, opts, "InputParameter");
    if (opts.name) this.name = opts.name;
    this.value = opts.value;
    this.type = opts.type;
    this.description = opts.description;
    this.global_name = opts.global_name;
  }
  /** Whether a value is set, now: `p.value = x` after construction counts the same as `{ value: x }`. */
  get has_value(): boolean {
    return this.value !== undefined;
  }
  toString(): string {
    return `{{inputs.parameters.${this.name}}}`;
  }
}

export interface InputArtifactOptions {
  name?: string;
  path?: string;
  optional?: boolean;
  /** Default source used when a step passes none. */
  source?: unknown;
  sub_path?: string;
  description?: string;
}

export class InputArtifact {
  name = "";
  path?: string;
  optional: boolean;
  source?: unknown;
  description?: string;
  constructor(opts: InputArtifactOptions = {}) {
    parseOptions(inputArtifactSpec, opts, "InputArtifact");
    if (opts.name) this.name = opts.name;
    this.path = opts.path;
    this.optional = opts.optional ?? false;
    this.source = opts.source;
    this.description = opts.description;
  }
  toString(): string {
    return `{{inputs.artifacts.${this.name}}}`;
  }
}

export interface OutputParameterOptions {
  name?: string;
  value_from_path?: string;
  value_from_parameter?: unknown;
  value_from_expression?: unknown;
  value?: unknown;
  default?: unknown;
  type?: ParamType;
  global_name?: string;
  description?: string;
}

export class OutputParameter {
  name = "";
  value_from_path?: string;
  value_from_parameter?: unknown;
  value_from_expression?: unknown;
  /** A fixed value; `undefined` means none. */
  value?: unknown;
  /** Used when the step produces no value; `undefined` means none (null is a default, as dflow's None). */
  default?: unknown;
  type?: ParamType;
  global_name?: string;
  description?: string;
  constructor(opts: OutputParameterOptions = {}) {
    parseOptions(outputParameterSpec, opts, "OutputParameter");
    if (opts.name) this.name = opts.name;
    this.value_from_path = opts.value_from_path;
    this.value_from_parameter = opts.value_from_parameter;
    this.value_from_expression = opts.value_from_expression;
    this.value = opts.value;
    this.default = opts.default;
    this.type = opts.type;
    this.global_name = opts.global_name;
    this.description = opts.description;
  }
  // Derived, not stored: `op.outputs.parameters.msg.default = x` (dflow's
  // README style) must count the same as `{ default: x }`.
  get has_value(): boolean {
    return this.value !== undefined;
  }
  get has_default(): boolean {
    return this.default !== undefined;
  }
}

export interface OutputArtifactOptions {
  name?: string;
  path?: string;
  _from?: unknown;
  from_expression?: unknown;
  optional?: boolean;
  global_name?: string;
  save?: unknown[];
  archive?: unknown;
  description?: string;
}

export class OutputArtifact {
  name = "";
  path?: string;
  _from?: unknown;
  from_expression?: unknown;
  optional: boolean;
  global_name?: string;
  save?: unknown[];
  archive?: unknown;
  description?: string;
  constructor(opts: OutputArtifactOptions = {}) {
    parseOptions(outputArtifactSpec, opts, "OutputArtifact");
    if (opts.name) this.name = opts.name;
    this.archive = opts.archive;
    this.path = opts.path;
    this._from = opts._from;
    this.from_expression = opts.from_expression;
    this.optional = opts.optional ?? false;
    this.global_name = opts.global_name;
    this.save = opts.save;
    this.description = opts.description;
  }
}

/** Names that libraries probe on any object (promises, JSON, test matchers, inspectors): never a typo of ours. */
const UNCHECKED = /^(then|toJSON|constructor|\$\$typeof|asymmetricMatch|nodeType|tagName|inspect|toString|valueOf|@@.*|_.*)$/;

/**
 * A record of declared parameters/artifacts that names each entry after its
 * key as soon as it is assigned, so `${t.inputs.parameters.x}` renders
 * `{{inputs.parameters.x}}` even before the template is used.
 */
function naming<T extends { name: string }>(entries: Record<string, T>, what: string): Record<string, T> {
  for (const [k, v] of Object.entries(entries)) if (v && typeof v === "object") v.name = k;
  return new Proxy(entries, {
    // Reading an undeclared name is a typo (dflow raises KeyError): it would pass undefined along silently.
    get(target, prop, receiver) {
      if (typeof prop === "symbol" || prop in target || UNCHECKED.test(prop)) return Reflect.get(target, prop, receiver);
      const declared = Object.keys(target);
      throw new DflowConfigError(`no ${what} "${prop}" is declared (declared: ${declared.length ? declared.join(", ") : "none"}); declare it first, e.g. t.${what.replace(" ", "s.")}s.${prop} = new ${what.startsWith("input") ? "Input" : "Output"}${what.endsWith("parameter") ? "Parameter" : "Artifact"}(...)`);
    },
    set(target, prop, value, receiver) {
      if (typeof prop === "string" && value && typeof value === "object") (value as { name: string }).name = prop;
      return Reflect.set(target, prop, value, receiver);
    },
  });
}

export class Inputs {
  private _parameters!: Record<string, InputParameter>;
  private _artifacts!: Record<string, InputArtifact>;
  constructor(opts: { parameters?: Record<string, InputParameter>; artifacts?: Record<string, InputArtifact> } = {}) {
    this.parameters = opts.parameters ?? {};
    this.artifacts = opts.artifacts ?? {};
  }
  get parameters(): Record<string, InputParameter> {
    return this._parameters;
  }
  set parameters(v: Record<string, InputParameter>) {
    this._parameters = naming(v, "input parameter");
  }
  get artifacts(): Record<string, InputArtifact> {
    return this._artifacts;
  }
  set artifacts(v: Record<string, InputArtifact>) {
    this._artifacts = naming(v, "input artifact");
  }
}

export class Outputs {
  private _parameters!: Record<string, OutputParameter>;
  private _artifacts!: Record<string, OutputArtifact>;
  constructor(opts: { parameters?: Record<string, OutputParameter>; artifacts?: Record<string, OutputArtifact> } = {}) {
    this.parameters = opts.parameters ?? {};
    this.artifacts = opts.artifacts ?? {};
  }
  get parameters(): Record<string, OutputParameter> {
    return this._parameters;
  }
  set parameters(v: Record<string, OutputParameter>) {
    this._parameters = naming(v, "output parameter");
  }
  get artifacts(): Record<string, OutputArtifact> {
    return this._artifacts;
  }
  set artifacts(v: Record<string, OutputArtifact>) {
    this._artifacts = naming(v, "output artifact");
  }
}

/** Anything with a `name` and a `kind`, i.e. a Step or a Task. */
export interface StepLike {
  readonly name: string;
  readonly isTask: boolean;
}

/** `step.outputs.parameters.<name>`: the output parameter of one step. */
export class StepOutputParameter {
  constructor(
    readonly step: StepLike,
    readonly name: string,
    readonly type: string | null,
  ) {}
  toString(): string {
    return `{{${this.step.isTask ? "tasks" : "steps"}.${this.step.name}.outputs.parameters.${this.name}}}`;
  }
}

/** `step.outputs.artifacts.<name>`: the output artifact of one step. */
export class StepOutputArtifact {
  constructor(
    readonly step: StepLike,
    readonly name: string,
    readonly subPath?: string,
  ) {}
  /** The file or directory `p` inside this artifact. */
  sub_path(p: string): StepOutputArtifact {
    return new StepOutputArtifact(this.step, this.name, this.subPath ? `${this.subPath}/${p}` : p);
  }
  toString(): string {
    const base = `{{${this.step.isTask ? "tasks" : "steps"}.${this.step.name}.outputs.artifacts.${this.name}}}`;
    return this.subPath ? `${base}/${this.subPath}` : base;
  }
}

/**
 * A record whose missing keys throw a DflowConfigError naming the owner and
 * the declared keys, so `step.outputs.parameters.typo` fails when the
 * workflow is built instead of passing `undefined` along.
 */
export function strictRecord<T>(entries: Record<string, T>, what: string, owner: string): Record<string, T> {
  return new Proxy(entries, {
    get(target, prop, receiver) {
      if (typeof prop === "symbol" || prop in target || prop === "then" || prop === "toJSON" || prop === "constructor") {
        return Reflect.get(target, prop, receiver);
      }
      const declared = Object.keys(target);
      throw new DflowConfigError(
        `${owner} has no ${what} "${prop}" (declared: ${declared.length ? declared.join(", ") : "none"})`,
      );
    },
  });
}

/** The number of items a fan-out step ran (the `total` of a success-ratio check). */
export class StepItemCount {
  constructor(readonly step: StepLike) {}
}
