// Step and Task: an instance of a template with its arguments. A Task is a
// Step inside a DAG; references to its outputs render as {{tasks.<name>...}}.
import { DflowConfigError } from "./errors.js";
import { StepOutputArtifact, StepOutputParameter, typeString } from "./io.js";
import { checkIOName, checkKey, checkStepName } from "./names.js";
import { initArtifactTemplate, slicedTemplate } from "./slices.js";
import { type OPTemplate, type RetryStrategy, TsOPTemplate, withSuccessTag } from "./templates.js";

/** dflow's Executor extension point: turns a template into the one that runs. */
export interface Executor {
  render(template: OPTemplate): OPTemplate;
}

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
  timeout?: number;
  retry_strategy?: RetryStrategy;
  /** DAG only: tasks this task runs after, in addition to those inferred from its inputs. */
  dependencies?: Array<Step | string>;
}

export class Step {
  readonly name: string;
  readonly template: OPTemplate;
  readonly parameters: Record<string, unknown>;
  readonly artifacts: Record<string, unknown>;
  when?: unknown;
  with_param?: unknown;
  with_sequence?: unknown;
  key?: string;
  executor?: Executor;
  continue_on_failed: boolean;
  continue_on_num_success?: number;
  continue_on_success_ratio?: number;
  parallelism?: number;
  timeout?: number;
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
    checkStepName(opts.name, ctx);
    if (!opts.template || typeof opts.template !== "object" || !("kind" in opts.template)) {
      throw new DflowConfigError("template is missing or is not a template (ShellOPTemplate, TsOPTemplate, Steps, DAG, …)", ctx);
    }
    this.name = opts.name;
    let template = opts.template;
    // A sliced OP gets its merged-output storage (§4.9).
    if (template instanceof TsOPTemplate && template.slices) template = slicedTemplate(template);
    // With a success threshold the step reports success through dflow_success_tag (§3.4).
    if (opts.continue_on_num_success !== undefined || opts.continue_on_success_ratio !== undefined) template = withSuccessTag(template);
    this.template = template;
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
    this.continue_on_num_success = opts.continue_on_num_success;
    this.continue_on_success_ratio = opts.continue_on_success_ratio;
    this.continue_on_failed = (opts.continue_on_failed ?? false) || opts.continue_on_num_success !== undefined || opts.continue_on_success_ratio !== undefined;
    this.parallelism = opts.parallelism;
    this.timeout = opts.timeout;
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
