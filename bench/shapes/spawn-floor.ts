// spawn-floor: what one child process costs on this machine, with nothing of
// dflow-ts around it: `sh -c true` (what a shell step's script runs under)
// and `node -e 0` (a TS-OP step's interpreter, before it loads anything),
// spawned one after the other with node's child_process.spawn and awaited.
// `reps` runs of n spawns each per command (interleaved), after one warm-up
// spawn each; sh_ms / node_ms = median over the runs of the mean per spawn.
// The other shapes' ratio_to_floor divides their per_step_ms by these.
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { RESULT_MARKER, median, parseChildArgs, round } from "../lib/protocol.js";

const REPS = 3;

function once(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: "ignore" });
    c.once("error", reject);
    c.once("exit", (code, signal) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")} exited with ${code ?? signal}`))));
  });
}

async function perSpawnMs(cmd: string, args: string[], n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await once(cmd, args);
  return (performance.now() - t0) / n;
}

let result: Record<string, unknown>;
let n = 0;
try {
  ({ n } = parseChildArgs());
  const sh = ["sh", ["-c", "true"]] as const;
  const node = [process.execPath, ["-e", "0"]] as const;
  const t0 = performance.now();
  await once(sh[0], [...sh[1]]);
  await once(node[0], [...node[1]]);
  const shRuns: number[] = [];
  const nodeRuns: number[] = [];
  for (let r = 0; r < REPS; r++) {
    shRuns.push(await perSpawnMs(sh[0], [...sh[1]], n));
    nodeRuns.push(await perSpawnMs(node[0], [...node[1]], n));
  }
  result = {
    shape: "spawn-floor",
    n,
    status: "ok",
    repeats: REPS,
    wall_s: round((performance.now() - t0) / 1000, 3),
    // Not a workflow: there are no steps and no engine here.
    per_step_ms: null,
    engine_peak_rss_mb: null,
    sh_ms: round(median(shRuns), 3),
    node_ms: round(median(nodeRuns), 3),
    sh_ms_runs: shRuns.map((x) => round(x, 3)),
    node_ms_runs: nodeRuns.map((x) => round(x, 3)),
  };
} catch (e) {
  result = { shape: "spawn-floor", n, status: "error", error: (e as Error).message };
  process.exitCode = 1;
}
process.stdout.write(`\n${RESULT_MARKER}${JSON.stringify(result)}\n`);
