// `dflow retry <id>`: continue a workflow after a crash, a stop or a
// failure. The workflow script is run again (as recorded when it first
// ran) with DFLOW_RESUME_ID, so the workflow continues in its directory:
// succeeded steps are not run again, the others are re-run.
import type { Command } from "commander";
import { CliError, dflowCommand } from "./command.js";

export function register(program: Command): void {
  program
    .command("retry")
    .description("continue a workflow (after a crash, stop or failure): succeeded steps are kept, the rest runs again")
    .argument("<id>", "workflow id")
    .option("-d, --detach", "run in the background")
    .action(async (id: string, o: { detach?: boolean }) => {
      const { readLock, lockAlive, readRunInfo } = await import("../../engine/store/engine-dir.js");
      const { workflowDir } = await import("./common.js");
      const { runScript } = await import("./run.js");
      const dir = workflowDir(id);
      const lock = readLock(dir);
      if (lock && lockAlive(lock)) throw new CliError(`workflow ${id} is being run by engine pid ${lock.pid} on ${lock.host} (since ${lock.started}); stop it first with \`${dflowCommand()} stop ${id}\``);
      const info = readRunInfo(dir);
      if (!info) throw new CliError(`workflow ${id} has no record of the script that ran it (${dir}/.engine/run.json); re-run that script with DFLOW_RESUME_ID=${id}`);
      const code = await runScript({ script: info.script, args: info.args, cwd: info.cwd, env: { ...info.env, DFLOW_RESUME_ID: id }, detach: o.detach });
      if (code !== null) process.exitCode = code;
    });
}
