// Kubernetes label-selector requirements (`a=b,c!=d,e in (f,g),h,!i,n>1`),
// as Kubernetes' labels.Parse reads them. Argo uses them twice: label
// selectors of the API (list, logs), and a resource template's
// successCondition/failureCondition, whose keys are paths into the
// resource's JSON (`status.phase == Succeeded`).

export interface Requirement {
  key: string;
  op: "=" | "!=" | "in" | "notin" | "exists" | "!exists" | ">" | "<";
  values: string[];
  /** As written, for messages. */
  text: string;
}

/** The requirements of a selector; an Error saying what does not parse. */
export function parseRequirements(sel: string): Requirement[] {
  const out: Requirement[] = [];
  // Commas inside `in (...)` do not separate requirements.
  const parts = sel.match(/[^,(]+(\([^)]*\))?[^,]*/g) ?? [];
  for (const raw of parts) {
    const p = raw.trim();
    if (!p) continue;
    let m: RegExpExecArray | null;
    if ((m = /^([\w./#-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(p))) out.push({ key: m[1]!, op: m[2] as "in" | "notin", values: m[3]!.split(",").map((v) => v.trim()), text: p });
    else if ((m = /^([\w./#-]+)\s*(==|=|!=|>|<)\s*([\w.-]*)$/.exec(p))) out.push({ key: m[1]!, op: m[2] === "==" ? "=" : (m[2] as "=" | "!=" | ">" | "<"), values: [m[3]!], text: p });
    else if ((m = /^!([\w./#-]+)$/.exec(p))) out.push({ key: m[1]!, op: "!exists", values: [], text: p });
    else if ((m = /^([\w./#-]+)$/.exec(p))) out.push({ key: m[1]!, op: "exists", values: [], text: p });
    else throw new Error(`cannot parse ${JSON.stringify(p)} (expected key=value, key!=value, key in (a,b), key notin (a,b), key>n, key<n, key or !key)`);
  }
  return out;
}

/** Whether `value` (undefined: the key is absent) meets the requirement, as Kubernetes' Requirement.Matches. */
export function meets(r: Requirement, value: string | undefined): boolean {
  switch (r.op) {
    case "=":
      return value === r.values[0];
    case "!=":
      return value !== r.values[0];
    case "in":
      return value !== undefined && r.values.includes(value);
    case "notin":
      return value === undefined || !r.values.includes(value);
    case "exists":
      return value !== undefined;
    case "!exists":
      return value === undefined;
    case ">":
    case "<": {
      const a = Number(value);
      const b = Number(r.values[0]);
      if (value === undefined || !Number.isFinite(a) || !Number.isFinite(b)) return false;
      return r.op === ">" ? a > b : a < b;
    }
  }
}

/** A value of a JSON object by a dotted path (`status.phase`, `items.0.name`), as gjson reads it: text, or undefined when absent. */
export function valueAt(obj: unknown, key: string): string | undefined {
  let v: unknown = obj;
  for (const part of key.split(".")) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[part];
    if (v === undefined) return undefined;
  }
  return v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
}
