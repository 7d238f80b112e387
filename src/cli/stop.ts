// `dflow stop <id>` (alias `dflow terminate`): end a running workflow, as
// Workflow.terminate() does (engine/control.ts). Its engine is asked to stop
// (SIGTERM): it kills its steps' processes, marks them and the workflow
// Failed with the reason, and exits. An engine that is already gone is
// cleaned up after: its steps' processes killed, their phases made final.
import type { Command } from "commander";
import { CliError } from "./command.js";

export function register(program: Command): void {
  program
    .command("stop")
    .alias("terminate")
    .description("stop (terminate) a running workflow: its steps and the workflow end Failed, with the reason")
    .argument("<id>", "workflow id")
    .action(async (id: string) => {
      const { terminateWorkflow } = await import("../../engine/control.js");
      const { DflowConfigError } = await import("../errors.js");
      const { workflowDir } = await import("./common.js");
      let r;
      try {
        r = await terminateWorkflow(workflowDir(id), "dflow stop", "stopped");
      } catch (e) {
        throw e instanceof DflowConfigError ? new CliError(e.message) : e;
      }
      if (r.outcome === "stopped") process.stdout.write(`Workflow ${id} stopped\n`);
      else if (r.outcome === "cleaned") process.stdout.write(`Workflow ${id} stopped (its engine was already gone)\n`);
      else process.stdout.write(`Workflow ${id} is not running (${r.status})\n`);
    });
}
