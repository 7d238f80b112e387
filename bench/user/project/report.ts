// The one line a benchmark workflow prints for bench/user.ts: how long
// submit() took inside the script, the engine's peak RSS (before the check), and whether the
// result was right. Everything else (start-up, the CLI) is measured outside.
import { performance } from "node:perf_hooks";
import type { Workflow } from "dflow-ts";

export const N = Number(process.env.BENCH_N ?? "10");

export async function timed(wf: Workflow, check: (wf: Workflow) => string | null): Promise<void> {
  const t0 = performance.now();
  const r = await wf.submit();
  const submit_s = (performance.now() - t0) / 1000;
  // The engine's high-water mark, before the check below reads every step back (at 100k steps
  // query_step's 100,000 records are the script's memory, not the engine's).
  const engine_rss_mb = process.resourceUsage().maxRSS / 1024;
  let error = r.status === "Succeeded" ? null : `workflow ${r.id} ${r.status}: ${r.error?.message ?? ""}`;
  if (!error) error = check(wf);
  const line = { status: error ? "error" : "ok", error, submit_s, engine_rss_mb };
  process.stdout.write(`\n@@dflow-ts-bench@@ ${JSON.stringify(line)}\n`);
  if (error) process.exitCode = 1;
}
