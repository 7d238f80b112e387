// Parameters and artifacts of templates (Inputs/Outputs), and the references
// a Step exposes to its siblings (`step.outputs.parameters.msg`). A reference
// renders as dflow's `{{steps.<s>.outputs.parameters.<p>}}` text when used in
// a string, so `${p1} < ${p2}` works like dflow's `"%s < %s" % (p1, p2)`.
import type { z } from "zod";
import { DflowConfigError } from "./errors.js";
import { typeStringOf } from "./types.js";

/** A declared type: a zod schema, or a dflow type string such as "str" or "int". */
export type ParamType = z.ZodType | string;

export function typeString(t: ParamType | undefined | null): string | null {
  if (t === undefined || t === null) return null;
  return typeof t === "string" ? t : typeStringOf(t);
}

export interface InputParameterOptions {
  value?: unknown;
  type?: ParamType;
  description?: string;
  global_name?: string;
}

export class InputParameter {
  name = "";
  value: unknown;
  has_value: boolean;
  type?: ParamType;
  description?: string;
  /** Set when the parameter belongs to a Steps/DAG template: references render as {{inputs.parameters.x}}. */
  constructor(opts: InputParameterOptions = {}) {
    this.has_value = "value" in opts && opts.value !== undefined;
    this.value = opts.value;
    this.type = opts.type;
    this.description = opts.description;
  }
  toString(): string {
    return `{{inputs.parameters.${this.name}}}`;
  }
}

export interface InputArtifactOptions {
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
  value?: unknown;
  has_value: boolean;
  default?: unknown;
  has_default: boolean;
  type?: ParamType;
  global_name?: string;
  description?: string;
  constructor(opts: OutputParameterOptions = {}) {
    this.value_from_path = opts.value_from_path;
    this.value_from_parameter = opts.value_from_parameter;
    this.value_from_expression = opts.value_from_expression;
    this.has_value = "value" in opts && opts.value !== undefined;
    this.value = opts.value;
    this.has_default = "default" in opts && opts.default !== undefined;
    this.default = opts.default;
    this.type = opts.type;
    this.global_name = opts.global_name;
    this.description = opts.description;
  }
}

export interface OutputArtifactOptions {
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
  description?: string;
  constructor(opts: OutputArtifactOptions = {}) {
    this.path = opts.path;
    this._from = opts._from;
    this.from_expression = opts.from_expression;
    this.optional = opts.optional ?? false;
    this.global_name = opts.global_name;
    this.save = opts.save;
    this.description = opts.description;
  }
}

/**
 * A record of declared parameters/artifacts that names each entry after its
 * key as soon as it is assigned, so `${t.inputs.parameters.x}` renders
 * `{{inputs.parameters.x}}` even before the template is used.
 */
function naming<T extends { name: string }>(entries: Record<string, T>): Record<string, T> {
  for (const [k, v] of Object.entries(entries)) if (v && typeof v === "object") v.name = k;
  return new Proxy(entries, {
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
    this._parameters = naming(v);
  }
  get artifacts(): Record<string, InputArtifact> {
    return this._artifacts;
  }
  set artifacts(v: Record<string, InputArtifact>) {
    this._artifacts = naming(v);
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
    this._parameters = naming(v);
  }
  get artifacts(): Record<string, OutputArtifact> {
    return this._artifacts;
  }
  set artifacts(v: Record<string, OutputArtifact>) {
    this._artifacts = naming(v);
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
