// Port of dflow's examples/test_progress.py: the step's progress is polled
// while the workflow runs (dflow prints it) and is "100/100" at the end.
// test/tests/test_progress.test.ts also checks the progress file and
// query_progress().
import { describe, expect, it } from "vitest";
import { Step, TsOPTemplate, Workflow } from "dflow-ts";
import { Progress } from "../../fixtures/ops/examples/test_progress.js";
import { useTempWorkdir } from "../support/workdir.js";

describe("examples/test_progress", () => {
  useTempWorkdir();

  it("test_progress", async () => {
    const wf = new Workflow({ name: "progress" });
    const step = new Step({ name: "step", template: new TsOPTemplate(Progress, { image: "python:3.8" }) });
    wf.add(step);
    const seen: string[] = [];
    const poll = setInterval(() => {
      if (!wf.id || !["Pending", "Running"].includes(wf.query_status())) return;
      const s = wf.query_step({ name: "step" });
      // dflow prints it when the step has one (hasattr(step[0], "progress")).
      if (s.length > 0 && s[0].progress != null) seen.push(String(s[0].progress));
    }, 50);
    try {
      await wf.submit();
    } finally {
      clearInterval(poll);
    }

    expect(wf.query_status()).toBe("Succeeded");
    const s = wf.query_step({ name: "step" })[0];
    expect(s.progress).toBe("100/100");
    for (const v of seen) expect(v).toMatch(/^\d+\/100$/);
  });
});
