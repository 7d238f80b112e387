// argo-list: the Argo Server API's workflow list over n finished Argo runs,
// as Argo's UI asks for it and then watches it (every WATCH_POLL_MS the
// watch lists the namespace again). One real run (a Steps workflow with a
// 100-item loop, 102 nodes) is made by the local interpreter, then copied
// n - 1 times under other names; a separate `dflow ui` process (the same
// server as `dflow server`) answers: the first GET (every run's nodes read)
// and the next ones (finished runs' Workflow objects kept until their
// argo.json changes), and the server's peak RSS.
import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Workflow } from "dflow-ts";
import { RESULT_MARKER, median, parseChildArgs, round } from "../lib/protocol.js";
import { startUi } from "../lib/ui.js";

const { n, dir } = parseChildArgs();

function done(fields: Record<string, unknown>): void {
  process.stdout.write(`\n${RESULT_MARKER}${JSON.stringify({ shape: "argo-list", n, ...fields })}\n`);
}

const made = await Workflow.from_yaml(`apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: argo-list-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: item, template: say, withSequence: {count: "100"}, arguments: {parameters: [{name: i, value: "{{item}}"}]}}
  - name: say
    inputs: {parameters: [{name: i}]}
    container: {image: busybox, command: [echo, "{{inputs.parameters.i}}"]}
`).submit();
if (made.phase !== "Succeeded") {
  done({ status: "error", error: `the workflow ended ${made.phase}` });
  process.exit(1);
}
const src = path.join(dir, made.id);
for (let i = 1; i < n; i++) {
  const id = `${made.id}-${String(i).padStart(5, "0")}`;
  fs.cpSync(src, path.join(dir, id), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  // The copy is a workflow of its own name (argo.json's), as the list shows it.
  const record = path.join(dir, id, "argo.json");
  fs.writeFileSync(record, JSON.stringify({ ...JSON.parse(fs.readFileSync(record, "utf8")), name: id }));
}

const ui = await startUi(dir);
const url = new URL("/api/v1/workflows/argo", ui.url);
// What Argo's UI's list asks for (shared/services/workflows-service.ts).
url.searchParams.set("fields", "metadata,items.metadata.name,items.metadata.namespace,items.metadata.creationTimestamp,items.status.phase,items.status.progress,items.status.startedAt,items.status.finishedAt");

async function list(): Promise<number> {
  const t0 = performance.now();
  const r = await fetch(url, { headers: { authorization: `Bearer ${ui.token}` } });
  const body = (await r.json()) as { items?: unknown[] };
  if (!r.ok || body.items?.length !== n) throw new Error(`GET ${url.pathname}: ${r.status}, ${body.items?.length} workflows (expected ${n})`);
  return (performance.now() - t0) / 1000;
}

try {
  const first = await list();
  const warm = median([await list(), await list(), await list()]);
  const rss = round(ui.rssMb(), 1);
  done({ status: "ok", wall_s: round(first, 3), api_first_s: round(first, 3), api_warm_s: round(warm, 4), server_rss_mb: rss, engine_peak_rss_mb: rss });
} finally {
  ui.stop();
}
