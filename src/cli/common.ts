// Shared by the `dflow` commands: the workflow directory of an id (and, from
// command.ts, one clear line for bad input, --json output).
import fs from "node:fs";
import path from "node:path";
import { config } from "../config.js";
import { CliError, dflowCommand } from "./command.js";

export { CliError, dflowCommand, printJson } from "./command.js";

/** The directory workflows live in (DFLOW_DEBUG_WORKDIR, default the current directory). */
export function workRoot(): string {
  return path.resolve(config.debug_workdir);
}

/** The directory of workflow `id`, or a CliError naming what was looked for. */
export function workflowDir(id: string): string {
  const dir = path.join(workRoot(), id);
  if (!fs.existsSync(path.join(dir, "status"))) throw new CliError(`no workflow ${JSON.stringify(id)} in ${workRoot()} (set DFLOW_DEBUG_WORKDIR or cd to where it ran; \`${dflowCommand()} list\` shows the workflows there)`);
  return dir;
}

