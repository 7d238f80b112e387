// OP templates: what a step runs. Script templates (shell, Python, any
// interpreter) and the template that runs a TypeScript OP. Steps and DAG
// templates live in steps.ts.
import { z } from "./vendor/zod.js";
import { DflowConfigError } from "./errors.js";
import { Inputs, InputArtifact, InputParameter, OutputArtifact, OutputParameter, Outputs } from "./io.js";
import { checkIOName } from "./names.js";
import {
  boolField,
  durationSeconds,
  field,
  type OptionSpec,
  parallelismField,
  optionError,
  parseOptions,
  retriesField,
  retryStrategySpec,
  spec,
  stringField,
  stringMapField,
  timeoutField,
} from "./options.js";
import { type OPClass, type OPIOSign, checkOPClass, normaliseSign, opModule } from "./op.js";
import type { Slices } from "./slices.js";

/**
 * Argo's retryStrategy (argo-semantics §9). `limit` is the number of
 * retries (unset: retry until success); `retry_policy` says which failures
 * are retried: OnFailure (default; the OP or script failed), OnError (the
 * machine got in the way), Always, OnTransientError (a TransientError, exit
 * code 1, or a timeout with timeout_as_transient_error). `expression` (expr-lang
 * over lastRetry.exitCode/status/duration/message) must also allow it.
 * Backoff before retry n: duration × factor^(n-1), capped at `cap`;
 * `max_duration` bounds the whole series. Durations: seconds, or "500ms",
 * "10s", "2m", "1h".
 */
export interface RetryStrategy {
  limit?: number;
  retry_policy?: "OnFailure" | "OnError" | "Always" | "OnTransientError";
  expression?: string;
  duration?: number | string;
  factor?: number;
  cap?: number | string;
  max_duration?: number | string;
}

const ioField = (cls: typeof Inputs | typeof Outputs) =>
  field(
    z.custom((v) => v instanceof cls || (typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).every((k) => k === "parameters" || k === "artifacts"))).nullish(),
    `new ${cls.name}({ parameters, artifacts }) or a plain { parameters, artifacts } object`,
  );

/** dflow template options that only configure Kubernetes/Argo: accepted, no effect when running locally. */
const ARGO_TEMPLATE_OPTIONS = ["memoize_key", "pvcs", "node_selector", "tolerations", "affinity", "volumes", "mounts", "init_progress", "resource", "requests", "limits", "init_containers", "sidecars"];

const templateFields = {
  name: stringField,
  inputs: ioField(Inputs),
  outputs: ioField(Outputs),
  image: stringField,
  image_pull_policy: stringField,
  timeout: timeoutField,
  retry_strategy: retryStrategySpec,
  parallelism: parallelismField,
  annotations: stringMapField,
  labels: stringMapField,
};

/** Options of Steps and DAG templates (and of every template). */
export const templateSpec = spec(templateFields, ARGO_TEMPLATE_OPTIONS);

const scriptFields = {
  ...templateFields,
  script: stringField,
  command: field(z.union([z.string(), z.array(z.string()).min(1)]).nullish(), 'a command list such as ["python3"] (or one string)'),
  envs: field(z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).nullish(), "an object of string values"),
  script_rendered: boolField,
  retry_on_transient_error: retriesField,
  retry_on_failure: retriesField,
  retry_on_error: retriesField,
  retry_on_failure_and_error: retriesField,
  timeout_as_transient_error: boolField,
};
export const scriptTemplateSpec = spec(scriptFields, ARGO_TEMPLATE_OPTIONS);

const { inputs: _i, outputs: _o, script: _s, command: _c, ...tsBase } = scriptFields;
export const tsTemplateSpec = spec(
  {
    ...tsBase,
    module: stringField,
    output_artifact_global_name: stringMapField,
    output_parameter_global_name: stringMapField,
    output_parameter_default: field(z.record(z.string(), z.unknown()).nullish(), "an object of default values by output parameter name"),
    node: stringField,
    slices: field(z.custom((v) => typeof v === "object" && v !== null && Array.isArray((v as { input_parameter?: unknown }).input_parameter)).nullish(), "new Slices({...})"),
    warm: boolField,
  },
  [...ARGO_TEMPLATE_OPTIONS, "upload_dflow", "output_artifact_archive", "input_artifact_prefix", "tmp_root"],
  {
    command: "a TsOPTemplate runs its OP with node: pass { node: '/path/to/node' }",
    script: "a TsOPTemplate runs its OP's execute(); use ShellOPTemplate or ScriptOPTemplate for a script",
    inputs: "a TsOPTemplate's inputs come from the OP's get_input_sign()",
    outputs: "a TsOPTemplate's outputs come from the OP's get_output_sign()",
    python_packages: "TypeScript OPs are bundled from their module; nothing to upload",
    pre_script: "put the code at the start of execute()",
    post_script: "put the code at the end of execute()",
    output_artifact_save: "save outputs with a later step",
    input_artifact_slices: "use Slices({ input_artifact, sub_path: true })",
    input_parameter_slices: "use Slices({ input_parameter })",
    output_artifact_slices: "use Slices({ output_artifact })",
    output_parameter_slices: "use Slices({ output_parameter })",
    create_slice_dir: "use Slices({ create_dir: true })",
    skip_slice_input: "not implemented",
    success_tag: "set continue_on_num_success or continue_on_success_ratio on the step",
  },
);

/** What a template's options are checked against, by the kind of template. */
export function templateSpecOf(t: OPTemplate): OptionSpec {
  return t instanceof TsOPTemplate ? tsTemplateSpec : t instanceof ScriptOPTemplate ? scriptTemplateSpec : templateSpec;
}

/** The name a template is called by in messages. */
export function describeTemplate(t: { constructor: { name: string }; name?: unknown }): string {
  return `${t.constructor.name} ${JSON.stringify(String(t.name ?? ""))}`;
}

/** A timeout in seconds from seconds or a duration string; kept as given when it is neither (reported at submit). */
function timeoutSeconds(v: number | string | undefined | null): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = durationSeconds(v as number | string);
  return Number.isFinite(n) ? n : (v as number);
}

export interface TemplateOptions {
  name?: string;
  inputs?: Inputs;
  outputs?: Outputs;
  /** Kept for export to Argo; ignored when running locally. */
  image?: string;
  image_pull_policy?: string;
  /** Seconds, or a duration such as "90s", "5m". */
  timeout?: number | string;
  retry_strategy?: RetryStrategy;
  parallelism?: number;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

/** Where an executor sends a script step (see src/dispatcher.ts); read by the engine's pod. */
export interface RemoteExecution {
  kind: "dispatcher" | "slurm-remote";
  /** The executor's options, as given. */
  options: Record<string, unknown>;
}

export abstract class OPTemplate {
  name: string;
  inputs: Inputs;
  outputs: Outputs;
  image?: string;
  image_pull_policy?: string;
  /** As given (seconds or a duration string); read through `timeout`. */
  _timeout?: number | string;
  retry_strategy?: RetryStrategy;
  parallelism?: number;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  abstract readonly kind: "script" | "ts-op" | "steps" | "dag";

  constructor(opts: TemplateOptions = {}, checked = false) {
    if (!checked) parseOptions(templateSpec, opts, describeTemplate({ constructor: new.target, name: opts?.name ?? "template" }), { template: opts?.name });
    this.name = opts.name ?? "template";
    // A plain {parameters, artifacts} object is accepted as well as new Inputs({...}).
    this.inputs = opts.inputs instanceof Inputs ? opts.inputs : new Inputs(opts.inputs ?? {});
    this.outputs = opts.outputs instanceof Outputs ? opts.outputs : new Outputs(opts.outputs ?? {});
    this.image = opts.image;
    this.image_pull_policy = opts.image_pull_policy;
    this._timeout = opts.timeout;
    this.retry_strategy = opts.retry_strategy;
    this.parallelism = opts.parallelism;
    this.annotations = opts.annotations;
    this.labels = opts.labels;
  }

  /** The timeout in seconds (a duration string given or assigned is converted when read). */
  get timeout(): number | undefined {
    return timeoutSeconds(this._timeout);
  }
  set timeout(v: number | string | undefined) {
    this._timeout = v;
  }

  /**
   * Give every declared parameter/artifact the name of its key and check
   * the names. Templates are often filled in by assignment after
   * construction (`t.inputs.parameters = {...}`), so this runs when a Step
   * uses the template and again at submit.
   */
  normalise(): void {
    const ctx = { template: this.name };
    for (const [group, kind] of [
      [this.inputs.parameters, "parameter"],
      [this.inputs.artifacts, "artifact"],
      [this.outputs.parameters, "parameter"],
      [this.outputs.artifacts, "artifact"],
    ] as const) {
      for (const [k, v] of Object.entries(group)) {
        checkIOName(k, kind, ctx);
        if (!v || typeof v !== "object") {
          throw new DflowConfigError(`${kind} ${k} must be declared with new Input${kind === "parameter" ? "Parameter" : "Artifact"}(...) / Output…(...), got ${typeof v}`, ctx);
        }
        (v as { name: string }).name = k;
      }
    }
  }
}

export interface ScriptTemplateOptions extends TemplateOptions {
  script?: string;
  command?: string[];
  envs?: Record<string, string>;
  /** Skip dflow's `/tmp` re-rooting of the script (the script already uses the right paths). */
  script_rendered?: boolean;
  /** Retry up to n times on a TransientError (exit code 1). */
  retry_on_transient_error?: number;
  /** Retry up to n times when the OP or script fails. */
  retry_on_failure?: number;
  /** Retry up to n times when the step could not run (infrastructure error). */
  retry_on_error?: number;
  /** Retry up to n times on any failure. */
  retry_on_failure_and_error?: number;
  /** A timeout counts as a transient error (retried by retry_on_transient_error). */
  timeout_as_transient_error?: boolean;
}

/** A script run by an interpreter (`command + [<stepdir>/script]`). */
export class ScriptOPTemplate extends OPTemplate {
  readonly kind: "script" | "ts-op" = "script";
  script: string;
  _command: string[];
  envs: Record<string, string>;
  script_rendered: boolean;
  retry_on_transient_error?: number;
  retry_on_failure?: number;
  retry_on_error?: number;
  retry_on_failure_and_error?: number;
  timeout_as_transient_error: boolean;
  /** Write "1" to /tmp/outputs/success_tag after success (continue_on_num_success/ratio). */
  success_tag = false;
  /** Set by an executor's render(): the step runs elsewhere (an HPC job) instead of a local process. */
  remote?: RemoteExecution;
  constructor(opts: ScriptTemplateOptions = {}, checked = false) {
    if (!checked) parseOptions(scriptTemplateSpec, opts, describeTemplate({ constructor: new.target, name: opts?.name ?? "template" }), { template: opts?.name });
    super(opts, true);
    this.script = opts.script ?? "";
    this._command = typeof opts.command === "string" ? [opts.command] : (opts.command ?? ["sh"]);
    this.envs = opts.envs ?? {};
    this.script_rendered = opts.script_rendered ?? false;
    this.retry_on_transient_error = opts.retry_on_transient_error;
    this.retry_on_failure = opts.retry_on_failure;
    this.retry_on_error = opts.retry_on_error;
    this.retry_on_failure_and_error = opts.retry_on_failure_and_error;
    this.timeout_as_transient_error = opts.timeout_as_transient_error ?? false;
  }

  /** The interpreter and its arguments; a string assigned means a one-word command, as in dflow. */
  get command(): string[] {
    return this._command;
  }
  set command(v: string[] | string) {
    this._command = typeof v === "string" ? [v] : v;
  }
}

/** A shell script, run with `sh` (dflow's ShellOPTemplate). */
export class ShellOPTemplate extends ScriptOPTemplate {
  constructor(opts: ScriptTemplateOptions = {}) {
    super({ ...opts, command: opts?.command ?? ["sh"] });
  }
}

/** A Python script, run with the local `python3` (dflow's PythonScriptOPTemplate). */
export class PythonScriptOPTemplate extends ScriptOPTemplate {
  constructor(opts: ScriptTemplateOptions = {}) {
    super({ ...opts, command: opts?.command ?? ["python3"] });
  }
}

export interface TsOPTemplateOptions extends Omit<ScriptTemplateOptions, "script" | "command" | "inputs" | "outputs"> {
  /** The module that exports the OP, when it cannot be found from the stack (pass import.meta.url). */
  module?: string;
  /** dflow's `output_artifact_global_name` / `output_parameter_global_name`. */
  output_artifact_global_name?: Record<string, string>;
  output_parameter_global_name?: Record<string, string>;
  /** Defaults of output parameters, used when the OP fails under continue_on_failed. */
  output_parameter_default?: Record<string, unknown>;
  /** Run the OP with this node binary (default: the engine's own). */
  node?: string;
  /** Slice list inputs across the items of a fan-out (dflow's Slices). */
  slices?: Slices;
  /**
   * Run in a warm worker: a long-lived node process that keeps the OP's
   * module loaded between steps (one OP at a time per worker, own cwd, env
   * and log per step). Module-level state is shared between the steps a
   * worker runs. Also on for every TS OP with config.warm_workers > 0.
   */
  warm?: boolean;
}

/**
 * Runs a TypeScript (or JavaScript) OP in a child `node` process — the
 * counterpart of dflow's PythonOPTemplate. Inputs and outputs follow the OP's
 * signs: parameters are passed inline, artifacts at /tmp/inputs/artifacts/<name>,
 * outputs come back through /tmp/outputs/{parameters,artifacts}/<name>.
 */
export class TsOPTemplate extends ScriptOPTemplate {
  override readonly kind = "ts-op" as const;
  readonly op: OPClass;
  readonly opName: string;
  readonly module: string;
  readonly input_sign: OPIOSign;
  readonly output_sign: OPIOSign;
  slices?: Slices;
  warm: boolean;
  /** The node binary that runs the OP (default: the engine's own); `command` follows it. */
  node?: string;

  constructor(op: OPClass, opts: TsOPTemplateOptions = {}) {
    checkOPClass(op, "TsOPTemplate");
    const what = `TsOPTemplate of OP ${op.name}`;
    parseOptions(tsTemplateSpec, opts, what, { template: opts?.name });
    const input_sign = normaliseSign(op.get_input_sign());
    const output_sign = normaliseSign(op.get_output_sign());
    const inputs = new Inputs();
    for (const [k, p] of input_sign.parameters) {
      inputs.parameters[k] = new InputParameter({ type: p.schema, ...(p.has_default ? { value: p.default } : {}), description: p.description });
    }
    for (const [k, a] of input_sign.artifacts) {
      inputs.artifacts[k] = new InputArtifact({ path: `/tmp/inputs/artifacts/${k}`, optional: a.optional, description: a.description });
    }
    const outputs = new Outputs();
    for (const [k, p] of output_sign.parameters) {
      const dflt = opts.output_parameter_default && k in opts.output_parameter_default ? { default: opts.output_parameter_default[k] } : p.has_default ? { default: p.default } : {};
      outputs.parameters[k] = new OutputParameter({
        value_from_path: `/tmp/outputs/parameters/${k}`,
        type: p.schema,
        global_name: opts.output_parameter_global_name?.[k] ?? p.global_name,
        description: p.description,
        ...dflt,
      });
    }
    for (const [k, a] of output_sign.artifacts) {
      outputs.artifacts[k] = new OutputArtifact({
        path: `/tmp/outputs/artifacts/${k}`,
        optional: a.optional,
        global_name: opts.output_artifact_global_name?.[k] ?? a.global_name,
        description: a.description,
      });
    }
    const unknown: string[] = [];
    for (const [opt, declared] of [
      ["output_parameter_default", output_sign.parameters],
      ["output_parameter_global_name", output_sign.parameters],
      ["output_artifact_global_name", output_sign.artifacts],
    ] as const) {
      const names = declared.map(([n]) => n);
      for (const k of Object.keys(opts[opt] ?? {})) {
        if (!names.includes(k)) unknown.push(`option ${opt}.${k}: OP ${op.name} has no output ${opt.includes("artifact") ? "artifact" : "parameter"} ${k} (declared: ${names.join(", ") || "none"})`);
      }
    }
    if (unknown.length) throw optionError(what, unknown, { template: opts.name });
    super({ ...opts, name: opts.name ?? op.name.toLowerCase(), inputs, outputs }, true);
    this.node = opts.node;
    this.op = op;
    this.opName = op.name;
    this.input_sign = input_sign;
    this.output_sign = output_sign;
    this.slices = opts.slices;
    this.warm = opts.warm ?? false;
    const module = opts.module ?? opModule(op);
    if (!module) {
      throw new DflowConfigError(
        `cannot tell which module exports OP ${op.name}: declare its signs with new OPIOSign({...}) in the OP's own file, define it with OP.function, or pass { module: import.meta.url } to TsOPTemplate`,
        { template: this.name },
      );
    }
    this.module = module.startsWith("file:") ? new URL(module).pathname : module;
  }

  override get command(): string[] {
    return [this.node ?? process.execPath];
  }
  /** `t.command = ["/opt/node20/bin/node"]` picks the node binary, as `{ node }` does. */
  override set command(v: string[] | string) {
    this.node = typeof v === "string" ? v : v[0];
  }
}

/**
 * A view of `t` that reads every field from `t` when asked (and writes
 * through to it), so values assigned to the template after a step was made
 * from it still count. Its own fields are plain properties that read `t`, so
 * an executor's `Object.assign(Object.create(proto), view)` copy still works.
 */
function liveView<T extends object>(t: T, overrides: Record<string, () => unknown>): T {
  const view = Object.create(Object.getPrototypeOf(t) as object) as T;
  for (const k of Object.keys(t)) {
    Object.defineProperty(view, k, {
      enumerable: true,
      configurable: true,
      get: () => (t as Record<string, unknown>)[k],
      set: (v: unknown) => ((t as Record<string, unknown>)[k] = v),
    });
  }
  for (const [k, get] of Object.entries(overrides)) Object.defineProperty(view, k, { enumerable: true, configurable: true, get, set: () => undefined });
  return view;
}

/**
 * The template a step with continue_on_num_success/ratio runs: `t` plus an
 * output parameter `dflow_success_tag` (value_from_path
 * /tmp/outputs/success_tag, default "0") that a successful script sets to 1,
 * as dflow does. A live view: the original template is left alone (dflow's
 * shared-template bugs, Q3) and what is assigned to it later still counts.
 */
export function withSuccessTag<T extends OPTemplate>(t: T): T {
  const script = t instanceof ScriptOPTemplate;
  const tag = script ? new OutputParameter({ value_from_path: "/tmp/outputs/success_tag", default: "0" }) : new OutputParameter({ value: "1" });
  const overrides: Record<string, () => unknown> = {
    outputs: () => new Outputs({ parameters: { ...t.outputs.parameters, dflow_success_tag: tag }, artifacts: t.outputs.artifacts }),
  };
  if (script) {
    overrides.success_tag = () => true;
    if (t.kind === "script") {
      overrides.script = () => {
        const base = (t as unknown as ScriptOPTemplate).script;
        // /tmp/outputs made first: an Argo pod has no such folder (dflow writes the tag without, and
        // its exported shell steps never count as succeeded); `dflow run`'s step directory has one.
        return /python/.test((t as unknown as ScriptOPTemplate).command[0] ?? "")
          ? `${base}\nimport os as __dflow_os\n__dflow_os.makedirs('/tmp/outputs', exist_ok=True)\nwith open('/tmp/outputs/success_tag', 'w') as f:\n    f.write('1')\n`
          : // keep the script's own exit status (dflow's plain `echo 1 >` would mask a failing last command)
            `${base}\n__dflow_rc=$?; [ "$__dflow_rc" -eq 0 ] && mkdir -p /tmp/outputs && echo 1 > /tmp/outputs/success_tag; exit $__dflow_rc`;
      };
    }
  }
  return liveView(t, overrides);
}
