import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parsePyJson } from "../../engine/dispatcher/index.js";

export const REF = join(dirname(fileURLToPath(import.meta.url)), "..", "reference", "dpdispatcher");

export const readText = (...p: string[]): string => readFileSync(join(REF, ...p), "utf8");
export const readPyJson = (...p: string[]): unknown => parsePyJson(readText(...p));
export const readJson = <T = any>(...p: string[]): T => JSON.parse(readText(...p)) as T;
export const listDir = (...p: string[]): string[] => readdirSync(join(REF, ...p)).sort();

/** Throw with the first differing line (1-based) when two texts differ. */
export function assertSameText(actual: string, expected: string, what: string): void {
  if (actual === expected) return;
  const a = actual.split("\n");
  const e = expected.split("\n");
  for (let i = 0; i < Math.max(a.length, e.length); i++) {
    if (a[i] !== e[i]) {
      throw new Error(
        `${what}: first difference at line ${i + 1}\n  expected: ${JSON.stringify(e[i])}\n  actual:   ${JSON.stringify(a[i])}` +
          `\n  (expected ${e.length} lines / ${expected.length} chars, got ${a.length} lines / ${actual.length} chars)`,
      );
    }
  }
  throw new Error(`${what}: texts differ`);
}
