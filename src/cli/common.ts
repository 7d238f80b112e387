// Shared by the `dflow` commands: one clear line for bad input, the
// workflow directory of an id, --json output.
import fs from "node:fs";
import path from "node:path";
import { config } from "../config.js";

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
  }
}

/**
 * How the user runs dflow, for the commands our hints print: `npx dflow` for
 * an install (the bin is under node_modules, or on the PATH), else the path
 * of this script, e.g. `node dist/src/cli.js` in a checkout, where npx would
 * look for "dflow" in the registry.
 */
export function dflowCommand(cwd = process.cwd()): string {
  const argv1 = process.argv[1] ?? "";
  if (argv1.includes(`${path.sep}node_modules${path.sep}`) || path.basename(argv1) === "dflow") return "npx dflow";
  const rel = path.relative(cwd, argv1);
  return `node ${rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : argv1}`;
}

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

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
