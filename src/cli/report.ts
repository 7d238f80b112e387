// `dflow report <id> [-o report.html]`: a workflow as one self-contained
// HTML file (src/ui/report.ts), for a CI job to keep.
import type { Command } from "commander";
import { CliError, command } from "./command.js";

export function register(program: Command): void {
  command(program, "report")
    .description("write one self-contained HTML report of a workflow (graph, timeline, steps, logs' ends): no server needed to open it")
    .argument("<id>", "workflow id")
    .option("-o, --output <file>", "where to write it (default <id>.html; - for standard output)")
    .action(async (id: string, opts: { output?: string }) => {
      const fs = await import("node:fs");
      const { workflowStore } = await import("./common.js");
      const { reportData, reportHtml } = await import("../ui/report.js");
      const store = workflowStore();
      store.dirOf(id); // one clear line for an unknown id (exit status 2)
      let html: string;
      try {
        html = reportHtml(reportData(store, id));
      } catch (e) {
        throw new CliError((e as Error).message, 1);
      }
      const out = opts.output ?? `${id}.html`;
      if (out === "-") {
        process.stdout.write(html);
        return;
      }
      fs.writeFileSync(out, html);
      process.stdout.write(`Report of workflow ${id} written to ${out} (${Math.round(html.length / 1024)} kB)\n`);
    });
}
