// `dflow watch <id>`: a live view of a workflow until it ends. On a terminal
// the `get` view is redrawn every 0.5 s, with progress bars; otherwise (or
// with --json) one line per change. Exit status 0 only if the workflow
// Succeeded.
import { setTimeout as sleep } from "node:timers/promises";
import type { Command } from "commander";
import { CliError, command, dflowCommand, printJson } from "./command.js";
import type { StepNode, WorkflowInfo } from "./format.js";

export function register(program: Command): void {
  command(program, "watch")
    .description("watch a workflow until it ends (redrawn on a terminal, a line per change otherwise); exits 0 only if it succeeded")
    .argument("<id>", "workflow id")
    .option("-i, --interval <seconds>", "time between looks", "0.5")
    .option("--json", "one JSON object per change: {time, workflow, ...} for the workflow, {time, step, ...} for a step")
    .action(async (id: string, opts: { interval: string; json?: boolean }) => {
      const { workflowStore } = await import("./common.js");
      const { flatten, formatClock, formatDuration, isFinal, isoTime, label, progressText, renderWorkflow, shortMessage, statusText } = await import("./format.js");
      const stepLine = (n: StepNode): string => {
        const s = n.step;
        const parts = [`${label(n)} (${s.id}): ${s.phase}`];
        if (n.progress && s.type === "Pod") parts.push(progressText(n.progress));
        if (isFinal(s.phase) && s.startedAt) parts.push(`in ${formatDuration(s.duration)}`);
        const msg = shortMessage(s.message);
        if (msg) parts.push(`- ${msg}`);
        return parts.join(" ");
      };
      const workflowLine = (w: WorkflowInfo): string => {
        const parts = [`workflow ${w.id}: ${statusText(w)}`, `${progressText(w.progress)} steps`];
        if (isFinal(w.status)) parts.push(`in ${formatDuration(w.duration)}`);
        const msg = shortMessage(w.message);
        if (msg && isFinal(w.status)) parts.push(`- ${msg}`);
        return parts.join(" ");
      };
      const store = workflowStore();
      store.dirOf(id); // an unknown id before a bad --interval, as before
      const interval = Number(opts.interval);
      if (!Number.isFinite(interval) || interval <= 0) throw new CliError(`--interval must be a positive number of seconds, got ${JSON.stringify(opts.interval)}`);
      const live = !opts.json && process.stdout.isTTY === true;
      const seen = new Map<string, string>();
      let lastWf = "";
      let gone = 0;
      for (;;) {
        const alive = store.engineAlive(id);
        const { info, nodes } = store.snapshot(id);
        if (live) {
          process.stdout.write(`\x1b[H\x1b[2J${renderWorkflow(info, nodes, { bars: true })}`);
        } else {
          const time = new Date();
          const wfState = `${info.status}|${progressText(info.progress)}|${info.engine_alive}`;
          const wfEvent = () => {
            if (wfState === lastWf) return;
            lastWf = wfState;
            if (opts.json) printJson({ time: time.toISOString(), workflow: info.id, status: info.status, progress: progressText(info.progress), duration: info.duration, message: isFinal(info.status) ? info.message : null, engine_alive: info.engine_alive });
            else process.stdout.write(`[${formatClock(time)}] ${workflowLine(info)}\n`);
          };
          if (!lastWf) wfEvent();
          for (const n of flatten(nodes)) {
            const s = n.step;
            const state = `${s.phase}|${progressText(n.progress)}`;
            if (seen.get(s.id) === state) continue;
            seen.set(s.id, state);
            if (opts.json) printJson({ time: time.toISOString(), step: label(n), id: s.id, key: s.key, type: s.type, phase: s.phase, progress: n.progress ? progressText(n.progress) : null, started: isoTime(s.startedAt || null), duration: isFinal(s.phase) ? s.duration : null, message: s.message });
            else process.stdout.write(`[${formatClock(time)}] ${"  ".repeat(n.depth)}${stepLine(n)}\n`);
          }
          wfEvent();
        }
        if (isFinal(info.status)) {
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
