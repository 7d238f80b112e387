// `dflow delete <id...>`: remove workflow directories, as Workflow.delete()
// (engine/control.ts). A Running workflow whose engine is alive is refused
// unless --force (then it is terminated first when its engine runs here).
import type { Command } from "commander";
import { command } from "./command.js";

export function register(program: Command): void {
  command(program, "delete")
    .description("delete workflows (their directories); a running workflow only with --force")
    .argument("<id...>", "workflow ids")
    .option("-f, --force", "delete even a workflow whose engine is still running (it is stopped first)")
    .action(async (ids: string[], opts: { force?: boolean }) => {
      const { workflowStore } = await import("./common.js");
      const store = workflowStore();
      // Check every id before deleting anything.
      for (const id of ids) store.checkDeletable(id, opts.force);
      for (const id of ids) process.stdout.write(`${await store.delete(id, opts.force, "dflow delete")}\n`);
    });
}
