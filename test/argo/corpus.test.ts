// The Argo examples corpus (fixtures/argo/examples, issue 12 scope 2): every
// case is run through the engine and checked against its expectations.json
// entry (phase and asserts, on the Argo node view of the run). Cases known
// not to pass yet are listed below with the reason; the test fails when a
// passing case regresses, and when a listed case starts passing (remove it
// from the list). ARGO_CASES=<regex> runs only the matching cases.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pLimit from "p-limit";
import { describe, expect, it } from "vitest";
import { config } from "../../src/config.js";
import { ArgoSpecError, ArgoUnsupported, artifactRepository, loadArgoFile, readArgoStatus, runArgoWorkflow } from "../../engine/argo/index.js";
import { type Expectation, checkAsserts } from "./expectations.js";

const CORPUS = path.resolve(import.meta.dirname, "../../fixtures/argo/examples");
const expectations = JSON.parse(fs.readFileSync(path.join(CORPUS, "expectations.json"), "utf8")) as Record<string, Expectation>;

/** Cases that do not pass yet, and why. */
const NOT_YET: Record<string, string> = {};

interface CaseResult {
  file: string;
  ok: boolean;
  refused?: string;
  problems: string[];
  seconds?: number;
}

async function runCase(file: string, exp: Expectation): Promise<CaseResult> {
  let wf;
  try {
    wf = loadArgoFile(path.join(CORPUS, file), (exp.support ?? []).map((s) => path.join(CORPUS, s)));
    const r = await runArgoWorkflow(wf);
    const status = readArgoStatus(r.dir);
    if (!status) return { file, ok: false, problems: ["no Argo status recorded"] };
    if (exp.validation?.rejected) {
      const ok = status.phase === "Failed" && (status.message ?? "").includes(exp.validation.errorContains);
      return { file, ok, problems: ok ? [] : [`ran (${status.phase}: ${status.message}); want rejected with ${JSON.stringify(exp.validation.errorContains)}`] };
    }
    const problems = checkAsserts(status, r.dir, exp, artifactRepository());
    return { file, ok: problems.length === 0, problems };
  } catch (e) {
    const msg = (e as Error).message;
    if (exp.validation?.rejected && e instanceof ArgoSpecError && !(e instanceof ArgoUnsupported)) {
      const ok = msg.includes(exp.validation.errorContains);
      return { file, ok, problems: ok ? [] : [`rejected with ${JSON.stringify(msg)}; want ${JSON.stringify(exp.validation.errorContains)}`] };
    }
    if (e instanceof ArgoUnsupported || e instanceof ArgoSpecError) return { file, ok: false, refused: msg, problems: [`refused: ${msg}`] };
    return { file, ok: false, problems: [`threw: ${(e as Error).stack ?? msg}`] };
  }
}

/** A retry case whose final phase is itself random (P(fail) a few %) gets a second run before it counts as failed. */
const mayFailByChance = (exp: Expectation) => typeof exp.random === "string" && exp.random.includes("P(workflow fails)");

describe("Argo examples corpus", () => {
  it("runs every case and checks its expectations", async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "argo-corpus-"));
    const before = config.debug_workdir;
    config.debug_workdir = work;
    try {
      const only = process.env.ARGO_CASES ? new RegExp(process.env.ARGO_CASES) : null;
      // Slow cases first, so that they overlap with everything else.
      const files = Object.keys(expectations)
        .filter((f) => !only || only.test(f))
        .sort((a, b) => (expectations[b].durationSec ?? 0) - (expectations[a].durationSec ?? 0));
      const limit = pLimit(12);
      const results = await Promise.all(
        files.map((f) =>
          limit(async () => {
            const t0 = Date.now();
            let r = await runCase(f, expectations[f]);
            if (!r.ok && !r.refused && mayFailByChance(expectations[f])) r = await runCase(f, expectations[f]);
            return { ...r, seconds: (Date.now() - t0) / 1000 };
          }),
        ),
      );
      const passed = results.filter((r) => r.ok);
      const lines = [`Argo corpus: ${passed.length}/${results.length} cases pass (${((100 * passed.length) / Math.max(1, results.length)).toFixed(1)} %)`];
      for (const r of results.filter((x) => !x.ok)) lines.push(`  ${NOT_YET[r.file] ? "known" : "NEW  "} ${r.file}: ${r.problems.slice(0, 3).join(" | ").slice(0, 400)}`);
      if (process.env.ARGO_TIMES) for (const r of [...results].sort((a, b) => b.seconds! - a.seconds!).slice(0, 15)) lines.push(`  ${r.seconds!.toFixed(1)} s ${r.file}`);
      console.log(lines.join("\n"));
      const regressions = results.filter((r) => !r.ok && !NOT_YET[r.file]).map((r) => `${r.file}: ${r.problems.join(" | ")}`);
      // The runs are kept for a look only when something went wrong.
      if (regressions.length) console.log(`the runs are in ${work}`);
      else fs.rmSync(work, { recursive: true, force: true });
      const nowPassing = passed.filter((r) => NOT_YET[r.file]).map((r) => `${r.file} passes now: remove it from NOT_YET`);
      expect(regressions).toEqual([]);
      expect(nowPassing).toEqual([]);
    } finally {
      config.debug_workdir = before;
    }
  });
});
