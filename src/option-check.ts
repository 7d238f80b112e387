// The options of model objects as they are now, checked again at submit:
// values assigned after construction (`t.retry_on_failure = "3"`,
// `step.continue_on_success_ratio = 1.5`) get the same checks and messages as
// constructor options. Workflow.validate calls workflowOptionProblems().
import { configProblems } from "./config.js";
import { DispatcherExecutor, dispatcherExecutorSpec, SlurmRemoteExecutor, slurmRemoteExecutorSpec } from "./dispatcher.js";
import { DflowConfigError, type ErrorContext } from "./errors.js";
import { ArgoSequence, sequenceProblems } from "./expr.js";
import { InputArtifact, inputArtifactSpec, InputParameter, inputParameterSpec, OutputArtifact, outputArtifactSpec, OutputParameter, outputParameterSpec } from "./io.js";
import { checkKey } from "./names.js";
import { type OptionSpec, optionError, optionProblems } from "./options.js";
import { Slices, slicesSpec } from "./slices.js";
import { Step, stepSpec } from "./step.js";
import { DAG, dagSpec, Steps, stepsSpec } from "./steps.js";
import { describeTemplate, OPTemplate, TsOPTemplate, templateSpecOf } from "./templates.js";
import { Workflow, workflowSpec } from "./workflow.js";

/** Fields whose value lives under another property (an accessor over the raw value given). */
const RAW: Record<string, string> = { timeout: "_timeout", command: "_command", continue_on_failed: "_continue_on_failed" };

/**
 * The current values of the options `s` knows, read from the object's fields; `refused`: options
 * it refuses that the object may still hold (assigned after construction), read when set.
 */
function current(obj: object, s: OptionSpec, skip: string[] = [], refused: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const o = obj as Record<string, unknown>;
  const read = (k: string) => (RAW[k] && RAW[k] in o ? o[RAW[k]] : o[k]);
  for (const k of Object.keys(s.fields)) {
    if (skip.includes(k)) continue;
    if ((RAW[k] && RAW[k] in o) || k in o) out[k] = read(k);
  }
  for (const k of refused) if (read(k) !== undefined && read(k) !== null) out[k] = read(k);
  return out;
}

function check(what: string, problems: string[], ctx: ErrorContext): DflowConfigError[] {
  return problems.length ? [optionError(what, problems, ctx)] : [];
}

/**
 * The problems of one model object's options as they are now (Workflow,
 * Step/Task, any template with its declared parameters/artifacts, Slices,
 * argo_sequence, executors): one DflowConfigError per object, listing every
 * bad field. Does not descend into steps; see workflowOptionProblems.
 */
export function optionProblemsOf(obj: unknown, ctx: ErrorContext = {}): DflowConfigError[] {
  if (obj instanceof Workflow) return check(`Workflow ${JSON.stringify(obj.name)}`, optionProblems(workflowSpec, current(obj, workflowSpec, ["steps", "dag"])), { ...ctx, workflow: obj.name });
  if (obj instanceof Step) {
    const sctx = { ...ctx, step: obj.name };
    const problems = optionProblems(stepSpec, current(obj, stepSpec, ["name", "template"]));
    if (obj.key !== undefined && obj.key !== null && obj.key !== "") {
      try {
        checkKey(String(obj.key), sctx);
      } catch (e) {
        problems.push((e as DflowConfigError).detail ?? String(e));
      }
    }
    const out = check(`${obj.isTask ? "Task" : "Step"} ${JSON.stringify(obj.name)}`, problems, sctx);
    if (obj.with_sequence instanceof ArgoSequence) out.push(...optionProblemsOf(obj.with_sequence, sctx));
    if (obj.executor) out.push(...optionProblemsOf(obj.executor, sctx));
    return out;
  }
  if (obj instanceof OPTemplate) {
    const tctx = { ...ctx, template: obj.name };
    // A Steps or DAG refuses options a template has (steps.ts): assigned after, `dflow run` would ignore them without a word.
    const s = obj instanceof Steps ? stepsSpec : obj instanceof DAG ? dagSpec : templateSpecOf(obj);
    const refused = obj instanceof Steps || obj instanceof DAG ? Object.keys(s.unsupported) : [];
    const out = check(describeTemplate(obj), optionProblems(s, current(obj, s, ["inputs", "outputs", "slices"], refused)), tctx);
    for (const [group, label] of [
      [obj.inputs.parameters, "parameter"],
      [obj.inputs.artifacts, "artifact"],
      [obj.outputs.parameters, "parameter"],
      [obj.outputs.artifacts, "artifact"],
    ] as const) {
      for (const [name, p] of Object.entries(group)) out.push(...optionProblemsOf(p, { ...tctx, [label]: name }));
    }
    if (obj instanceof TsOPTemplate && obj.slices) out.push(...optionProblemsOf(obj.slices, tctx));
    return out;
  }
  for (const [cls, s] of [
    [InputParameter, inputParameterSpec],
    [InputArtifact, inputArtifactSpec],
    [OutputParameter, outputParameterSpec],
    [OutputArtifact, outputArtifactSpec],
  ] as const) {
    if (obj instanceof cls) return check(`${cls.name} ${JSON.stringify(obj.name)}`, optionProblems(s, current(obj, s, ["name"])), ctx);
  }
  if (obj instanceof Slices) {
    const problems = optionProblems(slicesSpec, current(obj, slicesSpec));
    if (obj.sub_path && obj.group_size) problems.push("sub_path and group_size cannot be combined");
    return check("Slices", problems, ctx);
  }
  if (obj instanceof ArgoSequence) return check("argo_sequence", sequenceProblems(obj.opts), ctx);
  if (obj instanceof DispatcherExecutor) return check("DispatcherExecutor", optionProblems(dispatcherExecutorSpec, obj.options), ctx);
  if (obj instanceof SlurmRemoteExecutor) return check("SlurmRemoteExecutor", optionProblems(slurmRemoteExecutorSpec, obj.options), ctx);
  return [];
}

/**
 * Every option problem of a workflow as it is now: the workflow, each
 * template it reaches (once), each step and task, their executors and
 * sequences, and the global config. Empty when all is well.
 */
export function workflowOptionProblems(wf: Workflow): DflowConfigError[] {
  const wctx = { workflow: wf.name };
  const out = optionProblemsOf(wf);
  const seen = new Set<unknown>();
  const visitTemplate = (t: OPTemplate): void => {
    if (seen.has(t)) return;
    seen.add(t);
    out.push(...optionProblemsOf(t, wctx));
    const steps = t instanceof Steps ? t.steps.flat() : t instanceof DAG ? t.tasks : [];
    for (const s of steps) {
      out.push(...optionProblemsOf(s, wctx));
      visitTemplate(s.template);
    }
  };
  if (wf.entrypoint) visitTemplate(wf.entrypoint);
  if (wf.context && (wf.context instanceof DispatcherExecutor || wf.context instanceof SlurmRemoteExecutor)) out.push(...optionProblemsOf(wf.context, wctx));
  const cfg = configProblems();
  if (cfg.length) out.push(optionError("config", cfg, wctx));
  // The same template reached through several steps' views reports once.
  const texts = new Set<string>();
  return out.filter((e) => (texts.has(e.message) ? false : (texts.add(e.message), true)));
}

/** Throw one DflowConfigError listing every option problem of `obj` (a Workflow: the whole workflow). */
export function validateOptions(obj: unknown): void {
  const problems = obj instanceof Workflow ? workflowOptionProblems(obj) : optionProblemsOf(obj);
  if (problems.length === 1) throw problems[0];
  if (problems.length) throw new DflowConfigError(`${problems.length} objects have invalid options:\n${problems.map((e) => `- ${e.message.replace(/\n/g, "\n  ")}`).join("\n")}`, { workflow: problems[0].context.workflow });
}
