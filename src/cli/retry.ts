// `dflow retry <id>`: continue a workflow after a crash, a stop or a
// failure. The workflow script is run again (as recorded when it first
// ran) with DFLOW_RESUME_ID, so the workflow continues in its directory:
// succeeded steps are not run again, the others are re-run. An Argo run
// (`dflow run wf.yaml`) is continued the same way, from the workflow as it
// ran, in this process.
import type { Command } from "commander";

export function register(program: Command): void {
  program
    .command("retry")
    .description("continue a workflow (after a crash, stop or failure): succeeded steps are kept, the rest runs again")
    .argument("<id>", "workflow id")
    .option("-d, --detach", "run in the background")
    .action(async (id: string, o: { detach?: boolean }) => {
      const { rerunIfArgo, workflowStore } = await import("./common.js");
      if (await rerunIfArgo(id, "retry", o.detach)) return;
      const { runScript } = await import("./run.js");
      const code = await runScript({ ...workflowStore().rerunPlan(id, "retry"), detach: o.detach });
      if (code !== null) process.exitCode = code;
    });
}
