// `dflow logs <id> [step] [-f]`: the logs of a workflow's Pod steps in
// execution order, each line prefixed with its step's name; or of one step
// (by key, id or name; a Steps/DAG step means the Pod steps below it), raw
// when that is a single Pod step. -f follows the log(s) until the step, or
// the workflow, has ended.
import { setTimeout as sleep } from "node:timers/promises";
import fs from "node:fs";
import path from "node:path";
import { StringDecoder } from "node:string_decoder";
import type { Command } from "commander";
import { CliError, command, dflowCommand, printJson } from "./command.js";
import type { StepNode } from "./format.js";

type Format = typeof import("./format.js");

interface Selection {
  pods: StepNode[];
  /** The steps asked for (or the workflow) have ended. */
  done: boolean;
}

function readStatus(dir: string): string | null {
  try {
    return fs.readFileSync(path.join(dir, "status"), "utf8");
  } catch {
    return null;
  }
}

function select({ isFinal, podsOf, selectSteps, stepTree }: Format, id: string, dir: string, step: string | undefined): Selection & { found: number; single: boolean } {
  const wfDone = isFinal(readStatus(dir));
  const nodes = stepTree(id, dir);
  if (step === undefined) return { pods: podsOf(nodes), done: wfDone, found: 1, single: false };
  const sel = selectSteps(nodes, step);
  return {
    pods: podsOf(sel),
    done: wfDone || (sel.length > 0 && sel.every((n) => isFinal(n.step.phase))),
    found: sel.length,
    single: sel.length === 1 && sel[0]!.step.type === "Pod",
  };
}

interface Cursor {
  offset: number;
  ino: number;
  partial: string;
  decoder: StringDecoder;
}

type Emit = (node: StepNode, line: string) => void;

/** Emits what was added to a step's log.txt since the last call (a new attempt starts it over). */
function pump(node: StepNode, cursors: Map<string, Cursor>, emit: Emit | null, raw: (b: Buffer) => void): void {
  const file = node.step.log_path;
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    return; // not started yet, or between attempts
  }
  try {
    const st = fs.fstatSync(fd);
    let c = cursors.get(node.step.id);
    if (!c || c.ino !== st.ino || st.size < c.offset) {
      if (c && emit && c.partial) emit(node, c.partial);
      c = { offset: 0, ino: st.ino, partial: "", decoder: new StringDecoder("utf8") };
      cursors.set(node.step.id, c);
    }
    if (st.size <= c.offset) return;
    const buf = Buffer.alloc(st.size - c.offset);
    const n = fs.readSync(fd, buf, 0, buf.length, c.offset);
    c.offset += n;
    const chunk = buf.subarray(0, n);
    if (!emit) return raw(chunk);
    const lines = (c.partial + c.decoder.write(chunk)).split("\n");
    c.partial = lines.pop()!;
    for (const l of lines) emit(node, l);
  } finally {
    fs.closeSync(fd);
  }
}

function flush(nodes: StepNode[], cursors: Map<string, Cursor>, emit: Emit | null): void {
  if (!emit) return;
  for (const node of nodes) {
    const c = cursors.get(node.step.id);
    if (!c) continue;
    const rest = c.partial + c.decoder.end();
    c.partial = "";
    if (rest) emit(node, rest);
  }
}

export function register(program: Command): void {
  command(program, "logs")
    .description("print the logs of a workflow's steps (or of one step: key, id or name); -f follows them until they end")
    .argument("<id>", "workflow id")
    .argument("[step]", "a step's key, id or name (all steps of that name); a Steps/DAG step means the steps below it")
    .option("-f, --follow", "keep printing what the step(s) write until they end")
    .option("--prefix", "prefix every line with its step's name, even for a single step")
    .option("--json", "without -f: one JSON array of {name, id, key, phase, log}; with -f: one JSON object {name, id, key, line} per line")
    .action(async (id: string, step: string | undefined, opts: { follow?: boolean; prefix?: boolean; json?: boolean }) => {
      const { workflowDir } = await import("./common.js");
      const format = await import("./format.js");
      const { engineAlive, isFinal, label } = format;
      const dir = workflowDir(id);
      const first = select(format, id, dir, step);
      if (step !== undefined && first.found === 0) throw new CliError(`workflow ${id} has no step with key, id or name ${JSON.stringify(step)} (\`${dflowCommand()} get ${id}\` lists them)`);
      const out = (s: string) => process.stdout.write(s);
      const prefixed = opts.prefix || !first.single;

      if (!opts.follow) {
        const logOf = (n: StepNode) => {
          try {
            return fs.readFileSync(n.step.log_path, "utf8");
          } catch {
            return "";
          }
        };
        if (opts.json) return printJson(first.pods.map((n) => ({ name: label(n), id: n.step.id, key: n.step.key, phase: n.step.phase, log: logOf(n) })));
        for (const n of first.pods) {
          const text = logOf(n);
          if (!text) continue;
          if (!prefixed) out(text);
          else for (const l of text.split("\n").slice(0, text.endsWith("\n") ? -1 : undefined)) out(`${label(n)}: ${l}\n`);
        }
        return;
      }

      const emit: Emit | null = opts.json
        ? (n, line) => out(`${JSON.stringify({ name: label(n), id: n.step.id, key: n.step.key, line })}\n`)
        : prefixed
          ? (n, line) => out(`${label(n)}: ${line}\n`)
          : null;
      const raw = (b: Buffer) => process.stdout.write(b);
      const cursors = new Map<string, Cursor>();
      let sel: Selection = first;
      let gone = 0;
      for (;;) {
        // Phases are read before the logs: a step's log is complete once its phase is final.
        const alive = engineAlive(dir);
        for (const n of sel.pods) pump(n, cursors, emit, raw);
        if (sel.done) break;
        // Twice in a row: a restarting engine writes `status` a moment before `pid`.
        gone = alive === false && !isFinal(readStatus(dir)) ? gone + 1 : 0;
        if (gone >= 2) {
          flush(sel.pods, cursors, emit);
          throw new CliError(`the engine of workflow ${id} is no longer running; the log will not grow`, 1);
        }
        await sleep(200);
        sel = select(format, id, dir, step);
      }
      flush(sel.pods, cursors, emit);
    });
}
