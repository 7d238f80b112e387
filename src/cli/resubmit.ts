// `dflow resubmit <id>`: a new workflow from the same script, reusing the
// old one's succeeded keyed steps (dflow's reuse_step).
import type { Command } from "commander";
import { CliError } from "./command.js";

export function register(program: Command): void {
  program
    .command("resubmit")
    .description("run the workflow's script again as a new workflow, reusing its succeeded keyed steps")
    .argument("<id>", "workflow id")
    .option("-d, --detach", "run in the background")
    .action(async (id: string, o: { detach?: boolean }) => {
      const { readRunInfo } = await import("../../engine/store/engine-dir.js");
      const { workflowDir } = await import("./common.js");
      const { runScript } = await import("./run.js");
      const dir = workflowDir(id);
      const info = readRunInfo(dir);
      if (!info) throw new CliError(`workflow ${id} has no record of the script that ran it (${dir}/.engine/run.json); run that script with DFLOW_REUSE_FROM=${id}`);
      const code = await runScript({ script: info.script, args: info.args, cwd: info.cwd, env: { ...info.env, DFLOW_REUSE_FROM: id }, detach: o.detach });
      if (code !== null) process.exitCode = code;
    });
}
