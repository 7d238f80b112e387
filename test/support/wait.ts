// Waiting on the file system instead of the clock: tests poll for a condition
// with a generous overall limit, so a busy machine only makes them slower.
import fs from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/** Resolves with the first truthy value of `probe`; fails after `limitMs` naming `what`. */
export async function until<T>(what: string, probe: () => T | undefined | null | false, limitMs = 120_000): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await sleep(20);
  }
}

/** A file's text, or undefined while it does not exist. */
export function readOr(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
