// Daemons and their boundaries. A daemon template's pod outlives its step:
// once ready its node is Daemoned and the steps or tasks after it go on; it is
// stopped when the steps or DAG template that started it (its boundary,
// Argo's boundaryID) ends, and its node then Succeeded, as Argo's
// killDaemonedChildren does. A daemon started after its boundary closed (a
// retry's next attempt) is stopped at once.

export interface Daemon {
  /** End the process and wait until its node is final. */
  stop(): Promise<void>;
}

export class Boundaries {
  private readonly open = new Map<string, Set<Daemon>>();
  private readonly closed = new Set<string>();
  /** Work that ends with the boundary's daemons (a daemon's retries), waited for when it closes. */
  private readonly tracked = new Map<string, Set<Promise<unknown>>>();

  isClosed(boundary: string): boolean {
    return this.closed.has(boundary);
  }

  add(boundary: string, d: Daemon): void {
    if (this.closed.has(boundary)) {
      void d.stop();
      return;
    }
    let set = this.open.get(boundary);
    if (!set) this.open.set(boundary, (set = new Set()));
    set.add(d);
  }

  /** A daemon that ended by itself. */
  remove(boundary: string, d: Daemon): void {
    this.open.get(boundary)?.delete(d);
  }

  track(boundary: string, work: Promise<unknown>): void {
    let set = this.tracked.get(boundary);
    if (!set) this.tracked.set(boundary, (set = new Set()));
    set.add(work);
    void work.finally(() => set.delete(work));
  }

  /** Stop the boundary's daemons, then wait for what ends with them. */
  async close(boundary: string): Promise<void> {
    this.closed.add(boundary);
    const daemons = [...(this.open.get(boundary) ?? [])];
    this.open.delete(boundary);
    await Promise.all(daemons.map((d) => d.stop()));
    await Promise.allSettled([...(this.tracked.get(boundary) ?? [])]);
    this.tracked.delete(boundary);
  }

  /** Every boundary still open (the workflow is ending). */
  async closeAll(): Promise<void> {
    await Promise.all([...new Set([...this.open.keys(), ...this.tracked.keys()])].map((b) => this.close(b)));
  }
}
