// Reading a step's log while it is written (engine/api/logs.ts): the
// follower behind `dflow logs -f` and WorkflowStore.log behind the server's
// /api/.../log, on a step directory written by hand, one write at a time.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LogFollower, logText } from "../../engine/api/logs.js";
import type { StepNode } from "../../engine/api/read.js";
import { WorkflowStore } from "../../engine/api/workflows.js";

let root = "";
let stepDir = "";
let log = "";
const node = (): StepNode => ({ step: { id: "wf-aaaaa-step-1", log_path: log } }) as unknown as StepNode;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "dflow-ts-api-logs-"));
  fs.mkdirSync(path.join(root, "wf-aaaaa"));
  fs.writeFileSync(path.join(root, "wf-aaaaa", "status"), "Running");
  stepDir = path.join(root, "wf-aaaaa", "wf-aaaaa-step-1");
  fs.mkdirSync(stepDir);
  fs.writeFileSync(path.join(stepDir, "type"), "Pod");
  fs.writeFileSync(path.join(stepDir, "phase"), "Running");
  log = path.join(stepDir, "log.txt");
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

/** A new attempt: the last one's log moved under attempts/<n>/ (engine/pod.ts archiveAttempt), a new log started. */
function newAttempt(n: number, text: string): void {
  fs.mkdirSync(path.join(stepDir, "attempts", String(n)), { recursive: true });
  fs.renameSync(log, path.join(stepDir, "attempts", String(n), "log.txt"));
  fs.writeFileSync(log, text);
}

describe("LogFollower", () => {
  it("gives whole lines as they are written, a character cut between two writes whole, and a new attempt from its start after the last one's unfinished line", () => {
    fs.rmSync(path.join(stepDir, "attempts"), { recursive: true, force: true });
    const lines: string[] = [];
    const f = new LogFollower({ line: (n, l) => lines.push(`${n.step.id}: ${l}`) });
    f.read(node()); // no log yet: nothing, no error
    expect(lines).toEqual([]);
    const e = Buffer.from("é");
    fs.writeFileSync(log, Buffer.concat([Buffer.from("one\ncaf"), e.subarray(0, 1)]));
    f.read(node());
    expect(lines).toEqual(["wf-aaaaa-step-1: one"]);
    fs.appendFileSync(log, Buffer.concat([e.subarray(1), Buffer.from("\nhalf")]));
    f.read(node());
    expect(lines).toEqual(["wf-aaaaa-step-1: one", "wf-aaaaa-step-1: café"]);
    newAttempt(0, "two\n");
    f.read(node());
    expect(lines.slice(2)).toEqual(["wf-aaaaa-step-1: half", "wf-aaaaa-step-1: two"]);
    // The same file started over (shorter than what was read) is a new attempt too.
    fs.writeFileSync(log, "3\ne");
    f.read(node());
    expect(lines.slice(4)).toEqual(["wf-aaaaa-step-1: 3"]);
    f.flush([node()]);
    expect(lines.slice(5)).toEqual(["wf-aaaaa-step-1: e"]);
    f.flush([node()]);
    expect(lines).toHaveLength(6);
  });

  it("gives the bytes as written in raw mode, each attempt's from its start", () => {
    fs.rmSync(path.join(stepDir, "attempts"), { recursive: true, force: true });
    const out: Buffer[] = [];
    const f = new LogFollower({ bytes: (_n, b) => out.push(Buffer.from(b)) });
    fs.writeFileSync(log, "a\nb");
    f.read(node());
    f.read(node());
    newAttempt(0, "c\n");
    f.read(node());
    f.flush([node()]);
    expect(Buffer.concat(out).toString()).toBe("a\nbc\n");
    expect(logText(node())).toBe("c\n");
  });
});

describe("WorkflowStore.log", () => {
  const store = () => new WorkflowStore(root);

  it("reads from an offset, stops before a character cut in two, and starts a shorter (new) log over", () => {
    fs.writeFileSync(path.join(stepDir, "phase"), "Running");
    fs.writeFileSync(log, "héllo\n");
    const first = store().log("wf-aaaaa", "wf-aaaaa-step-1", 0, 2); // "h" and the first byte of "é"
    expect(first).toEqual({ text: "h", offset: 1, size: 7, done: false });
    const rest = store().log("wf-aaaaa", "wf-aaaaa-step-1", first.offset);
    expect(rest).toEqual({ text: "éllo\n", offset: 7, size: 7, done: false });
    expect(store().log("wf-aaaaa", "wf-aaaaa-step-1", -3)).toEqual({ text: "lo\n", offset: 7, size: 7, done: false });
    newAttempt(1, "new\n");
    fs.writeFileSync(path.join(stepDir, "phase"), "Succeeded");
    expect(store().log("wf-aaaaa", "wf-aaaaa-step-1", rest.offset)).toEqual({ text: "new\n", offset: 4, size: 4, done: true });
    fs.rmSync(log);
    expect(store().log("wf-aaaaa", "wf-aaaaa-step-1", 4)).toEqual({ text: "", offset: 0, size: 0, done: true });
  });
});
