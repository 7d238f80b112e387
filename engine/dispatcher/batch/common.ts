/** Small helpers shared by the batch-system adapters (spec §4.8–§4.9). */
import type { ExecResult } from "../context/transport.js";
import { shellQuote } from "../paths.js";
import type { JobId, PollAnswer, SubmitAnswer } from "./types.js";

export const q = shellQuote;

/** Non-blank lines, without a trailing `\r`. */
export function lines(s: string): string[] {
  return s
    .split("\n")
    .map((l) => l.replace(/\r$/, ""))
    .filter((l) => l.trim() !== "");
}

/** Python `str.split()`. */
export function fields(s: string): string[] {
  return s.split(/\s+/).filter((x) => x !== "");
}

/** Python `str.isupper()`: at least one cased character, and no lower-case one. */
export function isUpper(s: string): boolean {
  return s !== s.toLowerCase() && s === s.toUpperCase();
}

export const hasAny = (s: string, needles: readonly string[]): boolean => needles.some((n) => s.includes(n));

const clip = (s: string, n = 500): string => (s.length > n ? s.slice(0, n) + "…" : s);

/** What a command answered, for error messages. */
export function showResult(res: ExecResult): string {
  const code = res.code === null ? "no exit status" : `exit ${res.code}`;
  return `${code}; stdout: ${JSON.stringify(clip(res.stdout))}; stderr: ${JSON.stringify(clip(res.stderr))}`;
}

export const submitError = (what: string, res: ExecResult): SubmitAnswer => ({ kind: "error", reason: `${what} (${showResult(res)})` });
export const pollError = (what: string, res: ExecResult): PollAnswer => ({ kind: "error", reason: `${what} (${showResult(res)})` });
export const pollRetry = (what: string, res: ExecResult): PollAnswer => ({ kind: "retry", reason: `${what} (${showResult(res)})` });

/** A job id after id extraction: non-empty, one word (anything else is not an id we can poll). */
export function idOrError(id: string | undefined, what: string, res: ExecResult): SubmitAnswer {
  if (!id || /\s/.test(id)) return submitError(`${what}: no job id in the answer`, res);
  return { kind: "id", id };
}

/** How one scheduler status word is read. */
export type StatusClass = "waiting" | "running" | "completing" | "unknown" | "ended";

export function answerOf(cls: StatusClass, code: string): PollAnswer {
  return cls === "ended" ? { kind: "ended", code } : { kind: "state", state: cls, code };
}

const PRIORITY: StatusClass[] = ["running", "waiting", "completing", "unknown"];

/**
 * Several scheduler lines for one job (array tasks): any running ⇒ running, else waiting, else
 * completing, else unknown, else ended (spec §4.9, SlurmJobArray). No line at all ⇒ ended.
 */
export function aggregate(items: { cls: StatusClass; code: string }[]): PollAnswer {
  for (const cls of PRIORITY) {
    const hit = items.find((i) => i.cls === cls);
    if (hit) return answerOf(cls, hit.code);
  }
  const last = items[items.length - 1];
  return last ? { kind: "ended", code: last.code } : { kind: "ended" };
}

export function classify(table: Readonly<Record<string, StatusClass>>, code: string): StatusClass {
  return Object.prototype.hasOwnProperty.call(table, code) ? table[code]! : "unknown";
}

export const keyOf = (id: JobId): string => String(id);

export function requireIds(ids: JobId[], who: string): string[] {
  if (ids.length === 0) throw new Error(`${who}: pollManyCommand needs at least one job id`);
  return ids.map(keyOf);
}

/** The same answer for every id. */
export function allSame(ids: JobId[], a: PollAnswer): Map<string, PollAnswer> {
  return new Map(ids.map((id) => [keyOf(id), a]));
}
