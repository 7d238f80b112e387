// A Steps/DAG directory's `children` file: order key -> step directory name
// (spec §2.6). The engine is its single writer; writes are whole-file and
// atomic, and concurrent registrations share one write instead of racing
// (dflow's filelock version lost entries, §12).
import fs from "node:fs";
import path from "node:path";
import { pyJson } from "./store/values.js";
import type { Journal } from "./store/engine-dir.js";
import { writeAtomicSync } from "./store/fsx.js";

const BATCH_MS = 100;

export class ChildrenFile {
  private readonly entries = new Map<string, string>();
  /**
   * The file's text as UTF-8 (`{"key": "dir", ...}`, Python's json.dumps
   * separators, registration order), grown as children register. Entries are
   * never removed or changed, so a rewrite writes these bytes as they are;
   * building the whole object and its JSON again on each rewrite made some
   * tens of MB of garbage every 2 s in a 100,000-item fan-out.
   */
  private text = Buffer.from("{}");
  private textLength = 2;
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
    for (const [k, v] of cf.entries) cf.append(k, v);
    // dflow keeps an (empty) filelock file beside `children`; we have one
    // writer and need no lock, but keep the entry so trees match.
    fs.writeFileSync(path.join(dir, "children.lock"), "", { flag: "a" });
    return cf;
  }

  get(order: string): string | undefined {
    return this.entries.get(order);
  }

  private append(order: string, dirName: string): void {
    // Over the closing brace: the new entry, then the brace again.
    const at = this.textLength - 1;
    const piece = `${at > 1 ? ", " : ""}${pyJson(order)}: ${pyJson(dirName)}}`;
    const need = at + Buffer.byteLength(piece);
    if (need > this.text.length) {
      const grown = Buffer.alloc(Math.max(need, this.text.length * 2));
      this.text.copy(grown, 0, 0, at);
      this.text = grown;
    }
    this.textLength = at + this.text.write(piece, at);
  }

  /** The file's text (pyJson of the entries), a view that the next registration changes. */
  private contents(): Buffer {
    return this.text.subarray(0, this.textLength);
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
    this.append(order, dirName);
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
    // Synchronous: contents() is a view that the next registration changes.
    new Promise<void>((resolve) => resolve(writeAtomicSync(path.join(this.dir, "children"), this.contents()))).then(
      () => batch.forEach((w) => w.resolve()),
      (e) => batch.forEach((w) => w.reject(e)),
    ).finally(() => {
      this.writing = false;
      this.kick();
    });
  }
}
