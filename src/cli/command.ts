// What every `dflow` command declares itself with, and nothing heavier: the
// CLI imports every command module to list them (`dflow --help`), so these
// modules import only this file and node's own; each command's action loads
// the code it runs (the engine, zod through the configuration) when it runs.
import path from "node:path";
import type { Command } from "commander";

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

/** An Argo run's end (`dflow run wf.yaml`, `dflow retry|resubmit` of one), one line; the exit status: 0 only when it succeeded. */
export function argoOutcome(r: { id: string; phase: string; message?: string }): number {
  process.stderr.write(`dflow: workflow ${r.id} ${r.phase}${r.message ? `: ${r.message}` : ""}\n`);
  return r.phase === "Succeeded" ? 0 : 1;
}

/** `name=value` options (`-p`, `--output`), by name; a CliError naming the option for one without `=`. */
export function nameValues(texts: string[], option: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of texts) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new CliError(`${option} ${kv}: expected name=value`);
    out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/**
 * A subcommand whose argument errors are one line (`dflow: missing required
 * argument 'id'`) and exit status 2, without the help text.
 */
export function command(program: Command, name: string): Command {
  quietPipe();
  return program
    .command(name)
    .showHelpAfterError(false)
    .configureOutput({ outputError: () => undefined })
    .exitOverride((err) => {
      if (err.exitCode === 0) return; // --help: commander exits 0 itself
      throw new CliError(err.message.replace(/^error: /, ""), 2);
    });
}

let pipeHandled = false;
/** `dflow logs … | head`: a closed stdout ends the command quietly. */
function quietPipe(): void {
  if (pipeHandled) return;
  pipeHandled = true;
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
}
