/** A tiny publish/subscribe: the workflow page passes `log` events to the open log view. */
export class Bus<T> {
  private readonly ls = new Set<(v: T) => void>();
  on(l: (v: T) => void): () => void {
    this.ls.add(l);
    return () => {
      this.ls.delete(l);
    };
  }
  emit(v: T): void {
    for (const l of this.ls) l(v);
  }
}
