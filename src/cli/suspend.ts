// `dflow suspend <id>` / `dflow resume <id>`: no step of the workflow starts
// while it is suspended (running steps finish), as Workflow.suspend() /
// resume() (engine/control.ts). Works whichever process runs it.
import type { Command } from "commander";
import { CliError, nameValues } from "./command.js";

export function register(program: Command): void {
  program
    .command("suspend")
    .description("suspend a running workflow: no new step starts until `dflow resume`; running steps finish")
    .argument("<id>", "workflow id")
    .action(async (id: string) => {
      const { workflowStore } = await import("./common.js");
      process.stdout.write(`${workflowStore().suspend(id, "dflow suspend")}\n`);
    });
  program
    .command("resume")
    .description("resume a suspended workflow: its steps start again (with --node, only the suspend steps of an Argo run that the selector picks)")
    .argument("<id>", "workflow id")
    .option("--node <selector>", "Argo runs: resume only the waiting suspend nodes this field selector picks (displayName=approve), as `argo resume --node-field-selector`")
    .option("--output <name=value>", "with --node: a value of the node's supplied output parameter (`valueFrom: {supplied: {}}`), as `argo node set --output-parameter`; repeatable", (v: string, all: string[] = []) => [...all, v])
    .action(async (id: string, o: { node?: string; output?: string[] }) => {
      const { workflowStore } = await import("./common.js");
      if (o.node === undefined) {
        if (o.output?.length) throw new CliError("--output needs --node: the suspend node whose outputs they are");
        process.stdout.write(`${workflowStore().resume(id)}\n`);
        return;
      }
      const outputParameters = nameValues(o.output ?? [], "--output");
      const { ArgoApiError, setSuspendNodes } = await import("../../engine/api/argo.js");
      try {
        const nodes = setSuspendNodes(workflowStore().dirOf(id), o.node, { phase: "Succeeded", ...(o.output?.length ? { outputParameters } : {}) });
        process.stdout.write(`Workflow ${id}: resumed ${nodes.map((n) => n.displayName).join(", ")}\n`);
      } catch (e) {
        if (e instanceof ArgoApiError) throw new CliError(`workflow ${id}: ${e.message}`);
        throw e;
      }
    });
}
