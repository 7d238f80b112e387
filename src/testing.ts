// dflow-ts/testing: run one OP as the engine runs it, for unit tests of OPs
// in any test runner. runOP builds a one-step workflow with the OP's
// TsOPTemplate in a temporary work directory, uploads the input artifacts,
// runs it (a child node process, input and output checks, as in a real
// workflow) and returns the typed outputs, or throws an OPFailure.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { inputArtifactValue } from "../engine/artifacts/op-io.js";
import { upload_artifact, type LocalArtifact } from "../engine/artifacts/upload.js";
import { config } from "./config.js";
import { EXIT_TRANSIENT, OPFailure } from "./errors.js";
import type { OPClass } from "./op.js";
import { Step } from "./step.js";
import { TsOPTemplate, type TsOPTemplateOptions } from "./templates.js";
import { Workflow } from "./workflow.js";

export interface RunOPInputs {
  /** Input parameters by name (values as the OP's signature types them). */
  parameters?: Record<string, unknown>;
  /** Input artifacts by name: a path, or a list of paths (relative to the current directory). */
  artifacts?: Record<string, string | string[]>;
}

export interface RunOPOptions {
  /** Run in this directory (kept) instead of a fresh temporary one. */
  workdir?: string;
  /** Keep the temporary directory when the process exits (it is removed then by default). */
  keep?: boolean;
  /** Options for the OP's TsOPTemplate (timeout, envs, retry_on_transient_error, warm, ...). */
  template?: TsOPTemplateOptions;
}

export interface RunOPResult {
  /**
   * Output parameters, decoded to their signature types, and output
   * artifacts as the next OP would receive them, through the link in the
   * step's outputs/artifacts: a "path" artifact's file or directory, the
   * list or dict of paths of a "list"/"dict" one.
   */
  outputs: Record<string, unknown>;
  /** The work directory: the workflow and its step directory are in it. */
  workdir: string;
  /** What the OP wrote to stdout and stderr. */
  log: string;
}

/** The OPFailure runOP throws: the step's message, and where to look. */
export type RunOPFailure = OPFailure & { log: string; workdir: string; step_dir: string | null };

// runOP changes the global config while it runs: one at a time per process.
let queue: Promise<unknown> = Promise.resolve();

const toRemove = new Set<string>();
let exitHook = false;
function removeAtExit(dir: string): void {
  toRemove.add(dir);
  if (exitHook) return;
  exitHook = true;
  process.on("exit", () => {
    for (const d of toRemove) fs.rmSync(d, { recursive: true, force: true });
  });
}

/** A valid step/template name from an OP's class name. */
function nameOf(op: OPClass): string {
  const n = op.name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "");
  return n || "op";
}

/**
 * Run `op` once with `inputs` and return its outputs. Throws an OPFailure
 * (with the step's message, its `log` and the `workdir`) when the OP fails,
 * and a DflowConfigError for inputs that do not fit the OP's signature
 * before anything runs (an undeclared name, a missing artifact file).
 * Calls are serialised within a process; the output artifact paths stay
 * valid until the process exits (or for good with `keep` / `workdir`).
 */
export function runOP(op: OPClass, inputs: RunOPInputs = {}, opts: RunOPOptions = {}): Promise<RunOPResult> {
  const run = queue.then(() => runOne(op, inputs, opts));
  queue = run.catch(() => undefined);
  return run;
}

async function runOne(op: OPClass, inputs: RunOPInputs, opts: RunOPOptions): Promise<RunOPResult> {
  let workdir: string;
  if (opts.workdir) {
    workdir = path.resolve(opts.workdir);
    fs.mkdirSync(workdir, { recursive: true });
  } else {
    workdir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-ts-runop-")));
    if (!opts.keep) removeAtExit(workdir);
  }
  const saved = { ...config };
  try {
    config.debug_workdir = workdir;
    config.debug_artifact_dir = ".";
    const artifacts: Record<string, LocalArtifact> = {};
    for (const [k, v] of Object.entries(inputs.artifacts ?? {})) artifacts[k] = await upload_artifact(v);

    const name = nameOf(op);
    const template = new TsOPTemplate(op, { name, ...opts.template });
    const wf = new Workflow({ name: "runop" });
    wf.add(new Step({ name, template, parameters: inputs.parameters ?? {}, artifacts }));
    const result = await wf.submit();
    const step = wf.query_step({ name })[0];
    const log = step ? readOr(step.log_path) : "";

    if (result.status !== "Succeeded" || !step || step.phase !== "Succeeded") {
      const message = (step?.message ?? result.error?.message ?? `OP ${op.name} failed`).trim();
      const code = /exited with code (\d+)/.exec(message)?.[1];
      const err = new OPFailure(message, {}, { cause: result.error, exitCode: code === undefined ? undefined : Number(code), retryable: code !== undefined && Number(code) === EXIT_TRANSIENT });
      throw Object.assign(err, { log, workdir, step_dir: step?.dir ?? null }) as RunOPFailure;
    }

    const outputs: Record<string, unknown> = {};
    for (const [k, p] of Object.entries(step.outputs.parameters)) {
      if (!k.startsWith("dflow_")) outputs[k] = p.value;
    }
    for (const [k, a] of Object.entries(step.outputs.artifacts)) {
      if (!fs.existsSync(a.local_path)) continue; // an optional artifact the OP did not produce
      // What a downstream OP would receive: the file of a one-file "path"
      // artifact, the list or dict of paths of the others, all through the link.
      const kind = template.output_sign.artifacts.find(([n]) => n === k)?.[1].kind ?? "path";
      outputs[k] = await inputArtifactValue(a.local_path, kind);
    }
    return { outputs, workdir, log };
  } finally {
    for (const k of Object.keys(config)) delete config[k];
    Object.assign(config, saved);
  }
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}
