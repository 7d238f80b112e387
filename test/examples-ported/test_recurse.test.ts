// Port of dflow's examples/test_recurse.py: a shell template (inputs and
// outputs assigned after construction) in a Steps that calls itself until
// `when` is false (limit 3).
import { describe, expect, it } from "vitest";
import { InputParameter, Inputs, OutputParameter, ShellOPTemplate, Step, Steps, Workflow } from "dflow-ts";
import { read, useTempWorkdir } from "../support/workdir.js";

describe("examples/test_recurse", () => {
  useTempWorkdir();

  it("test_recurse", async () => {
    const plus1 = new ShellOPTemplate({
      name: "plus1",
      image: "alpine:3.15",
      script: "echo 'This is iter {{inputs.parameters.iter}}' && echo $(({{inputs.parameters.iter}}+1)) > /tmp/result.txt",
    });
    plus1.inputs.parameters = { iter: new InputParameter() };
    plus1.outputs.parameters = { iter: new OutputParameter({ value_from_path: "/tmp/result.txt" }) };

    const steps = new Steps({ name: "iter", inputs: new Inputs({ parameters: { iter: new InputParameter({ value: 0 }), limit: new InputParameter({ value: 3 }) } }) });
    const hello = new Step({ name: "hello", template: plus1, parameters: { iter: steps.inputs.parameters.iter } });
    steps.add(hello);
    const next = new Step({
      name: "next",
      template: steps,
      parameters: { iter: hello.outputs.parameters.iter },
      when: `${hello.outputs.parameters.iter} < ${steps.inputs.parameters.limit}`,
    });
    steps.add(next);

    const wf = new Workflow({ name: "recurse", steps });
    await wf.submit();

    expect(wf.query_status()).toBe("Succeeded");
    // Beyond dflow's assertion: three levels ran, the last `next` was skipped.
    const hellos = wf.query_step({ name: "hello" });
    // The iter passed down is the value_from_path file verbatim ("1\n"), as in
    // dflow's debug mode (spec §2.7; get_var does not strip), so the echoed
    // line has an extra newline; Argo would trim it to "1".
    expect(hellos.map((s) => read(s.log_path)).sort()).toEqual(["This is iter 0\n", "This is iter 1\n\n", "This is iter 2\n\n"]);
    expect(wf.query_step({ name: "next" }).length).toBe(2);
  });
});
