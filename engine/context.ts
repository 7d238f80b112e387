// What the scheduler passes around while a workflow runs.
import os from "node:os";
import type { Config } from "../src/config.js";
import type { OPTemplate } from "../src/templates.js";
import type { Journal } from "./store/engine-dir.js";

export type Phase = "Pending" | "Running" | "Succeeded" | "Failed" | "Skipped" | "Omitted";

/** A parameter value in memory: decoded by its declared type (raw text when untyped). */
export interface PV {
  value: unknown;
  type: string | null;
}

/** What a finished step leaves to its siblings. */
export interface StepOutcome {
  phase: Phase;
  parameters: Map<string, PV>;
  /** Output artifact name -> local path (the target of outputs/artifacts/<name>). */
  artifacts: Map<string, string>;
  dir?: string;
  error?: Error;
  /** For a fan-out: how many items it had. */
  itemCount?: number;
}

/** The values visible inside one run of a Steps/DAG template. */
export interface Scope {
  kind: "steps" | "dag";
  inputs: { parameters: Map<string, PV>; artifacts: Map<string, string> };
  results: Map<string, StepOutcome>;
  /** The loop item, inside one item of a with_param/with_sequence fan-out. */
  item?: { value: unknown };
  /** The fan-out items this scope runs under, outermost first: (fan-out instance, item index). */
  fan?: ReadonlyArray<readonly [string, number]>;
  /** The enclosing Steps/DAG template's `parallelism`: its children active at once. */
  parallelism?: number;
}

export interface RunContext {
  wfid: string;
  wfdir: string;
  artroot: string;
  config: Config;
  /** Children registrations are journaled here before a step runs (crash recovery). */
  journal?: Journal;
  /** What an earlier, killed run registered: parent dir -> order -> step dir. */
  earlier?: Map<string, Map<string, string>>;
  /** Step directories whose phase is Running now (marked Failed if the engine is stopped). */
  active: Set<string>;
  /** Workflow-level `parallelism`: step processes running at once in the whole workflow. */
  podLimit?: <T>(fn: () => Promise<T>) => Promise<T>;
  /** The workflow's context executor (dflow's Workflow(context=...)), for steps without their own. */
  context?: { render(t: OPTemplate): OPTemplate };
  /** Set (to the reason) when the workflow is terminated in this process: no step starts any more (engine/control.ts). */
  stopped?: string;
  /** What to call when it is: a remote step's job is not a local process that killing would end (executors/dispatcher.ts). */
  onStop?: Set<() => void>;
  /** Called whenever a step's directory gets a final phase (progress, logging). */
  onStepDone?: (dir: string, phase: Phase) => void;
}

/**
 * Concurrency of a parallel group of `members`: dflow's debug_pool_workers
 * rule (default the number of CPUs, -1 all), further capped by a
 * `parallelism` of the template or step when one is set.
 */
export function poolSize(config: Config, members: number, parallelism?: number): number {
  const w = config.debug_pool_workers;
  let n = w === null || w === undefined ? os.availableParallelism() : w === -1 ? members : w;
  if (parallelism !== undefined && parallelism > 0) n = Math.min(n, parallelism);
  n = Math.min(n, members);
  return Math.max(1, n);
}

export function emptyOutcome(phase: Phase, error?: Error): StepOutcome {
  return { phase, parameters: new Map(), artifacts: new Map(), error };
}

/** A step failed; carries the name to build the parent's message. */
export class StepFailed extends Error {
  constructor(readonly stepName: string, readonly reason: Error | undefined, kind: "Step" | "Task") {
    super(`${kind} ${stepName} failed${reason ? `: ${reason.message}` : ""}`);
    this.name = "StepFailed";
  }
}
