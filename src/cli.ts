#!/usr/bin/env node
// The `dflow` command line: one module per command in src/cli/, each
// exporting register(program). Human output by default, --json on read
// commands; bad input and unknown ids get one line and exit status 2.
import { Command } from "commander";
import { CliError } from "./cli/common.js";
import { register as registerRun } from "./cli/run.js";

const program = new Command();
program.name("dflow").description("Run dflow workflows written in TypeScript locally, in dflow's debug-mode layout").showHelpAfterError();
for (const register of [registerRun]) register(program);

program.parseAsync(process.argv).catch((e: Error) => {
  process.stderr.write(`dflow: ${e.message}\n`);
  process.exitCode = e instanceof CliError ? e.exitCode : 1;
});
