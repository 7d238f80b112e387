// `dflow suspend <id>` / `dflow resume <id>`: no step of the workflow starts
// while it is suspended (running steps finish), as Workflow.suspend() /
// resume() (engine/control.ts). Works whichever process runs it.
import type { Command } from "commander";
import { resumeWorkflow, suspendWorkflow } from "../../engine/control.js";
import { DflowConfigError } from "../errors.js";
import { CliError, workflowDir } from "./common.js";

export function register(program: Command): void {
  program
    .command("suspend")
    .description("suspend a running workflow: no new step starts until `dflow resume`; running steps finish")
    .argument("<id>", "workflow id")
    .action((id: string) => {
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
    .action((id: string) => {
      const changed = resumeWorkflow(workflowDir(id));
      process.stdout.write(changed ? `Workflow ${id} resumed\n` : `Workflow ${id} was not suspended\n`);
    });
}
