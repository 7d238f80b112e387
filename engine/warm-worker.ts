// A warm worker: a long-lived node process that runs TypeScript OPs one at
// a time for the engine (opt-in, see executors/warm.ts). Each job gets the
// step's working directory and environment, and everything the OP writes to
// stdout/stderr goes to the step's log.txt; the OP's module stays loaded
// for the next job, which is the point. Nothing else carries over: each job
// starts with the engine's environment as it is now (sent as a difference,
// see executors/warm.ts) plus the step's own, whatever the last OP did to
// process.env.
import fs from "node:fs";
import { pathToFileURL } from "node:url";
import * as ownRunner from "./op-runner.js";
import type { OPRunSpec } from "./ts-op-script.js";
import type { EnvDelta } from "./executors/warm.js";

interface Job {
  id: number;
  spec: OPRunSpec;
  cwd: string;
  logFile: string;
  env?: Record<string, string>;
  /** Change of the engine's environment since the last job. */
  base?: EnvDelta;
  exitFile?: string;
}

/** The engine's environment, as this worker last heard of it. */
const base = new Map(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));

/** Make process.env exactly `want`. */
function setEnv(want: Map<string, string>): void {
  for (const k of Object.keys(process.env)) if (!want.has(k)) delete process.env[k];
  for (const [k, v] of want) if (process.env[k] !== v) process.env[k] = v;
}

let current: Promise<unknown> | null = null;

type Write = typeof process.stdout.write;

type Runner = Pick<typeof ownRunner, "loadOP" | "runOP">;

/**
 * The OP's bundle (ts-op-bundle.ts) when it has one: a worker then starts
 * without tsx and its esbuild service, and the bundle stays loaded for the
 * next job like a module would. Without one, the module goes through tsx.
 */
async function runnerFor(spec: Job["spec"]): Promise<Runner> {
  if (spec.bundle && fs.existsSync(spec.bundle)) return (await import(pathToFileURL(spec.bundle).href)) as Runner;
  return ownRunner;
}

async function run(job: Job): Promise<number> {
  const { loadOP, runOP } = await runnerFor(job.spec);
  // Load the OP's module while the cwd is still "/": tsx's esbuild service
  // takes the cwd it starts in, and a step directory may be deleted later.
  await loadOP(job.spec).catch(() => undefined); // errors are reported by runOP, into the log
  const fd = fs.openSync(job.logFile, "a");
  const out = process.stdout.write;
  const err = process.stderr.write;
  const toLog = ((chunk: string | Uint8Array, enc?: unknown, cb?: unknown) => {
    fs.writeSync(fd, typeof chunk === "string" ? Buffer.from(chunk, typeof enc === "string" ? (enc as BufferEncoding) : "utf8") : chunk);
    const done = typeof enc === "function" ? enc : cb;
    if (typeof done === "function") (done as () => void)();
    return true;
  }) as Write;
  process.stdout.write = toLog;
  process.stderr.write = toLog;
  for (const [k, v] of Object.entries(job.base?.set ?? {})) base.set(k, v);
  for (const k of job.base?.unset ?? []) base.delete(k);
  const want = new Map(base);
  for (const [k, v] of Object.entries(job.env ?? {})) want.set(k, v);
  setEnv(want);
  try {
    process.chdir(job.cwd);
    return await runOP(job.spec);
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    // Between jobs a worker holds on to no step's directory (it may be deleted).
    process.chdir("/");
    fs.closeSync(fd);
  }
}

/** The step's own record of how the OP ended, in one write (step-dir.ts EXIT_FILE). */
function recordExit(job: Job, code: number): void {
  if (!job.exitFile) return;
  try {
    fs.writeFileSync(job.exitFile, `${code}\n`);
  } catch {
    // no record: the step runs again after a crash, which is safe
  }
}

process.on("message", (msg: Job) => {
  const done = run(msg).then(
    (code) => {
      recordExit(msg, code);
      if (process.connected) process.send!({ id: msg.id, code });
    },
    (e: Error) => {
      recordExit(msg, 3);
      if (process.connected) process.send!({ id: msg.id, code: 3, error: e?.stack ?? String(e) });
    },
  );
  current = done.finally(() => (current = null));
});
// The engine is gone (killed): finish the OP at hand, so that its result is
// recorded for `dflow retry` to adopt, then go.
process.on("disconnect", () => {
  if (current) void current.finally(() => process.exit(0));
  else process.exit(0);
});
