// Port of dflow's examples/test_success_ratio.py: five items that each fail
// (TransientError) half of the time, continue_on_success_ratio 0.6.
//
// dflow asserts nothing (it only submits). The outcome is random, so the
// port asserts the rule instead: the workflow succeeds exactly when at
// least 3 of the 5 items succeeded, as decided by the
// `hello0-check-success-ratio` helper step dflow also creates.
import { describe, expect, it } from "vitest";
import { Step, TsOPTemplate, Workflow, argo_range } from "dflow-ts";
import { Hello } from "../../fixtures/ops/examples/test_success_ratio.js";
import { useTempWorkdir } from "../support/workdir.js";

describe("examples/test_success_ratio", () => {
  useTempWorkdir();

  it("test_success_ratio", async () => {
    const wf = new Workflow({ name: "success-ratio" });
    const step = new Step({ name: "hello0", template: new TsOPTemplate(Hello, { image: "python:3.8" }), continue_on_success_ratio: 0.6, with_param: argo_range(5) });
    wf.add(step);
    const r = await wf.submit();

    const items = wf.query_step({ name: "hello0" });
    expect(items.length).toBe(5);
    const ok = items.filter((s) => s.phase === "Succeeded").length;
    expect(items.every((s) => s.phase === "Succeeded" || s.phase === "Failed")).toBe(true);
    expect(r.status).toBe(ok >= 3 ? "Succeeded" : "Failed");
    expect(wf.query_step({ name: "hello0-check-success-ratio" })[0].phase).toBe(ok >= 3 ? "Succeeded" : "Failed");
  });
});
