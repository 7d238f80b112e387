// The page of `dflow ui` in a real browser (Debian's Chromium through
// playwright-core) against the real server and workflows that `dflow run`
// produced: the token kept and hidden, the list, the graph coloured by phase,
// a failed step's panel with its log, a change on disk reaching the open page,
// and `dflow report`'s file opened with no server. Skips with a reason where
// Chromium is missing; fails in CI.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { type Browser, type Page, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type UiServer, startUiServer } from "../../src/ui/server.js";
import { CLI, ROOT, makeUiProject, runIn, startGated } from "../support/ui.js";
import { BROWSER_SKIP_REASON, CHROMIUM_ARGS, chromiumPath } from "../support/browser.js";

const root = ROOT;
const cli = CLI;
const exe = chromiumPath();
if (!exe) console.warn(`[browser tests skipped] ${BROWSER_SKIP_REASON}`);


/** Screenshots of every test, for a person to look at (not compared). */
const SHOTS = path.join(ROOT, "test-output", "ui");

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

/** Select a step in the graph by its name (keyboard: a node outside the view cannot be clicked). */
async function selectStep(page: Page, name: string): Promise<void> {
  const node = page.locator(`g.node-step g[role=button][aria-label^="${name}"]`).first();
  await node.focus();
  await page.keyboard.press("Enter");
  await page.waitForSelector(`.panel h2:has-text("${name}")`);
}

let work = "";
let server: UiServer;
let browser: Browser;
const ids: Record<string, string> = {};

const run = (file: string, extra: Record<string, string> = {}) => runIn(work, file, extra);

async function open(url: string): Promise<Page> {
  const page = await browser.newPage();
  // No timing margin: a busy machine may take long; the test's own timeout is the backstop.
  page.setDefaultTimeout(0);
  page.on("pageerror", (e) => {
    throw e;
  });
  await page.goto(url);
  return page;
}

describe.skipIf(!exe)("the page in Chromium", () => {
  beforeAll(async () => {
    work = makeUiProject("dflow-ui-browser-");
    ids.nested = await run(path.join(root, "examples", "nested-steps-in-dag.ts"));
    ids.failure = await run(path.join(root, "examples", "failure.ts"));
    ids.artifacts = await run(path.join(root, "examples", "artifacts.ts"));
    ids.dispatched = await run(path.join(root, "examples", "hpc-dispatcher.ts"));
    server = await startUiServer({ root: work, port: 0 });
    browser = await chromium.launch({ executablePath: exe!, args: CHROMIUM_ARGS });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (work && !process.env.DFLOW_KEEP_TEST_DIRS) fs.rmSync(work, { recursive: true, force: true });
  });

  it("keeps the token from the URL, takes it out of the address bar, and lists the workflows", async () => {
    const page = await open(server.openUrl);
    await page.waitForSelector(".wf-table tbody tr a.wf-link");
    expect(page.url()).not.toContain("token=");
    expect(await page.evaluate(() => localStorage.getItem("dflow-ui-token"))).toBe(server.token);
    const rows = await page.locator("a.wf-link").allTextContents();
    expect(rows.sort()).toEqual(Object.values(ids).sort());
    await shot(page, "list");
    // The token stays with the page: a reload without it still works.
    await page.reload();
    await page.waitForSelector("a.wf-link");
    await page.close();
  });

  it("says how to get in without the token", async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    page.setDefaultTimeout(0);
    await page.goto(server.url);
    await page.waitForSelector(".auth-box");
    expect(await page.locator(".auth-box").textContent()).toMatch(/token/);
    await ctx.close();
  });

  it("draws a DAG with its nested Steps, every node coloured by its phase", async () => {
    const page = await open(`${server.openUrl}#/workflows/${ids.nested}`);
    await page.waitForSelector("g.node-step");
    const labels = await page.locator("g.node-step g[role=button]").evaluateAll((els) => els.map((e) => e.getAttribute("aria-label") ?? ""));
    for (const name of ["start", "twice", "plus-one", "report"]) expect(labels.some((l) => l.startsWith(name)), `${name} in ${labels.join(" | ")}`).toBe(true);
    expect(await page.locator("g.node-step.ph-Succeeded").count()).toBe(await page.locator("g.node-step").count());
    expect(await page.locator("path.edge").count()).toBeGreaterThanOrEqual(3);
    await shot(page, "dag");
    await page.close();
  });

  it("opens a failed step's panel with its reason and its log", async () => {
    const page = await open(`${server.openUrl}#/workflows/${ids.failure}`);
    await page.waitForSelector("g.node-step.ph-Failed");
    const failed = page.locator("g.node-step.ph-Failed g[role=button]").first();
    await failed.focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector(".panel h2");
    await page.waitForSelector(".log-text");
    expect((await page.locator(".log-text").textContent())!.length).toBeGreaterThan(0);
    expect(await page.locator(".panel").textContent()).toMatch(/Failed/);
    await shot(page, "failed-step");
    await page.close();
  });

  it("names the cluster and the job id of a step sent to a batch scheduler", async () => {
    const page = await open(`${server.openUrl}#/workflows/${ids.dispatched}`);
    await selectStep(page, "hello");
    const facts = page.locator(".panel .facts-table");
    await facts.locator("text=Cluster").first().waitFor();
    const text = (await facts.textContent())!;
    // examples/hpc-dispatcher.ts without HPC_JSON: DPDispatcher's Shell batch with a LocalContext.
    expect(text).toMatch(/Shell on\s*localhost/);
    expect(text).toMatch(/Shell job ids\s*\d+/);
    await shot(page, "remote-step");
    await page.close();
  });

  it("follows a running workflow: a change on disk reaches the open page", async () => {
    const gate = path.join(work, "gate");
    const { child, id } = await startGated(work, gate);
    try {
      const page = await open(`${server.openUrl}#/workflows/${id}`);
      await page.waitForSelector("g.node-step.ph-Running");
      // The step's log as it is written: its first line now, its last once released.
      await selectStep(page, "gated");
      await page.waitForSelector('.log-text:has-text("waiting for the gate")');
      expect(await page.locator(".log-text").textContent()).not.toContain("released");
      await shot(page, "running");
      fs.writeFileSync(gate, "");
      await page.waitForSelector("g.node-step.ph-Succeeded");
      await page.waitForSelector('.log-text:has-text("released")');
      await page.waitForFunction(() => document.body.textContent?.includes("Succeeded"));
      await shot(page, "succeeded-live");
      await page.close();
    } finally {
      fs.writeFileSync(gate, "");
      await child;
    }
  });

  it("shows an artifact's text", async () => {
    const page = await open(`${server.openUrl}#/workflows/${ids.artifacts}`);
    await page.waitForSelector("g.node-step");
    await selectStep(page, "show");
    await page.locator('.files .files-head button:has-text("report")').first().click();
    await page.locator('.files-body button:has-text("report.txt")').click();
    await page.waitForSelector(".file-text");
    expect(await page.locator(".file-text").textContent()).toMatch(/\d/);
    await shot(page, "artifact");
    await page.close();
  });

  it("stops a running workflow from the page: it ends Failed with the reason", async () => {
    const { child, id } = await startGated(work, path.join(work, "never"));
    const page = await open(`${server.openUrl}#/workflows/${id}`);
    await page.waitForSelector("g.node-step.ph-Running");
    await page.locator('button.btn:has-text("Stop")').click();
    await shot(page, "stop-dialog");
    await page.locator("dialog button[type=submit]").click();
    await page.waitForSelector("g.node-step.ph-Failed");
    await page.waitForSelector('.badge:has-text("Failed")');
    expect(await page.locator("body").textContent()).toMatch(/stopped \(dflow ui/);
    await shot(page, "stopped");
    await page.close();
    const r = await child;
    expect(r.exitCode).not.toBe(0);
    expect(fs.readFileSync(path.join(work, id, "status"), "utf8")).toBe("Failed");
  });

  it("draws a 10,000-step workflow with its fan-out as one node", async () => {
    fs.writeFileSync(
      path.join(work, "big.ts"),
      `import { ShellOPTemplate, Step, Workflow, argo_range } from "dflow-ts";
const wf = new Workflow({ name: "big" });
wf.add(new Step({ name: "square", template: new ShellOPTemplate({ name: "noop", script: "true" }), with_param: argo_range(10000) }));
await wf.submit();
`,
    );
    const id = await run("big.ts");
    const page = await open(`${server.openUrl}#/workflows/${id}`);
    await page.waitForSelector("g.node-fanout");
    expect(await page.locator("g.node-fanout").textContent()).toContain("square ×10000");
    // Collapsed: a handful of nodes, not 10,000.
    expect(await page.locator("g.node").count()).toBeLessThan(20);
    await shot(page, "fanout-10k");
    await page.close();
  }, 900_000);

  it("opens `dflow report`'s file with no server and no network", async () => {
    const out = path.join(work, "report.html");
    await execa(process.execPath, [cli, "report", ids.failure!, "-o", out], { cwd: work, env: { DFLOW_DEBUG_WORKDIR: work } });
    const page = await browser.newPage();
    page.setDefaultTimeout(0);
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(out).href);
    await page.waitForSelector("g.node-step.ph-Failed");
    expect(requests.filter((u) => !u.startsWith("file:") && !u.startsWith("data:"))).toEqual([]);
    await page.close();
  });
});
