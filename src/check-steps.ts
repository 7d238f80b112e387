// continue_on_num_success / continue_on_success_ratio, as dflow builds them
// (spec §3.4): the step reports success through `dflow_success_tag`, and a
// helper step `<name>-check-num-success` / `<name>-check-success-ratio`
// after it sums the tags and fails unless the threshold is met. The helper
// is a small node script (dflow uses python3) with dflow's inputs and log.
import { InputParameter, Inputs, StepItemCount } from "./io.js";
import { Step, Task } from "./step.js";
import { ScriptOPTemplate } from "./templates.js";

// Valid both as CommonJS and as an ES module (nothing but plain statements):
// node reads the extensionless script as whichever the nearest package.json says.
const CHECK = `const text = String.raw\`{{inputs.parameters.success}}\`;
let succ = 0;
try {
  succ = JSON.parse(text).reduce((a, i) => a + Number.parseInt(String(i), 10), 0);
  if (!Number.isFinite(succ)) succ = 0;
} catch {
  succ = 0;
}
const threshold = THRESHOLD;
const show = (x) => (FLOAT && Number.isInteger(x) ? x.toFixed(1) : String(x));
console.log("Num success: " + succ);
console.log("Threshold: " + show(threshold));
if (!(succ >= threshold)) {
  console.error("AssertionError: " + succ + " of the items succeeded, fewer than the threshold " + show(threshold));
  process.exit(1);
}
`;

/** The check script of a `kind` threshold, before rendering. */
export function checkScript(kind: "num" | "ratio"): string {
  return CHECK.replace("THRESHOLD", kind === "num" ? "Number({{inputs.parameters.threshold}})" : "Number({{inputs.parameters.threshold}}) * Number({{inputs.parameters.total}})").replace("FLOAT", kind === "num" ? "false" : "true");
}

function checkTemplate(kind: "num" | "ratio"): ScriptOPTemplate {
  const params: Record<string, InputParameter> = { success: new InputParameter(), threshold: new InputParameter() };
  if (kind === "ratio") params.total = new InputParameter();
  return new ScriptOPTemplate({
    name: kind === "num" ? "check-num-success" : "check-success-ratio",
    command: [process.execPath],
    script: checkScript(kind),
    inputs: new Inputs({ parameters: params }),
  });
}

/** The check step that follows `step`, or null when it has no success threshold. */
export function checkStepFor(step: Step): Step | null {
  const num = step.continue_on_num_success;
  const ratio = step.continue_on_success_ratio;
  if (num === undefined && ratio === undefined) return null;
  const kind = num !== undefined ? "num" : "ratio";
  const parameters: Record<string, unknown> = { success: step.outputs.parameters.dflow_success_tag, threshold: kind === "num" ? num : ratio };
  if (kind === "ratio") parameters.total = new StepItemCount(step);
  const opts = { name: `${step.name}-check-${kind === "num" ? "num-success" : "success-ratio"}`, template: checkTemplate(kind), parameters };
  if (step instanceof Task) {
    const t = new Task(opts);
    t.after_any = [step.name];
    return t;
  }
  return new Step(opts);
}
