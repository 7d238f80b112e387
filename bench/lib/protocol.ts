// What bench/run.ts and a shape's child process agree on: the child's
// arguments and the marked result line it prints on stdout. Nothing here
// loads dflow-ts, so run.ts stays a plain process launcher.
import path from "node:path";

/** Prefix of the one stdout line that carries a child's result as JSON. */
export const RESULT_MARKER = "@@dflow-ts-bench@@ ";

export interface ChildArgs {
  n: number;
  dir: string;
}

export function parseChildArgs(argv = process.argv.slice(2)): ChildArgs {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const n = Number(get("--n"));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--n must be a positive integer, got ${get("--n")}`);
  const dir = get("--dir");
  if (!dir) throw new Error("--dir <fresh empty directory> is required (bench/run.ts passes it)");
  return { n, dir: path.resolve(dir) };
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
