// The remote executors (DispatcherExecutor, SlurmRemoteExecutor) bring the
// dispatcher with them: SSH, batch systems, tar, ~35 modules. A workflow of
// local steps never needs them, so they load on the first remote step; what
// the engine must do at its end (cancel jobs, close SSH connections) is a
// no-op until then.
import type { DispatchStats } from "../dispatcher/submission.js";

type Remote = typeof import("./remote.js");

let loading: Promise<Remote> | null = null;
let loaded: Remote | null = null;

export function remoteExecutors(): Promise<Remote> {
  return (loading ??= import("./remote.js").then((m) => (loaded = m)));
}

/** Jobs are in flight on a cluster (synchronous: asked from a signal handler). */
export function hasRemoteJobs(): boolean {
  return loaded?.hasRemoteJobs() ?? false;
}

export async function cancelRemoteJobs(reason: string): Promise<void> {
  await loaded?.cancelRemoteJobs(reason);
}

export async function closeClusters(): Promise<void> {
  await loaded?.closeClusters();
}

/** What each cluster connection of this process did (empty until a remote step ran). */
export function clusterStats(): { key: string; stats: DispatchStats }[] {
  return loaded?.clusterStats() ?? [];
}
