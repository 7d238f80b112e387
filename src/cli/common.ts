// Shared by the `dflow` commands: the work directory and the engine's API over
// it (and, from command.ts, one clear line for bad input, --json output).
import path from "node:path";
import { WorkflowStore } from "../../engine/api/workflows.js";
import { config } from "../config.js";
import { dflowCommand } from "./command.js";

export { CliError, dflowCommand, printJson } from "./command.js";

/** The directory workflows live in (DFLOW_DEBUG_WORKDIR, default the current directory). */
export function workRoot(): string {
  return path.resolve(config.debug_workdir);
}

/**
 * The workflows of the work directory, as the commands read and control
 * them; its refusals (an unknown id, a running workflow) name the command to
 * run instead, and reach the user as one line (src/cli.ts).
 */
export function workflowStore(): WorkflowStore {
  return new WorkflowStore(workRoot(), { command: dflowCommand() });
}
