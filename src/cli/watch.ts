// `dflow watch <id>`: a live view of a workflow until it ends. On a terminal
// the `get` view is redrawn every 0.5 s, with progress bars; otherwise (or
// with --json) one line per change (follow.ts). Exit status 0 only if the
// workflow Succeeded.
import { setTimeout as sleep } from "node:timers/promises";
import type { Command } from "commander";
import { CliError, command, dflowCommand } from "./command.js";

export function register(program: Command): void {
  command(program, "watch")
    .description("watch a workflow until it ends (redrawn on a terminal, a line per change otherwise); exits 0 only if it succeeded")
    .argument("<id>", "workflow id")
    .option("-i, --interval <seconds>", "time between looks", "0.5")
    .option("--json", "one JSON object per change: {time, workflow, ...} for the workflow, {time, step, ...} for a step")
    .action(async (id: string, opts: { interval: string; json?: boolean }) => {
      const { workflowStore } = await import("./common.js");
      const { Follower } = await import("./follow.js");
      const format = await import("./format.js");
      const store = workflowStore();
      store.dirOf(id); // an unknown id before a bad --interval, as before
      const interval = Number(opts.interval);
      if (!Number.isFinite(interval) || interval <= 0) throw new CliError(`--interval must be a positive number of seconds, got ${JSON.stringify(opts.interval)}`);
      const follower = new Follower(store, id, format, { json: opts.json, live: !opts.json && process.stdout.isTTY === true });
      let gone = 0;
      for (;;) {
        const { info, alive } = follower.look();
        if (format.isFinal(info.status)) {
          process.exitCode = info.status === "Succeeded" ? 0 : 1;
          return;
        }
        // Twice in a row: a restarting engine writes `status` a moment before `pid`.
        gone = alive === false ? gone + 1 : 0;
        if (gone >= 2) throw new CliError(`the engine of workflow ${id} (pid ${info.pid}) is no longer running; the workflow will not progress (\`${dflowCommand()} retry ${id}\` restarts it)`, 1);
        await sleep(interval * 1000);
      }
    });
}
