// A warm worker: a long-lived node process that runs TypeScript OPs one at
// a time for the engine (opt-in, see executors/warm.ts). Each job gets the
// step's working directory and environment, and everything the OP writes to
// stdout/stderr goes to the step's log.txt; the OP's module stays loaded
// for the next job, which is the point.
import fs from "node:fs";
import { loadOP, runOP } from "./op-runner.js";
import type { OPRunSpec } from "./ts-op-script.js";

interface Job {
  id: number;
  spec: OPRunSpec;
  cwd: string;
  logFile: string;
  env?: Record<string, string>;
}

type Write = typeof process.stdout.write;

async function run(job: Job): Promise<number> {
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
  const savedEnv: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(job.env ?? {})) {
    savedEnv[k] = process.env[k];
    process.env[k] = v;
  }
  try {
    process.chdir(job.cwd);
    return await runOP(job.spec);
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    // Between jobs a worker holds on to no step's directory (it may be deleted).
    process.chdir("/");
    fs.closeSync(fd);
  }
}

process.on("message", (msg: Job) => {
  void run(msg).then(
    (code) => process.send!({ id: msg.id, code }),
    (e: Error) => process.send!({ id: msg.id, code: 3, error: e?.stack ?? String(e) }),
  );
});
process.on("disconnect", () => process.exit(0));
