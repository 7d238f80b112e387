// `when` conditions, as dflow's debug mode evaluates them (§4.10): after
// rendering references, "true"/"false", or exactly three tokens `A op B`
// (== and != compare text, < <= > >= compare numbers).
import { DflowConfigError } from "../src/errors.js";
import { InputParameter, StepOutputParameter } from "../src/io.js";
import type { RunContext, Scope } from "./context.js";
import { renderRefs } from "./render.js";
import { lookupRef, resolveParam } from "./scope.js";

const FALSY = new Set(["", "false", "0"]);

export function evaluateWhen(when: unknown, scope: Scope, ctx: RunContext): boolean {
  if (typeof when === "boolean") return when;
  if (when instanceof InputParameter || when instanceof StepOutputParameter) {
    const v = resolveParam(when, scope, ctx).value;
    // The strings "false", "" and "0" are false (dflow treats "false" as true, Q24).
    return typeof v === "string" ? !FALSY.has(v.trim().toLowerCase()) : Boolean(v);
  }
  const text = renderRefs(String(when), (r) => lookupRef(r, scope, ctx)).trim();
  if (text === "true") return true;
  if (text === "false") return false;
  const tokens = text.split(/\s+/);
  if (tokens.length === 3) {
    const [a, op, b] = tokens;
    if (op === "==") return a === b;
    if (op === "!=") return a !== b;
    if (["<", "<=", ">", ">="].includes(op)) {
      const x = Number(a);
      const y = Number(b);
      if (Number.isNaN(x) || Number.isNaN(y)) throw new DflowConfigError(`when ${JSON.stringify(text)}: ${op} needs numbers on both sides`);
      return op === "<" ? x < y : op === "<=" ? x <= y : op === ">" ? x > y : x >= y;
    }
  }
  throw new DflowConfigError(`cannot evaluate when ${JSON.stringify(text)}: expected true, false or "A op B" with op one of == != < <= > >=`);
}
