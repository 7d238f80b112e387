// `when` conditions (spec §4.10, argo-semantics §6): an expression object is
// evaluated; a parameter object is true unless its text is "", "false" or
// "0" (Q24); a string is rendered, then evaluated like Argo's govaluate,
// keeping dflow's three-token text comparison for the simple cases.
import { ArgoVar } from "../src/expr.js";
import { InputParameter, StepOutputParameter } from "../src/io.js";
import type { RunContext, Scope } from "./context.js";
import { evaluate, evaluateWhen as evaluateWhenText, isTruthy } from "./expr/index.js";
import { renderRefs } from "./render.js";
import { exprEnv, lookupRef, resolveParam } from "./scope.js";

export function evaluateWhen(when: unknown, scope: Scope, ctx: RunContext): boolean {
  if (typeof when === "boolean") return when;
  if (when instanceof ArgoVar) return isTruthy(evaluate(when.expr, exprEnv(scope, ctx)));
  if (when instanceof InputParameter || when instanceof StepOutputParameter) return isTruthy(resolveParam(when, scope, ctx).value);
  return evaluateWhenText(renderRefs(String(when), (r) => lookupRef(r, scope, ctx)));
}
