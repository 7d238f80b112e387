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
import { type ArgoWorkflow, loadArgo, workflowNamespace } from "../../engine/argo/manifest.js";
import { type ArgoStatus, readArgoStatus } from "../../engine/argo/nodes.js";

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
    const { runArgoWorkflow } = await import("../../engine/argo/run.js");
    const r = await runArgoWorkflow(this.workflow, {
      log: (l) => console.log(l),
      onStart: (id, dir) => {
        this.id = id;
        this.dir = dir;
        workflowStarted(id, dir);
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
  const support = [
    ...(opts.templates ?? []).map((t, i) => ({ text: t, source: `templates[${i}]` })),
    ...(opts.template_files ?? []).map((f) => ({ text: readFile(f, "template file"), source: f })),
  ];
  const wf = loadArgo(text, opts.source ?? "workflow manifest", support);
  if (opts.parameters) {
    const args = (wf.spec.arguments ?? {}) as { parameters?: Array<Record<string, unknown>> };
    const params = args.parameters ?? [];
    for (const [name, value] of Object.entries(opts.parameters)) {
      const p = params.find((x) => x.name === name);
      if (!p) throw new DflowConfigError(`parameter ${name}: the workflow has no argument of that name (it has ${params.map((x) => String(x.name)).join(", ") || "none"})`);
      p.value = value;
      delete p.valueFrom;
    }
    wf.spec.arguments = { ...args, parameters: params };
  }
  for (const [key, limit] of Object.entries(opts.sync_limits ?? {})) {
    if (!Number.isInteger(limit) || limit < 1) throw new DflowConfigError(`sync_limits.${key}: ${JSON.stringify(limit)} is not a positive integer (a semaphore's limit)`);
    wf.syncLimits.set(key.includes("/") ? key : `${workflowNamespace(wf)}/${key}`, limit);
  }
  return new ArgoManifest(wf);
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
