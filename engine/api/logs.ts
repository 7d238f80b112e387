// Reading the logs of Pod steps (<stepdir>/log.txt) while they are written:
// for `dflow logs [-f]` (a follower keeps a cursor per step) and for the
// `dflow ui` server (WorkflowStore.log, whose client keeps the offset). A
// retried step starts its log over (its earlier attempts' logs are kept under
// attempts/): a reader notices by the file (inode) or its size going down.
import fs from "node:fs";
import { StringDecoder } from "node:string_decoder";
import type { StepNode } from "./read.js";

export interface LogBytes {
  bytes: Buffer;
  /** Where `bytes` start in the file. */
  from: number;
  size: number;
  /** The file (a new attempt writes another one). */
  ino: number;
}

/**
 * Up to `limit` bytes of a log from `from` (clamped to its size); null when
 * there is no log (the step has not started, or is between two attempts).
 */
export function readLogBytes(file: string, from: (size: number, ino: number) => number, limit = Infinity): LogBytes | null {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    return null;
  }
  try {
    const st = fs.fstatSync(fd);
    const start = Math.max(0, Math.min(from(st.size, st.ino), st.size));
    const len = Math.min(limit, st.size - start);
    const buf = Buffer.alloc(len);
    const got = len > 0 ? fs.readSync(fd, buf, 0, len, start) : 0;
    return { bytes: buf.subarray(0, got), from: start, size: st.size, ino: st.ino };
  } finally {
    fs.closeSync(fd);
  }
}

/** How many of `buf`'s bytes end on a character boundary (the rest of a character cut in two comes with the next read). */
export function wholeCharacters(buf: Buffer): number {
  const got = buf.length;
  let k = got - 1;
  while (k >= 0 && got - k < 4 && (buf[k]! & 0xc0) === 0x80) k--;
  if (k >= 0) {
    const lead = buf[k]!;
    const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (got - k < need) return k;
  }
  return got;
}

/** A step's whole log as it is now ("" when it has none yet). */
export function logText(node: StepNode): string {
  return readLogBytes(node.step.log_path, () => 0)?.bytes.toString("utf8") ?? "";
}

interface Cursor {
  offset: number;
  ino: number;
  partial: string;
  decoder: StringDecoder;
}

/** What a follower gives: whole lines of a step (`lines`), or its bytes as written (`bytes`, one step shown raw). */
export type LogSink = { line: (node: StepNode, line: string) => void } | { bytes: (node: StepNode, bytes: Buffer) => void };

/**
 * Follows the logs of steps: each read() gives what was added to a step's
 * log since the last one. A new attempt starts the step's log over: the
 * previous attempt's unfinished last line is given first, then the new log
 * from its start.
 */
export class LogFollower {
  private readonly cursors = new Map<string, Cursor>();

  constructor(private readonly sink: LogSink) {}

  read(node: StepNode): void {
    const id = node.step.id;
    let c = this.cursors.get(id);
    const got = readLogBytes(node.step.log_path, (size, ino) => {
      if (!c || c.ino !== ino || size < c.offset) {
        if (c) this.end(node, c);
        c = { offset: 0, ino, partial: "", decoder: new StringDecoder("utf8") };
        this.cursors.set(id, c);
      }
      return c.offset;
    });
    if (!got || !c || !got.bytes.length) return;
    c.offset += got.bytes.length;
    if ("bytes" in this.sink) return this.sink.bytes(node, got.bytes);
    const lines = (c.partial + c.decoder.write(got.bytes)).split("\n");
    c.partial = lines.pop()!;
    for (const l of lines) this.sink.line(node, l);
  }

  /** The steps' unfinished last lines (the steps have ended, or will not go on). */
  flush(nodes: StepNode[]): void {
    for (const node of nodes) {
      const c = this.cursors.get(node.step.id);
      if (c) this.end(node, c);
    }
  }

  private end(node: StepNode, c: Cursor): void {
    if ("bytes" in this.sink) return;
    const rest = c.partial + c.decoder.end();
    c.partial = "";
    if (rest) this.sink.line(node, rest);
  }
}
