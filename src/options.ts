// Options of the model objects (templates, steps, workflows, parameters, …)
// checked against zod schemas, with our own messages: one line per bad field
// naming the object, the field, the value given and what is allowed, all of
// them at once. Unknown option names are refused with a "did you mean".
// Constructors call parseOptions; values assigned after construction are
// checked again at submit through src/option-check.ts.
import { z } from "./vendor/zod.js";
import { DflowConfigError, type ErrorContext } from "./errors.js";

/**
 * The most retries one step may make, whatever its options say. Argo's
 * "retry until success" (a retry policy without a limit) stops here too, so
 * no input can make a step retry forever.
 */
export const MAX_RETRIES = 1000;

/** One option: its schema and, for messages, what it allows. */
export interface Field {
  schema: z.ZodType;
  allowed: string;
}

export const field = (schema: z.ZodType, allowed: string): Field => ({ schema, allowed });

/** An options object: its fields, plus dflow options that only matter on Argo (accepted, no effect here). */
export interface OptionSpec {
  readonly fields: Record<string, Field | OptionSpec>;
  /** dflow options that only configure Kubernetes/Argo: accepted and ignored. */
  readonly argoOnly: readonly string[];
  /** dflow options dflow-ts does not implement: refused with this hint. */
  readonly unsupported: Readonly<Record<string, string>>;
}

export function spec(fields: Record<string, Field | OptionSpec>, argoOnly: readonly string[] = [], unsupported: Record<string, string> = {}): OptionSpec {
  return { fields, argoOnly, unsupported };
}

const isSpec = (x: Field | OptionSpec): x is OptionSpec => "fields" in x;

// ---- reusable field kinds -------------------------------------------------

const wholeNumber = (min: number, max?: number) => {
  let s = z.number().int().min(min);
  if (max !== undefined) s = s.max(max);
  return s;
};

/** A count of retries (dflow: int); unset means none. */
export const retriesField = field(wholeNumber(0, MAX_RETRIES).nullish(), `a whole number from 0 to ${MAX_RETRIES}`);
export const parallelismField = field(wholeNumber(1).nullish(), "a whole number ≥ 1");
export const boolField = field(z.boolean().nullish(), "true or false");
export const stringField = field(z.string().nullish(), "a string");
export const stringMapField = field(z.record(z.string(), z.string()).nullish(), "an object of string values");
export const anyField = field(z.unknown(), "anything");

/** Seconds from a number or a Go-style duration ("500ms", "10s", "2m", "1h30m"); NaN when it is neither. */
export function durationSeconds(v: number | string): number {
  if (typeof v === "number") return v;
  const s = v.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  try {
    return parseGoDuration(s) / 1e9;
  } catch {
    return Number.NaN;
  }
}

const GO_UNITS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 6e10, h: 3.6e12 };

/**
 * Go's time.ParseDuration ("1h30m", "-2.5s", "300ms", "0"), the durations of
 * dflow's and Argo's fields and of expr-lang's duration(): nanoseconds. Throws
 * an Error with Go's message when the text is not one.
 */
export function parseGoDuration(text: string): number {
  const bad = (why = "invalid duration"): never => {
    throw new Error(`time: ${why} ${JSON.stringify(text)}`);
  };
  let s = text;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") bad();
  let ns = 0;
  while (s) {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    if (!m[1] && !m[2]) bad();
    s = s.slice(m[0].length);
    const unit = /^[^\d.]+/.exec(s)?.[0];
    if (!unit) bad("missing unit in duration");
    const scale = GO_UNITS[unit!];
    if (scale === undefined) throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(text)}`);
    ns += Number(m[1] || "0") * scale + (m[2] ? Math.round(Number(`0.${m[2]}`) * scale) : 0);
    s = s.slice(unit!.length);
  }
  return sign * ns;
}

const durationSchema = (positive: boolean) =>
  z.union([z.number(), z.string()]).refine((v) => {
    const n = durationSeconds(v);
    return Number.isFinite(n) && (positive ? n > 0 : n >= 0);
  });

/** A timeout: seconds > 0, or a duration string (dflow passes Argo's "10s" through). */
export const timeoutField = field(durationSchema(true).nullish(), 'seconds > 0, or a duration like "90s", "5m", "1h"');
export const durationField = field(durationSchema(false).nullish(), 'seconds ≥ 0, or a duration like "500ms", "10s", "2m"');

export const retryStrategySpec = spec({
  limit: field(z.union([wholeNumber(0, MAX_RETRIES), z.string().regex(/^\d+$/).refine((s) => Number(s) <= MAX_RETRIES)]).nullish(), `a whole number from 0 to ${MAX_RETRIES} (unset: retry until success, at most ${MAX_RETRIES} times)`),
  retry_policy: field(z.enum(["OnFailure", "OnError", "Always", "OnTransientError"]).nullish(), "one of OnFailure, OnError, Always, OnTransientError"),
  expression: stringField,
  duration: durationField,
  factor: field(z.number().positive().finite().nullish(), "a number > 0"),
  cap: durationField,
  max_duration: durationField,
});

// ---- checking -------------------------------------------------------------

/** A short rendering of a value given, for messages. */
export function showValue(v: unknown): string {
  if (v === undefined) return "undefined";
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === "number" || typeof v === "boolean" || v === null || typeof v === "bigint") return String(v);
  if (typeof v === "function") return `a function`;
  if (Array.isArray(v)) {
    const s = JSON.stringify(v) ?? "";
    return s.length <= 60 ? s : `a list of ${v.length}`;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    const s = JSON.stringify(v) ?? "";
    return s.length <= 60 ? s : "an object";
  }
  return `a ${(proto as { constructor?: { name?: string } }).constructor?.name ?? "object"}`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

export function didYouMean(name: string, known: string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 4)) ? ` (did you mean ${best}?)` : "";
}

function get(obj: unknown, path: PropertyKey[]): unknown {
  let v = obj;
  for (const k of path) v = v && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/**
 * The problems of `value` (an options object, or the current fields of a
 * model object) against `s`, one message each: `option <field> = <value>:
 * must be <allowed>`. Only keys present in `value` are checked.
 */
export function optionProblems(s: OptionSpec, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== "object" || Array.isArray(value)) return [`options must be an object, got ${showValue(value)}`];
  const problems: string[] = [];
  const walk = (sp: OptionSpec, v: object, prefix: string): void => {
    const known = [...Object.keys(sp.fields), ...sp.argoOnly];
    for (const k of Object.keys(v)) {
      if (k in sp.fields || sp.argoOnly.includes(k)) continue;
      if (k in sp.unsupported) problems.push(`option ${JSON.stringify(prefix + k)} is not supported by dflow-ts: ${sp.unsupported[k]}`);
      else problems.push(`unknown option ${JSON.stringify(prefix + k)}${didYouMean(k, known)}; known options: ${known.join(", ")}`);
    }
    for (const [k, f] of Object.entries(sp.fields)) {
      if (!(k in v)) continue;
      const x = (v as Record<string, unknown>)[k];
      if (isSpec(f)) {
        if (x === undefined || x === null) continue;
        if (typeof x !== "object" || Array.isArray(x)) problems.push(`option ${prefix}${k} = ${showValue(x)}: must be an object with ${Object.keys(f.fields).join(", ")}`);
        else walk(f, x, `${prefix}${k}.`);
        continue;
      }
      const r = f.schema.safeParse(x);
      if (!r.success) {
        const issue = r.error.issues[0];
        const inner = issue && issue.path.length ? `${prefix}${k}${issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("")}` : `${prefix}${k}`;
        const bad = issue && issue.path.length ? get(x, issue.path) : x;
        problems.push(`option ${inner} = ${showValue(bad)}: must be ${f.allowed}`);
      }
    }
  };
  walk(s, value, "");
  return problems;
}

/**
 * Check an options object; throw one DflowConfigError listing every bad
 * field of `what` (e.g. `Step "hello"`), with `ctx` naming where it is.
 */
export function parseOptions<T>(s: OptionSpec, value: T, what: string, ctx: ErrorContext = {}): T {
  const problems = optionProblems(s, value);
  if (problems.length) throw optionError(what, problems, ctx);
  return value;
}

/** `what` names the object when the context does not (a template or step without a name yet). */
/** Invalid options of one object; `items` keeps one entry per bad field for the submit-time list. */
export class OptionError extends DflowConfigError {
  constructor(
    message: string,
    ctx: ErrorContext,
    readonly items: string[],
  ) {
    super(message, ctx);
    this.name = "DflowConfigError";
  }
}

export function optionError(what: string, problems: string[], ctx: ErrorContext = {}): DflowConfigError {
  const named = Object.values(ctx).some((v) => v !== undefined && v !== "");
  const head = named ? "" : `${what}: `;
  return new OptionError(problems.length === 1 ? `${head}${problems[0]}` : `${head}${problems.length} invalid options:\n  - ${problems.join("\n  - ")}`, ctx, problems);
}
