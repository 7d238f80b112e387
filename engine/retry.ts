// When a failed attempt of a step is run again (argo-semantics §9, dflow's
// retry_on_* options) and how long to wait before it.
import { DflowConfigError, type DflowError, InfrastructureError, OPFailure } from "../src/errors.js";
import { MAX_RETRIES } from "../src/options.js";
import type { RetryStrategy, ScriptOPTemplate } from "../src/templates.js";
import { evaluate, isTruthy } from "./expr/index.js";

/** Seconds from a number (seconds) or a Go-style duration: "500ms", "10s", "2m", "1h30m". */
export function parseDuration(v: number | string | undefined, what = "duration"): number | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v === "number") return v;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let matched = "";
  for (const m of v.trim().matchAll(re)) {
    total += Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as "ms" | "s" | "m" | "h"];
    matched += m[0];
  }
  if (matched !== v.trim()) throw new DflowConfigError(`invalid ${what} ${JSON.stringify(v)}: use seconds or a duration like "500ms", "10s", "2m", "1h"`);
  return total;
}

/**
 * A retry limit as a count, or null for "until success". Options are
 * validated at construction and at submit; this guards the engine anyway:
 * anything that is not a whole number ≥ 0 allows no retry, so a bad value can
 * never mean "retry forever".
 */
function limitOf(v: unknown): number | null {
  if (v === undefined || v === null) return null;
  const n = typeof v === "string" && /^\d+$/.test(v.trim()) ? Number(v) : v;
  return typeof n === "number" && Number.isInteger(n) && n >= 0 ? Math.min(n, MAX_RETRIES) : 0;
}

/** A per-policy retry count (retry_on_*): unset or 0 means no rule. */
function countOf(v: unknown): number {
  return limitOf(v) ?? 0;
}

/** A retry/attempt count from options, within 0…MAX_RETRIES; `fallback` when unset or not a whole number. */
export function boundedCount(v: unknown, fallback: number): number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 ? Math.min(v, MAX_RETRIES) : fallback;
}

interface Rule {
  limit: number | null; // null: until success (still at most MAX_RETRIES)
  policy: NonNullable<RetryStrategy["retry_policy"]>;
  expression?: string;
}

export interface RetryPlan {
  rules: Rule[];
  duration?: number;
  factor: number;
  cap?: number;
  maxDuration?: number;
}

/** The retry rules of a script/OP template, with a step-level strategy taking precedence. */
export function retryPlan(t: ScriptOPTemplate, stepStrategy?: RetryStrategy): RetryPlan {
  const rules: Rule[] = [];
  for (const [n, policy] of [
    [countOf(t.retry_on_transient_error), "OnTransientError"],
    [countOf(t.retry_on_failure), "OnFailure"],
    [countOf(t.retry_on_error), "OnError"],
    [countOf(t.retry_on_failure_and_error), "Always"],
  ] as const) {
    if (n > 0) rules.push({ limit: n, policy });
  }
  const rs = stepStrategy ?? t.retry_strategy;
  if (rs) {
    const policy = rs.retry_policy ?? (rs.expression ? "Always" : "OnFailure");
    if (!["OnFailure", "OnError", "Always", "OnTransientError"].includes(policy)) {
      throw new DflowConfigError(`retry_policy ${JSON.stringify(policy)} is not one of OnFailure, OnError, Always, OnTransientError`, { template: t.name });
    }
    rules.push({ limit: limitOf(rs.limit), policy, expression: rs.expression });
  }
  return {
    rules,
    duration: parseDuration(rs?.duration, "retry duration"),
    factor: typeof rs?.factor === "number" && Number.isFinite(rs.factor) && rs.factor > 0 ? rs.factor : 2,
    cap: parseDuration(rs?.cap, "retry cap"),
    maxDuration: parseDuration(rs?.max_duration, "retry max_duration"),
  };
}

function matches(policy: Rule["policy"], err: DflowError): boolean {
  const failed = err instanceof OPFailure;
  const errored = err instanceof InfrastructureError;
  switch (policy) {
    case "OnFailure":
      return failed;
    case "OnError":
      return errored;
    case "Always":
      return failed || errored;
    case "OnTransientError":
      return (failed && err.retryable) || errored;
  }
}

/**
 * Whether attempt `attempt` (0-based, just failed) is followed by another,
 * and the wait before it in seconds; or why not.
 */
export function nextAttempt(plan: RetryPlan, attempt: number, err: unknown, elapsed: number, attemptSeconds: number): { retry: true; wait: number } | { retry: false; why?: string } {
  if (!(err instanceof OPFailure || err instanceof InfrastructureError)) return { retry: false };
  // The hard cap, whatever the rules say ("until success" included).
  if (attempt >= MAX_RETRIES) return { retry: false, why: `the most retries a step may make (${MAX_RETRIES}) are used up` };
  const allowed = plan.rules.some((r) => {
    if (r.limit !== null && attempt >= r.limit) return false;
    if (!matches(r.policy, err)) return false;
    if (!r.expression) return true;
    const lastRetry = {
      exitCode: String(err instanceof OPFailure && err.exitCode !== undefined ? err.exitCode : -1),
      status: err instanceof OPFailure ? "Failed" : "Error",
      duration: String(attemptSeconds),
      message: err.detail,
    };
    return isTruthy(evaluate(r.expression, { lastRetry }));
  });
  if (!allowed) return { retry: false, why: plan.rules.length && attempt > 0 ? "no more retries left" : undefined };
  let wait = plan.duration ? plan.duration * plan.factor ** attempt : 0;
  if (plan.cap !== undefined) wait = Math.min(wait, plan.cap);
  if (plan.maxDuration !== undefined) {
    if (elapsed >= plan.maxDuration) return { retry: false, why: "max duration limit exceeded" };
    if (elapsed + wait > plan.maxDuration) return { retry: false, why: "backoff would exceed max duration limit" };
  }
  return { retry: true, wait };
}
