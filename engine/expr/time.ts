// expr-lang's time values (Go's time.Time and time.Duration) for Argo's
// expressions: `now()`, `date(...)`, `duration(...)`, their arithmetic
// (a time minus a time is a duration, a time plus a duration a time) and
// comparisons, and the methods expressions call on them, e.g. a CronWorkflow's
// `when: "{{= cronworkflow.lastScheduledTime == nil || (now() - cronworkflow.lastScheduledTime).Seconds() > 360 }}"`.
// Times are kept to the millisecond, in UTC (a local run's clock; Argo's
// controller runs in UTC too). A method or layout not here is an error that
// names it, never a wrong value.

import { parseGoDuration } from "../../src/options.js";

/** Go's time.Time. */
export class GoTime {
  constructor(readonly ms: number) {}
  get date(): Date {
    return new Date(this.ms);
  }
}

/** Go's time.Duration (nanoseconds). */
export class GoDuration {
  constructor(readonly ns: number) {}
}

/** An error of a time function or method (the evaluator adds where). */
export class TimeError extends Error {}

/** Go's time.ParseDuration (src/options.ts parseGoDuration, the one duration parser). */
export function parseDuration(text: string): GoDuration {
  try {
    return new GoDuration(parseGoDuration(text));
  } catch (e) {
    throw new TimeError((e as Error).message);
  }
}

/** `v` to `unit` as Go prints it: the whole part, then the fraction without trailing zeros. */
function fraction(v: number, unit: number): string {
  const whole = Math.floor(v / unit);
  const rest = v - whole * unit;
  if (!rest) return String(whole);
  return `${whole}.${String(rest).padStart(String(unit).length - 1, "0").replace(/0+$/, "")}`;
}

/** Go's Duration.String(): "1h2m3.5s", "1.5ms", "0s". */
export function durationString(d: GoDuration): string {
  let u = Math.round(Math.abs(d.ns));
  if (u === 0) return "0s";
  let out: string;
  if (u < 1e9) out = u < 1e3 ? `${u}ns` : u < 1e6 ? `${fraction(u, 1e3)}µs` : `${fraction(u, 1e6)}ms`;
  else {
    const h = Math.floor(u / 3.6e12);
    u -= h * 3.6e12;
    const m = Math.floor(u / 6e10);
    u -= m * 6e10;
    const s = `${fraction(u, 1e9)}s`;
    out = h ? `${h}h${m}m${s}` : m ? `${m}m${s}` : s;
  }
  return d.ns < 0 ? `-${out}` : out;
}

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** The parts of Go's reference layout (Mon Jan 2 15:04:05 MST 2006), longest first where one is the start of another. */
const LAYOUT_TOKENS = ["January", "Monday", "2006", "Z07:00", "Z0700", "-07:00", "-0700", ".000000000", ".000000", ".000", ".999999999", ".999999", ".999", "Jan", "Mon", "MST", "01", "02", "_2", "06", "15", "03", "04", "05", "PM", "pm", "1", "2", "3", "4", "5"] as const;
type LayoutToken = (typeof LAYOUT_TOKENS)[number];

function layoutParts(layout: string): Array<LayoutToken | { text: string }> {
  const out: Array<LayoutToken | { text: string }> = [];
  for (let i = 0; i < layout.length; ) {
    const tok = LAYOUT_TOKENS.find((t) => layout.startsWith(t, i));
    if (tok) {
      out.push(tok);
      i += tok.length;
    } else {
      const last = out.at(-1);
      if (last && typeof last === "object") last.text += layout[i];
      else out.push({ text: layout[i]! });
      i++;
    }
  }
  return out;
}

/** Go's Time.Format in UTC. */
export function formatTime(t: GoTime, layout: string): string {
  const d = t.date;
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  const h12 = d.getUTCHours() % 12 || 12;
  const nanos = pad(d.getUTCMilliseconds(), 3) + "000000";
  return layoutParts(layout)
    .map((p) => {
      if (typeof p === "object") return p.text;
      switch (p) {
        case "January": return MONTHS[d.getUTCMonth()];
        case "Monday": return DAYS[d.getUTCDay()];
        case "2006": return String(d.getUTCFullYear());
        case "Z07:00": case "Z0700": return "Z";
        case "-07:00": return "+00:00";
        case "-0700": return "+0000";
        case ".000": case ".000000": case ".000000000": return `.${nanos.slice(0, p.length - 1)}`;
        case ".999": case ".999999": case ".999999999": {
          const f = nanos.slice(0, p.length - 1).replace(/0+$/, "");
          return f ? `.${f}` : "";
        }
        case "Jan": return MONTHS[d.getUTCMonth()]!.slice(0, 3);
        case "Mon": return DAYS[d.getUTCDay()]!.slice(0, 3);
        case "MST": return "UTC";
        case "01": return pad(d.getUTCMonth() + 1);
        case "02": return pad(d.getUTCDate());
        case "_2": return String(d.getUTCDate()).padStart(2, " ");
        case "06": return pad(d.getUTCFullYear() % 100);
        case "15": return pad(d.getUTCHours());
        case "03": return pad(h12);
        case "04": return pad(d.getUTCMinutes());
        case "05": return pad(d.getUTCSeconds());
        case "PM": return d.getUTCHours() >= 12 ? "PM" : "AM";
        case "pm": return d.getUTCHours() >= 12 ? "pm" : "am";
        case "1": return String(d.getUTCMonth() + 1);
        case "2": return String(d.getUTCDate());
        case "3": return String(h12);
        case "4": return String(d.getUTCMinutes());
        case "5": return String(d.getUTCSeconds());
      }
    })
    .join("");
}

const NUM = (digits: string) => ({ re: `(\\d{${digits}})` });

/** Go's time.Parse of `text` by `layout`; null when it does not match. */
function parseByLayout(text: string, layout: string): GoTime | null {
  const fields: string[] = [];
  let re = "^";
  for (const p of layoutParts(layout)) {
    if (typeof p === "object") {
      re += p.text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      continue;
    }
    const piece: { re: string } =
      p === "2006" ? NUM("4") : p === "06" || p === "01" || p === "02" || p === "15" || p === "03" || p === "04" || p === "05" ? NUM("2") : p === "1" || p === "2" || p === "3" || p === "4" || p === "5" ? NUM("1,2")
      : p === "_2" ? { re: "( ?\\d{1,2})" }
      : p === "January" || p === "Monday" || p === "Jan" || p === "Mon" ? { re: "([A-Za-z]+)" }
      : p === "MST" ? { re: "([A-Z]{3,5}|[+-]\\d{2,4})" }
      : p === "Z07:00" ? { re: "(Z|[+-]\\d{2}:\\d{2})" } : p === "Z0700" ? { re: "(Z|[+-]\\d{4})" } : p === "-07:00" ? { re: "([+-]\\d{2}:\\d{2})" } : p === "-0700" ? { re: "([+-]\\d{4})" }
      : p === "PM" || p === "pm" ? { re: "([AaPp][Mm])" }
      : { re: "(\\.\\d+)" };
    fields.push(p);
    re += piece.re;
    // Go reads a fraction after the seconds even when the layout has none.
    if (p === "05" || p === "5") {
      fields.push(".frac");
      re += "(\\.\\d+)?";
    }
  }
  const m = new RegExp(`${re}$`).exec(text);
  if (!m) return null;
  let year = 0, month = 1, day = 1, hour = 0, min = 0, sec = 0, ms = 0, offset = 0, pm: boolean | undefined;
  fields.forEach((f, i) => {
    const v = m[i + 1];
    if (v === undefined) return;
    switch (f) {
      case "2006": year = Number(v); break;
      case "06": year = Number(v) + (Number(v) >= 69 ? 1900 : 2000); break;
      case "01": case "1": month = Number(v); break;
      case "January": case "Jan": month = MONTHS.findIndex((x) => (f === "Jan" ? x.slice(0, 3) : x) === v) + 1; break;
      case "02": case "2": case "_2": day = Number(v.trim()); break;
      case "15": hour = Number(v); break;
      case "03": case "3": hour = Number(v) % 12; break;
      case "04": case "4": min = Number(v); break;
      case "05": case "5": sec = Number(v); break;
      case "PM": case "pm": pm = v.toLowerCase() === "pm"; break;
      case "Z07:00": case "Z0700": case "-07:00": case "-0700": case "MST":
        if (/^[+-]\d/.test(v)) {
          const digits = v.slice(1).replace(":", "");
          offset = (v[0] === "-" ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || "0"));
        }
        break;
      default: ms = Math.round(Number(`0${v}`) * 1000);
    }
  });
  if (pm !== undefined && pm) hour += 12;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 59) return null;
  const t = utc(year, month - 1, day, hour, min, sec, ms) - offset * 60_000;
  // Go refuses a day its month does not have (February 30).
  if (new Date(t + offset * 60_000).getUTCDate() !== day) return null;
  return new GoTime(t);
}

/** expr-lang's date(text[, layout]): by the layout, else the first of its layouts that fits. */
export function parseDate(text: string, layout?: string): GoTime {
  if (layout !== undefined) {
    const t = parseByLayout(text, layout);
    if (!t) throw new TimeError(`parsing time ${JSON.stringify(text)} as ${JSON.stringify(layout)}: cannot parse`);
    return t;
  }
  for (const l of ["2006-01-02", "15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04:05Z07:00", "02 Jan 06 15:04 MST", "Monday, 02-Jan-06 15:04:05 MST", "Mon, 02 Jan 2006 15:04:05 MST"]) {
    const t = parseByLayout(text, l);
    if (t) return t;
  }
  throw new TimeError(`invalid date ${text}`);
}

/** A time from a value Argo hands expressions as a time (an RFC 3339 text, as Kubernetes writes times). */
export function timeOf(text: string): GoTime {
  return parseDate(text, "2006-01-02T15:04:05Z07:00");
}

/** Go's Time.String(): "2006-01-02 15:04:05.999999999 +0000 UTC". */
export function timeString(t: GoTime): string {
  return formatTime(t, "2006-01-02 15:04:05.999999999 -0700 MST");
}

/** Go's zero time, 0001-01-01T00:00:00Z. */
const ZERO_TIME = Date.parse("0001-01-01T00:00:00Z");

/** Milliseconds of a UTC wall time; any year (Date.UTC reads 0-99 as 1900-1999). */
function utc(year: number, month: number, day: number, hour: number, min: number, sec: number, ms: number): number {
  const d = new Date(Date.UTC(2000, month, day, hour, min, sec, ms));
  d.setUTCFullYear(year, month, day);
  return d.getTime();
}

const want = (args: unknown[], n: number, name: string): void => {
  if (args.length !== n) throw new TimeError(`${name} takes ${n} argument(s), got ${args.length}`);
};
const asTime = (v: unknown, name: string): GoTime => {
  if (v instanceof GoTime) return v;
  throw new TimeError(`${name} needs a time.Time`);
};
const asDuration = (v: unknown, name: string): GoDuration => {
  if (v instanceof GoDuration) return v;
  if (typeof v === "number" && Number.isInteger(v)) return new GoDuration(v);
  throw new TimeError(`${name} needs a time.Duration`);
};

const TIME_METHODS: Record<string, (t: GoTime, a: unknown[]) => unknown> = {
  Unix: (t, a) => (want(a, 0, "Unix"), Math.floor(t.ms / 1000)),
  UnixMilli: (t, a) => (want(a, 0, "UnixMilli"), t.ms),
  UnixNano: (t, a) => (want(a, 0, "UnixNano"), t.ms * 1e6),
  Year: (t, a) => (want(a, 0, "Year"), t.date.getUTCFullYear()),
  Month: (t, a) => (want(a, 0, "Month"), t.date.getUTCMonth() + 1),
  Day: (t, a) => (want(a, 0, "Day"), t.date.getUTCDate()),
  Hour: (t, a) => (want(a, 0, "Hour"), t.date.getUTCHours()),
  Minute: (t, a) => (want(a, 0, "Minute"), t.date.getUTCMinutes()),
  Second: (t, a) => (want(a, 0, "Second"), t.date.getUTCSeconds()),
  Nanosecond: (t, a) => (want(a, 0, "Nanosecond"), t.date.getUTCMilliseconds() * 1e6),
  Weekday: (t, a) => (want(a, 0, "Weekday"), t.date.getUTCDay()),
  YearDay: (t, a) => (want(a, 0, "YearDay"), Math.floor((t.ms - utc(t.date.getUTCFullYear(), 0, 1, 0, 0, 0, 0)) / 86_400_000) + 1),
  Sub: (t, a) => (want(a, 1, "Sub"), new GoDuration((t.ms - asTime(a[0], "Sub").ms) * 1e6)),
  Add: (t, a) => (want(a, 1, "Add"), new GoTime(t.ms + asDuration(a[0], "Add").ns / 1e6)),
  Before: (t, a) => (want(a, 1, "Before"), t.ms < asTime(a[0], "Before").ms),
  After: (t, a) => (want(a, 1, "After"), t.ms > asTime(a[0], "After").ms),
  Equal: (t, a) => (want(a, 1, "Equal"), t.ms === asTime(a[0], "Equal").ms),
  IsZero: (t, a) => (want(a, 0, "IsZero"), t.ms === ZERO_TIME),
  UTC: (t, a) => (want(a, 0, "UTC"), t),
  Local: (t, a) => (want(a, 0, "Local"), t),
  Format: (t, a) => {
    want(a, 1, "Format");
    if (typeof a[0] !== "string") throw new TimeError("Format needs a layout string");
    return formatTime(t, a[0]);
  },
  String: (t, a) => (want(a, 0, "String"), timeString(t)),
};

const DURATION_METHODS: Record<string, (d: GoDuration, a: unknown[]) => unknown> = {
  Hours: (d, a) => (want(a, 0, "Hours"), d.ns / 3.6e12),
  Minutes: (d, a) => (want(a, 0, "Minutes"), d.ns / 6e10),
  Seconds: (d, a) => (want(a, 0, "Seconds"), d.ns / 1e9),
  Milliseconds: (d, a) => (want(a, 0, "Milliseconds"), Math.trunc(d.ns / 1e6)),
  Microseconds: (d, a) => (want(a, 0, "Microseconds"), Math.trunc(d.ns / 1e3)),
  Nanoseconds: (d, a) => (want(a, 0, "Nanoseconds"), d.ns),
  Abs: (d, a) => (want(a, 0, "Abs"), new GoDuration(Math.abs(d.ns))),
  String: (d, a) => (want(a, 0, "String"), durationString(d)),
};

/** Call method `name` of a time or duration value. */
export function callMethod(target: unknown, name: string, args: unknown[]): unknown {
  const table = target instanceof GoTime ? TIME_METHODS : target instanceof GoDuration ? DURATION_METHODS : undefined;
  const kind = target instanceof GoTime ? "time.Time" : "time.Duration";
  if (!table) throw new TimeError(`method ${name} is not defined here: methods are called on time.Time and time.Duration values only`);
  const fn = Object.hasOwn(table, name) ? table[name] : undefined;
  if (!fn) throw new TimeError(`${kind} has no method ${name} here (it has ${Object.keys(table).join(", ")})`);
  return fn(target as never, args);
}

/** `l op r` when a time or a duration takes part: the result, or undefined when the operation is not one of theirs. */
export function timeArithmetic(op: string, l: unknown, r: unknown): unknown {
  const lt = l instanceof GoTime, rt = r instanceof GoTime, ld = l instanceof GoDuration, rd = r instanceof GoDuration;
  if (op === "-" && lt && rt) return new GoDuration((l.ms - r.ms) * 1e6);
  if (op === "+" && lt && rd) return new GoTime(l.ms + r.ns / 1e6);
  if (op === "+" && ld && rt) return new GoTime(r.ms + l.ns / 1e6);
  if (op === "-" && lt && rd) return new GoTime(l.ms - r.ns / 1e6);
  if (ld && rd && (op === "+" || op === "-")) return new GoDuration(op === "+" ? l.ns + r.ns : l.ns - r.ns);
  if (ld && typeof r === "number" && (op === "*" || op === "/")) return new GoDuration(Math.trunc(op === "*" ? l.ns * r : l.ns / r));
  if (rd && typeof l === "number" && op === "*") return new GoDuration(Math.trunc(l * r.ns));
  return undefined;
}

/** The number a time or duration is ordered and compared by (ms of a time, ns of a duration), or undefined. */
export function timeOrder(v: unknown): { kind: "time" | "duration"; n: number } | undefined {
  if (v instanceof GoTime) return { kind: "time", n: v.ms };
  if (v instanceof GoDuration) return { kind: "duration", n: v.ns };
  return undefined;
}
