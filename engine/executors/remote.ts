// Where a step rendered by a remote executor goes: DispatcherExecutor or SlurmRemoteExecutor.
import type { RunContext } from "../context.js";
import { cancelRemoteJobs, hasRemoteJobs, runDispatched, shipBundle } from "./dispatcher.js";
import type { RemoteStep } from "./dispatcher-input.js";
import { closeClusters, clusterStats } from "./clusters.js";
import { runSlurmRemote } from "./slurm-remote.js";

export { cancelRemoteJobs, closeClusters, clusterStats, hasRemoteJobs, shipBundle };

export function runRemoteStep(step: RemoteStep, ctx: RunContext, shipped: string[], logFile: string): Promise<void> {
  return step.template.remote!.kind === "slurm-remote" ? runSlurmRemote(step, ctx, shipped, logFile) : runDispatched(step, ctx, shipped, logFile);
}
