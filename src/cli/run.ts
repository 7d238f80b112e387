// `dflow run <workflow.ts>`: run a workflow script (TypeScript through tsx,
// or JavaScript) in a child node process; exit non-zero when the script
// fails or any workflow it submitted failed.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { CliError } from "./common.js";

export interface ScriptRun {
  script: string;
  args: string[];
  /** Extra environment for the script (e.g. DFLOW_RESUME_ID). */
  env?: Record<string, string>;
}

/** Runs the script to its end; resolves with the exit status `dflow run` should have. */
export async function runScript(run: ScriptRun): Promise<number> {
  const file = path.resolve(run.script);
  if (!fs.existsSync(file)) throw new CliError(`no such workflow script: ${run.script}`);
  const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dflow-run-")), "report.jsonl");
  // tsx is resolved from dflow-ts's own install, not from the user's cwd.
  const nodeArgs = /\.(c|m)?tsx?$/.test(file) ? ["--import", import.meta.resolve("tsx"), file, ...run.args] : [file, ...run.args];
  const code: number = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, nodeArgs, { stdio: "inherit", env: { ...process.env, ...run.env, DFLOW_CLI_REPORT: report } });
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    child.on("exit", (c, sig) => resolve(c ?? (sig ? 128 + (os.constants.signals[sig] ?? 0) : 1)));
    child.on("error", (e) => reject(new CliError(`cannot start node: ${e.message}`)));
  });
  const lines = fs.existsSync(report) ? fs.readFileSync(report, "utf8").split("\n").filter(Boolean) : [];
  fs.rmSync(path.dirname(report), { recursive: true, force: true });
  const results = lines.map((l) => JSON.parse(l) as { id: string; status: string });
  for (const r of results) process.stderr.write(`dflow: workflow ${r.id} ${r.status}\n`);
  if (code !== 0) return code;
  return results.some((r) => r.status !== "Succeeded") ? 1 : 0;
}

export function register(program: Command): void {
  program
    .command("run")
    .description("run a workflow script; exits non-zero when it or any workflow it submits fails")
    .argument("<workflow>", "workflow script (.ts or .js)")
    .argument("[args...]", "arguments passed to the script")
    .action(async (script: string, args: string[]) => {
      process.exitCode = await runScript({ script, args });
    });
}
