// Workflow: the steps or DAG to run, submitted to the local engine. submit()
// runs the workflow to its end in this process, as dflow's debug mode does,
// and never throws for a failed workflow (read the status); it throws a
// DflowConfigError, before anything runs, for a workflow that is invalid.
import { setTimeout as sleep } from "node:timers/promises";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { runWorkflow, debugRoot } from "../engine/workflow-run.js";
import { deleteWorkflow, isSuspended, resumeWorkflow, suspendWorkflow, terminateWorkflow } from "../engine/control.js";
import { readTextOrSync } from "../engine/store/fsx.js";
import { z } from "./vendor/zod.js";
import { type ArgoExport, type ExportOptions, exportWorkflow, SSH_MOUNT, SSH_PASSWORD_ENV } from "./argo/export.js";
import type { DispatcherExecutorOptions, SlurmRemoteExecutorOptions } from "./dispatcher.js";
import { bundleDispatcher, bundleOPs } from "./argo/export-bundle.js";
import { dispatchPodJob, slurmRemotePodJob } from "../engine/executors/dispatch-pod-job.js";
import { workflowEnded, workflowStarted } from "./detached.js";
import { DflowConfigError, type ErrorContext } from "./errors.js";
import { checkWorkflowName } from "./names.js";
import { workflowOptionProblems } from "./option-check.js";
import { field, parallelismField, parseOptions, spec, stringField, stringMapField } from "./options.js";
import { type ArgoStep, type GlobalOutputs, type StepFilter, queryStepsIn, readGlobalOutputs } from "./query.js";
import { Step, Task } from "./step.js";
import { DAG, Steps } from "./steps.js";
import type { OPTemplate, ScriptOPTemplate } from "./templates.js";
import { WorkflowValidationError, problemsOf, validateWorkflow } from "./validate.js";
import { type ArgoLoadOptions, type ArgoManifest, fromYaml } from "./argo/load.js";

/** Options of a Workflow: dflow's, with the Kubernetes/Argo connection options accepted and ignored. */
export const workflowSpec = spec(
  {
    name: stringField,
    steps: field(z.instanceof(Steps).nullish(), "a Steps template"),
    dag: field(z.instanceof(DAG).nullish(), "a DAG template"),
    id: stringField,
    context: field(z.custom((v) => typeof v === "object" && v !== null && typeof (v as { render?: unknown }).render === "function").nullish(), "an executor (an object with render(template))"),
    parameters: field(z.record(z.string(), z.unknown()).nullish(), "an object of parameter values by name"),
    parallelism: parallelismField,
    annotations: stringMapField,
    labels: stringMapField,
  },
  ["namespace", "uid", "host", "token", "k8s_config_file", "k8s_api_server", "pod_gc_strategy", "image_pull_secrets", "artifact_repo_key"],
  { on_exit: "exit handlers are not implemented; add a final step with continue_on_failed on the steps before it" },
);

export interface WorkflowOptions {
  name?: string;
  steps?: Steps;
  dag?: DAG;
  /** Re-open (restart) an existing workflow by id. */
  id?: string;
  context?: { render(t: OPTemplate): OPTemplate };
  parameters?: Record<string, unknown>;
  parallelism?: number;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

export interface SubmitResult {
  id: string;
  status: "Succeeded" | "Failed";
  /** Why the workflow failed. */
  error?: Error;
}

export class Workflow {
  readonly name: string;
  id?: string;
  entrypoint?: Steps | DAG;
  context?: WorkflowOptions["context"];
  parameters: Record<string, unknown>;
  parallelism?: number;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;

  constructor(opts: WorkflowOptions = {}) {
    parseOptions(workflowSpec, opts, `Workflow ${JSON.stringify(String(opts?.name ?? "workflow"))}`, { workflow: opts?.name });
    this.name = opts.name ?? "workflow";
    checkWorkflowName(this.name);
    this.id = opts.id;
    if (opts.steps && opts.dag) throw new DflowConfigError("a Workflow takes steps or dag, not both", { workflow: this.name });
    this.entrypoint = opts.steps ?? opts.dag;
    this.context = opts.context;
    this.parameters = opts.parameters ?? {};
    this.parallelism = opts.parallelism ?? undefined;
    this.annotations = opts.annotations;
    this.labels = opts.labels;
  }

  /**
   * An Argo Workflow manifest (YAML text), run by the same engine in the same
   * layout: `(await Workflow.from_yaml(text).submit()).status`. What it cannot
   * run is refused here, in one line naming the field.
   */
  static from_yaml(text: string, opts: ArgoLoadOptions = {}): ArgoManifest {
    return fromYaml(text, opts);
  }

  /** Add a step, a parallel list of steps, a task or a list of tasks to the entrypoint. */
  add(x: Step | Step[] | Task | Task[]): this {
    const first = Array.isArray(x) ? x[0] : x;
    if (!this.entrypoint) this.entrypoint = first instanceof Task ? new DAG(`${this.name}-dag`) : new Steps(`${this.name}-steps`);
    if (this.entrypoint instanceof DAG) this.entrypoint.add(x as Task | Task[]);
    else this.entrypoint.add(x as Step | Step[]);
    return this;
  }

  /**
   * Check everything that can be checked before running — arguments,
   * references, `when`/`with_param` text, literal types, OP modules, DAG
   * cycles — and throw one DflowConfigError (a WorkflowValidationError)
   * listing every problem, one per line.
   */
  validate(): void {
    // Options may have been assigned after construction: checked here with the rest, all reported together.
    const options = problemsOf(this.name, workflowOptionProblems(this));
    if (!this.entrypoint) {
      const none = { workflow: this.name, message: "the workflow has no steps: wf.add(step) or new Workflow({ steps }) / ({ dag })" };
      throw options.length ? new WorkflowValidationError(this.name, [...options, none]) : new DflowConfigError(none.message, { workflow: this.name });
    }
    validateWorkflow(this.name, this.entrypoint, options, this.context);
  }

  /**
   * Run the workflow to its end and return its id and status. With an
   * existing `id`, restarts it: succeeded steps are not run again.
   */
  async submit(opts: { reuse_step?: ArgoStep[] } = {}): Promise<SubmitResult> {
    if (process.env.DFLOW_OP_CHILD) {
      throw new DflowConfigError(
        "a module imported by an OP's child process submits a workflow: move the OP into its own module, or guard the workflow code with `if (isMain(import.meta))`",
        { workflow: this.name },
      );
    }
    this.validate();
    // `dflow export` runs the script with DFLOW_EXPORT (a file): the workflow is rendered there and
    // never runs; nor does the script's code after `await wf.submit()` (the promise never settles).
    const exportTo = process.env.DFLOW_EXPORT;
    if (exportTo) {
      // Validated above already.
      const out = this.rendered({ ...(JSON.parse(process.env.DFLOW_EXPORT_OPTIONS || "{}") as ExportOptions), reuse_step: opts.reuse_step });
      // What the workflow reads from this machine goes where its pods read it, as dflow's upload_artifact puts it.
      const published = await (await import("../engine/artifacts/publish.js")).publishUploads(out.uploads, debugRoot());
      fs.appendFileSync(exportTo, `${JSON.stringify({ name: this.name, ...out, published })}\n`);
      return new Promise<SubmitResult>(() => undefined);
    }
    // `dflow retry <id>` re-runs the script with DFLOW_RESUME_ID: the first
    // workflow of that name it submits continues the old one.
    const resume = process.env.DFLOW_RESUME_ID;
    if (resume && !this.id && resume.startsWith(`${this.name}-`)) {
      this.id = resume;
      delete process.env.DFLOW_RESUME_ID;
    }
    // `dflow resubmit <id>` sets DFLOW_REUSE_FROM: a new workflow reusing the old one's succeeded keyed steps.
    let reuse = opts.reuse_step ?? [];
    const from = process.env.DFLOW_REUSE_FROM;
    if (from && !opts.reuse_step && from.startsWith(`${this.name}-`)) {
      reuse = new Workflow({ id: from }).query_step({ phase: "Succeeded" }).filter((s) => s.key);
      delete process.env.DFLOW_REUSE_FROM;
    }
    const r = await runWorkflow(this.entrypoint!, {
      id: this.id,
      name: this.name,
      parallelism: this.parallelism,
      context: this.context,
      reuse,
      log: (l) => console.log(l),
      onStart: (id, dir) => {
        this.id = id;
        workflowStarted(id, dir);
      },
    });
    this.id = r.id;
    if (r.error) console.error(`Workflow ${r.id} failed: ${r.error.message}`);
    workflowEnded(r.id, r.status, r.dir);
    return { id: r.id, status: r.status, error: r.error };
  }

  /**
   * The workflow as Argo manifests (src/argo/export.ts): the Workflow, and
   * the Kubernetes objects it needs first (the ConfigMap carrying its
   * TypeScript OPs' code). Checks the workflow as submit() does; what cannot
   * run on Argo as it runs here is refused with a DflowConfigError.
   */
  to_argo(opts: ExportOptions = {}): ArgoExport {
    this.validate();
    return this.rendered(opts);
  }

  /** The Argo manifests of a workflow already validated. */
  private rendered(opts: ExportOptions): ArgoExport {
    const dispatcher = {
      job: (t: ScriptOPTemplate, o: Record<string, unknown>, where: ErrorContext, merged: boolean) => {
        const ssh = { mount: SSH_MOUNT, passwordEnv: SSH_PASSWORD_ENV };
        return t.remote?.kind === "slurm-remote" ? slurmRemotePodJob(t, o as SlurmRemoteExecutorOptions, where, ssh) : dispatchPodJob(t, o as DispatcherExecutorOptions, where, ssh, merged);
      },
      bundle: bundleDispatcher,
    };
    return exportWorkflow(this, { bundle: (modules) => bundleOPs(modules), dispatcher, ...opts });
  }

  /** The Argo Workflow object, as dflow's to_dict(); the ConfigMap its TS OPs need is in to_argo(). */
  to_dict(opts: ExportOptions = {}): Record<string, unknown> {
    return this.to_argo(opts).workflow;
  }

  /** YAML of the Workflow, after the objects it needs (`kubectl create -f` creates them all). */
  to_yaml(opts: ExportOptions = {}): string {
    const { workflow, dependencies } = this.to_argo(opts);
    // Loaded when asked for: every `import "dflow-ts"` would pay for it.
    const YAML = createRequire(import.meta.url)("yaml") as typeof import("yaml");
    // YAML 1.1, as Argo and kubectl read it (yaml.v2): a string such as "yes", "off" or "12:30" is quoted, not read back as a boolean or a number.
    return [...dependencies, workflow].map((d) => YAML.stringify(d, { lineWidth: 0, version: "1.1" })).join("---\n");
  }

  private dir(): string {
    if (!this.id) throw new DflowConfigError("the workflow has no id yet: submit it first, or construct it with { id }", { workflow: this.name });
    return path.join(debugRoot(), this.id);
  }

  /** Continue this workflow after a crash or a failure: succeeded steps are not run again. Same as submit() with its id. */
  async retry(): Promise<SubmitResult> {
    if (!this.id) throw new DflowConfigError("retry needs the workflow's id: submit it first, or construct it with { id }", { workflow: this.name });
    return this.submit();
  }

  /** Contents of the workflow's status file: Running, Succeeded or Failed. */
  query_status(): string {
    const s = readTextOrSync(path.join(this.dir(), "status"), null);
    if (s === null) throw new DflowConfigError(`no workflow ${this.id} under ${debugRoot()}`, { workflow: this.id });
    return s;
  }

  /** Wait while the workflow is Pending or Running. */
  async wait(interval = 1): Promise<string> {
    for (;;) {
      const s = this.query_status();
      if (s !== "Pending" && s !== "Running") return s;
      await sleep(interval * 1000);
    }
  }

  /**
   * Steps of the workflow, sorted by start. `name` matches exactly (a string
   * or a list of strings) or, given a RegExp, as a whole-name match.
   */
  query_step(filter: StepFilter = {}): ArgoStep[] {
    return queryStepsIn(this.id!, this.dir(), filter);
  }

  /** Workflow progress: Pod steps finished (Succeeded or Failed) out of the Pod steps known so far. */
  query_progress(): { done: number; total: number; succeeded: number; failed: number } {
    const pods = this.query_step({ type: "Pod" });
    const succeeded = pods.filter((s) => s.phase === "Succeeded").length;
    const failed = pods.filter((s) => s.phase === "Failed").length;
    return { done: succeeded + failed, total: pods.length, succeeded, failed };
  }

  query_step_by_key(key: string | string[]): ArgoStep[] {
    return this.query_step({ key });
  }

  query_keys_of_steps(): string[] {
    return this.query_step().flatMap((s) => (s.key ? [s.key] : []));
  }

  /** Same as query_keys_of_steps(). */
  query_keys(): string[] {
    return this.query_keys_of_steps();
  }

  /**
   * Global outputs (parameters as raw text, artifacts as paths), or null when
   * there are none; an Argo run's are its globalName outputs, its artifacts'
   * paths in the local artifact repository.
   */
  query_global_outputs(): GlobalOutputs | null {
    return readGlobalOutputs(this.dir());
  }
  // Managing a workflow (dflow's Workflow.terminate/stop/suspend/resume/delete/
  // resubmit); the same code as `dflow stop/suspend/resume/delete`, in engine/control.ts.

  /**
   * Terminate the workflow, whether this process runs it (a submit() still
   * pending: it resolves Failed) or another one (its engine is sent SIGTERM,
   * as dflow's debug mode does). Steps not started do not start, running
   * steps are killed; they and the workflow end Failed, with the reason.
   * Resolves once the status is final.
   */
  async terminate(): Promise<void> {
    await terminateWorkflow(this.dir(), "Workflow.terminate()");
  }

  /** Same as terminate(): locally there are no exit handlers for a stop to run first. */
  async stop(): Promise<void> {
    await terminateWorkflow(this.dir(), "Workflow.stop()", "stopped");
  }

  /**
   * Suspend the workflow (it may run in this or another process): no step
   * starts until resume(), running steps finish. The status stays Running, as
   * Argo's does; is_suspended() and `dflow get` show it.
   */
  suspend(): void {
    suspendWorkflow(this.dir(), "Workflow.suspend()");
  }

  /** Let a suspended workflow start steps again. */
  resume(): void {
    resumeWorkflow(this.dir());
  }

  /** Whether the workflow is suspended. */
  is_suspended(): boolean {
    this.query_status();
    return isSuspended(this.dir());
  }

  /**
   * Delete the workflow's directory. A workflow whose engine is running is
   * refused, unless `force` (then it is terminated first).
   */
  async delete(opts: { force?: boolean } = {}): Promise<void> {
    await deleteWorkflow(this.dir(), { force: opts.force, forceHint: "delete({ force: true })", by: "Workflow.delete()" });
  }

  /**
   * Run the workflow again as a new workflow that reuses the succeeded keyed
   * steps of this one (Argo's resubmit; `dflow resubmit <id>` does it for a
   * script). This object keeps its id; the new one is in the result.
   */
  async resubmit(): Promise<SubmitResult> {
    const reuse = this.query_step({ phase: "Succeeded" }).filter((s) => s.key);
    if (!this.entrypoint) {
      throw new DflowConfigError(`resubmit needs the workflow's steps, and this Workflow was made from an id only: build it as the script does, or use \`dflow resubmit ${this.id}\``, { workflow: this.id });
    }
    const again = new Workflow({ name: this.name, ...(this.entrypoint instanceof DAG ? { dag: this.entrypoint } : { steps: this.entrypoint }), context: this.context, parameters: this.parameters, parallelism: this.parallelism });
    return again.submit({ reuse_step: reuse });
  }
}
