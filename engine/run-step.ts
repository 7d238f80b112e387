// The scheduler: runs one step (a Pod, or a Steps/DAG template in its own
// directory) in its scope, and the bodies of Steps and DAG templates.
// runStep never throws: every failure becomes a Failed outcome whose reason
// is on disk, and the caller decides (continue_on_failed) what follows.
import { setTimeout as sleep } from "node:timers/promises";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import pLimit from "p-limit";
import { DflowConfigError, type DflowError } from "../src/errors.js";
import { typeString } from "../src/io.js";
import { checkRenderedKey } from "../src/names.js";
import { mergesSlices } from "../src/dispatcher.js";
import type { Step } from "../src/step.js";
import { type DAG, type Steps, checkOf } from "../src/steps.js";
import type { OPTemplate, ScriptOPTemplate } from "../src/templates.js";
import { ChildrenFile } from "./children.js";
import { type PV, type RunContext, type Scope, type StepOutcome, StepFailed, emptyOutcome, poolSize } from "./context.js";
import { taskDependencies } from "./dag-deps.js";
import { runPod } from "./pod.js";
import { renderRefs } from "./render.js";
import { ArgoSequence, ArgoVar, usesItem } from "../src/expr.js";
import { evaluate } from "./expr/index.js";
import { type ArtifactSource, exprEnv, lookupRef, resolveArtifact, resolveParam } from "./scope.js";
import { linkArtifact, mkdirIO, readArtifactLinks, readParameters, readPhaseSync, writeMessage, writeParameters, writePhase } from "./step-dir.js";
import { exists, rand5, symlinkAtomic, writeAtomic } from "./store/fsx.js";
import { renderValue } from "./store/values.js";
import { writeCatalog } from "./artifacts/catalog.js";
import { computeItems, printfInt } from "./items.js";
import { type SliceSpec, inferSliceItems, sliceIndex, sliceSpec, slicesOf, stackSliced } from "./slices.js";
import { evaluateWhen } from "./when.js";
import { stepFinished } from "./memory.js";

/** A step has its final phase: whoever listens is told, and the engine's memory is looked at (memory.ts). */
function stepDone(ctx: RunContext, dir: string, phase: "Succeeded" | "Failed"): void {
  ctx.onStepDone?.(dir, phase);
  stepFinished();
}

/** Where a step registers itself: its parent's children file. */
export interface Parent {
  children: ChildrenFile;
}

function describe(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

async function freshDirName(ctx: RunContext, stepName: string): Promise<string> {
  for (;;) {
    const name = `${ctx.wfid}-${stepName}-${rand5()}`;
    try {
      fs.mkdirSync(path.join(ctx.wfdir, name));
      return name;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
}

/** Record a failure on disk: the phase and the reason. */
async function fail(dir: string, err: Error): Promise<void> {
  await writeMessage(dir, err.message).catch(() => undefined);
  await writePhase(dir, "Failed").catch(() => undefined);
}

function kindOf(t: OPTemplate): "Steps" | "DAG" | "Pod" {
  return t.kind === "steps" ? "Steps" : t.kind === "dag" ? "DAG" : "Pod";
}

/**
 * A step that failed before it had a directory (bad key, bad when, bad
 * with_param): give it one, so the reason is on disk like any failure.
 */
async function failWithoutDir(step: Step, template: OPTemplate, parent: Parent, order: string, ctx: RunContext, err: Error): Promise<StepOutcome> {
  const dirName = await freshDirName(ctx, step.name);
  const dir = path.join(ctx.wfdir, dirName);
  await parent.children.add(order, dirName);
  await Promise.all([writeAtomic(path.join(dir, "type"), kindOf(template)), writeAtomic(path.join(dir, "name"), step.name), mkdirIO(dir)]);
  if (!(err as Partial<DflowError>).context) err.message = `workflow ${ctx.wfid}, step ${step.name}: ${err.message}`;
  await fail(dir, err);
  stepDone(ctx, dir, "Failed");
  return { phase: "Failed", parameters: new Map(), artifacts: new Map(), dir, error: err };
}

/** One item of a fan-out: the value `{{item}}` stands for, and for sliced steps what it slices. */
export interface FanItem {
  value: unknown;
  slice?: SliceSpec;
  /** Internal parameters recorded with the item (dflow_var_0, dflow_<a>_sub_path, …). */
  extra?: Map<string, PV>;
  /** Which fan-out instance (parent directory and order) and which of its items. */
  at?: readonly [string, number];
}

/** Keys claimed in one run of a workflow: rendered key -> the step and the fan-out items it ran under. */
const claims = new WeakMap<RunContext, Map<string, { step: Step; fan: Scope["fan"] }>>();

/**
 * Two items of one fan-out must never share a keyed directory, also when
 * the key is a step's inside a template the fan-out runs (a key from a step
 * output or an expression can render equal where submit() could not tell).
 * The same key reached otherwise (another step, the same template called
 * twice) keeps dflow's meaning: the later step reuses the earlier result.
 */
function claimKey(ctx: RunContext, key: string, step: Step, scope: Scope): void {
  let run = claims.get(ctx);
  if (!run) claims.set(ctx, (run = new Map()));
  const earlier = run.get(key);
  if (!earlier) {
    run.set(key, { step, fan: scope.fan });
    return;
  }
  if (earlier.step !== step) return;
  const mine = new Map(scope.fan ?? []);
  const split = (earlier.fan ?? []).find(([id, i]) => mine.has(id) && mine.get(id) !== i);
  if (!split) return;
  throw new DflowConfigError(
    `key ${JSON.stringify(step.key)} renders to ${JSON.stringify(key)} for items ${split[1]} and ${mine.get(split[0])} of a fan-out this step runs under, so they would share one step directory and one result would be lost; make the key depend on that item (e.g. pass {{item}} into the template as an input parameter and use it in the key)`,
    { workflow: ctx.wfid, step: step.name },
  );
}

const rendered = new WeakMap<object, WeakMap<object, OPTemplate>>();

/** The template a step runs: its executor's rendering, else the workflow context's (once per pair). */
function renderedTemplate(step: Step, ctx: RunContext): OPTemplate {
  const ex = step.executor ?? ctx.context;
  if (!ex) return step.template;
  let byTemplate = rendered.get(ex);
  if (!byTemplate) rendered.set(ex, (byTemplate = new WeakMap()));
  let t = byTemplate.get(step.template);
  if (!t) byTemplate.set(step.template, (t = ex.render(step.template)));
  return t;
}

export async function runStep(step: Step, scope: Scope, parent: Parent, order: string, ctx: RunContext, item?: FanItem): Promise<StepOutcome> {
  if (!item && (step.with_param !== undefined || step.with_sequence !== undefined || slicesOf(step))) {
    return mergesSlices(step, ctx.context) ? runMerged(step, scope, parent, order, ctx) : runFanout(step, scope, parent, order, ctx);
  }
  if (item) scope = { ...scope, item: { value: item.value }, fan: item.at ? [...(scope.fan ?? []), item.at] : scope.fan };
  const where = { workflow: ctx.wfid, step: step.name };
  const template = renderedTemplate(step, ctx);
  let dir: string | undefined;
  let dirName: string | undefined;
  try {
    // when: false -> Skipped, no directory (dflow §4.10). A fan-out checked it already unless it uses the item.
    if (step.when !== undefined && step.when !== null && (!item || usesItem(step.when))) {
      if (!evaluateWhen(step.when, scope, ctx)) return emptyOutcome("Skipped");
    }

    // The directory: the rendered key, or the one a previous run registered, or a fresh name.
    let key: string | null = null;
    let restarting = true;
    if (step.key) {
      key = renderRefs(step.key, (r) => lookupRef(r, scope, ctx));
      checkRenderedKey(key, where);
      claimKey(ctx, key, step, scope);
      dirName = key;
      await fsp.mkdir(path.join(ctx.wfdir, dirName), { recursive: true });
    } else {
      const previous = parent.children.get(order);
      if (previous && (await exists(path.join(ctx.wfdir, previous)))) dirName = previous;
      else {
        dirName = await freshDirName(ctx, step.name);
        restarting = false;
      }
    }
    dir = path.join(ctx.wfdir, dirName);

    // A step that already succeeded (same key, or a restart) is not run again (§7.2). A directory made just now has no phase.
    if (restarting && readPhaseSync(dir) === "Succeeded") {
      await parent.children.add(order, dirName);
      const types = new Map(Object.entries(template.outputs.parameters).map(([n, p]) => [n, typeString(p.type)] as [string, string | null]));
      return { phase: "Succeeded", parameters: await readParameters(dir, "outputs", types), artifacts: await readArtifactLinks(dir, "outputs"), dir };
    }

    await parent.children.add(order, dirName);
    ctx.active.add(dir);
    // No separate "Pending" write: a step directory without a phase file
    // reads as Pending (§3.1), and the next write (Running) comes within
    // milliseconds; a restarted step's old phase is cleared instead.
    await Promise.all([writeAtomic(path.join(dir, "type"), kindOf(template)), writeAtomic(path.join(dir, "name"), step.name), mkdirIO(dir)]);
    // Running: its engine was killed while it ran; its process may have finished since (runPod adopts it).
    const wasRunning = restarting && readPhaseSync(dir) === "Running";
    if (restarting) fs.rmSync(path.join(dir, "phase"), { force: true });
    if (restarting) fs.rmSync(path.join(dir, "message"), { force: true });

    // Arguments: template defaults overridden by the step's values.
    const params = new Map<string, PV>();
    for (const [name, decl] of Object.entries(template.inputs.parameters)) {
      const declared = typeString(decl.type);
      if (name in step.parameters) {
        const pv = resolveParam(step.parameters[name], scope, ctx);
        params.set(name, { value: pv.value, type: declared ?? pv.type });
      } else if (decl.has_value) {
        params.set(name, { value: decl.value, type: declared });
      } else {
        throw new DflowConfigError(`input parameter ${name} has no value: pass it in the step's parameters or give the template's InputParameter a value`, { ...where, parameter: name });
      }
    }
    const artifacts = new Map<string, ArtifactSource | null>();
    for (const [name, decl] of Object.entries(template.inputs.artifacts)) {
      const src = name in step.artifacts ? step.artifacts[name] : decl.source;
      try {
        artifacts.set(name, resolveArtifact(src, scope, ctx));
      } catch (e) {
        throw new DflowConfigError(describe(e).message, { ...where, artifact: name });
      }
    }

    let outcome: StepOutcome;
    if (template.kind === "steps" || template.kind === "dag") {
      outcome = await runTemplateStep(step, template as Steps | DAG, dir, params, artifacts, ctx, scope.fan);
    } else {
      const pod = new Map(params);
      if (key) pod.set("dflow_key", { value: key, type: null });
      for (const [k, v] of item?.extra ?? []) pod.set(k, v);
      const r = await runPod({ stepName: step.name, dir, dirName, template: template as ScriptOPTemplate, parameters: pod, artifacts, key, timeout: step.timeout ?? template.timeout, retryStrategy: step.retry_strategy, slice: item?.slice, adopt: wasRunning }, ctx);
      outcome = { phase: "Succeeded", parameters: r.parameters, artifacts: r.artifacts, dir };
    }
    await recordOutputs(dir, template, outcome, ctx);
    await writePhase(dir, "Succeeded");
    ctx.active.delete(dir);
    stepDone(ctx, dir, "Succeeded");
    return outcome;
  } catch (e) {
    const err = describe(e);
    if (!dir) return failWithoutDir(step, template, parent, order, ctx, err);
    if (!(err as Partial<DflowError>).context && !(err instanceof StepFailed)) err.message = `workflow ${ctx.wfid}, step ${step.name}: ${err.message}`;
    await fail(dir, err);
    ctx.active.delete(dir);
    stepDone(ctx, dir, "Failed");
    // A failed Pod still exposes its default output values (§3.3).
    const defaults = new Map<string, PV>();
    for (const [n, p] of Object.entries(template.outputs.parameters)) if (p.has_default && template.kind !== "steps" && template.kind !== "dag") defaults.set(n, { value: p.default, type: typeString(p.type) });
    return { phase: "Failed", parameters: defaults, artifacts: new Map(), dir, error: err };
  }
}

/** A fan-out item's result as its group keeps it: output parameters and saved artifacts' targets in template order. */
interface ItemOutcome {
  phase: StepOutcome["phase"];
  values: ReadonlyArray<PV | undefined>;
  targets: ReadonlyArray<string | undefined>;
  error?: Error;
}

const NONE: readonly never[] = [];

/**
 * with_param / with_sequence (spec §4.4): one step per item, in a pool,
 * submitted in batches of debug_batch_size; no directory for the group.
 * Output parameters are stacked into lists in item order.
 */
async function runFanout(step: Step, scope: Scope, parent: Parent, order: string, ctx: RunContext): Promise<StepOutcome> {
  const template = step.template;
  const sl = slicesOf(step);
  let items: unknown[];
  let fan: FanItem[];
  try {
    if (step.when !== undefined && step.when !== null && !usesItem(step.when) && !evaluateWhen(step.when, scope, ctx)) return emptyOutcome("Skipped");
    items = await itemsOf(step, sl, scope, ctx);
    if (!sl) fan = items.map((value) => ({ value }));
    else if (sl.group_size) {
      // Several slices per item, one OP process each (§4.9 group_size).
      fan = sl.groups(items).map((g, gi) => ({
        value: gi,
        slice: sliceSpec(sl, g.map((it) => sliceIndex(sl, it, scope, ctx)), true, null),
        extra: new Map<string, PV>([["dflow_var_0", { value: gi, type: null }], ["dflow_group_items", { value: g, type: null }]]),
      }));
      items = fan.map((f) => f.value);
    } else {
      fan = items.map((value) => {
        const idx = sliceIndex(sl, value, scope, ctx);
        const spec = sliceSpec(sl, [idx], false, value);
        const extra = new Map<string, PV>([["dflow_var_0", { value: idx, type: null }]]);
        for (const [a, rel] of Object.entries(spec.sub_paths ?? {})) extra.set(`dflow_${a}_sub_path`, { value: rel, type: null });
        return { value, slice: spec, extra };
      });
    }
    if (step.key) checkItemKeys(step, step.key, fan, scope, ctx);
  } catch (e) {
    return failWithoutDir(step, template, parent, order, ctx, describe(e));
  }
  // What each finished item leaves for the group, and no more: a whole
  // StepOutcome (two Maps, its directory) was about 1 KB an item, 100 MB
  // held to the end of a 100,000-item fan-out.
  const paramNames = Object.keys(template.outputs.parameters);
  const savedNames = Object.keys(template.outputs.artifacts).filter((n) => (template.outputs.artifacts[n] as { save?: unknown[] }).save?.length);
  const outcomes: Array<ItemOutcome | undefined> = new Array(items.length);
  // Items that run as cluster jobs are not bound by this machine's CPUs: the cluster's queue cap
  // (max_queued_jobs) limits them; an explicit parallelism still applies.
  const remote = (renderedTemplate(step, ctx) as { remote?: unknown }).remote !== undefined;
  const par = step.parallelism ?? scope.parallelism;
  const pool = remote ? Math.max(1, par && par > 0 ? Math.min(par, items.length) : items.length) : poolSize(ctx.config, Math.max(1, items.length), par);
  let stop = false;
  // A fixed set of workers takes items in order, up to the last one
  // submitted so far (debug_batch_size: one more batch every
  // debug_batch_interval): nothing is queued per item up front, which at
  // 100,000 items held a closure and two promises each.
  let next = 0;
  let submitted = 0;
  let closed = false;
  let wake: Array<() => void> = [];
  const more = () => {
    const w = wake;
    wake = [];
    for (const f of w) f();
  };
  const worker = async () => {
    for (;;) {
      if (stop) return;
      if (next >= submitted) {
        if (closed) return;
        await new Promise<void>((r) => wake.push(r));
        continue;
      }
      const i = next++;
      const o = await runStep(step, scope, parent, `${order}-${i}`, ctx, { ...fan[i], at: [`${parent.children.dir}#${order}`, i] });
      outcomes[i] = {
        phase: o.phase,
        values: paramNames.length ? paramNames.map((n) => o.parameters.get(n)) : NONE,
        targets: savedNames.length ? savedNames.map((n) => o.artifacts.get(n)) : NONE,
        error: o.error,
      };
      // debug_failfast: stop starting items at the first failure (§1).
      if (o.phase === "Failed" && ctx.config.debug_failfast && !step.continue_on_failed) stop = true;
    }
  };
  const workers = Array.from({ length: Math.min(pool, Math.max(1, items.length)) }, worker);
  const batch = ctx.config.debug_batch_size && ctx.config.debug_batch_size > 0 ? ctx.config.debug_batch_size : items.length || 1;
  for (let start = 0; start < items.length && !stop; start += batch) {
    submitted = Math.min(items.length, start + batch);
    more();
    if (start + batch < items.length) await sleep(ctx.config.debug_batch_interval * 1000);
  }
  closed = true;
  more();
  await Promise.all(workers);

  const parameters = new Map<string, PV>();
  for (const [j, name] of paramNames.entries()) {
    const op = template.outputs.parameters[name]!;
    const values: PV[] = [];
    for (const o of outcomes) {
      if (!o) continue;
      if (o.phase === "Succeeded" || (o.phase === "Failed" && op.has_value)) {
        const pv = o.values[j];
        if (pv) values.push(pv);
      }
    }
    parameters.set(name, sl?.output_parameter.includes(name) ? stackSliced(values) : { value: values.map((pv) => pv.value), type: null });
  }
  const artifacts = await fanoutArtifacts(step, scope, parent, order, items.length, outcomes, savedNames);
  const failed = outcomes.map((o, i) => (o?.phase === "Failed" ? i : -1)).filter((i) => i >= 0);
  if (failed.length && !step.continue_on_failed) {
    const first = outcomes[failed[0]]!.error;
    const err = new Error(`${failed.length} of ${items.length} items failed (items ${failed.join(", ")})${first ? `; item ${failed[0]}: ${first.message}` : ""}`);
    return { phase: "Failed", parameters, artifacts, error: err, itemCount: items.length };
  }
  return { phase: "Succeeded", parameters, artifacts, itemCount: items.length };
}

/** A fan-out's items: its with_param or with_sequence, else one per slice of its first sliced input. */
function itemsOf(step: Step, sl: ReturnType<typeof slicesOf>, scope: Scope, ctx: RunContext): Promise<unknown[]> | unknown[] {
  return step.with_param !== undefined || step.with_sequence !== undefined ? computeItems(step, scope, ctx) : inferSliceItems(step, sl!, scope, ctx);
}

/**
 * A sliced step under merge_sliced_step (dflow's DispatcherExecutor.render
 * and Step.render_by_executor): no fan-out, one step whose job runs every
 * slice as a task of one submission. `{{item}}` in its key is the first
 * item's, as dflow renders it ("0", or the sequence's format of 0); the
 * items are recorded as dflow_with_param.
 */
async function runMerged(step: Step, scope: Scope, parent: Parent, order: string, ctx: RunContext): Promise<StepOutcome> {
  const sl = slicesOf(step)!;
  let merged: FanItem;
  try {
    if (step.when !== undefined && step.when !== null && !evaluateWhen(step.when, scope, ctx)) return emptyOutcome("Skipped");
    const items = await itemsOf(step, sl, scope, ctx);
    const format = step.with_sequence instanceof ArgoSequence ? step.with_sequence.opts.format : undefined;
    merged = {
      value: format ? printfInt(format, 0) : "0",
      slice: { ...sliceSpec(sl, items.map((it) => sliceIndex(sl, it, scope, ctx)), false, null), merged: true },
      extra: new Map<string, PV>([["dflow_with_param", { value: items, type: null }]]),
    };
  } catch (e) {
    return failWithoutDir(step, step.template, parent, order, ctx, describe(e));
  }
  return runStep(step, scope, parent, order, ctx, merged);
}

/**
 * Every item of a keyed fan-out needs its own directory (the key names it):
 * items whose keys render equal would share one, and all but one result
 * would be lost. Refused before any item runs (dflow/Argo require unique
 * keys too). Keys that fail to render are left to their item's own failure.
 */
function checkItemKeys(step: Step, key: string, fan: FanItem[], scope: Scope, ctx: RunContext): void {
  const byKey = new Map<string, number[]>();
  fan.forEach((f, i) => {
    let k: string;
    try {
      k = renderRefs(key, (r) => lookupRef(r, { ...scope, item: { value: f.value } }, ctx));
    } catch {
      return;
    }
    const list = byKey.get(k);
    if (list) list.push(i);
    else byKey.set(k, [i]);
  });
  const dups = [...byKey].filter(([, is]) => is.length > 1);
  if (!dups.length) return;
  const shown = dups.slice(0, 3).map(([k, is]) => `${JSON.stringify(k)} for items ${is.map((i) => `${i} (${renderValue(fan[i].value)})`).join(", ")}`);
  throw new DflowConfigError(
    `key ${JSON.stringify(key)} renders to the same step directory for several items of this fan-out: ${shown.join("; ")}${dups.length > 3 ? `; and ${dups.length - 3} more` : ""}. ` +
      `Items sharing a directory would overwrite each other's results, so none was run: make the items distinct, or put something unique to each item into the key`,
    { workflow: ctx.wfid, step: step.name },
  );
}

/**
 * A fan-out's output artifacts: a sliced one is the merged directory its
 * init helper created (as dflow redirects it), so it exists, as an empty
 * list, even without items; one that every item saved into the same place
 * (a shared S3Artifact key) is that place; a fan-out without items gives
 * each declared output artifact an empty list, as it gives its output
 * parameters. Otherwise items' artifacts have no group value (spec §4.8).
 */
async function fanoutArtifacts(step: Step, scope: Scope, parent: Parent, order: string, count: number, outcomes: Array<ItemOutcome | undefined>, savedNames: string[]): Promise<Map<string, string>> {
  const artifacts = new Map<string, string>();
  const sl = slicesOf(step);
  const init = step.init_step ? scope.results.get(step.init_step.name) : undefined;
  const succeeded = outcomes.filter((o): o is ItemOutcome => o?.phase === "Succeeded");
  for (const name of Object.keys(step.template.outputs.artifacts)) {
    let target = sl?.output_artifact.includes(name) ? init?.artifacts.get(name) : undefined;
    const j = savedNames.indexOf(name);
    if (target === undefined && j >= 0 && succeeded.length) {
      const targets = new Set(succeeded.map((o) => o.targets[j]));
      if (targets.size === 1) target = [...targets][0];
    }
    if (target === undefined && count === 0) {
      // In the parent's directory, one per fan-out: a consumer may write into what it is given.
      target = path.join(parent.children.dir, ".fanout", order, name);
      await fsp.rm(target, { recursive: true, force: true });
      await fsp.mkdir(target, { recursive: true });
      await writeCatalog(target, []);
    }
    if (target !== undefined) artifacts.set(name, target);
  }
  return artifacts;
}

async function recordOutputs(dir: string, template: OPTemplate, outcome: StepOutcome, ctx: RunContext): Promise<void> {
  await writeParameters(dir, "outputs", outcome.parameters);
  for (const [name, target] of outcome.artifacts) await linkArtifact(dir, "outputs", name, target);
  // Global outputs: <wfdir>/outputs/{parameters,artifacts}/<global name> link to the step's (§2.9).
  for (const [name, p] of Object.entries(template.outputs.parameters)) {
    if (!p.global_name || !outcome.parameters.has(name)) continue;
    await fsp.mkdir(path.join(ctx.wfdir, "outputs", "parameters"), { recursive: true });
    await symlinkAtomic(path.join(dir, "outputs", "parameters", name), path.join(ctx.wfdir, "outputs", "parameters", p.global_name));
  }
  for (const [name, a] of Object.entries(template.outputs.artifacts)) {
    if (!a.global_name || !outcome.artifacts.has(name)) continue;
    await fsp.mkdir(path.join(ctx.wfdir, "outputs", "artifacts"), { recursive: true });
    await symlinkAtomic(path.join(dir, "outputs", "artifacts", name), path.join(ctx.wfdir, "outputs", "artifacts", a.global_name));
  }
}

/** A Steps/DAG used as a step: its own directory, inputs, children, outputs (§2.5). */
async function runTemplateStep(step: Step, template: Steps | DAG, dir: string, params: Map<string, PV>, artifacts: Map<string, ArtifactSource | null>, ctx: RunContext, fan: Scope["fan"]): Promise<StepOutcome> {
  await writeParameters(dir, "inputs", params);
  const inputArtifacts = new Map<string, string>();
  for (const [name, src] of artifacts) {
    if (!src) continue; // absent sources are skipped for Steps/DAG (§2.8.3)
    let target: string;
    if ("content" in src) {
      target = path.join(dir, "inputs", "artifacts", name);
      await writeAtomic(target, src.content);
    } else {
      target = await linkArtifact(dir, "inputs", name, src.path);
    }
    inputArtifacts.set(name, target);
  }
  await writePhase(dir, "Running");
  const scope: Scope = { kind: template.kind === "dag" ? "dag" : "steps", inputs: { parameters: params, artifacts: inputArtifacts }, results: new Map(), parallelism: template.parallelism, fan };
  const children = await ChildrenFile.open(dir, ctx.journal, ctx.earlier?.get(dir));
  await runBody(template, scope, { children }, ctx);
  return { phase: "Succeeded", ...(await templateOutputs(step.name, template, scope, ctx)), dir };
}

export async function runBody(template: Steps | DAG, scope: Scope, parent: Parent, ctx: RunContext): Promise<void> {
  try {
    if (template.kind === "steps") await runStepsBody(template as Steps, scope, parent, ctx);
    else await runDagBody(template as DAG, scope, parent, ctx);
  } finally {
    // Every child is in the children file before the parent's phase is final.
    await parent.children.flush();
  }
}

/** Steps: groups in sequence; the members of a group in parallel (§4.2). */
async function runStepsBody(template: Steps, scope: Scope, parent: Parent, ctx: RunContext): Promise<void> {
  // `steps` is derived from the template on every read (helpers around what
  // was added): read once, or a chain of n steps costs n² to walk.
  const groups = template.steps;
  for (let ii = 0; ii < groups.length; ii++) {
    const entry = groups[ii];
    if (!Array.isArray(entry)) {
      const o = await runStep(entry, scope, parent, `${ii}-0`, ctx);
      scope.results.set(entry.name, o);
      if (o.phase === "Failed" && !entry.continue_on_failed) throw new StepFailed(entry.name, o.error, "Step");
      continue;
    }
    // Members see the scope as it was when the group started, not each other's outputs.
    const snapshot: Scope = { ...scope, results: new Map(scope.results) };
    const limit = pLimit(poolSize(ctx.config, entry.length, template.parallelism));
    let firstFailure: StepFailed | undefined;
    await Promise.all(
      entry.map((s, i) =>
        limit(async () => {
          if (firstFailure) return; // the group is aborting: start no new members
          const o = await runStep(s, snapshot, parent, `${ii}-${i}`, ctx);
          scope.results.set(s.name, o);
          if (o.phase === "Failed" && !s.continue_on_failed && !firstFailure) firstFailure = new StepFailed(s.name, o.error, "Step");
        }),
      ),
    );
    // Running members were allowed to finish; now the failure propagates (Q25).
    if (firstFailure) throw firstFailure;
  }
}

/** DAG: each task starts once all its dependencies succeeded (§4.3). */
async function runDagBody(template: DAG, scope: Scope, parent: Parent, ctx: RunContext): Promise<void> {
  const tasks = template.tasks;
  const deps = taskDependencies(template);
  // A task with a success threshold is waited for through its check (dflow's Task.convert_to_argo:
  // `(<check>.Succeeded)`): its dependents start once the threshold is met, not when its items end.
  const byName = new Map(tasks.map((t) => [t.name, t] as const));
  for (const t of tasks) {
    const ds = deps.get(t)!;
    for (const d of [...ds]) {
      const check = checkOf(byName.get(d)!);
      if (check === null || check === t) continue;
      ds.delete(d);
      ds.add(check.name);
    }
  }
  const index = new Map(tasks.map((t, i) => [t, i] as const));
  const waiting = new Set(tasks);
  const running = new Map<Step, Promise<void>>();
  const limit = poolSize(ctx.config, Math.max(1, tasks.length), template.parallelism);
  let failure: StepFailed | undefined;

  while (waiting.size || running.size) {
    if (!failure) {
      for (const t of [...waiting]) {
        const ds = deps.get(t)!;
        const finished = [...ds].every((d) => scope.results.has(d));
        if (!finished) continue;
        // A dependency must have succeeded — or, for after_any (success checks, Q11), merely ended.
        const ok = (d: string) => scope.results.get(d)!.phase === "Succeeded" || (t.after_any.includes(d) && scope.results.get(d)!.phase === "Failed");
        if (![...ds].every(ok)) {
          // A dependency failed, was skipped or omitted: this task is omitted (no directory).
          waiting.delete(t);
          scope.results.set(t.name, emptyOutcome("Omitted"));
          continue;
        }
        if (running.size >= limit) break;
        waiting.delete(t);
        const p = runStep(t, scope, parent, String(index.get(t)), ctx).then((o) => {
          scope.results.set(t.name, o);
          running.delete(t);
          if (o.phase === "Failed" && !t.continue_on_failed && !failure) failure = new StepFailed(t.name, o.error, "Task");
        });
        running.set(t, p);
      }
    }
    if (running.size === 0) {
      if (failure || waiting.size === 0) break;
      // Omissions may have unblocked others; go round again unless nothing can move.
      const movable = [...waiting].some((t) => [...deps.get(t)!].every((d) => scope.results.has(d)));
      if (!movable) throw new DflowConfigError(`DAG ${template.name}: tasks ${[...waiting].map((t) => t.name).join(", ")} can never run (their dependencies form a cycle)`);
      continue;
    }
    await Promise.race(running.values());
  }
  if (failure) throw failure;
}

/** An expression object, `{{=text}}`, or bare expression text. */
function expressionText(v: unknown): string {
  if (v instanceof ArgoVar) return v.expr;
  const s = String(v).trim();
  const m = /^\{\{=(.*)\}\}$/s.exec(s);
  return m ? m[1] : s;
}

/** Outputs of a Steps/DAG template after its body succeeded (§4.11). */
async function templateOutputs(stepName: string, template: Steps | DAG, scope: Scope, ctx: RunContext): Promise<{ parameters: Map<string, PV>; artifacts: Map<string, string> }> {
  const where = { workflow: ctx.wfid, step: stepName };
  const parameters = new Map<string, PV>();
  for (const [name, op] of Object.entries(template.outputs.parameters)) {
    const declared = typeString(op.type);
    try {
      if (op.value_from_parameter !== undefined) {
        const pv = resolveParam(op.value_from_parameter, scope, ctx);
        parameters.set(name, { value: pv.value, type: declared ?? pv.type });
      } else if (op.value_from_expression !== undefined) {
        const v = evaluate(expressionText(op.value_from_expression), exprEnv(scope, ctx));
        if (v === undefined || v === null) throw new DflowConfigError(`value_from_expression gave no value`);
        parameters.set(name, { value: v, type: declared });
      } else if (op.has_value) {
        parameters.set(name, { value: op.value, type: declared });
      } else if (op.has_default) {
        parameters.set(name, { value: op.default, type: declared });
      }
    } catch (e) {
      if (op.has_default) parameters.set(name, { value: op.default, type: declared });
      else throw new DflowConfigError(`output parameter ${name}: ${describe(e).message}`, { ...where, parameter: name });
    }
  }
  const artifacts = new Map<string, string>();
  for (const [name, oa] of Object.entries(template.outputs.artifacts)) {
    let src: ArtifactSource | null = null;
    try {
      if (oa._from !== undefined) src = resolveArtifact(oa._from, scope, ctx);
      else if (oa.from_expression !== undefined) src = resolveArtifact(new ArgoVar(expressionText(oa.from_expression)), scope, ctx);
    } catch (e) {
      if (!oa.optional) throw new DflowConfigError(`output artifact ${name}: ${describe(e).message}`, { ...where, artifact: name });
    }
    if (src && "path" in src) artifacts.set(name, src.path);
    else if (!oa.optional && (oa._from !== undefined || oa.from_expression !== undefined)) {
      throw new DflowConfigError(`output artifact ${name} has no source`, { ...where, artifact: name });
    }
  }
  return { parameters, artifacts };
}
