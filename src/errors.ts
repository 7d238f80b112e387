// The error taxonomy. Three kinds, each saying whether a retry can help:
//  - DflowConfigError: the workflow or its input is wrong (user/config error);
//    fix the workflow, retrying will not help.
//  - OPFailure: an OP or script ran and failed (non-zero exit, thrown error,
//    type mismatch of its inputs/outputs). Retryable only when the OP said so
//    (TransientError) — see `retryable`.
//  - InfrastructureError: the machine got in the way (spawn failed, disk full,
//    lost connection). Transient: a retry may succeed.
// Messages name the workflow, step and parameter where known.

export interface ErrorContext {
  workflow?: string;
  step?: string;
  template?: string;
  parameter?: string;
  artifact?: string;
}

function where(ctx: ErrorContext): string {
  const parts: string[] = [];
  if (ctx.workflow) parts.push(`workflow ${ctx.workflow}`);
  if (ctx.step) parts.push(`step ${ctx.step}`);
  if (ctx.template) parts.push(`template ${ctx.template}`);
  if (ctx.parameter) parts.push(`parameter ${ctx.parameter}`);
  if (ctx.artifact) parts.push(`artifact ${ctx.artifact}`);
  return parts.length ? `${parts.join(", ")}: ` : "";
}

export abstract class DflowError extends Error {
  abstract readonly kind: "config" | "op" | "infrastructure";
  abstract readonly retryable: boolean;
  readonly context: ErrorContext;
  readonly detail: string;

  constructor(detail: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(where(context) + detail, options);
    this.detail = detail;
    this.context = context;
    this.name = new.target.name;
  }
}

/** The workflow definition or its input is invalid. Fix it; a retry will not help. */
export class DflowConfigError extends DflowError {
  readonly kind = "config" as const;
  readonly retryable = false;
}

/** An OP or script ran and failed. */
export class OPFailure extends DflowError {
  readonly kind = "op" as const;
  /** True for a TransientError (or a timeout with timeout_as_transient_error). */
  readonly retryable: boolean;
  /** The process's exit code, when it exited. */
  readonly exitCode?: number;
  readonly timedOut: boolean;
  constructor(detail: string, context: ErrorContext = {}, options?: { cause?: unknown; retryable?: boolean; exitCode?: number; timedOut?: boolean }) {
    super(detail, context, options);
    this.retryable = options?.retryable ?? false;
    this.exitCode = options?.exitCode;
    this.timedOut = options?.timedOut ?? false;
  }
}

/** The machine got in the way (spawn failed, disk full, connection lost). */
export class InfrastructureError extends DflowError {
  readonly kind = "infrastructure" as const;
  readonly retryable = true;
}

/** Thrown by an OP to say: this failure may go away, try again (dflow's TransientError). */
export class TransientError extends Error {
  constructor(message?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TransientError";
  }
}

/** Thrown by an OP to say: this failure is final, do not retry (dflow's FatalError). */
export class FatalError extends Error {
  constructor(message?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "FatalError";
  }
}

/**
 * Exit codes of OP child processes: 1 for TransientError and 2 for
 * FatalError, as dflow's Python OPs; any other error exits 3 (dflow uses 1
 * for those too, which makes "retry only transient errors" impossible).
 */
export const EXIT_TRANSIENT = 1;
export const EXIT_FATAL = 2;
export const EXIT_ERROR = 3;
