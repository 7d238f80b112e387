// `dflow report`: one self-contained HTML file of a workflow (graph,
// timeline, step table with phases, durations, messages and parameters, the
// logs' ends) that a CI job keeps as an artifact: the UI's own page (dist/ui)
// with its script, its styles and the data inlined, no server, no network.
import fs from "node:fs";
import path from "node:path";
import type { WorkflowStore } from "../../engine/api/workflows.js";
import type { ReportJson } from "../../engine/api/json.js";
import { flatten } from "../../engine/api/read.js";
import { UI_DIR } from "./server.js";

/** Past these, a report keeps every step's summary but not every detail and log (the file stays openable). */
const MAX_DETAILS = 2000;
const MAX_LOGS = 300;
const LOG_BYTES = 16 * 1024;

export function reportData(store: WorkflowStore, id: string): ReportJson {
  // One reading of the steps: the details below come from these nodes.
  const { workflow, nodes } = store.read(id);
  const wfdir = workflow.dir;
  const graph = workflow.graph;
  const all = flatten(nodes);
  // Failed steps first: they are what a report is opened for.
  const rank = (p: string) => (p === "Failed" || p === "Error" ? 0 : 1);
  const ordered = [...all].sort((a, b) => rank(a.step.phase) - rank(b.step.phase));
  const steps: ReportJson["steps"] = {};
  const logs: Record<string, string> = {};
  let details = 0;
  let logCount = 0;
  let logsLeftOut = 0;
  for (const node of ordered) {
    const s = node.step;
    if (details < MAX_DETAILS) {
      try {
        steps[s.id] = store.detail(wfdir, node, graph);
        details++;
      } catch {
        // vanished meanwhile
      }
    }
    if (s.type === "Pod") {
      if (logCount >= MAX_LOGS) {
        logsLeftOut++;
        continue;
      }
      const chunk = store.log(id, s.id, -LOG_BYTES);
      if (chunk.text) {
        logs[s.id] = chunk.size > LOG_BYTES ? `[… first ${chunk.size - LOG_BYTES} bytes left out …]\n${chunk.text}` : chunk.text;
        logCount++;
      }
    }
  }
  return { workflow, steps, logs, generated: new Date().toISOString(), omitted: { details: all.length - details, logs: logsLeftOut } };
}

/** Text safe inside a <script> element. */
function scriptSafe(text: string): string {
  return text.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

export function reportHtml(data: ReportJson, uiDir = UI_DIR): string {
  const js = path.join(uiDir, "assets", "ui.js");
  const css = path.join(uiDir, "assets", "ui.css");
  if (!fs.existsSync(js)) throw new Error(`the UI page is not built (${js} is missing): run \`npm run build\` in the dflow-ts checkout`);
  const json = JSON.stringify(data).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
  const title = `dflow report: ${String(data.workflow.id)} (${String(data.workflow.status)})`.replace(/[<&>]/g, (c) => `&#${c.charCodeAt(0)};`);
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${title}</title>`,
    fs.existsSync(css) ? `<style>${fs.readFileSync(css, "utf8").replace(/<\/style/gi, "<\\/style")}</style>` : "",
    `<script>window.__DFLOW_REPORT__ = ${json};</script>`,
    "</head><body>",
    '<div id="app"></div>',
    `<script type="module">${scriptSafe(fs.readFileSync(js, "utf8"))}</script>`,
    "</body></html>",
    "",
  ].join("\n");
}
