// `dflow download <id> <step-or-key> <artifact> [dir]`: copy an artifact of
// a step (an output artifact, else an input artifact of that name) into dir
// (default "."), through the engine's API (WorkflowStore.download): a
// single-file artifact keeps the name of the file the step wrote, as in dflow.
import path from "node:path";
import type { Command } from "commander";
import { CliError, command, printJson } from "./command.js";

function paths(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.flatMap(paths);
  if (v && typeof v === "object") return Object.values(v).flatMap(paths);
  return [];
}

export function register(program: Command): void {
  command(program, "download")
    .description("download an artifact of a step (found by key, id or name) into a directory")
    .argument("<id>", "workflow id")
    .argument("<step>", "the step's key, id or name (a name must be unique)")
    .argument("<artifact>", "the artifact's name (an output artifact, else an input artifact)")
    .argument("[dir]", "where to put it", ".")
    .option("-m, --method <method>", "copy, link (hard links) or symlink", process.env.DFLOW_DEBUG_COPY_METHOD ?? "copy")
    .option("--skip-exists", "leave a file that is already there with the same content (dflow's skip_exists)")
    .option("--json", "one JSON object {step, id, artifact, dir, paths}")
    .action(async (id: string, sel: string, artifact: string, dir: string, opts: { method: string; json?: boolean; skipExists?: boolean }) => {
      const { workflowStore } = await import("./common.js");
      const { label } = await import("./format.js");
      if (!["copy", "link", "symlink"].includes(opts.method)) throw new CliError(`--method must be copy, link or symlink, got ${JSON.stringify(opts.method)}`);
      const { node, paths: result } = await workflowStore().download(id, sel, artifact, dir, { method: opts.method, skipExists: opts.skipExists });
      const step = node.step;
      const files = paths(result);
      if (opts.json) return printJson({ step: label(node), id: step.id, key: step.key, artifact, dir: path.resolve(dir), paths: result });
      process.stdout.write(`Downloaded ${artifact} of step ${label(node)} (${step.id}) to ${dir}\n`);
      for (const f of files) process.stdout.write(`  ${f}\n`);
    });
}
