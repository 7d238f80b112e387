// `dflow delete <id...>`: remove workflow directories, as Workflow.delete()
// (engine/control.ts). A Running workflow whose engine is alive is refused
// unless --force (then it is terminated first when its engine runs here).
import type { Command } from "commander";
import { CliError, command } from "./command.js";

export function register(program: Command): void {
  command(program, "delete")
    .description("delete workflows (their directories); a running workflow only with --force")
    .argument("<id...>", "workflow ids")
    .option("-f, --force", "delete even a workflow whose engine is still running (it is stopped first)")
    .action(async (ids: string[], opts: { force?: boolean }) => {
      const { checkDeletable, deleteWorkflow } = await import("../../engine/control.js");
      const { DflowConfigError } = await import("../errors.js");
      const { workflowDir } = await import("./common.js");
      const how = { force: opts.force, forceHint: "--force", by: "dflow delete" };
      try {
        // Check every id before deleting anything.
        const dirs = ids.map((id) => {
          const dir = workflowDir(id);
          checkDeletable(dir, how);
          return { id, dir };
        });
        for (const { id, dir } of dirs) {
          await deleteWorkflow(dir, how);
          process.stdout.write(`Workflow ${id} deleted\n`);
        }
      } catch (e) {
        throw e instanceof DflowConfigError ? new CliError(e.message) : e;
      }
    });
}
