// What `dflow run` prints when the workflow script itself fails before or
// outside a workflow (a syntax error, a DflowConfigError from building the
// workflow, a lock held by another engine): one clear error, not node's
// stack trace, which is the user's noise, not their mistake. The stack is
// printed with `dflow run --verbose` or DFLOW_DEBUG=1.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { fileURLToPath } from "node:url";

interface EsbuildMessage {
  text: string;
  location?: { file: string; line: number; column: number; lineText: string } | null;
}

/** file:line:column, then the source line with a caret under the column (1-based line, 0-based column). */
function pointAt(file: string, line: number, column: number, lineText?: string): string {
  const text = lineText ?? readLine(file, line);
  if (text === undefined) return `${file}:${line}:${column + 1}`;
  return `${file}:${line}:${column + 1}\n    ${text}\n    ${" ".repeat(column)}^`;
}

function readLine(file: string, line: number): string | undefined {
  try {
    return fs.readFileSync(file, "utf8").split("\n")[line - 1];
  } catch {
    return undefined;
  }
}

/** "<file>:<line>:<column>\n    <line>\n    ^" from node's "<file>:<line>\n<line>\n<carets>" report. */
function pointedLine(text: string): string | undefined {
  const m = /^(.*?):(\d+)\n([^\n]*)\n(\s*\^+)/m.exec(text.split("\n\n")[0]);
  if (!m) return undefined;
  const file = m[1].startsWith("file:") ? fileURLToPath(m[1]) : m[1];
  return `${file}:${m[2]}:${m[4].indexOf("^") + 1}\n    ${m[3]}\n    ${m[4]}`;
}

const TLA_CJS = /Top-level await is currently not supported with the "cjs" output format/;

/** A DflowError from any copy of dflow-ts (the script's may not be the CLI's). */
function isDflowError(e: unknown): e is Error & { kind: string } {
  return e instanceof Error && ["config", "op", "infrastructure"].includes((e as { kind?: unknown }).kind as string) && "retryable" in e;
}

// dflow-ts's own compiled files (dist/): never the place to point a user at.
const OWN = fileURLToPath(new URL("../../", import.meta.url));

/** Where in the user's files an error was thrown: the first stack frame outside packages and node itself. */
function userFrame(e: Error): string | undefined {
  for (const line of (e.stack ?? "").split("\n")) {
    const m = /^\s+at (?:.*?\()?((?:file:\/\/)?\/[^()]*?):(\d+):(\d+)\)?$/.exec(line);
    const file = m?.[1].startsWith("file:") ? fileURLToPath(m[1]) : m?.[1];
    if (!m || !file || file.includes("/node_modules/") || file.startsWith(OWN)) continue;
    return `${file}:${m[2]}:${m[3]}`;
  }
  return undefined;
}

/** The message `dflow run` prints for an error the workflow script did not catch (no trailing newline). */
export function describeScriptError(e: unknown): string {
  if (!(e instanceof Error)) return `dflow: the workflow script threw ${JSON.stringify(e) ?? String(e)}`;
  // esbuild's errors (dflow run compiles TypeScript with it: script-bundle.ts) carry file, line, column and the line itself.
  const esbuildErrors = (e as { errors?: EsbuildMessage[] }).errors;
  if (Array.isArray(esbuildErrors) && esbuildErrors.length && esbuildErrors.every((x) => typeof x?.text === "string")) {
    return esbuildErrors
      .map((x) => {
        const hint = TLA_CJS.test(x.text) ? " (the file is compiled as CommonJS, as .cts files are: name it .ts or .mts)" : "";
        const at = x.location ? `${pointAt(x.location.file, x.location.line, x.location.column, x.location.lineText)}\n` : "";
        // An import of a file or package that is not there is no syntax error.
        const what = /^Could not resolve /.test(x.text) ? "cannot import" : "syntax error";
        return `dflow: ${what}: ${x.text}${hint}${at ? ` in\n${at.trimEnd()}` : ""}`;
      })
      .join("\n");
  }
  // The same errors from tsx, compiled on node's module-hooks thread: only the message is left.
  const transform = /^Transform failed with \d+ errors?:\n/.test(e.message) ? [...e.message.matchAll(/^(.+?):(\d+):(\d+): ERROR: (.*)$/gm)] : [];
  if (transform.length) return describeScriptError(Object.assign(new Error(e.message), { errors: transform.map((m) => ({ text: m[4], location: { file: m[1], line: Number(m[2]), column: Number(m[3]), lineText: readLine(m[1], Number(m[2])) ?? "" } })) }));
  if (e instanceof SyntaxError) {
    // node puts "<file>:<line>\n<source line>\n<carets>" before the stack of a syntax error in a
    // CommonJS file; for an ES module it keeps that to itself, so ask `node --check` about the script.
    const at = pointedLine(e.stack ?? "") ?? (process.argv[1] && !/\.(c|m)?tsx?$/.test(process.argv[1]) ? pointedLine(spawnSync(process.execPath, ["--check", process.argv[1]], { encoding: "utf8" }).stderr ?? "") : undefined);
    if (at) return `dflow: syntax error: ${e.message} in\n${at}`;
  }
  if (isDflowError(e)) return `dflow: ${e.message}`;
  const at = userFrame(e);
  return `dflow: the workflow script failed: ${e.name}: ${e.message}${at ? ` (at ${at})` : ""}${verbose() ? "" : "; `dflow run --verbose` shows the stack"}`;
}

export function verbose(): boolean {
  return !!process.env.DFLOW_DEBUG && process.env.DFLOW_DEBUG !== "0";
}
