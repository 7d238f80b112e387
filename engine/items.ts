// The item list of a fan-out (spec §4.4): with_param (a list, a JSON string,
// a parameter or step output, an expression) or with_sequence.
import { DflowConfigError } from "../src/errors.js";
import { ArgoSequence } from "../src/expr.js";
import type { Step } from "../src/step.js";
import type { RunContext, Scope } from "./context.js";
import { resolveParam } from "./scope.js";

/**
 * Parse list text: JSON first (a parameter holding '[1, 2]' is a list, Q8),
 * then Python literal syntax (True/False/None, single quotes, tuples), which
 * dflow users write (Q9).
 */
export function parseListText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // fall through to the Python-literal form
  }
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"') {
      let j = i + 1;
      let s = "";
      while (j < text.length && text[j] !== c) {
        if (text[j] === "\\" && j + 1 < text.length) {
          s += text[j + 1] === c ? c : `\\${text[j + 1]}`;
          j += 2;
          continue;
        }
        s += text[j++];
      }
      if (j >= text.length) throw new DflowConfigError(`cannot parse ${JSON.stringify(text)} as a list: unterminated string`);
      out += JSON.stringify(JSON.parse(`"${s.replace(/"/g, '\\"')}"`));
      i = j;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i;
      while (j < text.length && /\w/.test(text[j])) j++;
      const word = text.slice(i, j);
      const map: Record<string, string> = { True: "true", False: "false", None: "null", true: "true", false: "false", null: "null" };
      if (!(word in map)) throw new DflowConfigError(`cannot parse ${JSON.stringify(text)} as a list: unexpected word ${word}`);
      out += map[word];
      i = j - 1;
    } else if (c === "(") out += "[";
    else if (c === ")") out += "]";
    else out += c;
  }
  try {
    return JSON.parse(out.replace(/,\s*([\]}])/g, "$1"));
  } catch {
    throw new DflowConfigError(`cannot parse ${JSON.stringify(text)} as a list (JSON or Python literal)`);
  }
}

function toInt(v: unknown, what: string): number {
  const n = typeof v === "number" ? v : Number.parseInt(String(v).trim(), 10);
  if (!Number.isInteger(n)) throw new DflowConfigError(`argo_sequence ${what} must be an integer, got ${JSON.stringify(v)}`);
  return n;
}

/** printf-style formatting of one integer: %d, %5d, %03d, %x, %X, %o, %s. */
export function printfInt(format: string, n: number): string {
  return format.replace(/%(-)?(0)?(\d+)?([dxXos%])/g, (_m, left: string | undefined, zero: string | undefined, width: string | undefined, conv: string) => {
    if (conv === "%") return "%";
    let s = conv === "x" ? n.toString(16) : conv === "X" ? n.toString(16).toUpperCase() : conv === "o" ? n.toString(8) : String(n);
    const w = width ? Number(width) : 0;
    if (s.length < w) {
      if (left) s = s.padEnd(w, " ");
      else if (zero && conv !== "s") s = n < 0 ? `-${s.slice(1).padStart(w - 1, "0")}` : s.padStart(w, "0");
      else s = s.padStart(w, " ");
    }
    return s;
  });
}

export function sequenceItems(seq: ArgoSequence, scope: Scope, ctx: RunContext): unknown[] {
  const val = (v: unknown) => (v === undefined ? undefined : resolveParam(v, scope, ctx).value);
  const start = seq.opts.start === undefined ? 0 : toInt(val(seq.opts.start), "start");
  let nums: number[];
  if (seq.opts.end !== undefined) {
    const end = toInt(val(seq.opts.end), "end");
    nums = [];
    if (end >= start) for (let i = start; i <= end; i++) nums.push(i);
    else for (let i = start; i >= end; i--) nums.push(i);
  } else {
    const count = toInt(val(seq.opts.count), "count");
    nums = Array.from({ length: Math.max(0, count) }, (_, i) => start + i);
  }
  return seq.opts.format ? nums.map((n) => printfInt(seq.opts.format!, n)) : nums;
}

export function computeItems(step: Step, scope: Scope, ctx: RunContext): unknown[] {
  if (step.with_sequence !== undefined) {
    if (!(step.with_sequence instanceof ArgoSequence)) throw new DflowConfigError("with_sequence takes argo_sequence(...)");
    return sequenceItems(step.with_sequence, scope, ctx);
  }
  const wp = step.with_param;
  let v: unknown = wp instanceof Set ? [...wp] : resolveParam(wp, scope, ctx).value;
  if (typeof v === "string") v = parseListText(v);
  if (!Array.isArray(v)) throw new DflowConfigError(`with_param must give a list; got ${JSON.stringify(v)}`);
  return v;
}
