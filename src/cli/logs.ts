// `dflow logs <id> [step] [-f]`: the logs of a workflow's Pod steps in
// execution order, each line prefixed with its step's name; or of one step
// (by key, id or name; a Steps/DAG step means the Pod steps below it), raw
// when that is a single Pod step. -f follows the log(s) until the step, or
// the workflow, has ended.
import { setTimeout as sleep } from "node:timers/promises";
import type { Command } from "commander";
import { CliError, command, printJson } from "./command.js";
import type { StepNode } from "./format.js";

export function register(program: Command): void {
  command(program, "logs")
    .description("print the logs of a workflow's steps (or of one step: key, id or name); -f follows them until they end")
    .argument("<id>", "workflow id")
    .argument("[step]", "a step's key, id or name (all steps of that name); a Steps/DAG step means the steps below it")
    .option("-f, --follow", "keep printing what the step(s) write until they end")
    .option("--prefix", "prefix every line with its step's name, even for a single step")
    .option("--json", "without -f: one JSON array of {name, id, key, phase, log}; with -f: one JSON object {name, id, key, line} per line")
    .action(async (id: string, step: string | undefined, opts: { follow?: boolean; prefix?: boolean; json?: boolean }) => {
      const { workflowStore } = await import("./common.js");
      const { isFinal, label } = await import("./format.js");
      const { LogFollower, logText } = await import("../../engine/api/logs.js");
      const store = workflowStore();
      const first = store.logSelection(id, step);
      const out = (s: string) => process.stdout.write(s);
      const prefixed = opts.prefix || !first.single;

      if (!opts.follow) {
        if (opts.json) return printJson(first.pods.map((n) => ({ name: label(n), id: n.step.id, key: n.step.key, phase: n.step.phase, log: logText(n) })));
        for (const n of first.pods) {
          const text = logText(n);
          if (!text) continue;
          if (!prefixed) out(text);
          else for (const l of text.split("\n").slice(0, text.endsWith("\n") ? -1 : undefined)) out(`${label(n)}: ${l}\n`);
        }
        return;
      }

      const follower = new LogFollower(
        opts.json
          ? { line: (n: StepNode, line: string) => out(`${JSON.stringify({ name: label(n), id: n.step.id, key: n.step.key, line })}\n`) }
          : prefixed
            ? { line: (n: StepNode, line: string) => out(`${label(n)}: ${line}\n`) }
            : { bytes: (_n: StepNode, b: Buffer) => void process.stdout.write(b) },
      );
      let sel = first;
      let gone = 0;
      for (;;) {
        // Phases are read before the logs: a step's log is complete once its phase is final.
        const alive = store.engineAlive(id);
        for (const n of sel.pods) follower.read(n);
        if (sel.done) break;
        // Twice in a row: a restarting engine writes `status` a moment before `pid`.
        gone = alive === false && !isFinal(store.status(id)) ? gone + 1 : 0;
        if (gone >= 2) {
          follower.flush(sel.pods);
          throw new CliError(`the engine of workflow ${id} is no longer running; the log will not grow`, 1);
        }
        await sleep(200);
        sel = store.logSelection(id, step);
      }
      follower.flush(sel.pods);
    });
}
