// Port of dflow's examples/test_progress.py (spec §9): progress reported by
// an OP is recorded in the step directory while it runs and exposed on the
// step record; workflow progress is derived from the steps.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Step, TsOPTemplate, Workflow } from "dflow-ts";
import { Progress } from "../../fixtures/ops/progress.js";
import { useTempWorkdir } from "../support/workdir.js";

describe("test_progress", () => {
  const wd = useTempWorkdir();

  it("records progress while the OP runs, and the final value", async () => {
    const wf = new Workflow({ name: "progress" });
    wf.add(new Step({ name: "work", template: new TsOPTemplate(Progress), parameters: { steps: 10, pause_ms: 150 } }));
    // Watch the step's progress file from here while the workflow runs.
    const seen = new Set<string>();
    const timer = setInterval(() => {
      for (const d of fs.existsSync(wd.dir) ? fs.readdirSync(wd.dir) : []) {
        const wfdir = path.join(wd.dir, d);
        if (!fs.existsSync(path.join(wfdir, "status"))) continue;
        for (const s of fs.readdirSync(wfdir)) {
          const f = path.join(wfdir, s, "progress");
          if (fs.existsSync(f)) seen.add(fs.readFileSync(f, "utf8"));
        }
      }
    }, 20);
    const r = await wf.submit();
    clearInterval(timer);
    expect(r.status, r.error?.message).toBe("Succeeded");
    const [s] = wf.query_step({ name: "work" });
    expect(s.progress).toBe("100/100");
    // Intermediate values were visible while it ran, and never a half-written file.
    expect([...seen].some((v) => v !== "100/100")).toBe(true);
    for (const v of seen) expect(v).toMatch(/^\d+\/100$/);
    expect(wf.query_progress()).toEqual({ done: 1, total: 1, succeeded: 1, failed: 0 });
  });
});
