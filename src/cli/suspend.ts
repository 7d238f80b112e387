// `dflow suspend <id>` / `dflow resume <id>`: no step of the workflow starts
// while it is suspended (running steps finish), as Workflow.suspend() /
// resume() (engine/control.ts). Works whichever process runs it.
import type { Command } from "commander";

export function register(program: Command): void {
  program
    .command("suspend")
    .description("suspend a running workflow: no new step starts until `dflow resume`; running steps finish")
    .argument("<id>", "workflow id")
    .action(async (id: string) => {
      const { workflowStore } = await import("./common.js");
      process.stdout.write(`${workflowStore().suspend(id, "dflow suspend")}\n`);
    });
  program
    .command("resume")
    .description("resume a suspended workflow: its steps start again")
    .argument("<id>", "workflow id")
    .action(async (id: string) => {
      const { workflowStore } = await import("./common.js");
      process.stdout.write(`${workflowStore().resume(id)}\n`);
    });
}
