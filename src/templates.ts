// OP templates: what a step runs. Script templates (shell, Python, any
// interpreter) and the template that runs a TypeScript OP. Steps and DAG
// templates live in steps.ts.
import { DflowConfigError } from "./errors.js";
import { Inputs, InputArtifact, InputParameter, OutputArtifact, OutputParameter, Outputs } from "./io.js";
import { checkIOName } from "./names.js";
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

export interface TemplateOptions {
  name?: string;
  inputs?: Inputs;
  outputs?: Outputs;
  /** Kept for export to Argo; ignored when running locally. */
  image?: string;
  image_pull_policy?: string;
  timeout?: number;
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
  timeout?: number;
  retry_strategy?: RetryStrategy;
  parallelism?: number;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  abstract readonly kind: "script" | "ts-op" | "steps" | "dag";

  constructor(opts: TemplateOptions = {}) {
    this.name = opts.name ?? "template";
    // A plain {parameters, artifacts} object is accepted as well as new Inputs({...}).
    this.inputs = opts.inputs instanceof Inputs ? opts.inputs : new Inputs(opts.inputs ?? {});
    this.outputs = opts.outputs instanceof Outputs ? opts.outputs : new Outputs(opts.outputs ?? {});
    this.image = opts.image;
    this.image_pull_policy = opts.image_pull_policy;
    this.timeout = opts.timeout;
    this.retry_strategy = opts.retry_strategy;
    this.parallelism = opts.parallelism;
    this.annotations = opts.annotations;
    this.labels = opts.labels;
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
  command: string[];
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
  constructor(opts: ScriptTemplateOptions = {}) {
    super(opts);
    this.script = opts.script ?? "";
    this.command = opts.command ?? ["sh"];
    this.envs = opts.envs ?? {};
    this.script_rendered = opts.script_rendered ?? false;
    this.retry_on_transient_error = opts.retry_on_transient_error;
    this.retry_on_failure = opts.retry_on_failure;
    this.retry_on_error = opts.retry_on_error;
    this.retry_on_failure_and_error = opts.retry_on_failure_and_error;
    this.timeout_as_transient_error = opts.timeout_as_transient_error ?? false;
  }
}

/** A shell script, run with `sh` (dflow's ShellOPTemplate). */
export class ShellOPTemplate extends ScriptOPTemplate {
  constructor(opts: ScriptTemplateOptions = {}) {
    super({ command: ["sh"], ...opts });
  }
}

/** A Python script, run with the local `python3` (dflow's PythonScriptOPTemplate). */
export class PythonScriptOPTemplate extends ScriptOPTemplate {
  constructor(opts: ScriptTemplateOptions = {}) {
    super({ command: ["python3"], ...opts });
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

  constructor(op: OPClass, opts: TsOPTemplateOptions = {}) {
    checkOPClass(op, "TsOPTemplate");
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
    super({ ...opts, name: opts.name ?? op.name.toLowerCase(), inputs, outputs, command: [opts.node ?? process.execPath] });
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
}

/**
 * A copy of a script/OP template that reports success through an output
 * parameter `dflow_success_tag` (value_from_path /tmp/outputs/success_tag,
 * default "0"), as dflow does for continue_on_num_success/ratio. The
 * original template is left alone (dflow's shared-template bugs, Q3).
 */
export function withSuccessTag<T extends OPTemplate>(t: T): T {
  const copy = Object.assign(Object.create(Object.getPrototypeOf(t) as object), t) as T;
  copy.outputs = new Outputs({ parameters: { ...t.outputs.parameters }, artifacts: { ...t.outputs.artifacts } });
  if (copy instanceof ScriptOPTemplate) {
    copy.outputs.parameters.dflow_success_tag = new OutputParameter({ value_from_path: "/tmp/outputs/success_tag", default: "0" });
    copy.success_tag = true;
    if (copy.kind === "script") {
      const c = copy.command[0] ?? "";
      copy.script = /python/.test(c)
        ? `${copy.script}\nwith open('/tmp/outputs/success_tag', 'w') as f:\n    f.write('1')\n`
        : // keep the script's own exit status (dflow's plain `echo 1 >` would mask a failing last command)
          `${copy.script}\n__dflow_rc=$?; [ "$__dflow_rc" -eq 0 ] && echo 1 > /tmp/outputs/success_tag; exit $__dflow_rc`;
    }
  } else {
    copy.outputs.parameters.dflow_success_tag = new OutputParameter({ value: "1" });
  }
  return copy;
}
