// Steps and DAG: templates made of other steps. A Steps template is a
// sequence of groups (a list added at once runs in parallel); a DAG runs each
// task once its dependencies have succeeded.
import { z } from "./vendor/zod.js";
import { DflowConfigError } from "./errors.js";
import { checkTemplateName } from "./names.js";
import { checkStepFor } from "./check-steps.js";
import { field, parseOptions, spec } from "./options.js";
import { Step, Task } from "./step.js";
import { describeTemplate, OPTemplate, templateSpec, type TemplateOptions } from "./templates.js";

/**
 * Why a Steps or DAG template takes no timeout or retry_strategy: dflow's have neither (steps.py,
 * dag.py), `dflow run` would not apply them, and Argo applies a template timeout to pods only.
 */
function notAnOptionOf(kind: "Steps" | "DAG", option: "timeout" | "retry_strategy"): string {
  return option === "timeout"
    ? `timeout is not an option of ${kind} (dflow's ${kind} has none; Argo times pods only): set timeout on the OP templates its steps run, or on those steps`
    : `retry_strategy is not an option of ${kind} (dflow's ${kind} has none): set retry_strategy or retry_on_* on the OP templates its steps run, or retry_strategy on those steps`;
}

const { timeout: _timeout, retry_strategy: _retry, ...compositeFields } = templateSpec.fields;
const refused = (kind: "Steps" | "DAG") => ({ timeout: notAnOptionOf(kind, "timeout"), retry_strategy: notAnOptionOf(kind, "retry_strategy") });
export const stepsSpec = spec({ ...compositeFields, steps: field(z.array(z.unknown()).nullish(), "a list of steps (or lists of steps run in parallel)") }, templateSpec.argoOnly, refused("Steps"));
export const dagSpec = spec({ ...compositeFields, tasks: field(z.array(z.unknown()).nullish(), "a list of tasks") }, templateSpec.argoOnly, refused("DAG"));

/** Options of Steps and DAG templates. */
type CompositeOptions = Omit<TemplateOptions, "timeout" | "retry_strategy">;

// The check step of a step with a success threshold, made when first asked
// for and again only when the threshold changes (assigned after add()).
const checks = new WeakMap<Step, { sig: string; check: Step | null }>();
/** The check step that follows a step with a success threshold (the one its Steps or DAG runs), or null. */
export function checkOf(s: Step): Step | null {
  const sig = `${s.continue_on_num_success}|${s.continue_on_success_ratio}`;
  let c = checks.get(s);
  if (!c || c.sig !== sig) checks.set(s, (c = { sig, check: s.hasSuccessThreshold ? checkStepFor(s) : null }));
  return c.check;
}

export class Steps extends OPTemplate {
  readonly kind = "steps" as const;
  /** What was added, as added; `steps` adds the helper steps around them. */
  private readonly added: Array<Step | Step[]> = [];

  constructor(opts: (CompositeOptions & { steps?: Array<Step | Step[]> }) | string = {}) {
    const o = typeof opts === "string" ? { name: opts } : opts;
    parseOptions(stepsSpec, o, describeTemplate({ constructor: new.target, name: o?.name ?? "template" }), { template: o?.name });
    super(o, true);
    checkTemplateName(this.name.toLowerCase(), { template: this.name });
    for (const s of o.steps ?? []) this.add(s);
  }

  /**
   * The groups that run, in order: each added step or parallel list, with
   * the init helpers of sliced steps before it and the success-threshold
   * checks after it, as in dflow (their order keys count). Derived when
   * read, so options assigned after add() count.
   */
  get steps(): Array<Step | Step[]> {
    const out: Array<Step | Step[]> = [];
    for (const entry of this.added) {
      const list = Array.isArray(entry) ? entry : [entry];
      const inits = list.map((s) => s.init_step).filter((s): s is Step => s !== undefined);
      if (inits.length) out.push(inits.length === 1 && !Array.isArray(entry) ? inits[0] : inits);
      out.push(Array.isArray(entry) ? [...entry] : entry);
      const cs = list.map(checkOf).filter((c): c is Step => c !== null);
      if (cs.length) out.push(cs.length === 1 && !Array.isArray(entry) ? cs[0] : cs);
    }
    return out;
  }

  /** Add a step, or a list of steps that run in parallel. */
  add(step: Step | Step[]): this {
    const list = Array.isArray(step) ? step : [step];
    for (const s of list) {
      if (!(s instanceof Step)) throw new DflowConfigError(`Steps.add takes Step objects, got ${typeof s}`, { template: this.name });
      if (s instanceof Task) throw new DflowConfigError(`task ${s.name} added to Steps ${this.name}: use Step in Steps and Task in DAG`, { template: this.name });
    }
    this.added.push(Array.isArray(step) ? [...step] : step);
    return this;
  }
}

export class DAG extends OPTemplate {
  readonly kind = "dag" as const;
  private readonly added: Task[] = [];

  constructor(opts: (CompositeOptions & { tasks?: Task[] }) | string = {}) {
    const o = typeof opts === "string" ? { name: opts } : opts;
    parseOptions(dagSpec, o, describeTemplate({ constructor: new.target, name: o?.name ?? "template" }), { template: o?.name });
    super(o, true);
    checkTemplateName(this.name.toLowerCase(), { template: this.name });
    if (o.tasks) this.add(o.tasks);
  }

  /** The tasks that run: each added task with its init helper and success-threshold check (derived when read). */
  get tasks(): Task[] {
    const out: Task[] = [];
    for (const t of this.added) {
      if (t.init_step) out.push(t.init_step as Task);
      out.push(t);
      const check = checkOf(t);
      if (check) out.push(check as Task);
    }
    return out;
  }

  add(task: Task | Task[]): this {
    for (const t of (Array.isArray(task) ? task : [task]) as unknown[]) {
      if (!(t instanceof Task)) throw new DflowConfigError(`DAG.add takes Task objects, got ${t instanceof Step ? `step ${t.name}` : typeof t}`, { template: this.name });
      if (this.tasks.some((x) => x.name === t.name)) throw new DflowConfigError(`DAG ${this.name} already has a task named ${t.name}: task names must be unique in a DAG`, { template: this.name });
      this.added.push(t);
    }
    return this;
  }
}
