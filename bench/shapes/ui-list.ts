// ui-list: `dflow ui` over a work directory of n workflows (issue 11: "a work
// directory with 1,000 workflows stays fast"). One real workflow (a Steps
// workflow with a 4-item fan-out, 6 steps) is run by the engine, then copied
// n - 1 times under other ids, so that the list has n ended workflows to
// read. Measured against a separate `dflow ui` process, as a user runs it:
// the first GET /api/workflows (every workflow read), the next ones (ended
// workflows come from the server's cache until their status changes), the
// list drawn in headless Chromium, and the server's peak RSS.
import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { InputParameter, Inputs, ShellOPTemplate, Step, Workflow, argo_range } from "dflow-ts";
import { RESULT_MARKER, median, parseChildArgs, round } from "../lib/protocol.js";
import { launchChromium, startUi } from "../lib/ui.js";

const { n, dir } = parseChildArgs();

function done(fields: Record<string, unknown>): void {
  process.stdout.write(`\n${RESULT_MARKER}${JSON.stringify({ shape: "ui-list", n, ...fields })}\n`);
}

const t = new ShellOPTemplate({ name: "square", script: "echo $(( {{inputs.parameters.i}} * {{inputs.parameters.i}} ))", inputs: new Inputs({ parameters: { i: new InputParameter() } }) });
const wf = new Workflow({ name: "ui-list" });
wf.add(new Step({ name: "first", template: t, parameters: { i: "1" } }));
wf.add(new Step({ name: "square", template: t, parameters: { i: "{{item}}" }, with_param: argo_range(4) }));
const made = await wf.submit();
if (made.status !== "Succeeded") {
  done({ status: "error", error: `the workflow ended ${made.status}` });
  process.exit(1);
}
const src = path.join(dir, made.id);
for (let i = 1; i < n; i++) fs.cpSync(src, path.join(dir, `${made.id}-${String(i).padStart(5, "0")}`), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });

const ui = await startUi(dir);
const base = new URL(ui.url);

async function list(): Promise<number> {
  const t0 = performance.now();
  const r = await fetch(new URL("/api/workflows", base), { headers: { authorization: `Bearer ${ui.token}` } });
  const body = (await r.json()) as unknown[];
  if (!r.ok || body.length !== n) throw new Error(`GET /api/workflows: ${r.status}, ${body.length} workflows (expected ${n})`);
  return (performance.now() - t0) / 1000;
}

try {
  const first = await list();
  const warm = median([await list(), await list(), await list()]);
  const browser = await launchChromium();
  let render = 0;
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const t0 = performance.now();
    await page.goto(ui.url);
    await page.waitForSelector("a.wf-link", { timeout: 120_000 });
    render = (performance.now() - t0) / 1000;
  } finally {
    await browser.close();
  }
  const rss = round(ui.rssMb(), 1);
  done({
    status: "ok",
    wall_s: round(first, 3),
    api_first_s: round(first, 3),
    api_warm_s: round(warm, 4),
    list_render_s: round(render, 3),
    server_rss_mb: rss,
    engine_peak_rss_mb: rss,
  });
} finally {
  ui.stop();
}
