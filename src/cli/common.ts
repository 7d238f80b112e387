// Shared by the `dflow` commands: the work directory and the engine's API over
// it (and, from command.ts, one clear line for bad input, --json output).
import path from "node:path";
import { type ArgoRerun, WorkflowStore } from "../../engine/api/workflows.js";
import { config } from "../config.js";
import { CliError, argoOutcome, dflowCommand } from "./command.js";

export { CliError, dflowCommand, printJson } from "./command.js";

/** The directory workflows live in (DFLOW_DEBUG_WORKDIR, default the current directory). */
export function workRoot(): string {
  return path.resolve(config.debug_workdir);
}

/**
 * The workflows of the work directory, as the commands read and control
 * them; its refusals (an unknown id, a running workflow) name the command to
 * run instead, and reach the user as one line (src/cli.ts).
 */
export function workflowStore(): WorkflowStore {
  return new WorkflowStore(workRoot(), { command: dflowCommand() });
}

/**
 * `dflow retry` / `resubmit` of an Argo run: in the foreground (as `dflow
 * run wf.yaml`), one line with the outcome, the exit status 0 only when it
 * succeeded; with --detach in a process of its own, as the UI starts it.
 * False when `id` is not an Argo run (its script is run again).
 */
export async function rerunIfArgo(id: string, how: "retry" | "resubmit", detach: boolean | undefined, o: ArgoRerun = {}): Promise<boolean> {
  const store = workflowStore();
  if (!store.isArgo(id)) {
    const flag = o.restartSelector !== undefined ? "--node-field-selector" : o.memoized ? "--memoized" : undefined;
    if (flag) throw new CliError(`${flag}: workflow ${id} is not an Argo run (\`dflow run wf.yaml\`); a workflow script's ${how} reuses its succeeded steps already`);
    return false;
  }
  if (detach) {
    const r = await store.rerun(id, how, o);
    process.stdout.write(`${r.message}\nFollow it with: ${dflowCommand()} watch ${r.id}\n`);
    return true;
  }
  process.exitCode = argoOutcome(await store.rerunArgo(id, how, (l) => console.log(l), o));
  return true;
}
