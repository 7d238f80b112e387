// ui-10k: `dflow ui` on a workflow of n shell steps (a fan-out, as users run
// them): the time from opening the workflow's page in headless Chromium to
// its graph drawn (the fan-out node in the SVG), the same for the list, and
// the server's peak RSS. The workflow is made first by the engine in this
// process; the server is a separate `dflow ui` process, as a user runs it.
import { performance } from "node:perf_hooks";
import { InputParameter, Inputs, ShellOPTemplate, Step, Workflow, argo_range } from "dflow-ts";
import { RESULT_MARKER, parseChildArgs, round } from "../lib/protocol.js";
import { launchChromium, startUi } from "../lib/ui.js";

const { n, dir } = parseChildArgs();

function done(fields: Record<string, unknown>): void {
  process.stdout.write(`\n${RESULT_MARKER}${JSON.stringify({ shape: "ui-10k", n, ...fields })}\n`);
}

const t = new ShellOPTemplate({ name: "square", script: "echo $(( {{inputs.parameters.i}} * {{inputs.parameters.i}} ))", inputs: new Inputs({ parameters: { i: new InputParameter() } }) });
const wf = new Workflow({ name: "ui-bench" });
wf.add(new Step({ name: "square", template: t, parameters: { i: "{{item}}" }, with_param: argo_range(n) }));
const made = await wf.submit();
if (made.status !== "Succeeded") {
  done({ status: "error", error: `the ${n}-step workflow ended ${made.status}` });
  process.exit(1);
}

const ui = await startUi(dir);
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  let t0 = performance.now();
  await page.goto(ui.url);
  await page.waitForSelector("a.wf-link", { timeout: 120_000 });
  const list_s = (performance.now() - t0) / 1000;
  t0 = performance.now();
  await page.goto(`${ui.url.split("?")[0]}#/workflows/${made.id}`);
  await page.waitForSelector("g.node-fanout", { timeout: 300_000 });
  const render_s = (performance.now() - t0) / 1000;
  const heap = await page.evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null);
  const rss = round(ui.rssMb(), 1);
  done({
    status: "ok",
    wall_s: round(render_s, 3),
    render_s: round(render_s, 3),
    list_render_s: round(list_s, 3),
    server_rss_mb: rss,
    // The bench's table prints this column: here it is the server's.
    engine_peak_rss_mb: rss,
    page_js_heap_mb: heap === null ? null : round(heap / 1048576, 1),
  });
} finally {
  await browser.close();
  ui.stop();
}
