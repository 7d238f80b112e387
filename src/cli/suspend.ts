// `dflow suspend <id>` / `dflow resume <id>`: no step of the workflow starts
// while it is suspended (running steps finish), as Workflow.suspend() /
// resume() (engine/control.ts). Works whichever process runs it.
import type { Command } from "commander";
import { CliError } from "./command.js";

export function register(program: Command): void {
  program
    .command("suspend")
    .description("suspend a running workflow: no new step starts until `dflow resume`; running steps finish")
    .argument("<id>", "workflow id")
    .action(async (id: string) => {
      const { suspendWorkflow } = await import("../../engine/control.js");
      const { DflowConfigError } = await import("../errors.js");
      const { workflowDir } = await import("./common.js");
      let changed: boolean;
      try {
        changed = suspendWorkflow(workflowDir(id), "dflow suspend");
      } catch (e) {
        throw e instanceof DflowConfigError ? new CliError(e.message) : e;
      }
      process.stdout.write(changed ? `Workflow ${id} suspended\n` : `Workflow ${id} was already suspended\n`);
    });
  program
    .command("resume")
    .description("resume a suspended workflow: its steps start again")
    .argument("<id>", "workflow id")
    .action(async (id: string) => {
      const { resumeWorkflow } = await import("../../engine/control.js");
      const { workflowDir } = await import("./common.js");
      const changed = resumeWorkflow(workflowDir(id));
      process.stdout.write(changed ? `Workflow ${id} resumed\n` : `Workflow ${id} was not suspended\n`);
    });
}
