// Argo Workflow manifests run with the local engine (issue 12 scope 2):
// Workflow.from_yaml(text) and `dflow run wf.yaml` build an ArgoManifest,
// whose submit() runs it in the work directory like any workflow (same
// layout, visible to `dflow list/get/logs/ui`). The interpreter is
// engine/argo (its design is at the top of engine/argo/run.ts).
import fs from "node:fs";
import { workflowEnded, workflowStarted } from "../detached.js";
import { DflowConfigError } from "../errors.js";
// Not engine/argo/index.js: the interpreter (run.ts) is imported when a manifest is submitted, so
// that src/workflow.ts, and with it every TS OP's bundle, does not carry it.
import { checkWorkflow } from "../../engine/argo/check.js";
import { type ArgoWorkflow, loadArgo, loadArgoAll, workflowNamespace } from "../../engine/argo/manifest.js";
import { type ArgoStatus, readArgoStatus } from "../../engine/argo/nodes.js";
import type { ArgoRunOptions } from "../../engine/argo/run.js";

export interface ArgoLoadOptions {
  /** Texts of (Cluster)WorkflowTemplate manifests that workflowTemplateRef/templateRef may name, or of ConfigMaps that configMap volumes mount. */
  templates?: string[];
  /** Files of such manifests (`dflow export`'s wf.ops.yaml, say). */
  template_files?: string[];
  /** Workflow arguments to override (`argo submit -p name=value`). */
  parameters?: Record<string, string>;
  /**
   * Limits of database semaphores (Argo's sync_limit table), `[namespace/]key` -> limit; a key
   * without a namespace is in the workflow's (`dflow run --sync-limit key=N`).
   */
  sync_limits?: Record<string, number>;
  /** Where the text came from, for messages. */
  source?: string;
}

export interface ArgoSubmitResult {
  id: string;
  /** As for every workflow of the work directory: Argo's Error counts as Failed here. */
  status: "Succeeded" | "Failed";
  /** Argo's phase of the workflow: Succeeded, Failed or Error. */
  phase: "Succeeded" | "Failed" | "Error";
  message?: string;
  dir: string;
}

export class ArgoManifest {
  id?: string;
  private dir?: string;

  constructor(readonly workflow: ArgoWorkflow) {
    // Refused now, before anything runs: an invalid spec, or a field this engine cannot honour.
    checkWorkflow(workflow);
  }

  get name(): string {
    const m = this.workflow.metadata;
    return String(m.name ?? m.generateName ?? "workflow").replace(/-+$/, "");
  }

  /** Run to the end in the work directory. */
  async submit(): Promise<ArgoSubmitResult> {
    return this.run({});
  }

  /** @internal submit() with a control (submitTogether). */
  async run(opts: Pick<ArgoRunOptions, "control" | "signals" | "onStart">): Promise<ArgoSubmitResult> {
    const { runArgoWorkflow } = await import("../../engine/argo/run.js");
    const r = await runArgoWorkflow(this.workflow, {
      ...opts,
      log: (l) => console.log(l),
      onStart: (id, dir) => {
        this.id = id;
        this.dir = dir;
        workflowStarted(id, dir);
        opts.onStart?.(id, dir);
      },
    });
    const status = r.phase === "Succeeded" ? "Succeeded" : "Failed";
    workflowEnded(r.id, status, r.dir);
    return { id: r.id, status, phase: r.phase, message: r.message, dir: r.dir };
  }

  /** Argo's view of the run (status.nodes, phase, progress, outputs), read from its directory. */
  status(): ArgoStatus | null {
    if (!this.dir) throw new DflowConfigError("the workflow has not been submitted yet", { workflow: this.name });
    return readArgoStatus(this.dir);
  }
}

/** An Argo Workflow manifest (YAML or JSON text) ready to submit. */
export function fromYaml(text: string, opts: ArgoLoadOptions = {}): ArgoManifest {
  const wf = loadArgo(text, opts.source ?? "workflow manifest", supportOf(opts));
  return new ArgoManifest(withOptions([wf], opts)[0]);
}

/**
 * Every Workflow of manifest texts, as `argo submit` takes files of several
 * (`dflow run`), each checked: what is wrong with any of them is reported
 * together, each naming its Workflow. A text's other documents serve its
 * own Workflows. `ignored`: the documents that neither run nor serve one (a
 * CronWorkflow), which `argo submit` skips too.
 */
export function fromYamlAll(texts: Array<{ text: string; source: string }>, opts: Omit<ArgoLoadOptions, "source"> = {}): { manifests: ArgoManifest[]; ignored: Array<{ source: string; kind: string; name: string }> } {
  const support = supportOf(opts);
  const problems: string[] = [];
  const workflows: ArgoWorkflow[] = [];
  const origins = new Map<ArgoWorkflow, string>();
  const ignored: Array<{ source: string; kind: string; name: string }> = [];
  for (const { text, source } of texts) {
    try {
      const loaded = loadArgoAll(text, source, support);
      workflows.push(...loaded.workflows);
      for (const wf of loaded.workflows) origins.set(wf, source);
      ignored.push(...loaded.ignored.map((d) => ({ source, ...d })));
    } catch (e) {
      if (!(e instanceof DflowConfigError) || texts.length === 1) throw e;
      problems.push(e.message);
    }
  }
  const manifests: ArgoManifest[] = [];
  if (workflows.length) {
    for (const wf of withOptions(workflows, opts)) {
      try {
        manifests.push(new ArgoManifest(wf));
      } catch (e) {
        if (!(e instanceof DflowConfigError) || workflows.length + problems.length === 1) throw e;
        problems.push(`${texts.length > 1 ? `${origins.get(wf)}: ` : ""}Workflow ${workflowLabel(wf)}: ${e.message}`);
      }
    }
  }
  const what = texts.length === 1 ? `${texts[0].source}: ${problems.length} of its ${workflows.length} Workflows cannot run` : `${problems.length} problems`;
  if (problems.length === 1) throw new DflowConfigError(problems[0]);
  if (problems.length) throw new DflowConfigError(`${what} (nothing was run):\n${problems.join("\n")}`);
  return { manifests, ignored };
}

/**
 * Run manifests together, as `argo submit` runs the Workflows of one file:
 * each stops on its own (`dflow stop <id>` stops that one, with Argo's Stop:
 * its exit handler runs), and Ctrl-C ends them all.
 */
export async function submitTogether(manifests: ArgoManifest[]): Promise<ArgoSubmitResult[]> {
  const [{ ArgoRunControl }, { registerForeignRun }] = await Promise.all([import("../../engine/argo/control.js"), import("../../engine/control.js")]);
  return Promise.all(
    manifests.map((m) => {
      const control = new ArgoRunControl();
      const done: Promise<ArgoSubmitResult> = m.run({
        control,
        signals: true,
        onStart: (_id, dir) => registerForeignRun(dir, (verb) => control.stop(verb === "stopped" ? "Stop" : "Terminate"), done.catch(() => undefined)),
      });
      return done;
    }),
  );
}

const workflowLabel = (wf: ArgoWorkflow) => String(wf.metadata.name ?? wf.metadata.generateName ?? "workflow");

function supportOf(opts: ArgoLoadOptions): Array<{ text: string; source: string }> {
  return [
    ...(opts.templates ?? []).map((t, i) => ({ text: t, source: `templates[${i}]` })),
    ...(opts.template_files ?? []).map((f) => ({ text: readFile(f, "template file"), source: f })),
  ];
}

/**
 * The loaded workflows with the caller's parameters and sync limits. Of a
 * file of several, a parameter is set in those that have that argument; one
 * that none has is a mistake (a typo would otherwise run with the default).
 */
function withOptions(wfs: ArgoWorkflow[], opts: ArgoLoadOptions): ArgoWorkflow[] {
  const argsOf = (wf: ArgoWorkflow) => (wf.spec.arguments ?? {}) as { parameters?: Array<Record<string, unknown>> };
  for (const [name, value] of Object.entries(opts.parameters ?? {})) {
    const having = wfs.filter((wf) => (argsOf(wf).parameters ?? []).some((x) => x.name === name));
    if (!having.length) {
      const names = [...new Set(wfs.flatMap((wf) => (argsOf(wf).parameters ?? []).map((x) => String(x.name))))];
      const whose = wfs.length > 1 ? "no workflow of the file has" : "the workflow has no";
      throw new DflowConfigError(`parameter ${name}: ${whose} argument of that name (it has ${names.join(", ") || "none"})`);
    }
    for (const wf of having) {
      const args = argsOf(wf);
      const p = args.parameters!.find((x) => x.name === name)!;
      p.value = value;
      delete p.valueFrom;
      wf.spec.arguments = args;
    }
  }
  for (const [key, limit] of Object.entries(opts.sync_limits ?? {})) {
    if (!Number.isInteger(limit) || limit < 1) throw new DflowConfigError(`sync_limits.${key}: ${JSON.stringify(limit)} is not a positive integer (a semaphore's limit)`);
    for (const wf of wfs) wf.syncLimits.set(key.includes("/") ? key : `${workflowNamespace(wf)}/${key}`, limit);
  }
  return wfs;
}

function readFile(file: string, what: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new DflowConfigError(`cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export function fromYamlFile(file: string, opts: Omit<ArgoLoadOptions, "source"> = {}): ArgoManifest {
  return fromYaml(readFile(file, "workflow manifest"), { ...opts, source: file });
}
