// argo-corpus: Argo's 125 reference examples (fixtures/argo/examples) run by
// the local Argo interpreter, 12 at a time as test/argo/corpus.test.ts runs
// them: the wall time of the whole corpus, and how many ended in the phase
// expectations.json gives (the test checks the rest of the assertions).
// n is the number of cases to run (the first n, slow ones first); 125: all.
import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import pLimit from "p-limit";
import { config } from "../../src/config.js";
import { loadArgoFile, readArgoStatus, runArgoWorkflow } from "../../engine/argo/index.js";
import { RESULT_MARKER, parseChildArgs, round } from "../lib/protocol.js";

interface Expectation {
  phase: string;
  support?: string[];
  durationSec?: number;
  validation?: { rejected: boolean };
}

let result: Record<string, unknown>;
let n = 0;
try {
  const args = parseChildArgs();
  n = args.n;
  const corpus = path.resolve(import.meta.dirname, "..", "..", "fixtures", "argo", "examples");
  const expectations = JSON.parse(fs.readFileSync(path.join(corpus, "expectations.json"), "utf8")) as Record<string, Expectation>;
  const files = Object.keys(expectations)
    .sort((a, b) => (expectations[b].durationSec ?? 0) - (expectations[a].durationSec ?? 0))
    .slice(0, n);
  config.debug_workdir = args.dir;
  const limit = pLimit(12);
  const others: string[] = [];
  const t0 = performance.now();
  const phases = await Promise.all(
    files.map((f) =>
      limit(async () => {
        const exp = expectations[f];
        try {
          const r = await runArgoWorkflow(loadArgoFile(path.join(corpus, f), (exp.support ?? []).map((s) => path.join(corpus, s))));
          const phase = readArgoStatus(r.dir)?.phase;
          if (phase === exp.phase || exp.validation?.rejected === true) return true;
          others.push(`${f}: ${phase} (expected ${exp.phase}), ${r.dir}`);
          return false;
        } catch (e) {
          // Refused before it ran: what the corpus expects of an invalid spec.
          if (exp.validation?.rejected === true) return true;
          others.push(`${f}: refused (${(e as Error).message})`);
          return false;
        }
      }),
    ),
  );
  const wallS = (performance.now() - t0) / 1000;
  const asExpected = phases.filter(Boolean).length;
  result = {
    shape: "argo-corpus",
    n: files.length,
    status: asExpected === files.length ? "ok" : "error",
    ...(asExpected === files.length ? {} : { error: `${files.length - asExpected} of ${files.length} cases ended in another phase than expectations.json's: ${others.join("; ")}` }),
    wall_s: round(wallS, 3),
    per_step_ms: null,
    engine_peak_rss_mb: round(process.resourceUsage().maxRSS / 1024, 1),
    cases: files.length,
    phase_as_expected: asExpected,
    concurrency: 12,
  };
} catch (e) {
  result = { shape: "argo-corpus", n, status: "error", error: (e as Error).message };
  process.exitCode = 1;
}
process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
// Processes of cases that outlived their workflow (none expected) must not hold the bench.
process.exit();
