// `dflow getkeys <id>`: the keys of the workflow's steps, one per line, in
// execution order (dflow's `getkeys`).
import type { Command } from "commander";
import { command, printJson } from "./command.js";

export function register(program: Command): void {
  command(program, "getkeys")
    .description("print the keys of a workflow's steps, one per line, in execution order")
    .argument("<id>", "workflow id")
    .option("--json", "one JSON array of {key, id, name, type, phase}")
    .action(async (id: string, opts: { json?: boolean }) => {
      const { workflowStore } = await import("./common.js");
      const { flatten } = await import("./format.js");
      const seen = new Set<string>();
      const steps = flatten(workflowStore().tree(id))
        .map((n) => n.step)
        .filter((s) => s.key !== null && !seen.has(s.key) && seen.add(s.key));
      if (opts.json) return printJson(steps.map((s) => ({ key: s.key, id: s.id, name: s.displayName, type: s.type, phase: s.phase })));
      for (const s of steps) process.stdout.write(`${s.key}\n`);
    });
}
