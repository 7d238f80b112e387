// Where a step rendered by a remote executor goes: DispatcherExecutor or SlurmRemoteExecutor.
import type { RunContext } from "../context.js";
import { runDispatched, type RemoteStep, shipBundle } from "./dispatcher.js";
import { runSlurmRemote } from "./slurm-remote.js";

export { shipBundle };

export function runRemoteStep(step: RemoteStep, ctx: RunContext, shipped: string[], logFile: string): Promise<void> {
  return step.template.remote!.kind === "slurm-remote" ? runSlurmRemote(step, ctx, shipped, logFile) : runDispatched(step, ctx, shipped, logFile);
}
