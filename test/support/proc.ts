// Processes as /proc shows them (Linux), for tests that check what a step left running.
import fs from "node:fs";

/** Whether a process still runs (a zombie waiting to be reaped does not count). */
export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Field `n` (1-based, as in proc(5)) of /proc/<pid>/stat. */
export function statField(pid: number | "self", n: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[n - 3];
}
