// dflow's naming rules (README "Important note: variable names", spec §2.2,
// §2.3, §7.1), checked when the workflow is built so nothing runs on bad names.
import { DflowConfigError, type ErrorContext } from "./errors.js";

const RFC1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const STEP_NAME = /^[a-zA-Z0-9][-a-zA-Z0-9]*$/;
const IO_NAME = /^[a-zA-Z0-9_-]+$/;
const KEY = /^[a-z0-9][-a-z0-9]*$/;

/** Entries of a workflow directory that a step key must not shadow. */
export const RESERVED_KEYS = new Set(["status", "pid", "type", "children", "children.lock", "log.txt", "outputs", "upload"]);

function check(re: RegExp, value: unknown, what: string, rule: string, ctx: ErrorContext): void {
  if (typeof value !== "string" || !re.test(value)) {
    throw new DflowConfigError(`invalid ${what} ${JSON.stringify(value)}: ${rule}`, ctx);
  }
}

export function checkWorkflowName(name: unknown, ctx: ErrorContext = {}): void {
  check(RFC1123_SUBDOMAIN, name, "workflow name", "must be a lowercase RFC 1123 subdomain (lowercase letters, digits, '-' or '.', starting and ending with a letter or digit), e.g. my-workflow", ctx);
  if ((name as string).length > 57) {
    throw new DflowConfigError(`invalid workflow name ${JSON.stringify(name)}: at most 57 characters (a 6-character suffix is added)`, ctx);
  }
}

export function checkTemplateName(name: unknown, ctx: ErrorContext = {}): void {
  check(RFC1123_SUBDOMAIN, name, "template name", "must be a lowercase RFC 1123 subdomain (lowercase letters, digits, '-' or '.', starting and ending with a letter or digit), e.g. my-template", ctx);
}

export function checkStepName(name: unknown, ctx: ErrorContext = {}): void {
  check(STEP_NAME, name, "step/task name", "must consist of letters, digits or '-' and start with a letter or digit, e.g. My-name1-2", ctx);
}

export function checkIOName(name: unknown, kind: "parameter" | "artifact", ctx: ErrorContext = {}): void {
  check(IO_NAME, name, `${kind} name`, "must consist of letters, digits, '_' or '-', e.g. my_param_1", ctx);
}

/**
 * A key may hold `{{...}}` references; as dflow does, each is replaced by "a"
 * before the pattern check. The rendered key is checked again at run time.
 */
export function checkKey(key: unknown, ctx: ErrorContext = {}): void {
  if (typeof key !== "string") throw new DflowConfigError(`invalid key ${JSON.stringify(key)}: must be a string`, ctx);
  const probe = key.replace(/\{\{.*?\}\}/g, "a");
  check(KEY, probe, "key", "must consist of lowercase letters, digits or '-' and start with a letter or digit (references like {{item}} are allowed), e.g. iter-{{item}}", ctx);
  if (RESERVED_KEYS.has(key)) {
    throw new DflowConfigError(`invalid key ${JSON.stringify(key)}: it names an entry of the workflow directory (${[...RESERVED_KEYS].join(", ")})`, ctx);
  }
}

export function checkRenderedKey(key: string, ctx: ErrorContext = {}): void {
  check(KEY, key, "rendered key", "must consist of lowercase letters, digits or '-' and start with a letter or digit", ctx);
  if (RESERVED_KEYS.has(key)) {
    throw new DflowConfigError(`invalid key ${JSON.stringify(key)}: it names an entry of the workflow directory`, ctx);
  }
}
