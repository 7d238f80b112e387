// `dflow download <id> <step-or-key> <artifact> [dir]`: copy an artifact of
// a step (an output artifact, else an input artifact of that name) into dir
// (default "."), with download_artifact: a single-file artifact keeps the
// name of the file the step wrote, as in dflow.
import path from "node:path";
import type { Command } from "commander";
import { CliError, command, dflowCommand, printJson } from "./command.js";

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
      const { config } = await import("../config.js");
      const { download_artifact } = await import("../../engine/artifacts/upload.js");
      const { workflowDir } = await import("./common.js");
      const { label, selectSteps, stepTree } = await import("./format.js");
      if (!["copy", "link", "symlink"].includes(opts.method)) throw new CliError(`--method must be copy, link or symlink, got ${JSON.stringify(opts.method)}`);
      const nodes = selectSteps(stepTree(id, workflowDir(id)), sel);
      if (!nodes.length) throw new CliError(`workflow ${id} has no step with key, id or name ${JSON.stringify(sel)} (\`${dflowCommand()} get ${id}\` lists them)`);
      if (nodes.length > 1) throw new CliError(`${nodes.length} steps of workflow ${id} are named ${JSON.stringify(sel)}: give a key or an id (${nodes.slice(0, 5).map((n) => n.step.key ?? n.step.id).join(", ")}${nodes.length > 5 ? ", …" : ""})`);
      const node = nodes[0]!;
      const step = node.step;
      const art = step.outputs.artifacts[artifact] ?? step.inputs.artifacts[artifact];
      if (!art) {
        const have = [...Object.keys(step.outputs.artifacts).map((a) => `output ${a}`), ...Object.keys(step.inputs.artifacts).map((a) => `input ${a}`)];
        throw new CliError(`step ${label(node)} (${step.id}) has no artifact ${JSON.stringify(artifact)}${have.length ? ` (it has: ${have.join(", ")})` : " (it has none)"}`);
      }
      const saved = config.debug_copy_method;
      config.debug_copy_method = opts.method;
      let result: unknown;
      try {
        result = await download_artifact(art, { path: dir, skip_exists: opts.skipExists });
      } catch (e) {
        throw new CliError(`cannot download ${artifact} of step ${label(node)}: ${(e as Error).message}`, 1);
      } finally {
        config.debug_copy_method = saved;
      }
      const files = paths(result);
      if (opts.json) return printJson({ step: label(node), id: step.id, key: step.key, artifact, dir: path.resolve(dir), paths: result });
      process.stdout.write(`Downloaded ${artifact} of step ${label(node)} (${step.id}) to ${dir}\n`);
      for (const f of files) process.stdout.write(`  ${f}\n`);
    });
}
