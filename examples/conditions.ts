// Conditions: `when` on steps (skipped steps leave no directory), and a
// Steps template whose output comes from whichever branch ran
// (if_expression), with a default for when no value can be had.
//   node dist/src/cli.js run examples/conditions.ts
import { InputParameter, Inputs, OutputParameter, Outputs, ShellOPTemplate, Step, Steps, Workflow, expr, if_expression } from "dflow-ts";

const flip = new ShellOPTemplate({
  name: "flip",
  image: "alpine",
  script: "echo {{inputs.parameters.side}} > /tmp/side",
  inputs: new Inputs({ parameters: { side: new InputParameter() } }),
  outputs: new Outputs({ parameters: { side: new OutputParameter({ value_from_path: "/tmp/side" }) } }),
});
const say = new ShellOPTemplate({
  name: "say",
  image: "alpine",
  script: "echo {{inputs.parameters.what}} | tee /tmp/said",
  inputs: new Inputs({ parameters: { what: new InputParameter() } }),
  outputs: new Outputs({ parameters: { said: new OutputParameter({ value_from_path: "/tmp/said" }) } }),
});

const game = new Steps({ name: "game" });
const coin = new Step({ name: "coin", template: flip, parameters: { side: "heads" } });
game.add(coin);
const heads = new Step({ name: "heads", template: say, parameters: { what: "it was heads" }, when: `${coin.outputs.parameters.side} == heads` });
const tails = new Step({ name: "tails", template: say, parameters: { what: "it was tails" }, when: `${coin.outputs.parameters.side} == tails` });
game.add([heads, tails]);
game.outputs.parameters.result = new OutputParameter({
  value_from_expression: if_expression({ _if: expr`trim(${coin.outputs.parameters.side}) == 'heads'`, _then: heads.outputs.parameters.said, _else: tails.outputs.parameters.said }),
});
game.outputs.parameters.from_tails = new OutputParameter({ value_from_parameter: tails.outputs.parameters.said, default: "tails did not run" });

const wf = new Workflow({ name: "conditions" });
wf.add(new Step({ name: "game", template: game }));
const { id, status } = await wf.submit();
const [g] = wf.query_step({ name: "game" });
console.log(`workflow ${id}: ${status}; result: ${String(g.outputs.parameters.result.value).trim()}; from_tails: ${g.outputs.parameters.from_tails.value}`);
console.log(`steps with directories: ${wf.query_step().map((s) => s.displayName).join(", ")}`);
if (wf.query_step({ name: "tails" }).length !== 0) process.exitCode = 1;
