// `dflow list`: the workflows under the work directory (DFLOW_DEBUG_WORKDIR,
// default the current directory), newest first: id, status, started,
// duration, progress (succeeded Pod steps / all Pod steps).
import type { Command } from "commander";
import { command, printJson } from "./command.js";

export function register(program: Command): void {
  command(program, "list")
    .description("list the workflows under the work directory (DFLOW_DEBUG_WORKDIR, default .), newest first")
    .option("--json", "one JSON array of workflows")
    .option("-s, --status <status>", "only workflows with this status (Running, Succeeded, Failed; an Argo run also Error)")
    .action(async (opts: { json?: boolean; status?: string }) => {
      const { workflowStore } = await import("./common.js");
      const { formatDuration, formatTime, progressText, statusText, table, workflowJson } = await import("./format.js");
      const store = workflowStore();
      const wfs = store.workflows({ status: opts.status });
      if (opts.json) return printJson(wfs.map(workflowJson));
      if (!wfs.length) {
        process.stdout.write(`No workflows in ${store.root}\n`);
        return;
      }
      const rows = [["ID", "STATUS", "STARTED", "DURATION", "PROGRESS"]];
      for (const w of wfs) rows.push([w.id, statusText(w), formatTime(w.started), formatDuration(w.duration), progressText(w.progress)]);
      process.stdout.write(`${table(rows)}\n`);
    });
}
