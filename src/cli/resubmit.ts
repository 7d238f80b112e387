// `dflow resubmit <id>`: a new workflow from the same script, reusing the
// old one's succeeded keyed steps (dflow's reuse_step). An Argo run is
// resubmitted as Argo does it: the workflow as it ran, run again from the
// start as a new workflow (with --memoized, from its succeeded nodes), in this process.
import type { Command } from "commander";

export function register(program: Command): void {
  program
    .command("resubmit")
    .description("run the workflow's script again as a new workflow, reusing its succeeded keyed steps")
    .argument("<id>", "workflow id")
    .option("-d, --detach", "run in the background")
    .option("--memoized", "Argo run that failed: start with its succeeded nodes (as argo resubmit --memoized)")
    .action(async (id: string, o: { detach?: boolean; memoized?: boolean }) => {
      const { rerunIfArgo, workflowStore } = await import("./common.js");
      if (await rerunIfArgo(id, "resubmit", o.detach, { memoized: o.memoized })) return;
      const { runScript } = await import("./run.js");
      const code = await runScript({ ...workflowStore().rerunPlan(id, "resubmit"), detach: o.detach });
      if (code !== null) process.exitCode = code;
    });
}
