// A Steps/DAG directory's `children` file: order key -> step directory name
// (spec §2.6). The engine is its single writer; writes are whole-file and
// atomic, and concurrent registrations share one write instead of racing
// (dflow's filelock version lost entries, §12).
import fs from "node:fs";
import path from "node:path";
import { pyJson } from "./store/values.js";
import type { Journal } from "./store/engine-dir.js";
import { writeAtomic } from "./store/fsx.js";

const BATCH_MS = 100;

export class ChildrenFile {
  private readonly entries = new Map<string, string>();
  private writing = false;
  private timer: NodeJS.Timeout | undefined;
  private waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];

  private constructor(
    readonly dir: string,
    private readonly journal?: Journal,
  ) {}

  /**
   * Open (or create) the children file of `dir`, keeping what a previous
   * run registered — in the file, or only in the journal when that run was
   * killed before the file was rewritten.
   */
  static async open(dir: string, journal?: Journal, earlier?: Map<string, string>): Promise<ChildrenFile> {
    const cf = new ChildrenFile(dir, journal);
    // Synchronous (as the state files, fsx.ts): each level of a recursion opens one, on the sequential path.
    try {
      const text = fs.readFileSync(path.join(dir, "children"), "utf8");
      for (const [k, v] of Object.entries(JSON.parse(text) as Record<string, string>)) cf.entries.set(k, v);
    } catch {
      // absent or unreadable: a fresh directory
    }
    for (const [k, v] of earlier ?? []) if (!cf.entries.has(k)) cf.entries.set(k, v);
    // dflow keeps an (empty) filelock file beside `children`; we have one
    // writer and need no lock, but keep the entry so trees match.
    fs.writeFileSync(path.join(dir, "children.lock"), "", { flag: "a" });
    return cf;
  }

  get(order: string): string | undefined {
    return this.entries.get(order);
  }

  toJSON(): Record<string, string> {
    return Object.fromEntries(this.entries);
  }

  /**
   * Register a child (first registration of an order key wins). The file is
   * rewritten in batches, always before the parent finishes (flush): at
   * most every BATCH_MS, growing with the file (1 ms per entry, up to 2 s),
   * so the bytes written stay about linear in the number of children
   * instead of one whole rewrite per child (each rewrite replaces the file
   * by rename, which on ext4 also starts writing its data out). The journal,
   * not this file, is what a restarted engine relies on.
   */
  async add(order: string, dirName: string): Promise<void> {
    if (this.entries.has(order)) return;
    this.journal?.record(this.dir, order, dirName);
    this.entries.set(order, dirName);
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush().catch(() => undefined);
      }, Math.max(BATCH_MS, Math.min(2000, this.entries.size)));
    }
  }

  /** Write the file now (waiting for a write in progress), e.g. before the parent's phase is final. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.kick();
    });
  }

  // One write at a time; everyone who registered while a write ran is
  // covered by the next one.
  private kick(): void {
    if (this.writing || this.waiters.length === 0) return;
    this.writing = true;
    const batch = this.waiters.splice(0);
    writeAtomic(path.join(this.dir, "children"), pyJson(this.toJSON())).then(
      () => batch.forEach((w) => w.resolve()),
      (e) => batch.forEach((w) => w.reject(e)),
    ).finally(() => {
      this.writing = false;
      this.kick();
    });
  }
}
