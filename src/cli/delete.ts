// `dflow delete <id...>`: remove workflow directories. A Running workflow
// whose engine is alive (the `pid` file's process) is refused unless --force.
import fs from "node:fs";
import type { Command } from "commander";
import { CliError, workflowDir } from "./common.js";
import { command, engineAlive, isFinal } from "./format.js";

export function register(program: Command): void {
  command(program, "delete")
    .description("delete workflows (their directories); a running workflow only with --force")
    .argument("<id...>", "workflow ids")
    .option("-f, --force", "delete even a workflow whose engine is still running")
    .action((ids: string[], opts: { force?: boolean }) => {
      // Check every id before deleting anything.
      const dirs = ids.map((id) => {
        const dir = workflowDir(id);
        const status = fs.readFileSync(`${dir}/status`, "utf8");
        if (!opts.force && !isFinal(status) && engineAlive(dir)) {
          const pid = fs.readFileSync(`${dir}/pid`, "utf8").trim();
          throw new CliError(`workflow ${id} is ${status} (engine pid ${pid}): stop it first, or delete it anyway with --force`);
        }
        return { id, dir };
      });
      for (const { id, dir } of dirs) {
        fs.rmSync(dir, { recursive: true, force: true });
        process.stdout.write(`Workflow ${id} deleted\n`);
      }
    });
}
