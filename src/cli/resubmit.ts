// `dflow resubmit <id>`: a new workflow from the same script, reusing the
// old one's succeeded keyed steps (dflow's reuse_step). An Argo run is
// resubmitted as Argo does it: the workflow as it ran, run again from the
// start as a new workflow, in this process.
import type { Command } from "commander";

export function register(program: Command): void {
  program
    .command("resubmit")
    .description("run the workflow's script again as a new workflow, reusing its succeeded keyed steps")
    .argument("<id>", "workflow id")
    .option("-d, --detach", "run in the background")
    .action(async (id: string, o: { detach?: boolean }) => {
      const { rerunIfArgo, workflowStore } = await import("./common.js");
      if (await rerunIfArgo(id, "resubmit", o.detach)) return;
      const { runScript } = await import("./run.js");
      const code = await runScript({ ...workflowStore().rerunPlan(id, "resubmit"), detach: o.detach });
      if (code !== null) process.exitCode = code;
    });
}
