// `dflow stop <id>` (alias `dflow terminate`): end a running workflow, as
// Workflow.terminate() does (engine/control.ts). Its engine is asked to stop
// (SIGTERM): it kills its steps' processes, marks them and the workflow
// Failed with the reason, and exits. An engine that is already gone is
// cleaned up after: its steps' processes killed, their phases made final.
import type { Command } from "commander";

export function register(program: Command): void {
  program
    .command("stop")
    .alias("terminate")
    .description("stop (terminate) a running workflow: its steps and the workflow end Failed, with the reason")
    .argument("<id>", "workflow id")
    .action(async (id: string) => {
      const { workflowStore } = await import("./common.js");
      process.stdout.write(`${await workflowStore().stop(id, "dflow stop")}\n`);
    });
}
