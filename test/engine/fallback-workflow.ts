// Run by fallbacks.test.ts through the real binary: a TransientError retried
// until it succeeds, and a timeout that must fire (the OP would sleep an
// hour) retried once because timeouts count as transient here. Neither
// outcome depends on how fast this machine starts node: nothing has to
// finish within a timeout.
import fs from "node:fs";
import path from "node:path";
import { Step, TsOPTemplate, Workflow } from "dflow-ts";
import { Flaky, Sleeper } from "../../fixtures/ops/errors.js";

const here = path.resolve("fallback.state");
const wf = new Workflow({ name: "fallback" });
wf.add([
  new Step({ name: "flaky", template: new TsOPTemplate(Flaky, { retry_on_transient_error: 3 }), parameters: { counter: `${here}.flaky`, fail_times: 2 } }),
  new Step({
    name: "hang",
    template: new TsOPTemplate(Sleeper, { timeout: 2, timeout_as_transient_error: true, retry_on_transient_error: 1 }),
    parameters: { counter: `${here}.hang`, seconds: 3600, pidfile: `${here}.pids` },
    continue_on_failed: true,
  }),
]);
const { id, status } = await wf.submit();
for (const s of wf.query_step()) {
  console.log(`${s.displayName}: ${s.phase}`);
  if (s.message) console.log(`message of ${s.displayName}: ${JSON.stringify(s.message)}`);
  const attempts = path.join(s.dir, "attempts");
  if (fs.existsSync(attempts)) {
    for (const a of fs.readdirSync(attempts).sort()) console.log(`attempt ${a} of ${s.displayName}: ${JSON.stringify(fs.readFileSync(path.join(attempts, a, "message"), "utf8"))}`);
  }
}
console.log(`workflow ${id}: ${status}`);
