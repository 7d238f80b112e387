// `dflow get <id>`: the workflow's status and its steps as a tree in
// execution order (like `argo get`): phase, duration, key, progress and the
// reason of a failure. Exit status 0: the command worked (see `watch` for an
// exit status that follows the workflow).
import type { Command } from "commander";
import { command, printJson } from "./command.js";

export function register(program: Command): void {
  command(program, "get")
    .description("show a workflow: status, and its steps in execution order with phase, duration, key and progress")
    .argument("<id>", "workflow id")
    .option("--json", "one JSON object: the workflow's fields and `steps`, a tree")
    .action(async (id: string, opts: { json?: boolean }) => {
      const { workflowStore } = await import("./common.js");
      const { nodeJson, renderWorkflow, workflowJson } = await import("./format.js");
      const { info, nodes } = workflowStore().snapshot(id);
      if (opts.json) return printJson({ ...workflowJson(info), steps: nodes.map(nodeJson) });
      process.stdout.write(renderWorkflow(info, nodes));
    });
}
