// dflow-ts benchmark: `npm run bench [-- --json] [--only a,b] [--quick]`.
//
// Runs a fixed list of workflow shapes and prints one row per (shape, n).
// Every measurement is a fresh engine process: this script starts
//   node --import <tsx> bench/shapes/<shape>.ts --n N --dir <fresh temp dir>
// once per repeat (the shapes are TypeScript and import the TS OP fixture
// fixtures/ops/bench.ts, whose path the engine hands to its TS-OP children),
// with the temp directory as cwd and debug_workdir, deleted afterwards, and
// DFLOW_* cleared from the environment so every run uses the defaults.
// See bench/lib/child.ts for what a child measures and checks.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { RESULT_MARKER, median, round } from "./lib/protocol.js";
import { USER_SHAPES, makeUserProject, runUser } from "./lib/user.js";

type Row = Record<string, unknown> & { shape: string; n: number; status: string };

interface Planned {
  shape: string;
  n: number;
  /** Left out by --quick. */
  full?: boolean;
  /** Not in the engine yet: printed as a row without figures. */
  notImplemented?: Record<string, unknown>;
  /** Which spawn floor ratio_to_floor divides by. */
  floor?: "sh" | "node";
  /** Why the shape cannot run here (printed as a skipped row), or null. */
  unavailable?: () => string | null;
  /** A whole `dflow` process in a user's project (bench/lib/user.ts); repeats interleaved with the other user shapes. */
  user?: boolean;
  /** Run only when named in --only as shape:n (too long for a default run). */
  onRequest?: boolean;
}

/** The local HPC's hpc.json (test/hpc/start-local-hpc.sh), for the Slurm shape. */
function hpcJson(): string | null {
  const p = process.env.HPC_JSON ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", ".hpc", "hpc.json");
  return fs.existsSync(p) ? p : null;
}

const noChromium = (): string | null => (fs.existsSync(process.env.DFLOW_TEST_CHROMIUM ?? "/usr/bin/chromium") ? null : "no Chromium: `apt-get install chromium` (or set DFLOW_TEST_CHROMIUM)");

// The fixed list, in the order it runs. spawn-floor comes first: the others'
// ratio_to_floor needs it.
const PLAN: Planned[] = [
  { shape: "spawn-floor", n: 50 },
  { shape: "fanout-shell", n: 100, floor: "sh" },
  { shape: "fanout-shell", n: 1000, floor: "sh" },
  { shape: "fanout-shell", n: 10000, floor: "sh", full: true },
  { shape: "fanout-ts-op", n: 200, floor: "node" },
  { shape: "fanout-ts-op-warm", n: 1000, floor: "node" },
  { shape: "chain-shell", n: 50, floor: "sh" },
  { shape: "dag-layers", n: 100, floor: "sh" },
  { shape: "recursion", n: 10, floor: "sh" },
  { shape: "recursion", n: 100, floor: "sh" },
  { shape: "recursion", n: 1000, floor: "sh", full: true },
  { shape: "slices", n: 1000, floor: "node" },
  { shape: "slurm-fanout", n: 200, unavailable: () => (hpcJson() ? null : "no local HPC: run `sudo bash test/hpc/start-local-hpc.sh .hpc` (or set HPC_JSON)") },
  // What a user waits for: whole `dflow` processes in a user's project, start-up included.
  { shape: "startup-help", n: 1, user: true, floor: "node" },
  { shape: "startup-one-step", n: 1, user: true, floor: "node" },
  { shape: "user-chain-shell", n: 50, user: true, floor: "sh" },
  { shape: "user-recursion", n: 20, user: true, floor: "sh" },
  { shape: "user-fanout-shell", n: 100, user: true, floor: "sh" },
  { shape: "user-fanout-shell", n: 1000, user: true, floor: "sh" },
  { shape: "user-fanout-shell", n: 10000, user: true, floor: "sh", full: true },
  { shape: "user-fanout-shell", n: 100000, user: true, floor: "sh", onRequest: true },
  { shape: "user-dag-lattice", n: 100, user: true, floor: "sh" },
  { shape: "user-ts-op-fanout", n: 100, user: true, floor: "node" },
  { shape: "user-ts-op-fanout-warm", n: 100, user: true, floor: "node" },
  // The same at 1,000 items: the per-step cost once the workers' start (paid once) is spread thin.
  { shape: "user-ts-op-fanout-warm", n: 1000, user: true, floor: "node" },
  // Argo manifests (issue 12): the per-node cost of user-fanout-shell written as Argo YAML, beside it;
  // and Argo's 125-case examples corpus through the local interpreter, 12 at a time.
  { shape: "user-argo-fanout", n: 100, user: true, floor: "sh" },
  { shape: "user-argo-fanout", n: 1000, user: true, floor: "sh" },
  { shape: "argo-corpus", n: 125 },
  // The Argo Server API's list over 100 finished Argo runs of 102 nodes each, as Argo's UI lists and watches it.
  { shape: "argo-list", n: 100 },
  // `dflow ui` on a 10,000-step workflow: time to the graph drawn in headless Chromium, and the server's RSS.
  { shape: "ui-10k", n: 10000, full: true, unavailable: noChromium },
  // `dflow ui` over 1,000 workflows: the first and later GET /api/workflows, the list drawn in headless Chromium, the server's RSS.
  { shape: "ui-list", n: 1000, unavailable: noChromium },
];
const SHAPES = [...new Set(PLAN.map((p) => p.shape))];

/** 3 fresh engine processes for small runs, 1 for n ≥ 1000 (the figure is then a single run); user shapes 3 up to n = 1000. */
function repeatsFor(p: Planned): number {
  if (p.shape === "spawn-floor") return 1; // one process, 3 runs inside (bench/shapes/spawn-floor.ts)
  if (p.shape === "argo-corpus") return 1; // 125 workflows in one process: the figure is already a sum
  if (p.shape === "argo-list") return 1; // the later lists' figure is already a median of 3
  if (p.user) return p.n > 1000 ? 1 : 3;
  return p.n >= 1000 ? 1 : 3;
}

/** A backstop against a hung child: 20 min, or 50 ms a step for the big rows (100k steps took 17 min on an idle 2-core VM). */
const childTimeoutMs = (n: number): number => Math.max(20 * 60_000, n * 50);

// ---------------------------------------------------------------------------

function usage(code: number): never {
  const out = code === 0 ? process.stdout : process.stderr;
  out.write(
    [
      "usage: npm run bench [-- [--json] [--only <shape[,shape]>] [--quick]]",
      "  --json    one JSON object per line instead of a table",
      "  --only    run only these shapes (shape:n for one row of a shape): " + SHAPES.join(", "),
      "  --quick   leave out fanout-shell n=10000, user-fanout-shell n=10000, recursion n=1000 and ui-10k",
      "  (user-fanout-shell n=100000 runs only when named: --only user-fanout-shell:100000)",
      "",
    ].join("\n"),
  );
  process.exit(code);
}

function parseArgs(argv: string[]): { json: boolean; quick: boolean; only: Set<string> | null } {
  let json = false;
  let quick = false;
  let only: Set<string> | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--json") json = true;
    else if (a === "--quick") quick = true;
    else if (a === "--only" || a.startsWith("--only=")) {
      const v = a === "--only" ? argv[++i] : a.slice("--only=".length);
      if (!v) usage(2);
      only = new Set(v.split(",").map((s) => s.trim()).filter(Boolean));
      for (const s of only) {
        // "shape:n" names one row of a shape.
        if (!SHAPES.includes(s.split(":")[0]!) || (s.includes(":") && !PLAN.some((p) => `${p.shape}:${p.n}` === s))) {
          process.stderr.write(`unknown shape ${JSON.stringify(s)}; shapes: ${SHAPES.join(", ")}\n`);
          process.exit(2);
        }
      }
    } else if (a === "--help" || a === "-h") usage(0);
    else {
      process.stderr.write(`unknown argument ${JSON.stringify(a)}\n`);
      usage(2);
    }
  }
  return { json, quick, only };
}

/** The repository root: the nearest directory above this file with dflow-ts's package.json (works from bench/ and dist/bench/). */
function repoRoot(): string {
  let d = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = path.join(d, "package.json");
    if (fs.existsSync(pj) && JSON.parse(fs.readFileSync(pj, "utf8")).name === "dflow-ts") return d;
    const up = path.dirname(d);
    if (up === d) throw new Error("bench/run: cannot find dflow-ts's package.json above " + fileURLToPath(import.meta.url));
    d = up;
  }
}

function gitDescribe(root: string): string | null {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() !== "";
    return dirty ? `${head} + uncommitted changes` : head;
  } catch {
    return null;
  }
}


/**
 * Where runs happen (made if missing): BENCH_DIR, else .bench/ in the
 * repository. On some VMs file creation is several times slower in one
 * directory than in another of the same disk (here /tmp was the slow one
 * once, .bench/ another time), so the header prints the file floor there.
 */
function benchRoot(root: string): string {
  const dir = path.resolve(process.env.BENCH_DIR ?? path.join(root, ".bench"));
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * What a step's files cost in `parent` before the engine does anything: a
 * step directory (mkdir -p of inputs/parameters) and four small files each
 * written beside and renamed over (as the engine writes its state), ms per
 * step, median of 3 x 200. On this VM it varies up to 8x between
 * directories of the same ext4 disk (where the file system places a new
 * directory), and every shape that writes step directories moves with it.
 */
function fileFloorMs(parent: string): number {
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const d = fs.mkdtempSync(path.join(parent, "file-floor-"));
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) {
      const step = path.join(d, `step-${i}`);
      fs.mkdirSync(path.join(step, "inputs", "parameters"), { recursive: true });
      for (const f of ["type", "phase", path.join("inputs", "parameters", "i"), "phase"]) {
        const file = path.join(step, f);
        fs.writeFileSync(`${file}.tmp`, String(i));
        fs.renameSync(`${file}.tmp`, file);
      }
    }
    runs.push((performance.now() - t0) / 200);
    fs.rmSync(d, { recursive: true, force: true });
  }
  return round(median(runs), 3);
}

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("DFLOW_")) env[k] = v;
  const hpc = hpcJson();
  if (hpc) env.HPC_JSON = hpc;
  return env;
}

/** One fresh engine process for one (shape, n); its result line, or an error row. */
function runChild(root: string, tsx: string, shape: string, n: number): Promise<Row> {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(benchRoot(root), `${shape}-`)));
  const file = path.join(root, "bench", "shapes", `${shape}.ts`);
  return new Promise<Row>((resolve) => {
    const child = spawn(process.execPath, ["--import", tsx, file, "--n", String(n), "--dir", dir], { cwd: dir, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderrTail = "";
    let errBuf = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      // Keep only what may hold the result line (engine logs can be long).
      if (stdout.length > 1 << 20) stdout = stdout.slice(-(1 << 19));
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      errBuf += d;
      let i: number;
      while ((i = errBuf.indexOf("\n")) >= 0) {
        const line = errBuf.slice(0, i + 1);
        errBuf = errBuf.slice(i + 1);
        if (line.startsWith("[bench]")) process.stderr.write(line);
        else stderrTail = (stderrTail + line).slice(-2000);
      }
    });
    const timer = setTimeout(() => child.kill("SIGTERM"), childTimeoutMs(n));
    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      clearTimeout(timer);
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch (e) {
        process.stderr.write(`[bench] could not delete ${dir}: ${(e as Error).message}\n`);
      }
      const line = stdout.split("\n").reverse().find((l) => l.startsWith(RESULT_MARKER));
      let row: Row | null = null;
      if (line) {
        try {
          row = JSON.parse(line.slice(RESULT_MARKER.length)) as Row;
        } catch {
          row = null;
        }
      }
      if (row && row.status === "ok" && code === 0) return resolve(row);
      const why = spawnError
        ? spawnError.message
        : row?.status === "error"
          ? String(row.error)
          : `engine process exited with ${code ?? signal}${signal === "SIGTERM" ? ` (timeout ${Math.round(childTimeoutMs(n) / 60000)} min?)` : ""} without a result; stderr: ${(stderrTail + errBuf).trim().slice(-800) || "(empty)"}`;
      resolve({ shape, n, status: "error", error: why });
    };
    child.once("error", (e) => finish(null, null, e));
    child.once("close", (code, signal) => finish(code, signal));
  });
}

/** Combine the repeats of one (shape, n): median wall time, max peak RSS; any failed repeat makes the row an error. */
function combine(p: Planned, runs: Row[]): Row {
  const failed = runs.find((r) => r.status !== "ok");
  if (failed) return { shape: p.shape, n: p.n, status: "error", repeats: runs.length, error: failed.error };
  if (runs.length === 1) return { ...runs[0], repeats: 1 };
  const num = (r: Row, k: string) => r[k] as number;
  const med = (k: string) => (runs.every((r) => typeof r[k] === "number") ? round(median(runs.map((r) => num(r, k))), 3) : null);
  const out: Row = { ...runs[0], repeats: runs.length };
  for (const k of ["wall_s", "per_step_ms", "per_level_ms", "first_10pct_step_ms", "last_10pct_step_ms", "submit_s", "startup_s", "submit_per_step_ms"]) if (k in out) out[k] = med(k);
  out.engine_peak_rss_mb = runs.every((r) => typeof r.engine_peak_rss_mb === "number") ? Math.max(...runs.map((r) => num(r, "engine_peak_rss_mb"))) : null;
  out.wall_s_runs = runs.map((r) => r.wall_s);
  out.engine_peak_rss_mb_runs = runs.map((r) => r.engine_peak_rss_mb);
  return out;
}

// --- output -----------------------------------------------------------------

const COLS: Array<[string, number, "l" | "r"]> = [
  ["shape", 18, "l"],
  ["n", 6, "r"],
  ["rep", 3, "r"],
  ["status", 6, "l"],
  ["wall_s", 8, "r"],
  ["per_step_ms", 11, "r"],
  ["ratio_to_floor", 14, "r"],
  ["peak_rss_mb", 11, "r"],
  ["notes", 0, "l"],
];

function fmtLine(cells: string[]): string {
  return COLS.map(([, w, a], i) => (w === 0 ? cells[i] : a === "l" ? cells[i].padEnd(w) : cells[i].padStart(w))).join("  ").trimEnd();
}

function fmtNum(v: unknown, d: number): string {
  return typeof v === "number" ? v.toFixed(d) : "-";
}

function notes(r: Row): string {
  if (r.status === "not implemented") return `not implemented in the engine yet: no figures${r.group_size ? ` (group_size ${r.group_size})` : ""}`;
  if (r.status === "skipped") return `skipped: ${String(r.error)}`;
  if (r.status === "error") return `ERROR: ${String(r.error).replace(/\s+/g, " ").slice(0, 300)}`;
  const parts: string[] = [];
  if (r.shape === "spawn-floor") {
    parts.push(`sh_ms=${fmtNum(r.sh_ms, 2)} node_ms=${fmtNum(r.node_ms, 2)} (median of ${r.repeats} runs of ${r.n} sequential spawns)`);
    return parts.join("; ");
  }
  if (r.shape === "recursion") parts.push(`per_level_ms=${fmtNum(r.per_level_ms, 2)}`);
  if (r.shape === "argo-list") parts.push(`wall = first GET /api/v1/workflows/argo (every run's nodes read); later ones ${fmtNum(r.api_warm_s, 4)} s (finished runs kept); peak RSS is the server's`);
  if (r.shape === "ui-list") parts.push(`wall = first GET /api/workflows (all ${r.n} read); later ones ${fmtNum(r.api_warm_s, 3)} s (ended workflows cached); list drawn in ${fmtNum(r.list_render_s, 2)} s; peak RSS is the \`dflow ui\` server's`);
  if (r.shape === "ui-10k") parts.push(`wall = page opened to graph drawn; list drawn in ${fmtNum(r.list_render_s, 2)} s; peak RSS is the \`dflow ui\` server's; page JS heap ${fmtNum(r.page_js_heap_mb, 1)} MB`);
  if (r.submit_s !== undefined) parts.push(`submit ${fmtNum(r.submit_s, 2)} s (${fmtNum(r.submit_per_step_ms, 2)} ms/step), start-up ${fmtNum(r.startup_s, 2)} s`);
  if (r.shape === "slurm-fanout") parts.push(`${r.jobs_submitted} Slurm jobs, ${r.scheduler_commands} scheduler commands (${r.by_command}), group_size ${r.group_size}`);
  if (r.shape === "argo-corpus") parts.push(`${r.phase_as_expected}/${r.cases} cases ended in expectations.json's phase, ${r.concurrency} at a time (test/argo/corpus.test.ts checks their assertions)`);
  if (r.shape === "user-argo-fanout") parts.push("Argo YAML through the local interpreter, parallelism 2; beside user-fanout-shell (the same in TypeScript)");
  if (r.shape === "dag-layers") parts.push(`${r.layers}x${r.width}, each task depends on ${r.deps}`);
  if (r.first_10pct_step_ms !== null && r.first_10pct_step_ms !== undefined) parts.push(`first/last 10%: ${fmtNum(r.first_10pct_step_ms, 2)}/${fmtNum(r.last_10pct_step_ms, 2)} ms/step`);
  if (Array.isArray(r.wall_s_runs)) parts.push(`runs ${r.wall_s_runs.map((x) => fmtNum(x, 2)).join("/")} s`);
  if (r.repeats === 1) parts.push("single run");
  return parts.join("; ");
}

function tableRow(r: Row): string {
  return fmtLine([
    r.shape,
    String(r.n),
    r.repeats === undefined ? "-" : String(r.repeats),
    r.status === "not implemented" ? "n/i" : r.status,
    fmtNum(r.wall_s, 2),
    fmtNum(r.per_step_ms, 2),
    fmtNum(r.ratio_to_floor, 2),
    fmtNum(r.engine_peak_rss_mb, 1),
    notes(r),
  ]);
}

// --- main -------------------------------------------------------------------

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opts = parseArgs(argv);
  const root = repoRoot();
  const tsx = import.meta.resolve("tsx");
  const meta = {
    command: argv.length ? `npm run bench -- ${argv.join(" ")}` : "npm run bench",
    node: process.version,
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model?.trim() ?? "unknown",
    platform: `${os.platform()} ${os.arch()}`,
    date: new Date().toISOString(),
    // Other work on the machine skews every figure: say how busy it was.
    load_1m: round(os.loadavg()[0], 2),
    // Variables that slow every node start (certificate loading, preloads), as the steps see them.
    slow_env: ["NODE_OPTIONS", "NODE_EXTRA_CA_CERTS", "NODE_V8_COVERAGE", "NODE_DEBUG"].filter((k) => childEnv()[k] !== undefined).map((k) => `${k}=${childEnv()[k]}`).join(" ") || "none",
    commit: gitDescribe(root),
    // ms per step's directory and files where the shapes run (see fileFloorMs).
    file_floor_ms: fileFloorMs(benchRoot(root)),
  };
  // An on-request row runs only when named as shape:n; --quick leaves out the long rows otherwise.
  const named = (p: Planned) => opts.only?.has(`${p.shape}:${p.n}`) ?? false;
  const plan = PLAN.filter((p) => named(p) || (!p.onRequest && (!opts.quick || !p.full) && (!opts.only || opts.only.has(p.shape))));
  const needFloor = plan.some((p) => p.floor && !p.notImplemented);
  const printFloor = plan.some((p) => p.shape === "spawn-floor");
  if (needFloor && !printFloor) plan.unshift({ shape: "spawn-floor", n: 50 });

  if (!opts.json) {
    process.stdout.write(
      [
        `# ${meta.command}`,
        `# node ${meta.node}, ${meta.cpus} CPUs (${meta.cpu_model}), ${meta.platform}, load ${meta.load_1m}, ${meta.date}${meta.commit ? `, commit ${meta.commit}` : ""}`,
        "# wall_s: wf.submit() in a fresh engine process, median over `rep` processes (rep 1 = a single run, for n >= 1000); peak_rss_mb: the",
        "#   engine process's maxRSS, max over them. per_step_ms = wall / steps. ratio_to_floor = per_step_ms / spawn floor (sh_ms for shell",
        `#   steps, node_ms for TS-OP steps). Parallel groups run debug_pool_workers steps at a time (unset: one per CPU = ${meta.cpus}).`,
        `#   Runs in ${benchRoot(root)} (BENCH_DIR), each in a fresh directory deleted afterwards. File floor there: ${meta.file_floor_ms} ms per`,
        "#   step's files (mkdir -p + 4 small files written and renamed); it varies up to 8x between directories of one disk on some VMs.",
        `#   Environment of every child (and of the spawn floor): node-start variables set: ${meta.slow_env}.`,
        "#   startup-* and user-*: a whole `node_modules/.bin/dflow` process in a user's project folder that depends on this checkout",
        "#   (`npm install <checkout>` = a link), scripts from bench/user/project/; wall_s includes start-up; submit = inside wf.submit();",
        "#   per_step_ms = wall / steps; repeats interleaved across the user shapes (round 1 of all, then round 2, ...), medians.",
        "#   first/last 10%: ms per completed step over the first and the last tenth of the completions (equal = flat).",
        "",
        fmtLine(COLS.map(([name]) => name)),
        fmtLine(COLS.map(([, w]) => "-".repeat(w || 5))),
        "",
      ].join("\n"),
    );
  }
  const print = (r: Row) => {
    if (opts.json) process.stdout.write(`${JSON.stringify({ ...r, ...meta })}\n`);
    else process.stdout.write(`${tableRow(r)}\n`);
  };

  const t0 = performance.now();
  let floor: { sh: number | null; node: number | null } = { sh: null, node: null };
  let errors = 0;
  const finishRow = (p: Planned, row: Row) => {
    if (p.floor && row.status === "ok" && typeof row.per_step_ms === "number") {
      const f = floor[p.floor];
      row.floor = p.floor === "sh" ? "sh_ms" : "node_ms";
      row.floor_ms = f;
      row.ratio_to_floor = f ? round((row.per_step_ms as number) / f, 2) : null;
    }
    if (row.status === "error") errors++;
    print(row);
  };
  for (const p of plan.filter((x) => !x.user)) {
    let row: Row;
    const why = p.unavailable?.() ?? null;
    if (why) {
      row = { shape: p.shape, n: p.n, status: "skipped", error: why, wall_s: null, per_step_ms: null, engine_peak_rss_mb: null };
    } else if (p.notImplemented) {
      row = { shape: p.shape, n: p.n, ...p.notImplemented, status: "not implemented", wall_s: null, per_step_ms: null, engine_peak_rss_mb: null };
    } else {
      const reps = repeatsFor(p);
      const runs: Row[] = [];
      for (let i = 0; i < reps; i++) {
        const ts = performance.now();
        process.stderr.write(`[bench] ${p.shape} n=${p.n} run ${i + 1}/${reps} ...\n`);
        const r = await runChild(root, tsx, p.shape, p.n);
        process.stderr.write(`[bench] ${p.shape} n=${p.n} run ${i + 1}/${reps}: ${r.status}${r.status === "ok" ? `, wall ${fmtNum(r.wall_s, 2)} s` : `: ${String(r.error).slice(0, 200)}`} (process ${((performance.now() - ts) / 1000).toFixed(1)} s)\n`);
        runs.push(r);
        if (r.status !== "ok") break;
      }
      row = p.shape === "spawn-floor" ? (runs[0].status === "ok" ? runs[0] : { ...runs[0], repeats: 3 }) : combine(p, runs);
      if (p.shape === "spawn-floor" && row.status === "ok") floor = { sh: row.sh_ms as number, node: row.node_ms as number };
    }
    if (p.shape === "spawn-floor" && !printFloor) {
      if (row.status === "error") finishRow(p, row);
      else process.stderr.write(`[bench] spawn floor (not selected, measured for ratio_to_floor): sh_ms=${floor.sh} node_ms=${floor.node}\n`);
      continue;
    }
    finishRow(p, row);
  }

  // User shapes: repeats interleaved, so a slow minute of the machine spreads over every shape instead of one.
  const user = plan.filter((x) => x.user);
  if (user.length) {
    const project = makeUserProject(root, benchRoot(root));
    const floor = fileFloorMs(project);
    process.stderr.write(`[bench] file floor in the user project ${project}: ${floor} ms per step's files\n`);
    if (!opts.json) process.stdout.write(`# user-*: file floor in their project folder: ${floor} ms per step's files\n`);
    const runs = new Map<Planned, Row[]>(user.map((p) => [p, []]));
    const rounds = Math.max(...user.map(repeatsFor));
    for (let i = 0; i < rounds; i++) {
      for (const p of user) {
        const done = runs.get(p)!;
        if (done.length >= repeatsFor(p) || done.some((r) => r.status !== "ok")) continue;
        const ts = performance.now();
        const r = await runUser(project, USER_SHAPES[p.shape], p.n, childEnv(), childTimeoutMs(p.n));
        process.stderr.write(`[bench] ${p.shape} n=${p.n} round ${i + 1}: ${r.status}${r.status === "ok" ? `, wall ${fmtNum(r.wall_s, 2)} s` : `: ${String(r.error).slice(0, 200)}`} (${((performance.now() - ts) / 1000).toFixed(1)} s)\n`);
        done.push(r);
      }
    }
    fs.rmSync(project, { recursive: true, force: true });
    for (const p of user) finishRow(p, combine(p, runs.get(p)!));
  }
  const total = (performance.now() - t0) / 1000;
  if (!opts.json) process.stdout.write(`\n# total ${total.toFixed(0)} s${errors ? `; ${errors} row(s) failed: exit code 1` : ""}\n`);
  process.stderr.write(`[bench] done in ${total.toFixed(0)} s${errors ? `, ${errors} error row(s)` : ""}\n`);
  if (errors) process.exitCode = 1;
}

await main();
