// Port of dflow's examples/test_error_handling.py: a TransientError retried
// once, a timeout counted as transient and retried once (both steps
// continue_on_failed), then a FatalError, which is not retried and fails
// the workflow.
//
// dflow asserts nothing (it only submits). On Argo the three steps behave
// as described above. dflow's debug mode ignores retries and timeouts
// (spec §11.2-3): there hello1 would sleep its full 100 s and succeed, and
// each step would run once. dflow-ts enforces them as Argo does, so the port
// asserts Argo's outcome.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Step, TsOPTemplate, Workflow } from "dflow-ts";
import { Goodbye, Hello, Timeout } from "../../fixtures/ops/examples/test_error_handling.js";
import { useTempWorkdir } from "../support/workdir.js";

const attempts = (dir: string) => (fs.existsSync(path.join(dir, "attempts")) ? fs.readdirSync(path.join(dir, "attempts")).length : 0);

describe("examples/test_error_handling", () => {
  useTempWorkdir();

  it("test_error_handling", async () => {
    const wf = new Workflow({ name: "error-handling" });
    let step = new Step({ name: "hello0", template: new TsOPTemplate(Hello, { image: "python:3.8", retry_on_transient_error: 1 }), continue_on_failed: true });
    wf.add(step);
    step = new Step({
      name: "hello1",
      template: new TsOPTemplate(Timeout, { image: "python:3.8", timeout: 10, retry_on_transient_error: 1, timeout_as_transient_error: true }),
      continue_on_failed: true,
    });
    wf.add(step);
    step = new Step({ name: "hello2", template: new TsOPTemplate(Goodbye, { image: "python:3.8", retry_on_transient_error: 1 }) });
    wf.add(step);
    const r = await wf.submit();

    expect(r.status).toBe("Failed");
    const [h0] = wf.query_step({ name: "hello0" });
    const [h1] = wf.query_step({ name: "hello1" });
    const [h2] = wf.query_step({ name: "hello2" });
    expect([h0.phase, h1.phase, h2.phase]).toEqual(["Failed", "Failed", "Failed"]);
    // Retried once each (one earlier attempt kept), the FatalError never.
    expect(attempts(h0.dir)).toBe(1);
    expect(attempts(h1.dir)).toBe(1);
    expect(attempts(h2.dir)).toBe(0);
  });
});
