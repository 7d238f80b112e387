// Step and Task: an instance of a template with its arguments. A Task is a
// Step inside a DAG; references to its outputs render as {{tasks.<name>...}}.
import { z } from "./vendor/zod.js";
import { DflowConfigError } from "./errors.js";
import { ArgoSequence } from "./expr.js";
import { StepOutputArtifact, StepOutputParameter, typeString } from "./io.js";
import { checkIOName, checkKey, checkStepName } from "./names.js";
import { anyField, boolField, durationSeconds, field, parallelismField, parseOptions, retryStrategySpec, spec, stringField, timeoutField } from "./options.js";
import { initArtifactTemplate, slicedTemplate } from "./slices.js";
import { type OPTemplate, type RetryStrategy, TsOPTemplate, withSuccessTag } from "./templates.js";

const recordField = (what: string) => field(z.record(z.string(), z.unknown()).nullish(), `an object of ${what} by name`);

/** Options of Step and Task (dflow's Step arguments, plus timeout/retry_strategy/dependencies of ours). */
export const stepSpec = spec(
  {
    name: stringField,
    template: anyField,
    parameters: recordField("parameter values"),
    artifacts: recordField("artifact sources"),
    when: anyField,
    with_param: anyField,
    with_sequence: field(z.instanceof(ArgoSequence).nullish(), "argo_sequence({ count }) / argo_sequence({ start, end })"),
    with_items: field(z.array(z.unknown()).nullish(), "a list"),
    key: field(z.union([z.string(), z.number()]).nullish(), "a string"),
    executor: field(z.custom((v) => typeof v === "object" && v !== null && typeof (v as { render?: unknown }).render === "function").nullish(), "an executor (an object with render(template))"),
    continue_on_failed: boolField,
    continue_on_error: boolField,
    continue_on_num_success: field(z.number().int().min(0).nullish(), "a whole number ≥ 0"),
    continue_on_success_ratio: field(z.number().min(0).max(1).nullish(), "a number from 0 to 1"),
    parallelism: parallelismField,
    timeout: timeoutField,
    retry_strategy: retryStrategySpec,
    dependencies: field(z.array(z.union([z.string(), z.custom((v) => v instanceof Step)])).nullish(), "a list of steps or step names"),
  },
  // Kubernetes/Argo only: accepted, no effect here.
  ["use_resource", "util_image", "util_image_pull_policy", "util_command"],
  {
    slices: "set slices on the TsOPTemplate the step uses",
    success_hook: "hooks are not implemented; add a step after it",
    running_hook: "hooks are not implemented",
    failure_hook: "hooks are not implemented; use continue_on_failed and a step with `when`",
  },
);

/** dflow's Executor extension point: turns a template into the one that runs. */
export interface Executor {
  render(template: OPTemplate): OPTemplate;
}

/** Every option except name and template can also be assigned after construction (`step.key = "x"`), with the same effect. */
export interface StepOptions {
  name: string;
  template: OPTemplate;
  parameters?: Record<string, unknown>;
  artifacts?: Record<string, unknown>;
  when?: unknown;
  with_param?: unknown;
  with_sequence?: unknown;
  with_items?: unknown[];
  key?: string;
  executor?: Executor;
  continue_on_failed?: boolean;
  continue_on_error?: boolean;
  continue_on_num_success?: number;
  continue_on_success_ratio?: number;
  parallelism?: number;
  /** Seconds, or a duration such as "90s", "5m". */
  timeout?: number | string;
  retry_strategy?: RetryStrategy;
  /** DAG only: tasks this task runs after, in addition to those inferred from its inputs. */
  dependencies?: Array<Step | string>;
}

export class Step {
  readonly name: string;
  /** The template as given (sliced: with its merged-output storage). */
  private readonly _template: OPTemplate;
  private _tagged?: { base: OPTemplate; view: OPTemplate };
  readonly parameters: Record<string, unknown>;
  readonly artifacts: Record<string, unknown>;
  when?: unknown;
  with_param?: unknown;
  with_sequence?: unknown;
  key?: string;
  executor?: Executor;
  private _continue_on_failed: boolean;
  continue_on_error: boolean;
  continue_on_num_success?: number;
  continue_on_success_ratio?: number;
  parallelism?: number;
  /** As given (seconds or a duration string); read through `timeout`. */
  _timeout?: number | string;
  retry_strategy?: RetryStrategy;
  dependencies: Array<Step | string>;
  /** DAG: tasks this one runs after whatever their final phase (success-ratio checks). */
  after_any: string[] = [];
  readonly outputs: {
    parameters: Record<string, StepOutputParameter>;
    artifacts: Record<string, StepOutputArtifact>;
  };

  get isTask(): boolean {
    return false;
  }

  /**
   * The template the step runs. With a success threshold
   * (continue_on_num_success/ratio, set in the options or assigned later)
   * it is a live view of the template that also reports dflow_success_tag (§3.4).
   */
  get template(): OPTemplate {
    if (!this.hasSuccessThreshold) return this._template;
    if (this._tagged?.base !== this._template) this._tagged = { base: this._template, view: withSuccessTag(this._template) };
    return this._tagged.view;
  }

  get hasSuccessThreshold(): boolean {
    return (this.continue_on_num_success ?? null) !== null || (this.continue_on_success_ratio ?? null) !== null;
  }

  /** True when set, and always with a success threshold: the threshold's check decides instead (§3.4). */
  get continue_on_failed(): boolean {
    return this._continue_on_failed || this.hasSuccessThreshold;
  }
  set continue_on_failed(v: boolean) {
    this._continue_on_failed = v;
  }

  /** Another name for with_param (a literal list), read and assigned through it. */
  get with_items(): unknown[] | undefined {
    return Array.isArray(this.with_param) ? this.with_param : undefined;
  }
  set with_items(v: unknown[] | undefined) {
    this.with_param = v;
  }

  /** The timeout in seconds (a duration string given or assigned is converted when read). */
  get timeout(): number | undefined {
    if (this._timeout === undefined || this._timeout === null) return undefined;
    const n = durationSeconds(this._timeout);
    return Number.isFinite(n) ? n : (this._timeout as number);
  }
  set timeout(v: number | string | undefined) {
    this._timeout = v;
  }

  /** dflow's `<name>-init-artifact` helper, run just before this step (sliced steps). */
  init_step?: Step;

  private setUpInitStep(t: TsOPTemplate, opts: StepOptions): void {
    const s = t.slices!;
    // A keyed sliced step keeps its merged outputs under <wfdir>/<key with {{item}} -> group>.
    const groupKey = opts.key ? String(opts.key).replace(/\{\{\s*=?\s*item[^}]*\}\}/g, "group") : undefined;
    const artifacts: Record<string, unknown> = {};
    if (s.sub_path) {
      for (const a of s.input_artifact) {
        const src = this.artifacts[a];
        if (src === undefined || src === null) throw new DflowConfigError(`sliced input artifact ${a} has no source`, { step: this.name, artifact: a });
        // The helper reads only the catalog of the sliced artifact.
        artifacts[a] = typeof src === "string" ? `${src}/.dflow` : typeof (src as { sub_path?: unknown }).sub_path === "function" ? (src as { sub_path(p: string): unknown }).sub_path(".dflow") : src;
      }
    }
    const Ctor = this.constructor as new (o: StepOptions) => Step;
    const init = new Ctor({ name: `${this.name}-init-artifact`, template: initArtifactTemplate(t, groupKey), artifacts, parameters: groupKey ? { dflow_group_key: groupKey } : {} });
    this.init_step = init;
    this.parameters.dflow_artifact_key = init.outputs.parameters.dflow_artifact_key;
    if (s.sub_path && this.with_param === undefined && this.with_sequence === undefined) this.with_param = init.outputs.parameters.dflow_slices_path;
  }

  constructor(opts: StepOptions) {
    const ctx = { step: opts?.name };
    if (!opts || typeof opts !== "object") throw new DflowConfigError("new Step({...}) needs an options object with name and template");
    parseOptions(stepSpec, opts, `${new.target.name} ${JSON.stringify(String(opts.name))}`, ctx);
    checkStepName(opts.name, ctx);
    if (!opts.template || typeof opts.template !== "object" || !("kind" in opts.template)) {
      throw new DflowConfigError("template is missing or is not a template (ShellOPTemplate, TsOPTemplate, Steps, DAG, …)", ctx);
    }
    this.name = opts.name;
    let template = opts.template;
    // A sliced OP gets its merged-output storage (§4.9).
    if (template instanceof TsOPTemplate && template.slices) template = slicedTemplate(template);
    this._template = template;
    this.continue_on_num_success = opts.continue_on_num_success ?? undefined;
    this.continue_on_success_ratio = opts.continue_on_success_ratio ?? undefined;
    this.template.normalise();
    const tctx = { step: this.name, template: this.template.name };
    this.parameters = { ...(opts.parameters ?? {}) };
    for (const k of Object.keys(this.parameters)) {
      checkIOName(k, "parameter", tctx);
      if (!(k in this.template.inputs.parameters)) {
        const declared = Object.keys(this.template.inputs.parameters);
        throw new DflowConfigError(`parameter ${k} is not declared by the template (declared: ${declared.join(", ") || "none"})`, { ...tctx, parameter: k });
      }
    }
    this.artifacts = { ...(opts.artifacts ?? {}) };
    for (const k of Object.keys(this.artifacts)) {
      checkIOName(k, "artifact", tctx);
      if (!(k in this.template.inputs.artifacts)) {
        const declared = Object.keys(this.template.inputs.artifacts);
        throw new DflowConfigError(`artifact ${k} is not declared by the template (declared: ${declared.join(", ") || "none"})`, { ...tctx, artifact: k });
      }
    }
    this.when = opts.when;
    this.with_param = opts.with_param ?? opts.with_items;
    if (template instanceof TsOPTemplate && template.slices?.needsInit) this.setUpInitStep(template, opts);
    this.with_sequence = opts.with_sequence;
    // An empty key means "no key" (dflow's shared-template key bug, Q3).
    if (opts.key !== undefined && opts.key !== null && opts.key !== "") {
      checkKey(String(opts.key), ctx);
      this.key = String(opts.key);
    }
    this.executor = opts.executor;
    this._continue_on_failed = opts.continue_on_failed ?? false;
    this.continue_on_error = opts.continue_on_error ?? false;
    this.parallelism = opts.parallelism ?? undefined;
    this._timeout = opts.timeout ?? undefined;
    this.retry_strategy = opts.retry_strategy;
    this.dependencies = opts.dependencies ?? [];

    // Outputs are looked up in the template at access time: Steps/DAG
    // templates often get their outputs declared after the step is created.
    const self = this;
    const lookup = <T>(what: "parameter" | "artifact", make: (name: string) => T): Record<string, T> =>
      new Proxy({} as Record<string, T>, {
        get(_t, prop) {
          if (typeof prop === "symbol" || prop === "then" || prop === "toJSON") return undefined;
          const declared = what === "parameter" ? self.template.outputs.parameters : self.template.outputs.artifacts;
          if (!(prop in declared)) {
            throw new DflowConfigError(
              `${self.isTask ? "task" : "step"} ${self.name} has no output ${what} "${prop}" (declared: ${Object.keys(declared).join(", ") || "none"})`,
              { step: self.name, [what]: prop },
            );
          }
          return make(prop);
        },
        has(_t, prop) {
          const declared = what === "parameter" ? self.template.outputs.parameters : self.template.outputs.artifacts;
          return typeof prop === "string" && prop in declared;
        },
        ownKeys() {
          return Object.keys(what === "parameter" ? self.template.outputs.parameters : self.template.outputs.artifacts);
        },
        getOwnPropertyDescriptor(_t, prop) {
          const declared = what === "parameter" ? self.template.outputs.parameters : self.template.outputs.artifacts;
          return typeof prop === "string" && prop in declared ? { enumerable: true, configurable: true, value: make(prop) } : undefined;
        },
      });
    this.outputs = {
      parameters: lookup("parameter", (n) => new StepOutputParameter(self, n, typeString(self.template.outputs.parameters[n]?.type))),
      artifacts: lookup("artifact", (n) => new StepOutputArtifact(self, n)),
    };
  }
}

export class Task extends Step {
  override get isTask(): boolean {
    return true;
  }
}
