// The half of the benchmark that runs inside one shape's child process (the
// "engine process"): bench/run.ts starts `node --import tsx
// bench/shapes/<shape>.ts --n N --dir <fresh temp dir>` once per repeat, so
// every measurement gets a fresh engine and its own peak RSS.
//
// The child builds the workflow, times wf.submit() alone, then checks the
// run on disk (workflow Succeeded, the expected number of step directories,
// each Pod step Succeeded) and prints one result line, prefixed with
// RESULT_MARKER, on stdout. A run that fails any check is reported with
// `status: "error"` and exit code 1, never with figures.
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { config, type Workflow } from "dflow-ts";
import { type ChildArgs, RESULT_MARKER, parseChildArgs, round } from "./protocol.js";

/** Counts of one workflow directory's step directories, by type and phase. */
export interface StepDirScan {
  /** Every directory of the workflow directory that is a step (has a `type` file). */
  total: number;
  /** `type` -> `phase` -> count. */
  byType: Record<string, Record<string, number>>;
  /** Pod step directories, in completion order (mtime of their final `phase`). */
  pods: Array<{ dir: string; doneMs: number }>;
}

export async function scanStepDirs(wfdir: string): Promise<StepDirScan> {
  const scan: StepDirScan = { total: 0, byType: {}, pods: [] };
  for (const ent of await fsp.readdir(wfdir, { withFileTypes: true })) {
    if (!ent.isDirectory()) continue;
    const dir = path.join(wfdir, ent.name);
    let type: string;
    try {
      type = (await fsp.readFile(path.join(dir, "type"), "utf8")).trim();
    } catch {
      continue;
    }
    const phaseFile = path.join(dir, "phase");
    const phase = (await fsp.readFile(phaseFile, "utf8").catch(() => "(none)")).trim();
    scan.total++;
    const t = (scan.byType[type] ??= {});
    t[phase] = (t[phase] ?? 0) + 1;
    if (type === "Pod") scan.pods.push({ dir, doneMs: (await fsp.stat(phaseFile).catch(() => null))?.mtimeMs ?? Number.NaN });
  }
  scan.pods.sort((a, b) => a.doneMs - b.doneMs);
  return scan;
}

/**
 * Per-step time at the start and at the end of a run, from the completion
 * times of the Pod steps: (time from the 1st to the k-th completion) / (k-1)
 * and the same for the last k, k = 10% of the steps. Equal figures mean the
 * per-step cost does not grow with the size of the run. Runs of fewer than
 * 50 steps get nulls (too few completions to say anything).
 */
export function tenthRates(scan: StepDirScan): { first_10pct_step_ms: number | null; last_10pct_step_ms: number | null } {
  const t = scan.pods.map((p) => p.doneMs);
  if (t.length < 50 || t.some((x) => !Number.isFinite(x))) return { first_10pct_step_ms: null, last_10pct_step_ms: null };
  const k = Math.max(5, Math.floor(t.length / 10));
  const first = (t[k - 1] - t[0]) / (k - 1);
  const last = (t[t.length - 1] - t[t.length - k]) / (k - 1);
  return { first_10pct_step_ms: round(first, 2), last_10pct_step_ms: round(last, 2) };
}

export interface ShapeDef {
  shape: string;
  /** Builds the workflow for size n (not timed). */
  build(n: number): Workflow;
  /** Pod (OP) step directories a successful run leaves, all Succeeded. */
  expectedPods(n: number): number;
  /** Step directories of any type a successful run leaves (Pods, Steps, DAG). */
  expectedStepDirs(n: number): number;
  /** Steps that per_step_ms divides the wall time by (default: expectedPods). */
  steps?(n: number): number;
  /** Also report per_step_ms under this name (recursion: per_level_ms). */
  perStepAlias?: string;
  /** Further checks and shape-specific fields; throw to fail the run. */
  verify?(ctx: { n: number; wf: Workflow; wfdir: string; scan: StepDirScan }): Promise<Record<string, unknown>> | Record<string, unknown>;
  /** Shape-specific fields known up front (e.g. how a DAG's tasks depend on each other). */
  fields?(n: number): Record<string, unknown>;
}

function emit(result: Record<string, unknown>): void {
  process.stdout.write(`\n${RESULT_MARKER}${JSON.stringify(result)}\n`);
}

function peakRssMb(): number {
  // getrusage(RUSAGE_SELF).ru_maxrss: this engine process only, in KB on Linux.
  return round(process.resourceUsage().maxRSS / 1024, 1);
}

/** Progress on stderr every 10 s for long runs: step directories created so far. */
function startProgress(shape: string, n: number, root: string, expectedDirs: number): () => void {
  const t0 = performance.now();
  const timer = setInterval(() => {
    let created = 0;
    try {
      for (const wf of fs.readdirSync(root, { withFileTypes: true })) {
        if (!wf.isDirectory()) continue;
        created += fs.readdirSync(path.join(root, wf.name), { withFileTypes: true }).filter((e) => e.isDirectory()).length;
      }
    } catch {
      /* the workflow directory may not exist yet */
    }
    process.stderr.write(`[bench]   ${shape} n=${n}: ${Math.round((performance.now() - t0) / 1000)} s, ~${created}/${expectedDirs} step directories created\n`);
  }, 10_000);
  timer.unref();
  return () => clearInterval(timer);
}

export async function runShape(def: ShapeDef): Promise<void> {
  let args: ChildArgs;
  try {
    args = parseChildArgs();
  } catch (e) {
    emit({ shape: def.shape, status: "error", error: (e as Error).message });
    process.exitCode = 1;
    return;
  }
  const { n, dir } = args;
  // Parallel groups (fan-outs, DAG layers) run this many steps at a time:
  // dflow's debug_pool_workers, unset (bench/run.ts clears DFLOW_*), so one per CPU.
  const pool_workers = config.debug_pool_workers ?? os.cpus().length;
  const base: Record<string, unknown> = { shape: def.shape, n, ...(def.fields?.(n) ?? {}), pool_workers };
  try {
    fs.mkdirSync(dir, { recursive: true });
    if (fs.readdirSync(dir).length !== 0) throw new Error(`run directory ${dir} is not empty`);
    process.chdir(dir);
    config.debug_workdir = dir;

    const wf = def.build(n);
    const stop = startProgress(def.shape, n, dir, def.expectedStepDirs(n));
    const t0 = performance.now();
    let r;
    try {
      r = await wf.submit();
    } finally {
      stop();
    }
    const wallMs = performance.now() - t0;
    const rss = peakRssMb();

    if (r.status !== "Succeeded") throw new Error(`workflow ${r.id} ${r.status}${r.error ? `: ${r.error.message}` : ""}`);
    const wfdir = path.join(dir, r.id);
    const scan = await scanStepDirs(wfdir);
    const pods = scan.byType.Pod ?? {};
    const podsOk = pods.Succeeded ?? 0;
    const wantPods = def.expectedPods(n);
    const wantDirs = def.expectedStepDirs(n);
    if (podsOk !== wantPods || Object.keys(pods).some((p) => p !== "Succeeded")) {
      throw new Error(`expected ${wantPods} Succeeded Pod step directories, found ${JSON.stringify(scan.byType)}`);
    }
    if (scan.total !== wantDirs) throw new Error(`expected ${wantDirs} step directories in all, found ${scan.total}: ${JSON.stringify(scan.byType)}`);
    const extra = (await def.verify?.({ n, wf, wfdir, scan })) ?? {};

    const steps = def.steps?.(n) ?? wantPods;
    emit({
      ...base,
      status: "ok",
      wall_s: round(wallMs / 1000, 3),
      per_step_ms: round(wallMs / steps, 2),
      ...(def.perStepAlias ? { [def.perStepAlias]: round(wallMs / steps, 2) } : {}),
      engine_peak_rss_mb: rss,
      steps,
      step_dirs: scan.total,
      ...tenthRates(scan),
      ...extra,
    });
  } catch (e) {
    emit({ ...base, status: "error", error: (e as Error)?.message ?? String(e) });
    process.exitCode = 1;
  }
}
