// Steps and DAG: templates made of other steps. A Steps template is a
// sequence of groups (a list added at once runs in parallel); a DAG runs each
// task once its dependencies have succeeded.
import { DflowConfigError } from "./errors.js";
import { checkTemplateName } from "./names.js";
import { checkStepFor } from "./check-steps.js";
import { Step, Task } from "./step.js";
import { OPTemplate, type TemplateOptions } from "./templates.js";

export class Steps extends OPTemplate {
  readonly kind = "steps" as const;
  readonly steps: Array<Step | Step[]> = [];

  constructor(opts: TemplateOptions | string = {}) {
    super(typeof opts === "string" ? { name: opts } : opts);
    checkTemplateName(this.name.toLowerCase(), { template: this.name });
  }

  /** Add a step, or a list of steps that run in parallel. */
  add(step: Step | Step[]): this {
    const list = Array.isArray(step) ? step : [step];
    for (const s of list) {
      if (!(s instanceof Step)) throw new DflowConfigError(`Steps.add takes Step objects, got ${typeof s}`, { template: this.name });
      if (s instanceof Task) throw new DflowConfigError(`task ${s.name} added to Steps ${this.name}: use Step in Steps and Task in DAG`, { template: this.name });
    }
    // Init helpers of sliced steps take the position before them, as in dflow (their order keys count).
    const inits = list.map((s) => s.init_step).filter((s): s is Step => s !== undefined);
    if (inits.length) this.steps.push(inits.length === 1 && !Array.isArray(step) ? inits[0] : inits);
    this.steps.push(Array.isArray(step) ? [...step] : step);
    // Success-threshold checks take the next position, as in dflow (their order keys count).
    const checks = list.map(checkStepFor).filter((c): c is Step => c !== null);
    if (checks.length) this.steps.push(checks.length === 1 && !Array.isArray(step) ? checks[0] : checks);
    return this;
  }
}

export class DAG extends OPTemplate {
  readonly kind = "dag" as const;
  readonly tasks: Task[] = [];

  constructor(opts: TemplateOptions | string = {}) {
    super(typeof opts === "string" ? { name: opts } : opts);
    checkTemplateName(this.name.toLowerCase(), { template: this.name });
  }

  add(task: Task | Task[]): this {
    for (const t of (Array.isArray(task) ? task : [task]) as unknown[]) {
      if (!(t instanceof Task)) throw new DflowConfigError(`DAG.add takes Task objects, got ${t instanceof Step ? `step ${t.name}` : typeof t}`, { template: this.name });
      if (this.tasks.some((x) => x.name === t.name)) throw new DflowConfigError(`DAG ${this.name} already has a task named ${t.name}: task names must be unique in a DAG`, { template: this.name });
      if (t.init_step) this.tasks.push(t.init_step as Task);
      this.tasks.push(t);
      const check = checkStepFor(t);
      if (check) this.tasks.push(check as Task);
    }
    return this;
  }
}
