// Retries and timeouts, enforced as Argo does (dflow's debug mode ignores
// them): a flaky OP retried on TransientError until it succeeds, a slow OP
// killed by its timeout and retried because timeouts count as transient,
// and a shell script retried with exponential backoff. Every failed attempt
// is kept under <stepdir>/attempts/<n>/.
//   node dist/src/cli.js run examples/retries-and-timeouts.ts
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { InputParameter, Inputs, ShellOPTemplate, Step, TsOPTemplate, Workflow } from "dflow-ts";
import { Flaky, Sleeper } from "../fixtures/ops/errors.js";

// The OPs count their attempts in files of a temporary directory, removed at the end.
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "retries-and-timeouts-"));
const here = path.join(stateDir, "state");
const wf = new Workflow({ name: "retries" });
wf.add([
  new Step({ name: "flaky", template: new TsOPTemplate(Flaky, { retry_on_transient_error: 3 }), parameters: { counter: `${here}.flaky`, fail_times: 2 } }),
  new Step({
    name: "slow-once",
    template: new TsOPTemplate(Sleeper, { timeout: 10, timeout_as_transient_error: true, retry_on_transient_error: 1 }),
    parameters: { counter: `${here}.slow`, seconds: 120, slow_times: 1, pidfile: `${here}.pids` },
  }),
  new Step({
    name: "backoff",
    template: new ShellOPTemplate({
      name: "backoff",
      image: "alpine",
      script: 'c={{inputs.parameters.c}}; n=$(cat "$c" 2>/dev/null || echo 0); echo $((n+1)) > "$c"; echo "try $((n+1))"; [ "$n" -ge 1 ]',
      inputs: new Inputs({ parameters: { c: new InputParameter() } }),
      retry_strategy: { limit: 2, duration: "200ms", factor: 2 },
    }),
    parameters: { c: `${here}.backoff` },
  }),
]);
const { id, status } = await wf.submit();
for (const s of wf.query_step()) console.log(`${s.displayName}: ${s.phase}`);
console.log(`workflow ${id}: ${status}`);
fs.rmSync(stateDir, { recursive: true, force: true });
