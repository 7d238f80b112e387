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
    .option("--restart-successful", "Argo run: also run again the succeeded nodes --node-field-selector picks, and what ran after them (as argo retry)")
    .option("--node-field-selector <selector>", "Argo run, with --restart-successful: the nodes, e.g. displayName=build (fields displayName, name, id, templateName, phase, inputs.parameters.<n>.value)")
    .action(async (id: string, o: { detach?: boolean; restartSuccessful?: boolean; nodeFieldSelector?: string }) => {
      const { CliError, rerunIfArgo, workflowStore } = await import("./common.js");
      // As argo retry: the two go together; one alone would select nothing, said rather than ignored.
      if (Boolean(o.restartSuccessful) !== (o.nodeFieldSelector !== undefined)) throw new CliError("--restart-successful and --node-field-selector go together: the first runs succeeded nodes again, the second picks them");
      if (await rerunIfArgo(id, "retry", o.detach, { restartSelector: o.nodeFieldSelector })) return;
      const { runScript } = await import("./run.js");
      const code = await runScript({ ...workflowStore().rerunPlan(id, "retry"), detach: o.detach });
      if (code !== null) process.exitCode = code;
    });
}
