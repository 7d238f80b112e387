// One SSH connection, one status poller and one queue cap per cluster for the whole engine:
// every remote step of every workflow this process runs shares them.
import type { RemoteConnectionOptions } from "../../src/dispatcher.js";
import type { BatchSystem } from "../dispatcher/batch/types.js";
import { SSHTransport, type SSHTransportOptions } from "../dispatcher/context/ssh.js";
import type { Transport } from "../dispatcher/context/transport.js";
import { Poller } from "../dispatcher/poller.js";
import { boundedCount } from "../retry.js";
import type { NormalizedMachine } from "../dispatcher/schema.js";
import { DEFAULT_SCHEDULER_RETRY, type DispatchStats, newStats, type RetryPolicy } from "../dispatcher/submission.js";

type Plain = Record<string, unknown>;

/** The cap on jobs in the queue: a submission takes a slot without waiting (or leaves its job unsubmitted). */
export class Slots {
  private used = 0;
  constructor(readonly capacity: number) {}
  tryAcquire(): boolean {
    if (this.used >= this.capacity) return false;
    this.used++;
    return true;
  }
  release(): void {
    this.used = Math.max(0, this.used - 1);
  }
  get inUse(): number {
    return this.used;
  }
}

export interface Cluster {
  key: string;
  transport: Transport;
  stats: DispatchStats;
  slots: Slots;
  retry: RetryPolicy;
  poller(batch: BatchSystem): Poller | null;
  /** Count one scheduler command (by its first word) in the cluster's stats. */
  count(command: string): void;
}

/** An SSH transport for a normalised SSHContext remote_profile (DPDispatcher's keys) plus our host-key options. */
export function sshTransportFor(rp: Plain, extra: Pick<SSHTransportOptions, "known_hosts" | "strict_host_key_checking" | "log">): SSHTransport {
  return new SSHTransport({
    hostname: rp.hostname as string,
    username: rp.username as string,
    port: rp.port as number,
    password: rp.password as string | undefined,
    key_filename: (rp.key_filename as string | null) ?? null,
    passphrase: (rp.passphrase as string | null) ?? undefined,
    timeout: rp.timeout as number,
    look_for_keys: rp.look_for_keys !== false,
    totp_secret: (rp.totp_secret as string | null) ?? undefined,
    execute_command: (rp.execute_command as string | null) ?? undefined,
    proxy_command: (rp.proxy_command as string | null) ?? undefined,
    ...extra,
  });
}

const clusters = new Map<string, Cluster>();
/** Every cluster's figures since the engine started (closing a connection keeps them). */
const history: { key: string; stats: DispatchStats }[] = [];


export function clusterFor(machine: NormalizedMachine, o: RemoteConnectionOptions): Cluster {
  const rp = machine.serialized.remote_profile as Plain;
  const key = `${rp.username}@${rp.hostname}:${rp.port}|${rp.key_filename ?? ""}|${rp.proxy_command ?? ""}`;
  let c = clusters.get(key);
  if (c) return c;
  const stats = newStats();
  const transport = sshTransportFor(rp, { known_hosts: o.known_hosts, strict_host_key_checking: o.strict_host_key_checking });
  const r = o.scheduler_retry ?? {};
  const retry: RetryPolicy = {
    attempts: Math.max(1, boundedCount(r.attempts, DEFAULT_SCHEDULER_RETRY.attempts)),
    delayMs: r.delay !== undefined ? r.delay * 1000 : DEFAULT_SCHEDULER_RETRY.delayMs,
    maxDelayMs: r.max_delay !== undefined ? r.max_delay * 1000 : DEFAULT_SCHEDULER_RETRY.maxDelayMs,
  };
  const pollers = new Map<string, Poller | null>();
  const interval = (o.poll_interval ?? 10) * 1000;
  c = {
    key,
    transport,
    stats,
    slots: new Slots(o.max_queued_jobs ?? 200),
    retry,
    poller(b: BatchSystem) {
      if (!pollers.has(b.batchType)) {
        pollers.set(b.batchType, b.pollManyCommand ? new Poller((cmd) => transport.exec(cmd), b, { minGapMs: interval, onCommand: (cmd) => this.count(cmd) }) : null);
      }
      return pollers.get(b.batchType)!;
    },
    count(command: string) {
      const name = command.trim().split(/\s+/)[0]!;
      stats.commands[name] = (stats.commands[name] ?? 0) + 1;
    },
  };
  clusters.set(key, c);
  history.push({ key, stats });
  return c;
}

/** Scheduler commands and submissions so far, per cluster (for the benchmark and `dflow` output). */
export function clusterStats(): { key: string; stats: DispatchStats }[] {
  return history;
}

/** Close every connection (the engine's last step; an open SSH socket would keep node alive). */
export async function closeClusters(): Promise<void> {
  const all = [...clusters.values()];
  clusters.clear();
  await Promise.all(all.map((c) => c.transport.close().catch(() => undefined)));
}
