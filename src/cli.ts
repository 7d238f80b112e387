#!/usr/bin/env node
// The `dflow` command line: one module per command in src/cli/, each
// exporting register(program). Human output by default, --json on read
// commands; bad input and unknown ids get one line and exit status 2.
import { Command } from "commander";
import { CliError } from "./cli/command.js";
import { register as registerDelete } from "./cli/delete.js";
import { register as registerDownload } from "./cli/download.js";
import { register as registerDpdisp } from "./cli/dpdisp.js";
import { register as registerExport } from "./cli/export.js";
import { register as registerGet } from "./cli/get.js";
import { register as registerGetkeys } from "./cli/getkeys.js";
import { register as registerList } from "./cli/list.js";
import { register as registerLogs } from "./cli/logs.js";
import { register as registerResubmit } from "./cli/resubmit.js";
import { register as registerRetry } from "./cli/retry.js";
import { register as registerRun } from "./cli/run.js";
import { register as registerStop } from "./cli/stop.js";
import { register as registerSuspend } from "./cli/suspend.js";
import { register as registerWatch } from "./cli/watch.js";
import { register as registerUi } from "./cli/ui.js";
import { register as registerReport } from "./cli/report.js";
import { verbose } from "./cli/script-errors.js";
import { packageVersion } from "./version.js";

const program = new Command();
program.name("dflow").description("Run dflow workflows written in TypeScript locally, in dflow's debug-mode layout").version(packageVersion(), "-V, --version", "print dflow-ts's version").showHelpAfterError();
for (const register of [
  registerRun, registerExport, registerList, registerGet, registerLogs, registerWatch, registerRetry,
  registerResubmit, registerStop, registerSuspend, registerDelete, registerGetkeys, registerDownload, registerDpdisp, registerUi, registerReport,
]) register(program);

/** The engine API's refusal of a request (engine/api/workflows.ts ApiError, known by name: importing it here would load the engine for `dflow --help`). */
function apiRefusal(e: Error): e is Error & { status: number } {
  return e.name === "ApiError" && typeof (e as { status?: unknown }).status === "number";
}

program.parseAsync(process.argv).catch((e: Error) => {
  // An unknown id or a refused action is the user's to fix, as a CliError: exit status 2.
  if (apiRefusal(e)) e = new CliError(e.message, e.status >= 500 ? 1 : 2);
  // One line; the stack only when asked for (DFLOW_DEBUG=1), as for workflow scripts.
  process.stderr.write(`${verbose() && !(e instanceof CliError) ? `${e.stack}\n` : ""}dflow: ${e.message}\n`);
  process.exitCode = e instanceof CliError ? e.exitCode : 1;
});
